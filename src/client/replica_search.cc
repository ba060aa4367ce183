// Offline search of a replica: a scan with the reference scoring, and an
// in-memory LiveIndex kept current from the replica's rows by seq.
#include "galsync/replica_search.h"

#include <algorithm>

#include "galsync/contact.h"
#include "galsync/search.h"

namespace galsync {
namespace {

bool Better(const SearchHit& a, const SearchHit& b) {
  return a.score != b.score ? a.score > b.score : a.id < b.id;
}

Error Unreadable(std::string_view id, const Error& e) {
  return Error::InvalidArgument(
      "replica_corrupt", "contact \"" + std::string(id) +
                             "\" in the replica cannot be read: " + e.message);
}

}  // namespace

Result<std::vector<SearchHit>> ScanSearch(Replica& replica, const Query& q,
                                          size_t k) {
  k = std::min(k, QueryLimits::kMaxResults);
  std::vector<SearchHit> top;  // a min-heap on Better: the worst kept on top
  std::optional<Error> failure;
  auto st = replica.ForEach([&](std::string_view id, std::string_view json) {
    auto contact = ParseContactJson(json);
    if (!contact.ok()) {
      failure = Unreadable(id, contact.error());
      return false;
    }
    if (contact->hidden) return true;  // as on the server: never found
    IndexDoc doc = IndexDocFromContact(*contact);
    auto score = MatchScore(doc, q);
    if (!score) return true;
    SearchHit hit{std::move(doc.id), *score};
    if (top.size() < k) {
      top.push_back(std::move(hit));
      std::push_heap(top.begin(), top.end(), Better);
    } else if (k > 0 && Better(hit, top.front())) {
      std::pop_heap(top.begin(), top.end(), Better);
      top.back() = std::move(hit);
      std::push_heap(top.begin(), top.end(), Better);
    }
    return true;
  });
  if (!st.ok()) return std::move(st).error();
  if (failure) return *failure;
  std::sort(top.begin(), top.end(), Better);
  return top;
}

ReplicaIndex::ReplicaIndex() = default;

Status ReplicaIndex::Refresh(Replica& replica) {
  auto state = replica.State();
  if (!state.ok()) return std::move(state).error();
  const bool rebuild = !built_ || state->generation != generation_;
  IndexDocs table;                 // a rebuild's documents
  std::vector<IndexDoc> upserts;   // or a refresh's changes
  std::vector<std::string> removals;
  std::optional<Error> failure;
  uint64_t max_seq = rebuild ? 0 : applied_seq_;
  auto st = replica.ForEachSince(
      max_seq, [&](std::string_view id, uint64_t seq, std::string_view json) {
        max_seq = std::max(max_seq, seq);
        if (failure) return;
        if (json.empty()) {
          if (!rebuild) removals.emplace_back(id);
          return;
        }
        auto contact = ParseContactJson(json);
        if (!contact.ok()) {
          failure = Unreadable(id, contact.error());
          return;
        }
        if (contact->hidden) {  // as on the server: never found
          if (!rebuild) removals.emplace_back(id);
          return;
        }
        if (rebuild) {
          AddContactDoc(*contact, 0, table);
        } else {
          upserts.push_back(IndexDocFromContact(*contact));
        }
      });
  if (!st.ok()) return st;
  if (failure) return *failure;
  if (rebuild) {
    std::vector<IndexDocs> parts;
    parts.push_back(std::move(table));
    index_.Reset(std::move(parts));
  } else if (!upserts.empty() || !removals.empty()) {
    index_.Apply(std::move(upserts), removals);
  }
  built_ = true;
  generation_ = state->generation;
  applied_seq_ = max_seq;
  return Ok{};
}

}  // namespace galsync
