// Per-domain indexes kept current by tailing the store; see
// galsync/search.h.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <limits>
#include <optional>
#include <unordered_map>

#include "galsync/directory.h"
#include "galsync/search.h"

namespace galsync {
namespace {
constexpr size_t kScanPage = 5000;
// How long an initial build waits for a read replica that has not yet
// replayed what it needs: at start, and for a domain new to this server.
constexpr auto kStartBehindWait = std::chrono::seconds(30);
constexpr auto kNewDomainBehindWait = std::chrono::seconds(2);

// A row of a scan page, kept until the page is indexed.
struct PageRow {
  bool deleted;
  std::string id;
  std::string json;  // empty for a delete
};

// The index documents of a page's upserts (nullopt for deletes, and for
// JSON that does not parse, which the codec never writes). Contacts are
// parsed and folded on every core when the page is large (a build).
std::vector<std::optional<IndexDoc>> DocsOf(const std::vector<PageRow>& rows) {
  std::vector<std::optional<IndexDoc>> docs(rows.size());
  auto convert = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      if (rows[i].deleted) continue;
      auto c = ParseContactJson(rows[i].json);
      if (c) docs[i] = IndexDocFromContact(*c);
    }
  };
  constexpr size_t kRowsPerThread = 1024;
  const size_t threads = std::clamp<size_t>(
      rows.size() / kRowsPerThread, 1,
      std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> helpers;
  const size_t chunk = (rows.size() + threads - 1) / threads;
  for (size_t t = 1; t < threads; ++t) {
    helpers.emplace_back(convert, t * chunk,
                         std::min(rows.size(), (t + 1) * chunk));
  }
  convert(0, std::min(rows.size(), chunk));
  for (auto& h : helpers) h.join();
  return docs;
}
}  // namespace

SearchService::SearchService(Directory& dir) : dir_(dir) {}

SearchService::~SearchService() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (follower_.joinable()) follower_.join();
  if (listener_ != 0) dir_.RemoveCommitListener(listener_);
}

Status SearchService::Start() {
  auto domains = dir_.ListDomains();
  if (!domains) return std::move(domains).error();
  for (const DomainInfo& info : *domains) {
    auto d = std::make_shared<DomainIndex>();
    if (auto st = CatchUp(info.name, *d, /*initial=*/true, kStartBehindWait);
        !st) {
      return st;
    }
    std::lock_guard lock(mu_);
    domains_[info.name] = std::move(d);
  }
  // The initial builds allocate far more (parsed contacts, word lists)
  // than the indexes keep: give the freed memory back to the system.
  malloc_trim(0);
  listener_ = dir_.AddCommitListener(
      [this](const std::string& domain, uint64_t) { Notify(domain); });
  follower_ = std::thread([this] { Follow(); });
  // Commits between the initial scans and the listener are picked up here.
  for (const DomainInfo& info : *domains) Notify(info.name);
  return Ok{};
}

void SearchService::Notify(const std::string& domain) {
  {
    std::lock_guard lock(mu_);
    if (std::find(pending_.begin(), pending_.end(), domain) == pending_.end()) {
      pending_.push_back(domain);
    }
  }
  cv_.notify_one();
}

Result<std::shared_ptr<SearchService::DomainIndex>> SearchService::Get(
    std::string_view domain) {
  {
    std::lock_guard lock(mu_);
    auto it = domains_.find(domain);
    if (it != domains_.end()) return it->second;
  }
  // A domain created after Start: index it now (it is new, so small).
  if (auto known = dir_.GetDomain(domain); !known) {
    return std::move(known).error();
  }
  auto d = std::make_shared<DomainIndex>();
  if (auto st = CatchUp(std::string(domain), *d, /*initial=*/true,
                        kNewDomainBehindWait);
      !st) {
    return std::move(st).error();
  }
  std::lock_guard lock(mu_);
  auto [it, fresh] = domains_.emplace(std::string(domain), d);
  return it->second;
}

void SearchService::Follow() {
  // Domains whose catch-up failed or found the store behind what the
  // directory knows (a read replica still replaying) are looked at again
  // after a pause that grows while they stay so.
  constexpr auto kMinPause = std::chrono::milliseconds(1);
  constexpr auto kMaxPause = std::chrono::milliseconds(50);
  auto pause = std::chrono::milliseconds(kMinPause);
  std::vector<std::string> again;
  std::unique_lock lock(mu_);
  for (;;) {
    if (again.empty()) {
      cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
    } else {
      cv_.wait_for(lock, pause, [this] { return stop_ || !pending_.empty(); });
      for (std::string& name : again) {
        if (std::find(pending_.begin(), pending_.end(), name) ==
            pending_.end()) {
          pending_.push_back(std::move(name));
        }
      }
      again.clear();
      pause = std::min(pause * 2, kMaxPause);
    }
    if (stop_) return;
    std::vector<std::string> work;
    work.swap(pending_);
    lock.unlock();
    for (std::string& name : work) {
      auto d = Get(name);
      if (!d || !CatchUp(name, **d, /*initial=*/false, {}).ok() ||
          (*d)->applied_seq.load() < dir_.LastSeq(name).value_or(0)) {
        again.push_back(std::move(name));
      }
    }
    if (again.empty()) pause = kMinPause;
    lock.lock();
  }
}

// Scans the domain's changes after d.applied_seq and applies them. An
// initial catch-up is a full sync (tombstones below the first snapshot are
// skipped, later ones applied) and replaces the index in one build.
Status SearchService::CatchUp(const std::string& domain, DomainIndex& d,
                              bool initial,
                              std::chrono::milliseconds behind_wait) {
  std::lock_guard catching(d.catch_up_mu);
  uint64_t after = d.applied_seq.load();
  uint64_t floor = initial ? std::numeric_limits<uint64_t>::max() : 0;
  std::unordered_map<std::string, IndexDoc> initial_docs;
  std::vector<PageRow> rows;
  for (;;) {
    rows.clear();
    uint64_t last = after;
    // The index holds the public view, so that no search, whoever makes
    // it, matches a hidden contact or a private attribute.
    auto scan = dir_.ScanChanges(
        domain, View::kPublic, after, floor, kScanPage,
        [&](const ChangeRow& row) {
          last = row.seq;
          if (!row.withheld) {
            rows.push_back({row.deleted, std::string(row.id),
                            row.deleted ? std::string() : std::string(row.json)});
          }
          return true;
        },
        // Later pages of a build must not come from a snapshot older than
        // the first's (a replica's): it could hold a contact whose delete,
        // below the floor, the build then skips.
        initial && floor != std::numeric_limits<uint64_t>::max() ? floor : 0,
        initial ? behind_wait : std::chrono::milliseconds{});
    if (!scan) return std::move(scan).error();
    if (initial && floor == std::numeric_limits<uint64_t>::max()) {
      floor = scan->snapshot_last_seq;
    }
    // In seq order: a contact's later change replaces an earlier one.
    std::vector<std::optional<IndexDoc>> docs = DocsOf(rows);
    std::vector<IndexDoc> upserts;
    std::vector<std::string> removals;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].deleted) {
        if (initial) {
          initial_docs.erase(rows[i].id);
        } else {
          removals.push_back(std::move(rows[i].id));
        }
      } else if (docs[i]) {
        if (initial) {
          initial_docs.insert_or_assign(std::move(rows[i].id),
                                        std::move(*docs[i]));
        } else {
          upserts.push_back(std::move(*docs[i]));
        }
      }
    }
    if (!upserts.empty() || !removals.empty()) {
      d.index.Apply(std::move(upserts), removals);
    }
    after = scan->exhausted ? std::max(last, scan->snapshot_last_seq) : last;
    if (!initial) d.applied_seq.store(after);
    if (scan->exhausted) break;
  }
  if (initial) {
    std::vector<IndexDoc> docs;
    docs.reserve(initial_docs.size());
    for (auto& [id, doc] : initial_docs) docs.push_back(std::move(doc));
    d.index.Reset(std::move(docs));
    d.applied_seq.store(after);
  }
  return Ok{};
}

Result<std::vector<SearchHit>> SearchService::Search(std::string_view domain,
                                                     const Query& q,
                                                     size_t k) {
  auto d = Get(domain);
  if (!d) {
    if (d.error().kind == ErrorKind::kNotFound) {
      return Error::NotFound("domain_not_found", "no domain named \"" +
                                                      std::string(domain) +
                                                      "\"");
    }
    return Error{ErrorKind::kUnavailable, "search_unavailable",
                 "the search index of \"" + std::string(domain) +
                     "\" cannot be built yet: " + d.error().message};
  }
  return (*d)->index.Search(q, k);
}

uint64_t SearchService::applied_seq(std::string_view domain) {
  std::lock_guard lock(mu_);
  auto it = domains_.find(domain);
  return it == domains_.end() ? 0 : it->second->applied_seq.load();
}

}  // namespace galsync
