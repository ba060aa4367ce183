// Per-domain indexes kept current by tailing the store; see
// galsync/search.h.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <limits>
#include <optional>

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

// Runs fn(chunk, from, to) over `n` rows cut into `chunks` runs, each on a
// thread of its own (the first on the caller's).
template <typename Fn>
void ForEachChunk(size_t n, size_t chunks, const Fn& fn) {
  const size_t each = (n + chunks - 1) / chunks;
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < chunks; ++t) {
    helpers.emplace_back(fn, t, std::min(n, t * each),
                         std::min(n, (t + 1) * each));
  }
  fn(size_t{0}, size_t{0}, std::min(n, each));
  for (auto& h : helpers) h.join();
}

// Contacts are parsed and folded on every core when a page is large (a
// build).
size_t ChunksFor(size_t rows) {
  constexpr size_t kRowsPerThread = 1024;
  return std::clamp<size_t>(rows / kRowsPerThread, 1,
                            std::max(1u, std::thread::hardware_concurrency()));
}

// The index documents of a page's upserts (nullopt for deletes, and for
// JSON that does not parse, which the codec never writes).
std::vector<std::optional<IndexDoc>> DocsOf(const std::vector<PageRow>& rows) {
  std::vector<std::optional<IndexDoc>> docs(rows.size());
  ForEachChunk(rows.size(), ChunksFor(rows.size()),
               [&](size_t, size_t from, size_t to) {
                 for (size_t i = from; i < to; ++i) {
                   if (rows[i].deleted) continue;
                   auto c = ParseContactJson(rows[i].json);
                   if (c) docs[i] = IndexDocFromContact(*c);
                 }
               });
  return docs;
}

// The same rows for a build, appended to `tables`: one table per chunk, in
// row order, a delete as a removal.
void AddTablesOf(const std::vector<PageRow>& rows,
                 std::vector<IndexDocs>& tables) {
  const size_t chunks = ChunksFor(rows.size());
  const size_t first = tables.size();
  tables.resize(first + chunks);
  ForEachChunk(rows.size(), chunks, [&](size_t chunk, size_t from, size_t to) {
    IndexDocs& table = tables[first + chunk];
    for (size_t i = from; i < to; ++i) {
      if (rows[i].deleted) {
        table.AddRemoval(rows[i].id);
      } else if (auto c = ParseContactJson(rows[i].json)) {
        AddContactDoc(*c, 0, table);
      }
    }
  });
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
  std::vector<IndexDocs> initial_docs;  // in seq order
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
    if (initial) {
      AddTablesOf(rows, initial_docs);
    } else {
      std::vector<std::optional<IndexDoc>> docs = DocsOf(rows);
      std::vector<IndexDoc> upserts;
      std::vector<std::string> removals;
      for (size_t i = 0; i < rows.size(); ++i) {
        if (rows[i].deleted) {
          removals.push_back(std::move(rows[i].id));
        } else if (docs[i]) {
          upserts.push_back(std::move(*docs[i]));
        }
      }
      if (!upserts.empty() || !removals.empty()) {
        d.index.Apply(std::move(upserts), removals);
      }
    }
    after = scan->exhausted ? std::max(last, scan->snapshot_last_seq) : last;
    if (!initial) d.applied_seq.store(after);
    if (scan->exhausted) break;
  }
  if (initial) {
    d.index.Reset(std::move(initial_docs));
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
