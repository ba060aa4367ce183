// LiveIndex: a PrefixIndex that follows changes. Searches see every change
// applied before them; applying a change costs O(words) and never rebuilds
// the whole index.
//
//   base   immutable PrefixIndex of a past state ─┐
//   dead   base documents deleted or replaced     ├─► Search = base results
//   delta  documents added or replaced since base ┘   not dead ∪ delta
//                                                     matches, top k
//
// The delta is searched by the reference semantics (MatchScore), so it is
// kept small: once it holds more than compact_threshold documents (or the
// base has more than max(compact_threshold, size/16) dead ones) a background
// thread rebuilds the base from base + delta, while searches and changes go
// on; changes made during the rebuild are carried over.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <condition_variable>
#include <memory>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "galsync/prefix_index.h"

namespace galsync {

struct SearchHit {
  std::string id;
  uint32_t score = 0;
};

class LiveIndex {
 public:
  struct Options {
    size_t compact_threshold = 1024;  // delta documents before a rebuild
  };
  LiveIndex() : LiveIndex(Options{}) {}
  explicit LiveIndex(Options options);
  ~LiveIndex();

  // Replaces the whole content (e.g. the initial load). Builds in the
  // caller's thread.
  void Reset(std::vector<IndexDoc> docs);
  // Adds or replaces `upserts` and removes `removals` (unknown ids are
  // ignored). Visible to every Search that starts after it returns.
  void Apply(std::vector<IndexDoc> upserts,
             const std::vector<std::string>& removals);

  // Top k (<= QueryLimits::kMaxResults) in ranking order.
  std::vector<SearchHit> Search(const Query& q, size_t k) const;

  size_t size() const;          // live documents
  size_t delta_size() const;
  size_t MemoryBytes() const;
  // Rebuilds the base now, in the caller's thread (tests, benchmarks).
  void CompactNow();

 private:
  void Compact();
  void Worker();
  void MarkDeadLocked(const std::string& id);
  bool NeedsCompactionLocked() const;

  const Options options_;
  mutable std::shared_mutex mu_;
  std::shared_ptr<const PrefixIndex> base_;            // GUARDED_BY(mu_)
  std::vector<uint8_t> dead_;                          // GUARDED_BY(mu_)
  size_t dead_count_ = 0;                              // GUARDED_BY(mu_)
  // A delta document, and a signature of its words' first bytes that
  // rules most documents out of a query without comparing strings.
  struct DeltaDoc {
    IndexDoc doc;
    uint64_t first_bytes = 0;
    size_t slot = 0;  // its entry in delta_scan_
  };
  std::unordered_map<std::string, DeltaDoc> delta_;    // GUARDED_BY(mu_)
  // The delta as a flat array that a search scans: signatures side by
  // side, documents by pointer (nodes of delta_ do not move). Kept up to
  // date by Apply (an erased entry's place taken by the last one), remade
  // when the whole delta is replaced.
  struct DeltaEntry {
    uint64_t first_bytes;
    DeltaDoc* doc;
  };
  std::vector<DeltaEntry> delta_scan_;                 // GUARDED_BY(mu_)
  void IndexDeltaLocked();
  void EraseDeltaLocked(const std::string& id);
  // While a rebuild runs: ids changed since its snapshot, and whether each
  // was last upserted (true) or removed.
  bool compacting_ = false;                            // GUARDED_BY(mu_)
  std::unordered_map<std::string, bool> touched_;      // GUARDED_BY(mu_)

  std::mutex work_mu_;
  std::condition_variable work_cv_;
  bool work_wanted_ = false;  // GUARDED_BY(work_mu_)
  bool stop_ = false;         // GUARDED_BY(work_mu_)
  std::thread worker_;
};

}  // namespace galsync
