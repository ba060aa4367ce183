// LiveIndex: a PrefixIndex that follows changes. Searches see every change
// applied before them; applying a change costs O(words) and never rebuilds
// an index in the caller's thread.
//
//   base          immutable PrefixIndex of a past state  ─┐
//   dead          base documents deleted or replaced      │
//   delta index   a PrefixIndex of the delta as of its    ├─► Search: the
//                 last build, less what changed since     │   top k of each,
//   tail          delta documents changed since then,     │   merged
//                 scanned one by one                     ─┘
//
// The delta is every document added or replaced since the base was built.
// Its newest part, the tail, is searched by the reference semantics
// (MatchScore), so it is kept short: once it holds more than
// tail_threshold documents, a background thread indexes the whole delta
// (O(delta) work, a few milliseconds for thousands of documents), so a
// search costs about what it costs on the base whatever the delta's size.
// Once the delta holds more than compact_threshold documents (or the base
// has more than max(compact_threshold, size/16) dead ones) another
// background thread rebuilds the base from base + delta (each thread starts
// when first needed). Searches and changes go on during both; changes made
// during a build are carried over.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <condition_variable>
#include <memory>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
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
    size_t tail_threshold = 128;      // tail documents before the delta
                                      // is indexed
  };
  LiveIndex() : LiveIndex(Options{}) {}
  explicit LiveIndex(Options options);
  ~LiveIndex();

  // Replaces the whole content (e.g. the initial load). Builds in the
  // caller's thread.
  void Reset(std::vector<IndexDoc> docs);
  void Reset(std::vector<IndexDocs> parts);  // see PrefixIndex::Build
  // Adds or replaces `upserts` and removes `removals` (unknown ids are
  // ignored). Visible to every Search that starts after it returns.
  void Apply(std::vector<IndexDoc> upserts,
             const std::vector<std::string>& removals);

  // Top k (<= QueryLimits::kMaxResults) in ranking order.
  std::vector<SearchHit> Search(const Query& q, size_t k) const;

  size_t size() const;          // live documents
  size_t delta_size() const;
  size_t tail_size() const;
  size_t MemoryBytes() const;
  // Rebuilds the base now, in the caller's thread (tests, benchmarks).
  void CompactNow();
  // Indexes the delta now, in the caller's thread (tests, benchmarks).
  void IndexDeltaNow();

 private:
  void Compact();
  void IndexDelta();
  void Worker(bool compactor);
  void Wake(bool compactor);
  void MarkDeadLocked(const std::string& id);
  bool NeedsCompactionLocked() const;

  const Options options_;
  mutable std::shared_mutex mu_;
  std::shared_ptr<const PrefixIndex> base_;            // GUARDED_BY(mu_)
  std::vector<uint8_t> dead_;                          // GUARDED_BY(mu_)
  size_t dead_count_ = 0;                              // GUARDED_BY(mu_)
  // A delta document, and a signature of its words' first bytes that
  // rules most documents out of a query without comparing strings.
  static constexpr size_t kNotInTail = SIZE_MAX;
  struct DeltaDoc {
    std::shared_ptr<const IndexDoc> doc;  // shared with builds' snapshots
    uint64_t first_bytes = 0;
    size_t slot = kNotInTail;  // its entry in tail_, if it is in the tail
  };
  std::unordered_map<std::string, DeltaDoc> delta_;    // GUARDED_BY(mu_)
  // The delta index: the delta as of its last build; documents changed
  // since are dead in it and in the tail.
  std::shared_ptr<const PrefixIndex> delta_index_;     // GUARDED_BY(mu_)
  std::vector<uint8_t> delta_index_dead_;              // GUARDED_BY(mu_)
  // The tail as a flat array that a search scans: signatures side by side,
  // documents by pointer (nodes of delta_ do not move). An erased entry's
  // place is taken by the last one.
  struct TailEntry {
    uint64_t first_bytes;
    DeltaDoc* doc;
  };
  std::vector<TailEntry> tail_;                        // GUARDED_BY(mu_)
  void UpsertLocked(IndexDoc doc);
  void RemoveLocked(const std::string& id);
  void AddToTailLocked(DeltaDoc& d);
  void EraseFromTailLocked(DeltaDoc& d);
  // Every delta document into the tail, the delta index dropped (when the
  // base and delta are replaced).
  void ResetTailLocked();
  // Makes `base` the whole content (the Resets, once built).
  void ReplaceBase(std::shared_ptr<const PrefixIndex> base);
  // Pointers to the delta's documents, for a build to copy outside the lock.
  std::vector<std::shared_ptr<const IndexDoc>> DeltaSnapshotLocked() const;
  // Bumped whenever the base and the delta are replaced, so that a delta
  // index built from an older delta is thrown away.
  uint64_t generation_ = 0;                            // GUARDED_BY(mu_)
  // While a rebuild of the base runs: ids changed since its snapshot, and
  // whether each was last upserted (true) or removed.
  bool compacting_ = false;                            // GUARDED_BY(mu_)
  std::unordered_map<std::string, bool> touched_;      // GUARDED_BY(mu_)
  // While the delta is indexed: ids changed since its snapshot.
  bool indexing_delta_ = false;                        // GUARDED_BY(mu_)
  std::unordered_set<std::string> delta_touched_;      // GUARDED_BY(mu_)

  std::mutex work_mu_;
  std::condition_variable work_cv_;
  bool compact_wanted_ = false;      // GUARDED_BY(work_mu_)
  bool index_delta_wanted_ = false;  // GUARDED_BY(work_mu_)
  bool stop_ = false;                // GUARDED_BY(work_mu_)
  // Started by Wake when first needed.
  std::thread compactor_;      // GUARDED_BY(work_mu_)
  std::thread delta_indexer_;  // GUARDED_BY(work_mu_)
};

}  // namespace galsync
