// Per-domain indexes kept current by tailing the store; see
// galsync/search.h.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <limits>
#include <unordered_map>

#include "galsync/directory.h"
#include "galsync/search.h"

namespace galsync {
namespace {
constexpr size_t kScanPage = 5000;
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
    if (auto st = CatchUp(info.name, *d, /*initial=*/true); !st) return st;
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

std::shared_ptr<SearchService::DomainIndex> SearchService::Get(
    std::string_view domain) {
  {
    std::lock_guard lock(mu_);
    auto it = domains_.find(domain);
    if (it != domains_.end()) return it->second;
  }
  // A domain created after Start: index it now (it is new, so small).
  if (!dir_.GetDomain(domain).ok()) return nullptr;
  auto d = std::make_shared<DomainIndex>();
  if (!CatchUp(std::string(domain), *d, /*initial=*/true).ok()) return nullptr;
  std::lock_guard lock(mu_);
  auto [it, fresh] = domains_.emplace(std::string(domain), d);
  return it->second;
}

void SearchService::Follow() {
  constexpr auto kMinBehindPause = std::chrono::milliseconds(1);
  constexpr auto kMaxBehindPause = std::chrono::milliseconds(100);
  auto behind_pause = std::chrono::milliseconds(kMinBehindPause);
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
    if (stop_) return;
    std::vector<std::string> work;
    work.swap(pending_);
    lock.unlock();
    for (const std::string& name : work) {
      auto d = Get(name);
      if (!d) continue;
      if (!CatchUp(name, *d, /*initial=*/false).ok()) {
        // A transient store error: try again shortly rather than wait for
        // the domain's next commit.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        Notify(name);
      } else if (d->applied_seq.load() < dir_.LastSeq(name).value_or(0)) {
        // Scans read from a replica that has not yet replayed what this
        // server heard was committed: look again in a moment, less often
        // while it stays behind.
        std::this_thread::sleep_for(behind_pause);
        behind_pause = std::min(behind_pause * 2, kMaxBehindPause);
        Notify(name);
      } else {
        behind_pause = kMinBehindPause;
      }
    }
    lock.lock();
  }
}

// Scans the domain's changes after d.applied_seq and applies them. An
// initial catch-up is a full sync (tombstones below the first snapshot are
// skipped, later ones applied) and replaces the index in one build.
Status SearchService::CatchUp(const std::string& domain, DomainIndex& d,
                              bool initial) {
  std::lock_guard catching(d.catch_up_mu);
  uint64_t after = d.applied_seq.load();
  uint64_t floor = initial ? std::numeric_limits<uint64_t>::max() : 0;
  std::unordered_map<std::string, IndexDoc> initial_docs;
  for (;;) {
    std::vector<IndexDoc> upserts;
    std::vector<std::string> removals;
    uint64_t last = after;
    // The index holds the public view, so that no search, whoever makes
    // it, matches a hidden contact or a private attribute.
    auto scan = dir_.ScanChanges(
        domain, View::kPublic, after, floor, kScanPage,
        [&](const ChangeRow& row) {
          last = row.seq;
          if (row.withheld) return true;
          if (row.deleted) {
            if (initial) {
              initial_docs.erase(std::string(row.id));
            } else {
              removals.emplace_back(row.id);
            }
            return true;
          }
          auto c = ParseContactJson(row.json);
          if (!c) return true;  // stored JSON is the codec's own output
          IndexDoc doc = IndexDocFromContact(*c);
          if (initial) {
            std::string id = doc.id;
            initial_docs.insert_or_assign(std::move(id), std::move(doc));
          } else {
            upserts.push_back(std::move(doc));
          }
          return true;
        });
    if (!scan) return std::move(scan).error();
    if (initial && floor == std::numeric_limits<uint64_t>::max()) {
      floor = scan->snapshot_last_seq;
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
    return Error::NotFound("domain_not_found",
                           "no domain named \"" + std::string(domain) + "\"");
  }
  return d->index.Search(q, k);
}

uint64_t SearchService::applied_seq(std::string_view domain) {
  std::lock_guard lock(mu_);
  auto it = domains_.find(domain);
  return it == domains_.end() ? 0 : it->second->applied_seq.load();
}

}  // namespace galsync
