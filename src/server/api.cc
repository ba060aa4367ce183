// Handlers of the native JSON API. The route table in JsonApi::Routes() is
// the one list of endpoints; docs/api.md documents each.
#include "server/api.h"

#include <boost/asio.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <charconv>

#include "galsync/contact.h"
#include "galsync/export.h"
#include "galsync/import.h"
#include "server/export_stream.h"
#include "server/handler_util.h"
#include "util/crypto.h"

namespace galsync::server {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using Awaitable = asio::awaitable<Response>;

Response Ok(int status, std::string body) {
  return Response::Json(status, std::move(body));
}

Result<uint64_t> ParseUint(std::string_view text, std::string_view name,
                           uint64_t min, uint64_t max) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < min ||
      v > max) {
    return Error::InvalidArgument(
        "invalid_" + std::string(name),
        "query parameter \"" + std::string(name) + "\" must be an integer in " +
            std::to_string(min) + ".." + std::to_string(max) + ", got \"" +
            std::string(text.substr(0, 32)) + "\"");
  }
  return v;
}

// Parses an optional integer query parameter.
Result<uint64_t> UintParam(const Request& r, std::string_view name,
                           uint64_t dflt, uint64_t min, uint64_t max) {
  auto v = r.query_param(name);
  if (!v) return dflt;
  return ParseUint(*v, name, min, max);
}

std::string Quote(std::string_view s) { return json::serialize(json::string(s)); }

std::string DomainJson(const DomainInfo& d) {
  json::object o;
  o["name"] = d.name;
  o["created"] = FormatTime(d.created_us);
  o["last_seq"] = d.last_seq;
  if (d.last_time_us) o["updated"] = FormatTime(d.last_time_us);
  o["horizon_seq"] = d.horizon_seq;
  o["contacts"] = d.live_count;
  return json::serialize(o);
}

std::string ETag(uint64_t seq) {
  std::string tag = std::to_string(seq);
  tag.insert(tag.begin(), '"');
  tag.push_back('"');
  return tag;
}

// Decodes a contact from a JSON object, supplying `id` when it is absent and
// checking it (and "domain") against the URL when present.
Result<Contact> ContactFromBody(json::value body, std::string_view id,
                                std::string_view domain) {
  json::object* o = body.if_object();
  if (o == nullptr) {
    return Error::InvalidArgument("invalid_contact",
                                  "request body must be a JSON object");
  }
  if (!id.empty()) {
    if (auto* v = o->if_contains("id")) {
      if (!v->is_string() || v->get_string() != id) {
        return Error::InvalidArgument(
            "id_mismatch", "\"id\" in the body differs from the id in the URL");
      }
    } else {
      (*o)["id"] = id;
    }
  }
  if (auto* v = o->if_contains("domain")) {
    if (!v->is_string() || v->get_string() != domain) {
      return Error::InvalidArgument(
          "domain_mismatch",
          "\"domain\" in the body differs from the domain in the URL");
    }
  }
  return ContactFromJson(body);
}

Error ContactTooLarge(size_t bytes) {
  return Error{ErrorKind::kPayloadTooLarge, "contact_too_large",
               "a contact's JSON may be at most " +
                   std::to_string(ContactLimits::kMaxContactJsonBytes) +
                   " bytes; got " + std::to_string(bytes)};
}

std::string KeyJson(const StoredKey& k) {
  json::object o;
  o["id"] = k.id;
  if (k.domain.empty()) {
    o["domain"] = nullptr;
  } else {
    o["domain"] = k.domain;
  }
  json::array scopes;
  for (uint32_t bit : {kScopeRead, kScopeWrite, kScopeAdmin}) {
    if (k.scopes & bit) scopes.emplace_back(ScopesToString(bit));
  }
  o["scopes"] = std::move(scopes);
  o["name"] = k.name;
  o["created"] = FormatTime(k.created_us);
  o["created_by"] = k.created_by;
  if (k.revoked_us) o["revoked"] = FormatTime(k.revoked_us);
  return json::serialize(o);
}

}  // namespace

JsonApi::JsonApi(Directory& dir, KeyRing& keys, SearchService* search,
                 ApiLimits limits)
    : dir_(dir), keys_(keys), search_(search), limits_(limits) {
  listener_ = dir_.AddCommitListener(
      [this](const std::string& domain, uint64_t) { waiters_.Notify(domain); });
}

JsonApi::~JsonApi() {
  dir_.RemoveCommitListener(listener_);
  write_pool_.join();
}

std::vector<Route> JsonApi::Routes() {
  using V = http::verb;
  auto h = [this](Awaitable (JsonApi::*m)(Request&)) -> Handler {
    return [this, m](Request& r) { return (this->*m)(r); };
  };
  const std::string d = "/v1/domains/{domain}";
  using A = Access;
  std::vector<Route> routes = {
      {V::get, "/v1/health", A::kPublic, h(&JsonApi::Health)},
      {V::get, "/v1/key", A::kAnyKey, h(&JsonApi::WhoAmI)},
      {V::get, "/v1/keys", A::kAdmin, h(&JsonApi::ListKeys)},
      {V::post, "/v1/keys", A::kAdmin, h(&JsonApi::CreateKey)},
      {V::delete_, "/v1/keys/{key}", A::kAdmin, h(&JsonApi::RevokeKey)},
      {V::get, "/v1/domains", A::kAdmin, h(&JsonApi::ListDomains)},
      {V::post, "/v1/domains", A::kAdmin, h(&JsonApi::CreateDomain)},
      {V::get, d, A::kRead, h(&JsonApi::GetDomain)},
      {V::get, d + "/changes", A::kRead, h(&JsonApi::Changes)},
      {V::get, d + "/search", A::kRead, h(&JsonApi::Search)},
      {V::post, d + "/contacts", A::kWrite, h(&JsonApi::PostContact)},
      {V::post, d + "/contacts:batch", A::kWrite, h(&JsonApi::Batch)},
      {V::post, d + "/import", A::kWrite, h(&JsonApi::Import), true},
      {V::get, d + "/export", A::kRead, h(&JsonApi::Export)},
      {V::get, d + "/contacts/{id}", A::kRead, h(&JsonApi::GetContact)},
      {V::put, d + "/contacts/{id}", A::kWrite, h(&JsonApi::PutContact)},
      {V::delete_, d + "/contacts/{id}", A::kWrite,
       h(&JsonApi::DeleteContact)},
      {V::get, d + "/contacts/{id}/history", A::kAdmin,
       h(&JsonApi::ContactHistory)},
      {V::get, d + "/history", A::kAdmin, h(&JsonApi::DomainHistory)},
      {V::post, d + "/purge", A::kAdmin, h(&JsonApi::Purge)},
      {V::get, d + "/policy", A::kAdmin, h(&JsonApi::GetPolicy)},
      {V::put, d + "/policy", A::kAdmin, h(&JsonApi::PutPolicy)},
      {V::get, d + "/keys", A::kAdmin, h(&JsonApi::ListKeys)},
      {V::post, d + "/keys", A::kAdmin, h(&JsonApi::CreateKey)},
      {V::delete_, d + "/keys/{key}", A::kAdmin, h(&JsonApi::RevokeKey)},
  };
  for (Route& r : scim_.Routes()) routes.push_back(std::move(r));
  return routes;
}

Awaitable JsonApi::Health(Request&) {
  json::object o;
  o["status"] = "ok";
  o["incarnation"] = std::to_string(dir_.store().incarnation());
  o["long_polls"] = waiters_.waiting();
  co_return Ok(200, json::serialize(o));
}

Awaitable JsonApi::ListDomains(Request&) {
  auto list = dir_.ListDomains();
  if (!list) co_return ErrorResponse(list.error());
  std::string body = "{\"domains\":[";
  for (size_t i = 0; i < list->size(); ++i) {
    if (i) body += ',';
    body += DomainJson((*list)[i]);
  }
  body += "]}";
  co_return Ok(200, std::move(body));
}

Awaitable JsonApi::CreateDomain(Request& r) {
  auto body = ParseBody(r, limits_.max_json_depth);
  if (!body) co_return ErrorResponse(body.error());
  const json::object* o = body->if_object();
  const json::value* name = o ? o->if_contains("name") : nullptr;
  if (!name || !name->is_string() || o->size() != 1) {
    co_return ErrorResponse(Error::InvalidArgument(
        "invalid_domain", "expected {\"name\": \"<domain name>\"}"));
  }
  std::string n(name->get_string());
  auto d = co_await OnPool(write_pool_, [&] { return dir_.CreateDomain(n); });
  if (!d) co_return ErrorResponse(d.error());
  Response res = Ok(201, DomainJson(*d));
  res.headers.emplace_back("Location", "/v1/domains/" + d->name);
  co_return res;
}

Awaitable JsonApi::GetDomain(Request& r) {
  auto d = dir_.GetDomain(r.param("domain"));
  if (!d) co_return ErrorResponse(d.error());
  co_return Ok(200, DomainJson(*d));
}

Awaitable JsonApi::GetContact(Request& r) {
  auto c = dir_.GetContact(r.param("domain"), r.param("id"),
                           r.principal.view());
  if (!c) co_return ErrorResponse(c.error());
  Response res = Ok(200, std::move(c->json));
  res.headers.emplace_back("ETag", ETag(c->seq));
  if (auto inm = r.header("If-None-Match"); inm && Unquote(*inm) ==
                                                      std::to_string(c->seq)) {
    res.status = 304;
    res.body.clear();
  }
  co_return res;
}

Awaitable JsonApi::PutContact(Request& r) {
  const std::string& id = r.param("id");
  if (!IsValidContactId(id)) {
    co_return ErrorResponse(Error::InvalidArgument(
        "invalid_id",
        "contact id must be 1..128 characters of [A-Za-z0-9._~@+=-]"));
  }
  co_return co_await Put(r, id, false);
}

Awaitable JsonApi::PostContact(Request& r) {
  co_return co_await Put(r, "", true);
}

Awaitable JsonApi::Put(Request& r, std::string id, bool created_by_post) {
  if (r.http.body().size() > ContactLimits::kMaxContactJsonBytes) {
    co_return ErrorResponse(ContactTooLarge(r.http.body().size()));
  }
  auto body = ParseBody(r, limits_.max_json_depth);
  if (!body) co_return ErrorResponse(body.error());
  if (created_by_post) {
    // POST creates: the server picks the id unless the body has one.
    if (auto* o = body->if_object(); o && !o->contains("id")) {
      (*o)["id"] = crypto::RandomHex128();
    }
  }
  const std::string& domain = r.param("domain");
  auto contact = ContactFromBody(std::move(*body), id, domain);
  if (!contact) co_return ErrorResponse(contact.error());

  std::optional<std::string> if_match;
  if (auto h = r.header("If-Match")) if_match = Unquote(*h);
  bool if_none_match = created_by_post;
  if (auto h = r.header("If-None-Match")) {
    if (*h != "*") {
      co_return ErrorResponse(Error::InvalidArgument(
          "invalid_precondition", "on writes only If-None-Match: * is supported"));
    }
    if_none_match = true;
  }
  std::string actor = ActorOf(r);
  auto put = co_await OnPool(write_pool_, [&] {
    return dir_.PutContact(domain, *contact, if_match, if_none_match, actor);
  });
  if (!put && created_by_post &&
      put.error().kind == ErrorKind::kPreconditionFailed && !if_match) {
    co_return ErrorResponse({ErrorKind::kConflict, "contact_exists",
                             "a contact with id \"" + contact->id +
                                 "\" already exists; use PUT to replace it"});
  }
  if (!put) co_return ErrorResponse(put.error());
  Response res = Ok(put->created ? 201 : 200, std::move(put->json));
  res.headers.emplace_back("ETag", ETag(put->seq));
  if (put->created) {
    res.headers.emplace_back("Location",
                             "/v1/domains/" + domain + "/contacts/" +
                                 contact->id);
  }
  co_return res;
}

Awaitable JsonApi::DeleteContact(Request& r) {
  std::optional<std::string> if_match;
  if (auto h = r.header("If-Match")) if_match = Unquote(*h);
  const std::string& domain = r.param("domain");
  const std::string& id = r.param("id");
  std::string actor = ActorOf(r);
  auto w = co_await OnPool(write_pool_, [&] {
    return dir_.DeleteContact(domain, id, if_match, actor);
  });
  if (!w) co_return ErrorResponse(w.error());
  json::object o;
  o["id"] = id;
  o["deleted"] = true;
  o["seq"] = w->last_seq;
  co_return Ok(200, json::serialize(o));
}

Awaitable JsonApi::Batch(Request& r) {
  const std::string& domain = r.param("domain");
  std::string actor = ActorOf(r);
  const int depth = limits_.max_json_depth;
  // Parsing 10,000 contacts takes milliseconds: do it off the network
  // threads, together with the write.
  auto result = co_await OnPool(write_pool_, [&]() -> Result<std::string> {
    auto body = ParseBody(r, depth);
    if (!body) return std::move(body).error();
    const json::object* o = body->if_object();
    const json::value* list = o ? o->if_contains("changes") : nullptr;
    if (!list || !list->is_array() || o->size() != 1) {
      return Error::InvalidArgument("invalid_batch",
                                    "expected {\"changes\": [...]}");
    }
    const json::array& arr = list->get_array();
    if (arr.size() > dir_.options().max_batch_changes) {
      return Error{ErrorKind::kPayloadTooLarge, "batch_too_large",
                   "a batch holds at most " +
                       std::to_string(dir_.options().max_batch_changes) +
                       " changes; got " + std::to_string(arr.size())};
    }
    std::vector<ChangeRequest> changes(arr.size());
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string at = "changes[" + std::to_string(i) + "]";
      auto bad = [&](std::string msg) {
        return Error::InvalidArgument("invalid_batch", at + ": " + msg);
      };
      const json::object* item = arr[i].if_object();
      if (!item) return bad("must be an object");
      ChangeRequest& ch = changes[i];
      for (const auto& [k, v] : *item) {
        if (k == "op" || k == "contact" || k == "id") continue;
        if (k == "if_match" && v.is_string()) {
          ch.if_match = std::string(v.get_string());
          continue;
        }
        return bad("unknown or invalid member \"" + std::string(k) + "\"");
      }
      const json::value* op = item->if_contains("op");
      if (!op || !op->is_string()) return bad("\"op\" is required");
      if (op->get_string() == "upsert") {
        const json::value* c = item->if_contains("contact");
        if (!c) return bad("an upsert needs \"contact\"");
        if (item->contains("id")) {
          return bad("an upsert takes its id from \"contact\"; drop \"id\"");
        }
        auto contact = ContactFromBody(*c, "", domain);
        if (!contact) {
          Error e = std::move(contact).error();
          e.message = at + ".contact: " + e.message;
          return e;
        }
        ch.op = ChangeOp::kUpsert;
        ch.id = contact->id;
        ch.content_json = CanonicalContentJson(*contact);
        if (ch.content_json.size() > ContactLimits::kMaxContactJsonBytes) {
          Error e = ContactTooLarge(ch.content_json.size());
          e.message = at + ".contact: " + e.message;
          return e;
        }
      } else if (op->get_string() == "delete") {
        const json::value* id = item->if_contains("id");
        if (!id || !id->is_string()) return bad("a delete needs \"id\"");
        ch.op = ChangeOp::kDelete;
        ch.id = std::string(id->get_string());
      } else {
        return bad("\"op\" must be \"upsert\" or \"delete\"");
      }
    }
    auto w = dir_.Write(domain, changes, actor);
    if (!w) return std::move(w).error();
    size_t applied = 0, unchanged = 0, not_found = 0;
    std::string results = "[";
    for (size_t i = 0; i < w->outcomes.size(); ++i) {
      const ChangeOutcome& oc = w->outcomes[i];
      const char* what = "applied";
      switch (oc.result) {
        case ChangeResult::kApplied: ++applied; break;
        case ChangeResult::kUnchanged: ++unchanged; what = "unchanged"; break;
        case ChangeResult::kNotFound: ++not_found; what = "not_found"; break;
      }
      if (i) results += ',';
      results += "{\"id\":\"" + changes[i].id + "\",\"result\":\"" + what +
                 "\",\"seq\":" + std::to_string(oc.seq) + "}";
    }
    results += "]";
    json::object out;
    out["first_seq"] = w->first_seq;
    out["last_seq"] = w->last_seq;
    out["applied"] = applied;
    out["unchanged"] = unchanged;
    out["not_found"] = not_found;
    std::string s = json::serialize(out);
    s.pop_back();
    s += ",\"results\":" + results + "}";
    return s;
  });
  if (!result) co_return ErrorResponse(result.error());
  co_return Ok(200, std::move(*result));
}

Awaitable JsonApi::Changes(Request& r) {
  const std::string& domain = r.param("domain");
  ChangesRequest req;
  req.view = r.principal.view();
  auto limit = UintParam(r, "limit", 0, 1, limits_.max_limit_param);
  if (!limit) co_return ErrorResponse(limit.error());
  req.limit = *limit;
  auto wait = UintParam(r, "wait", 0, 0, limits_.max_wait_seconds);
  if (!wait) co_return ErrorResponse(wait.error());
  auto token = r.query_param("token");
  auto since = r.query_param("since");
  if (token && since) {
    co_return ErrorResponse(Error::InvalidArgument(
        "token_and_since", "give either \"token\" or \"since\", not both"));
  }
  if (token) req.token = std::string(*token);
  if (since) {
    // A '+' of a UTC offset arrives as ' ' when the client did not
    // percent-encode it (query strings decode '+' as a space).
    std::string s(*since);
    std::replace(s.begin(), s.end(), ' ', '+');
    auto t = ParseTime(s);
    if (!t) co_return ErrorResponse(t.error());
    req.since_us = *t;
  }

  auto page = co_await PageWhenReplicaHasIt(domain, req);
  if (!page) co_return ErrorResponse(page.error());
  if (*wait > 0 && page->count == 0 && !page->has_more) {
    // Long-poll: wait for the domain's next commit, or the time limit.
    auto ex = co_await asio::this_coro::executor;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(*wait);
    const uint64_t position = page->next_seq;
    while (std::chrono::steady_clock::now() < deadline) {
      auto timer = std::make_shared<ChangeWaiters::Timer>(ex, deadline);
      uint64_t ticket = waiters_.Add(domain, timer);
      auto last = dir_.LastSeq(domain);
      if (last && *last > position) {
        waiters_.Remove(domain, ticket);
        break;
      }
      auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
      waiters_.Remove(domain, ticket);
      if (!ec) break;  // time is up
      last = dir_.LastSeq(domain);
      if (!last || *last > position) break;
      if (waiters_.closed()) break;  // shutting down
    }
    page = co_await PageWhenReplicaHasIt(domain, req);
    if (!page) co_return ErrorResponse(page.error());
  }
  Response res = Ok(200, std::move(page->body));
  res.headers.emplace_back("Cache-Control", "no-store");
  co_return res;
}

asio::awaitable<Result<ChangesPage>> JsonApi::PageWhenReplicaHasIt(
    const std::string& domain, const ChangesRequest& req) {
  auto page = dir_.Changes(domain, req);
  if (page || page.error().reason != kReplicaBehind) co_return page;
  // A streaming replica replays a commit within milliseconds when healthy:
  // look again soon, then less often.
  const auto deadline = std::chrono::steady_clock::now() + limits_.replica_wait;
  auto pause = kReplicaFirstPause;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (std::chrono::steady_clock::now() < deadline && !waiters_.closed()) {
    timer.expires_after(std::min<std::chrono::steady_clock::duration>(
        pause, deadline - std::chrono::steady_clock::now()));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    page = dir_.Changes(domain, req);
    if (page || page.error().reason != kReplicaBehind) co_return page;
    pause = std::min(pause * 2, kReplicaMaxPause);
  }
  co_return page;
}

Awaitable JsonApi::Search(Request& r) {
  if (search_ == nullptr) {
    co_return ErrorResponse({ErrorKind::kUnavailable, "search_unavailable",
                             "this server does not keep a search index"});
  }
  auto q = r.query_param("q");
  if (!q) {
    co_return ErrorResponse(Error::InvalidArgument(
        "missing_query", "give the text to search for as ?q=..."));
  }
  auto limit = UintParam(r, "limit", 10, 1, QueryLimits::kMaxResults);
  if (!limit) co_return ErrorResponse(limit.error());
  uint8_t fields = kAllFields;
  if (auto f = r.query_param("fields")) {
    if (f->empty()) {
      co_return ErrorResponse(Error::InvalidArgument(
          "invalid_fields", "fields is a comma-separated list of name, "
                            "email, other; it may not be empty"));
    }
    fields = 0;
    std::string_view list = *f;
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view name = list.substr(0, comma);
      if (name == "name") fields |= kFieldName;
      else if (name == "email") fields |= kFieldEmail;
      else if (name == "other") fields |= kFieldOther;
      else {
        co_return ErrorResponse(Error::InvalidArgument(
            "invalid_fields",
            "fields is a comma-separated list of name, email, other"));
      }
      list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
    }
  }
  auto query = ParseQuery(*q, fields);
  if (!query) co_return ErrorResponse(query.error());
  const std::string& domain = r.param("domain");
  auto hits = search_->Search(domain, *query, *limit);
  if (!hits) co_return ErrorResponse(hits.error());
  std::string body = "{\"results\":[";
  size_t n = 0;
  for (const SearchHit& h : *hits) {
    auto c = dir_.GetContact(domain, h.id, r.principal.view());
    if (!c) {
      // Deleted since the index saw it: skip. Anything else is an error.
      if (c.error().kind == ErrorKind::kNotFound) continue;
      co_return ErrorResponse(c.error());
    }
    if (n++) body += ',';
    body += "{\"id\":\"" + h.id + "\",\"score\":" + std::to_string(h.score) +
            ",\"contact\":" + c->json + "}";
  }
  body += "]}";
  co_return Ok(200, std::move(body));
}

Awaitable JsonApi::History(Request& r, std::string_view contact_id) {
  auto after = UintParam(r, "after", 0, 0, UINT64_MAX >> 1);
  if (!after) co_return ErrorResponse(after.error());
  auto limit = UintParam(r, "limit", 100, 1, limits_.max_limit_param);
  if (!limit) co_return ErrorResponse(limit.error());
  auto h = dir_.History(r.param("domain"), contact_id, *after, *limit);
  if (!h) co_return ErrorResponse(h.error());
  std::string body = "{\"entries\":[";
  for (size_t i = 0; i < h->size(); ++i) {
    const HistoryEntry& e = (*h)[i];
    if (i) body += ',';
    body += "{\"seq\":" + std::to_string(e.seq) + ",\"time\":\"" +
            FormatTime(e.time_us) + "\",\"op\":\"" +
            std::string(ChangeOpName(e.op)) + "\",\"id\":\"" + e.contact_id +
            "\",\"actor\":" + Quote(e.actor) + ",\"before\":" +
            (e.before_json.empty() ? "null" : e.before_json) +
            ",\"after\":" + (e.after_json.empty() ? "null" : e.after_json) +
            "}";
  }
  body += "]}";
  co_return Ok(200, std::move(body));
}

Awaitable JsonApi::ContactHistory(Request& r) {
  const std::string& id = r.param("id");
  co_return co_await History(r, id);
}

Awaitable JsonApi::DomainHistory(Request& r) {
  co_return co_await History(r, "");
}

Awaitable JsonApi::GetPolicy(Request& r) {
  auto p = dir_.GetPolicy(r.param("domain"));
  if (!p) co_return ErrorResponse(p.error());
  co_return Ok(200, PolicyJson(*p));
}

// A boolean query parameter: true/false, 1/0; absent: false.
Result<bool> BoolParam(const Request& r, std::string_view name) {
  auto v = r.query_param(name);
  if (!v || *v == "false" || *v == "0") return false;
  if (*v == "true" || *v == "1" || v->empty()) return true;
  return Error::InvalidArgument(
      "invalid_" + std::string(name),
      "query parameter \"" + std::string(name) +
          "\" must be true or false, got \"" +
          std::string(v->substr(0, 32)) + "\"");
}

// Takes one of the `max` slots that `running` counts, for a request kind
// that is capped (exports, imports). The slot is taken first, then
// checked, so two requests racing for the last one cannot both get it.
// Empty when the slot is the caller's (it gives it back when done);
// otherwise the 503 to answer, "too_many_<what>".
std::optional<Response> TakeSlot(std::atomic<int>& running, int max,
                                 std::string_view what) {
  if (running.fetch_add(1) < max) return std::nullopt;
  --running;
  Response busy = ErrorResponse(
      {ErrorKind::kUnavailable, "too_many_" + std::string(what),
       "at most " + std::to_string(max) + " " + std::string(what) +
           " run at once; try again shortly"});
  busy.headers.emplace_back("Retry-After", "5");
  return busy;
}

// An import that stopped: the error, and the report of what was done.
Response ImportFailed(const Error& e, const ImportReport& so_far,
                      std::string_view source) {
  Response res = ErrorResponse(e);
  res.body.pop_back();  // the closing brace of {"error":{...}}
  res.body += ",\"report\":" + so_far.ToJson(source) + "}";
  return res;
}

// The body streams through the import as it arrives: each piece is parsed
// and its changes applied (in batches) on the write pool while the next
// piece is on its way.
Awaitable JsonApi::Import(Request& r) {
  const std::string& domain = r.param("domain");
  auto required = [&](std::string_view name) -> Result<std::string> {
    auto v = r.query_param(name);
    if (!v || v->empty()) {
      return Error::InvalidArgument(
          "missing_" + std::string(name),
          "query parameter \"" + std::string(name) + "\" is required");
    }
    return std::string(*v);
  };
  auto format_name = required("format");
  if (!format_name) co_return ErrorResponse(format_name.error());
  auto format = ParseSourceFormat(*format_name);
  if (!format) co_return ErrorResponse(format.error());
  auto source = required("source");
  if (!source) co_return ErrorResponse(source.error());
  ImportOptions opts;
  opts.source = *source;
  auto key = ParseImportKey(r.query_param("key").value_or("id"));
  if (!key) co_return ErrorResponse(key.error());
  opts.key = *key;
  auto delete_missing = BoolParam(r, "delete_missing");
  if (!delete_missing) co_return ErrorResponse(delete_missing.error());
  opts.delete_missing = *delete_missing;
  auto dry_run = BoolParam(r, "dry_run");
  if (!dry_run) co_return ErrorResponse(dry_run.error());
  opts.dry_run = *dry_run;
  SourceOptions source_opts;
  for (const auto& [k, v] : r.query) {
    if (k.starts_with("map.")) source_opts.columns.emplace_back(k.substr(4), v);
  }
  std::string actor = ActorOf(r) + " import:" + *source;
  // A slot before anything runs, given back however the handler ends.
  if (auto busy = TakeSlot(imports_running_, limits_.max_imports, "imports")) {
    co_return std::move(*busy);
  }
  struct SlotGuard {
    std::atomic<int>& running;
    ~SlotGuard() { --running; }
  } slot{imports_running_};
  auto started = co_await OnPool(write_pool_, [&] {
    return SnapshotImport::Start(dir_, domain, *format, source_opts, opts,
                                 actor);
  });
  if (!started) co_return ErrorResponse(started.error());
  SnapshotImport& im = **started;
  for (;;) {
    auto piece = co_await r.body->Read();
    if (!piece) {
      // The upload broke off: stop the import's threads before reporting.
      const ImportReport* so_far =
          co_await OnPool(write_pool_, [&] { return &im.Abandon(); });
      co_return ImportFailed(piece.error(), *so_far, *source);
    }
    if (piece->empty()) break;
    const std::string_view data = *piece;
    auto fed = co_await OnPool(write_pool_, [&] { return im.Feed(data); });
    if (!fed) co_return ImportFailed(fed.error(), im.progress(), *source);
  }
  auto report = co_await OnPool(write_pool_, [&] { return im.Finish(); });
  if (!report) co_return ImportFailed(report.error(), im.progress(), *source);
  co_return Ok(200, report->ToJson(*source));
}

// The whole domain in one of the import formats, streamed (see
// ExportStream): what a key may read, as one consistent snapshot.
Awaitable JsonApi::Export(Request& r) {
  auto name = r.query_param("format");
  if (!name || name->empty()) {
    co_return ErrorResponse(Error::InvalidArgument(
        "missing_format",
        "query parameter \"format\" is required: csv, vcard, ldif or jsonl"));
  }
  auto format =
      ExportFormat::Parse(*name, r.query_param("vcard_version").value_or(""));
  if (!format) co_return ErrorResponse(format.error());
  const std::string& domain = r.param("domain");
  auto d = dir_.GetDomain(domain);
  if (!d) co_return ErrorResponse(d.error());
  // The stream gives the slot back.
  if (auto busy = TakeSlot(exports_running_, limits_.max_exports, "exports")) {
    co_return std::move(*busy);
  }
  Response res;
  res.content_type = std::string(format->MediaType());
  res.headers.emplace_back(
      "Content-Disposition",
      "attachment; filename=\"" + domain + "." +
          std::string(format->FileExtension()) + "\"");
  res.headers.emplace_back("Cache-Control", "no-store");
  res.stream = std::make_shared<ExportStream>(
      dir_, domain, r.principal.view(), *format,
      co_await asio::this_coro::executor, exports_running_);
  co_return res;
}

Awaitable JsonApi::PutPolicy(Request& r) {
  auto body = ParseBody(r, limits_.max_json_depth);
  if (!body) co_return ErrorResponse(body.error());
  auto policy = PolicyFromJson(*body);
  if (!policy) co_return ErrorResponse(policy.error());
  const std::string& domain = r.param("domain");
  std::string actor = ActorOf(r);
  auto w = co_await OnPool(write_pool_, [&] {
    return dir_.SetPolicy(domain, *policy, actor);
  });
  if (!w) co_return ErrorResponse(w.error());
  // The policy, and which changes it took to reach the public replicas.
  std::string body_out = PolicyJson(*policy);
  body_out.pop_back();
  body_out += ",\"contacts_changed\":" +
              std::to_string(w->last_seq ? w->last_seq - w->first_seq + 1 : 0) +
              ",\"last_seq\":" + std::to_string(w->domain_last_seq) + "}";
  co_return Ok(200, std::move(body_out));
}

Awaitable JsonApi::Purge(Request& r) {
  auto older = r.query_param("older_than");
  std::optional<int64_t> older_us;
  if (older) {
    auto s = ParseUint(*older, "older_than", 0, 100ull * 365 * 24 * 3600);
    if (!s) co_return ErrorResponse(s.error());
    older_us = static_cast<int64_t>(*s) * 1000000;
  }
  const std::string& domain = r.param("domain");
  auto p = co_await OnPool(write_pool_,
                           [&] { return dir_.Purge(domain, older_us); });
  if (!p) co_return ErrorResponse(p.error());
  json::object o;
  o["tombstones_removed"] = p->tombstones_removed;
  o["history_removed"] = p->history_removed;
  o["horizon_seq"] = p->horizon_seq;
  co_return Ok(200, json::serialize(o));
}

// The key the request was made with.
Awaitable JsonApi::WhoAmI(Request& r) {
  auto k = keys_.Get(r.principal.key_id);
  if (!k) co_return ErrorResponse(Error::NotFound("key_not_found", "no such key"));
  co_return Ok(200, KeyJson(*k));
}

// POST /v1/keys (server-wide; "domain" in the body, absent or null for a
// server-wide key) and POST /v1/domains/{domain}/keys.
Awaitable JsonApi::CreateKey(Request& r) {
  auto body = ParseBody(r, limits_.max_json_depth);
  if (!body) co_return ErrorResponse(body.error());
  const json::object* o = body->if_object();
  auto bad = [](std::string msg) {
    return ErrorResponse(Error::InvalidArgument("invalid_key_request", msg));
  };
  if (!o) co_return bad("expected {\"scopes\": [...], \"name\": \"...\"}");
  const bool domain_route = !r.param("domain").empty();
  std::string domain = r.param("domain");
  std::string name;
  uint32_t scopes = 0;
  for (const auto& [k, v] : *o) {
    if (k == "name" && v.is_string()) {
      name = std::string(v.get_string());
    } else if (k == "scopes" && v.is_array()) {
      for (const json::value& s : v.get_array()) {
        if (!s.is_string()) co_return bad("\"scopes\" is an array of strings");
        auto bit = ParseScopes(s.get_string());
        if (!bit) co_return ErrorResponse(bit.error());
        scopes |= *bit;
      }
    } else if (k == "domain" && !domain_route &&
               (v.is_string() || v.is_null())) {
      domain = v.is_null() ? "" : std::string(v.get_string());
    } else {
      co_return bad("unknown or invalid member \"" + std::string(k) +
                    "\"; a key takes \"scopes\", \"name\"" +
                    (domain_route ? "" : " and \"domain\""));
    }
  }
  if (scopes == 0) {
    co_return ErrorResponse(Error::InvalidArgument(
        "invalid_scopes", "give \"scopes\": a non-empty array of read, "
                          "write, admin"));
  }
  std::string actor = ActorOf(r);
  auto made = co_await OnPool(write_pool_, [&] {
    return keys_.Create(domain, scopes, name, actor);
  });
  if (!made) co_return ErrorResponse(made.error());
  std::string out = KeyJson(made->key);
  out.pop_back();
  out += ",\"key\":" + Quote(made->bearer) + "}";
  Response res = Ok(201, std::move(out));
  res.headers.emplace_back("Cache-Control", "no-store");
  co_return res;
}

Awaitable JsonApi::ListKeys(Request& r) {
  std::optional<std::string_view> domain;
  if (!r.param("domain").empty()) domain = r.param("domain");
  std::string body = "{\"keys\":[";
  bool first = true;
  for (const StoredKey& k : keys_.List(domain)) {
    if (!first) body += ',';
    first = false;
    body += KeyJson(k);
  }
  body += "]}";
  co_return Ok(200, std::move(body));
}

Awaitable JsonApi::RevokeKey(Request& r) {
  std::optional<std::string_view> domain;
  if (!r.param("domain").empty()) domain = r.param("domain");
  const std::string& id = r.param("key");
  auto k = co_await OnPool(write_pool_,
                           [&] { return keys_.Revoke(id, domain); });
  if (!k) co_return ErrorResponse(k.error());
  co_return Ok(200, KeyJson(*k));
}

}  // namespace galsync::server
