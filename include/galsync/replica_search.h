// Offline search of a Replica with the server's semantics and ranking: the
// same words per contact (IndexDocFromContact), the same query parsing and
// the same scoring (galsync/prefix_index.h), so `jo sm` finds the same
// people, in the same order, with or without the network.
//
//   ScanSearch     reads every live contact and scores it (MatchScore):
//                  no memory kept, O(N) — about 7 µs a contact, so right
//                  for one-shot searches of directories up to ~100k people
//                  (the `galsync search` command)
//   ReplicaIndex   an in-memory LiveIndex of the replica, built once
//                  (O(N), ~18 µs a contact) and then brought up to date by
//                  Refresh() in O(changes): for an application that
//                  searches as the user types
//
// Thread-safety: ScanSearch uses the Replica, which belongs to one thread
// at a time. ReplicaIndex::Search may run concurrently with Refresh.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "galsync/live_index.h"
#include "galsync/prefix_index.h"
#include "galsync/replica.h"

namespace galsync {

// Results ordered as the server orders them: score descending, then id.
Result<std::vector<SearchHit>> ScanSearch(Replica& replica, const Query& q,
                                          size_t k);

class ReplicaIndex {
 public:
  ReplicaIndex();

  // Brings the index up to date with `replica`: applies the rows changed
  // since the last Refresh, or rebuilds everything after a full sync
  // replaced the replica's copy (or on the first call).
  Status Refresh(Replica& replica);

  std::vector<SearchHit> Search(const Query& q, size_t k) const {
    return index_.Search(q, k);
  }
  size_t size() const { return index_.size(); }

 private:
  LiveIndex index_;
  bool built_ = false;
  uint64_t generation_ = 0;
  uint64_t applied_seq_ = 0;
};

}  // namespace galsync
