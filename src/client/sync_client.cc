// The sync client: page parsing and validation, the SyncOnce loop with its
// 410 handling, and the periodic / follow runner.
#include "galsync/sync_client.h"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <deque>
#include <random>
#include <thread>

#include "client/http_connection.h"
#include "galsync/clock.h"
#include "galsync/contact.h"

namespace galsync {
namespace {

namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

Error BadResponse(std::string message) {
  return Error::InvalidArgument("bad_response",
                                "the server sent an invalid page: " +
                                    std::move(message));
}

// The domain as one path segment: everything but RFC 3986 unreserved
// characters percent-encoded.
std::string PathSegment(std::string_view s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

std::optional<uint64_t> AsSeq(const json::value& v) {
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() > 0) {
    return static_cast<uint64_t>(v.get_int64());
  }
  return std::nullopt;
}

double Since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

}  // namespace

Result<FeedPage> ParseFeedPage(std::string_view body) {
  json::monotonic_resource mr;
  json::parse_options opts;
  opts.max_depth = 32;
  boost::system::error_code ec;
  json::value root = json::parse(body, ec, &mr, opts);
  if (ec) {
    return BadResponse("not JSON (" + ec.message() + " at or before byte " +
                       std::to_string(body.size()) + ")");
  }
  const json::object* obj = root.if_object();
  if (!obj) return BadResponse("the body is not a JSON object");
  const json::value* changes = obj->if_contains("changes");
  const json::value* next_token = obj->if_contains("next_token");
  const json::value* has_more = obj->if_contains("has_more");
  const json::value* full_sync = obj->if_contains("full_sync");
  if (!changes || !changes->is_array()) {
    return BadResponse("\"changes\" is missing or not an array");
  }
  if (!next_token || !next_token->is_string() ||
      next_token->get_string().empty()) {
    return BadResponse("\"next_token\" is missing or not a non-empty string");
  }
  if (!has_more || !has_more->is_bool()) {
    return BadResponse("\"has_more\" is missing or not a boolean");
  }
  if (!full_sync || !full_sync->is_bool()) {
    return BadResponse("\"full_sync\" is missing or not a boolean");
  }
  FeedPage page;
  page.next_token = std::string(next_token->get_string());
  page.has_more = has_more->get_bool();
  page.full_sync = full_sync->get_bool();
  const json::array& arr = changes->get_array();
  page.changes.reserve(arr.size());
  uint64_t last_seq = 0;
  for (size_t i = 0; i < arr.size(); ++i) {
    // Built only for an error message: this loop runs for every change.
    auto where = [i] { return "changes[" + std::to_string(i) + "]"; };
    const json::object* c = arr[i].if_object();
    if (!c) return BadResponse(where() + " is not an object");
    FeedChange change;
    const json::value* op = c->if_contains("op");
    if (!op || !op->is_string()) return BadResponse(where() + ".op is missing");
    if (op->get_string() == "upsert") {
      change.op = FeedChange::Op::kUpsert;
    } else if (op->get_string() == "delete") {
      change.op = FeedChange::Op::kDelete;
    } else {
      return BadResponse(where() + ".op \"" + std::string(op->get_string()) +
                         "\" is neither upsert nor delete");
    }
    const json::value* id = c->if_contains("id");
    if (!id || !id->is_string() || !IsValidContactId(id->get_string())) {
      return BadResponse(where() + ".id is missing or not a valid contact id");
    }
    change.id = std::string(id->get_string());
    const json::value* seq = c->if_contains("seq");
    std::optional<uint64_t> s = seq ? AsSeq(*seq) : std::nullopt;
    if (!s) return BadResponse(where() + ".seq is missing or not a positive integer");
    if (*s <= last_seq) {
      return BadResponse(where() + ".seq " + std::to_string(*s) +
                         " does not follow " + std::to_string(last_seq));
    }
    change.seq = last_seq = *s;
    const json::value* time = c->if_contains("time");
    if (!time || !time->is_string()) {
      return BadResponse(where() + ".time is missing");
    }
    auto t = ParseTime(time->get_string());
    if (!t.ok()) return BadResponse(where() + ".time: " + t.error().message);
    change.time_us = *t;
    if (change.op == FeedChange::Op::kUpsert) {
      const json::value* contact = c->if_contains("contact");
      if (!contact || !contact->is_object()) {
        return BadResponse(where() + ".contact is missing or not an object");
      }
      // Full validation by the same codec the server uses: what the replica
      // stores can always be read back, exported and indexed.
      auto decoded = ContactFromJson(*contact);
      if (!decoded.ok()) {
        return BadResponse(where() + ".contact: " + decoded.error().message);
      }
      if (decoded->id != change.id || decoded->seq != change.seq) {
        return BadResponse(where() + ".contact has another id or seq than " +
                           "its change");
      }
      change.contact_json = json::serialize(*contact);
    }
    page.changes.push_back(std::move(change));
  }
  return page;
}

SyncClient::SyncClient(Replica& replica, ReplicaConfig config,
                       std::unique_ptr<HttpConnection> http)
    : replica_(replica), config_(std::move(config)), http_(std::move(http)) {}

SyncClient::~SyncClient() = default;

Result<std::unique_ptr<SyncClient>> SyncClient::Create(Replica& replica) {
  auto config = replica.Config();
  if (!config.ok()) return std::move(config).error();
  if (!config->has_value()) {
    return Error::InvalidArgument(
        "not_configured", "the replica " + replica.path() +
                              " has no server configured; run `galsync init`");
  }
  auto http = HttpConnection::Create((*config)->server_url, (*config)->api_key,
                                     (*config)->ca_file);
  if (!http.ok()) return std::move(http).error();
  return std::unique_ptr<SyncClient>(
      new SyncClient(replica, std::move(**config), std::move(*http)));
}

Status SyncClient::CheckServerUrl(std::string_view url) {
  auto http = HttpConnection::Create(url, "");
  if (!http.ok()) return std::move(http).error();
  return Ok{};
}

Error SyncClient::ServerError(int status, std::string_view body) {
  std::string code = "http_" + std::to_string(status);
  std::string message;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (const json::value* e = v.get_object().if_contains("error");
        e && e->is_object()) {
      if (const json::value* c = e->get_object().if_contains("code");
          c && c->is_string()) {
        code = std::string(c->get_string());
      }
      if (const json::value* m = e->get_object().if_contains("message");
          m && m->is_string()) {
        message = std::string(m->get_string());
      }
    }
  }
  if (message.empty()) {
    message = "HTTP " + std::to_string(status);
  }
  message = "server: " + message;
  ErrorKind kind;
  switch (status) {
    case 401: kind = ErrorKind::kUnauthenticated; break;
    case 403: kind = ErrorKind::kPermissionDenied; break;
    case 404: kind = ErrorKind::kNotFound; break;
    case 410: kind = ErrorKind::kGone; break;
    case 429: kind = ErrorKind::kRateLimited; break;
    default:
      if (status >= 500) {
        kind = ErrorKind::kUnavailable;
        if (code.starts_with("http_")) code = "server_error";
      } else {
        kind = ErrorKind::kInvalidArgument;
      }
  }
  return {kind, std::move(code), std::move(message)};
}

void SyncClient::NoteRetryAfter(const HttpResponse& res) {
  if (res.status == 429 || res.status == 503) {
    // Seconds only; the HTTP-date form is rare for APIs and reads as 0.
    retry_after_ = std::chrono::seconds(
        std::strtoul(res.retry_after.c_str(), nullptr, 10));
  }
}

Result<std::string> SyncClient::GetJson(const std::string& target,
                                        std::chrono::milliseconds timeout) {
  auto res = http_->Get(target, timeout);
  if (!res.ok()) return std::move(res).error();
  NoteRetryAfter(*res);
  if (res->status != 200) return ServerError(res->status, res->body);
  return std::move(res->body);
}

Result<std::string> SyncClient::ServerIncarnation(
    std::chrono::milliseconds timeout) {
  auto body = GetJson("/v1/health", timeout);
  if (!body.ok()) return std::move(body).error();
  boost::system::error_code ec;
  json::value v = json::parse(*body, ec);
  const json::value* inc =
      !ec && v.is_object() ? v.get_object().if_contains("incarnation") : nullptr;
  if (!inc || !inc->is_string()) {
    return Error::InvalidArgument("bad_response",
                                  "the server's /v1/health has no incarnation");
  }
  return std::string(inc->get_string());
}

Result<SyncClient::DomainInfo> SyncClient::Domain(
    std::chrono::milliseconds timeout) {
  auto body = GetJson("/v1/domains/" + PathSegment(config_.domain), timeout);
  if (!body.ok()) return std::move(body).error();
  boost::system::error_code ec;
  json::value v = json::parse(*body, ec);
  DomainInfo info;
  if (ec || !v.is_object()) {
    return Error::InvalidArgument("bad_response",
                                  "the server's domain object is not JSON");
  }
  const json::object& o = v.get_object();
  if (auto* s = o.if_contains("last_seq")) info.last_seq = AsSeq(*s).value_or(0);
  if (auto* c = o.if_contains("contacts")) info.contacts = AsSeq(*c).value_or(0);
  return info;
}

Result<SyncClient::Fetched> SyncClient::FetchPage(const SyncOptions& options,
                                                  const std::string& from,
                                                  bool full) {
  std::string target = "/v1/domains/" + PathSegment(config_.domain) +
                       "/changes?limit=" + std::to_string(options.page_limit);
  if (!from.empty()) target += "&token=" + from;
  auto timeout = options.timeout;
  if (!full && options.wait_seconds > 0) {
    target += "&wait=" + std::to_string(options.wait_seconds);
    timeout += std::chrono::seconds(options.wait_seconds);
  }
  auto res = http_->Get(target, timeout);
  if (!res.ok()) return std::move(res).error();
  NoteRetryAfter(*res);
  // A 410 comes back as a kGone error: the caller starts a full sync.
  if (res->status != 200) return ServerError(res->status, res->body);
  auto page = ParseFeedPage(res->body);
  if (!page.ok()) return std::move(page).error();
  return Fetched{std::move(*page), from, res->wire_bytes};
}

// Fetches and parses the pages after a first one in a thread of its own,
// so that the next page is on its way while the caller applies this one.
// At most kDepth parsed pages wait to be applied.
class SyncClient::Prefetcher {
 public:
  static constexpr size_t kDepth = 2;

  Prefetcher(SyncClient& client, const SyncOptions& options, std::string from,
             bool full)
      : client_(client), options_(options) {
    thread_ = std::thread([this, from = std::move(from), full] {
      Run(from, full);
    });
  }

  ~Prefetcher() {
    bool running;
    {
      std::lock_guard lock(mu_);
      abort_ = true;
      running = !finished_;
    }
    cv_.notify_all();
    if (running) client_.http_->Cancel();  // a request may be in flight
    thread_.join();
    if (running && !client_.stop_) client_.http_->Reset();
  }

  Result<Fetched> Next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty(); });
    Result<Fetched> r = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return r;
  }

 private:
  void Run(std::string token, bool full) {
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return abort_ || queue_.size() < kDepth; });
        if (abort_) break;
      }
      Result<Fetched> r = client_.FetchPage(options_, token, full);
      bool last = !r.ok() || !r->page.has_more;
      if (r.ok()) token = r->page.next_token;
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(r));
      cv_.notify_all();
      if (last) break;
    }
    std::lock_guard lock(mu_);
    finished_ = true;
  }

  SyncClient& client_;
  const SyncOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Result<Fetched>> queue_;  // GUARDED_BY(mu_)
  bool abort_ = false;                 // GUARDED_BY(mu_)
  bool finished_ = false;              // GUARDED_BY(mu_)
  std::thread thread_;
};

Result<SyncReport> SyncClient::SyncOnce(const SyncOptions& options,
                                        const ProgressFn& progress) {
  const auto t0 = SteadyClock::now();
  SyncReport report;
  retry_after_ = std::chrono::seconds(0);
  auto finish = [&](Error e) -> Result<SyncReport> {
    // A sync stopped on request did not fail: it is not recorded as an error.
    if (e.reason != "cancelled") {
      (void)replica_.RecordAttempt(Clock::System()->NowMicros(), e.message);
    }
    return e;
  };

  auto state = replica_.State();
  if (!state.ok()) return finish(std::move(state).error());
  if (options.full || (state->token.empty() && !state->resync_active)) {
    if (auto st = replica_.BeginResync(); !st.ok()) {
      return finish(std::move(st).error());
    }
  }
  SyncProgress p;
  int restarts = 0;
  bool done = false;
  while (!done) {
    if (stop_) return finish({ErrorKind::kUnavailable, "cancelled",
                              "the sync was stopped"});
    state = replica_.State();
    if (!state.ok()) return finish(std::move(state).error());
    const bool full = state->resync_active;
    const std::string from = full ? state->resync_token : state->token;
    if (full && from.empty()) {
      // The beginning of a full sync: note whose copy this is, and how
      // much is coming (for progress reports).
      auto inc = ServerIncarnation(options.timeout);
      if (!inc.ok()) return finish(std::move(inc).error());
      (void)replica_.SetIncarnation(*inc);
      if (progress) {
        if (auto d = Domain(options.timeout); d.ok()) p.expected = d->contacts;
      }
    }
    // The first page is fetched here: most syncs are one page (often an
    // empty one). Only when there is more does a prefetcher start.
    std::unique_ptr<Prefetcher> prefetcher;
    Result<Fetched> fetched = FetchPage(options, from, full);
    for (;;) {
      if (!fetched.ok()) {
        Error e = std::move(fetched).error();
        if (e.kind != ErrorKind::kGone) return finish(std::move(e));
        // The server cannot continue from this position (token expired,
        // store restored): start over with a full sync. More than a few
        // restarts in one call means something is wrong on the server.
        if (++restarts > 3) return finish(std::move(e));
        report.resync_reason = e.reason;
        if (auto st = replica_.BeginResync(); !st.ok()) {
          return finish(std::move(st).error());
        }
        break;
      }
      const FeedPage& page = fetched->page;
      report.bytes += fetched->wire_bytes;
      if (page.has_more && !prefetcher) {
        prefetcher = std::make_unique<Prefetcher>(*this, options,
                                                  page.next_token, full);
      }
      // An empty page that leaves the position where it was (an up-to-date
      // poll) has nothing to commit.
      const bool unchanged =
          page.changes.empty() && page.next_token == fetched->from;
      if (!unchanged) {
        if (auto st = replica_.Apply(page, fetched->from); !st.ok()) {
          return finish(std::move(st).error());
        }
      }
      report.pages++;
      report.changes += page.changes.size();
      for (const FeedChange& c : page.changes) {
        (c.op == FeedChange::Op::kUpsert ? report.upserts : report.deletes)++;
      }
      if (progress) {
        p.full_sync = full;
        p.pages = report.pages;
        p.changes = report.changes;
        p.bytes = report.bytes;
        p.seconds = Since(t0);
        progress(p);
      }
      if (!page.has_more) {
        if (full) report.full_sync = true;
        done = true;
        break;
      }
      fetched = prefetcher->Next();
    }
  }
  report.seconds = Since(t0);
  retry_after_ = std::chrono::seconds(0);
  auto recorded = replica_.RecordAttempt(Clock::System()->NowMicros(), "");
  if (!recorded.ok()) {
    return std::move(recorded).error();
  }
  return report;
}

namespace {

// Errors that another attempt cannot fix without someone changing something.
bool IsFatal(const Error& e) {
  switch (e.kind) {
    case ErrorKind::kUnauthenticated:
    case ErrorKind::kPermissionDenied:
    case ErrorKind::kNotFound:
      return true;
    case ErrorKind::kInvalidArgument:
      return e.reason != "bad_response";
    default:
      return false;
  }
}

}  // namespace

Status SyncClient::Run(const RunOptions& run, const SyncOptions& options,
                       const ProgressFn& progress, const OutcomeFn& outcome) {
  std::mt19937_64 rng(std::random_device{}());
  auto jittered = [&](std::chrono::milliseconds d) {
    if (run.jitter <= 0 || d.count() == 0) return d;
    std::uniform_real_distribution<double> f(1 - run.jitter, 1 + run.jitter);
    return std::chrono::milliseconds(
        static_cast<int64_t>(static_cast<double>(d.count()) * f(rng)));
  };
  SyncOptions once = options;
  if (run.follow) once.wait_seconds = run.wait_seconds;
  std::chrono::milliseconds backoff = run.backoff_initial;
  bool first = true;
  while (!stop_) {
    SyncOptions this_time = once;
    if (!first) this_time.full = false;  // `full` applies to the first sync
    first = false;
    auto r = SyncOnce(this_time, progress);
    std::chrono::milliseconds next{0};
    if (r.ok()) {
      backoff = run.backoff_initial;
      if (!run.follow) next = jittered(run.every);
    } else {
      if (r.error().reason == "cancelled" && stop_) break;
      if (IsFatal(r.error())) return std::move(r).error();
      next = jittered(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2,
                                                    run.backoff_max);
      if (retry_after_.load() > next) next = retry_after_.load();
    }
    if (outcome) outcome(r, next);
    std::unique_lock lock(stop_mu_);
    stop_cv_.wait_for(lock, next, [&] { return stop_.load(); });
  }
  return Ok{};
}

void SyncClient::Stop() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  http_->Cancel();
}

}  // namespace galsync
