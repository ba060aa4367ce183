// A prefix index that follows changes; see galsync/live_index.h.
#include "galsync/live_index.h"

#include <algorithm>
#include <mutex>

namespace galsync {
namespace {

// Bits of a 64-bit signature: the low half for a word's first byte, the
// high half for its first two bytes. A term can be a prefix of a word only
// if the word has the term's bit (its first two bytes, or its one byte).
uint64_t PrefixBit(std::string_view w) {
  if (w.size() == 1) return uint64_t{1} << (static_cast<unsigned char>(w[0]) % 32);
  const unsigned h = static_cast<unsigned char>(w[0]) * 31u +
                     static_cast<unsigned char>(w[1]);
  return uint64_t{1} << (32 + h % 32);
}

uint64_t WordsSignature(const IndexDoc& d) {
  uint64_t sig = 0;
  for (const IndexedWord& w : d.words) {
    if (w.text.empty()) continue;
    sig |= PrefixBit(w.text.substr(0, 1));
    if (w.text.size() > 1) sig |= PrefixBit(w.text);
  }
  return sig;
}

uint64_t QuerySignature(const Query& q) {
  uint64_t sig = 0;
  for (const std::string& t : q.terms) sig |= PrefixBit(t);
  return sig;
}

// Copies the documents of a snapshot (taken under the lock; copied outside
// it, so no search or change waits for the copy) into `out`, and lets the
// snapshot go.
void AppendCopies(std::vector<std::shared_ptr<const IndexDoc>>&& snapshot,
                  IndexDocs& out) {
  for (const auto& d : snapshot) out.Add(*d);
  snapshot = {};
}

}  // namespace

LiveIndex::LiveIndex(Options options)
    : options_(options), base_(PrefixIndex::Build(IndexDocs())) {}

LiveIndex::~LiveIndex() {
  {
    std::lock_guard lock(work_mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  // The compactor may start the delta indexer until it stops: join it first.
  if (compactor_.joinable()) compactor_.join();
  if (delta_indexer_.joinable()) delta_indexer_.join();
}

void LiveIndex::Worker(bool compactor) {
  bool& wanted = compactor ? compact_wanted_ : index_delta_wanted_;
  std::unique_lock lock(work_mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return wanted || stop_; });
    if (stop_) return;
    wanted = false;
    lock.unlock();
    if (compactor) {
      Compact();
    } else {
      IndexDelta();
    }
    lock.lock();
  }
}

void LiveIndex::Wake(bool compactor) {
  {
    std::lock_guard lock(work_mu_);
    if (stop_) return;
    (compactor ? compact_wanted_ : index_delta_wanted_) = true;
    // Started at the first need: an index that never changes (most
    // domains, most of the time) keeps no thread.
    std::thread& worker = compactor ? compactor_ : delta_indexer_;
    if (!worker.joinable()) {
      worker = std::thread([this, compactor] { Worker(compactor); });
    }
  }
  work_cv_.notify_all();
}

void LiveIndex::Reset(std::vector<IndexDoc> docs) {
  ReplaceBase(PrefixIndex::Build(std::move(docs)));
}

void LiveIndex::Reset(std::vector<IndexDocs> parts) {
  ReplaceBase(PrefixIndex::Build(std::move(parts)));
}

void LiveIndex::ReplaceBase(std::shared_ptr<const PrefixIndex> base) {
  std::unique_lock lock(mu_);
  base_ = std::move(base);
  dead_.assign(base_->size(), 0);
  dead_count_ = 0;
  delta_.clear();
  ResetTailLocked();
  // A rebuild already running must not resurrect what it snapshotted.
  touched_.clear();
}

void LiveIndex::MarkDeadLocked(const std::string& id) {
  if (auto doc = base_->Find(id); doc && !dead_[*doc]) {
    dead_[*doc] = 1;
    ++dead_count_;
  }
  if (delta_index_ != nullptr) {
    if (auto doc = delta_index_->Find(id)) delta_index_dead_[*doc] = 1;
  }
}

void LiveIndex::AddToTailLocked(DeltaDoc& d) {
  if (d.slot == kNotInTail) {
    d.slot = tail_.size();
    tail_.push_back({d.first_bytes, &d});
  } else {
    tail_[d.slot].first_bytes = d.first_bytes;
  }
}

void LiveIndex::EraseFromTailLocked(DeltaDoc& d) {
  if (d.slot == kNotInTail) return;
  tail_[d.slot] = tail_.back();  // the last entry takes its place
  tail_[d.slot].doc->slot = d.slot;
  tail_.pop_back();
  d.slot = kNotInTail;
}

void LiveIndex::ResetTailLocked() {
  ++generation_;
  delta_index_ = nullptr;
  delta_index_dead_.clear();
  tail_.clear();
  for (auto& [id, d] : delta_) {
    d.slot = kNotInTail;
    AddToTailLocked(d);
  }
}

void LiveIndex::UpsertLocked(IndexDoc doc) {
  MarkDeadLocked(doc.id);
  if (compacting_) touched_[doc.id] = true;
  if (indexing_delta_) delta_touched_.insert(doc.id);
  const uint64_t sig = WordsSignature(doc);
  auto [it, fresh] = delta_.try_emplace(doc.id);
  it->second.doc = std::make_shared<const IndexDoc>(std::move(doc));
  it->second.first_bytes = sig;
  AddToTailLocked(it->second);
}

void LiveIndex::RemoveLocked(const std::string& id) {
  MarkDeadLocked(id);
  if (compacting_) touched_[id] = false;
  if (indexing_delta_) delta_touched_.insert(id);
  auto it = delta_.find(id);
  if (it == delta_.end()) return;
  EraseFromTailLocked(it->second);
  delta_.erase(it);
}

void LiveIndex::Apply(std::vector<IndexDoc> upserts,
                      const std::vector<std::string>& removals) {
  for (auto& d : upserts) CanonicalizeWords(d);
  bool compact = false, index_delta = false;
  {
    std::unique_lock lock(mu_);
    for (const auto& id : removals) RemoveLocked(id);
    for (auto& d : upserts) UpsertLocked(std::move(d));
    compact = NeedsCompactionLocked() && !compacting_;
    index_delta = tail_.size() > options_.tail_threshold && !indexing_delta_;
  }
  if (compact) Wake(/*compactor=*/true);
  if (index_delta) Wake(/*compactor=*/false);
}

void LiveIndex::CompactNow() { Compact(); }

void LiveIndex::IndexDeltaNow() { IndexDelta(); }

void LiveIndex::Compact() {
  std::shared_ptr<const PrefixIndex> base;
  std::vector<uint8_t> dead;
  std::vector<std::shared_ptr<const IndexDoc>> delta;
  {
    std::unique_lock lock(mu_);
    if (compacting_) return;
    compacting_ = true;
    touched_.clear();
    base = base_;
    dead = dead_;
    delta = DeltaSnapshotLocked();
  }
  // The delta after the base: of an id in both (none is, as the base's is
  // dead), Build would take the later.
  IndexDocs docs = base->Docs(dead);
  AppendCopies(std::move(delta), docs);
  auto fresh = PrefixIndex::Build(std::move(docs));
  bool index_delta = false;
  {
    std::unique_lock lock(mu_);
    compacting_ = false;
    if (base_ != base) {  // a Reset replaced the base meanwhile: discard
      touched_.clear();
      return;
    }
    base_ = std::move(fresh);
    dead_.assign(base_->size(), 0);
    dead_count_ = 0;
    // Carry over what changed during the rebuild; all of it goes to the
    // tail, and the delta index, of documents now in the base, is dropped.
    std::unordered_map<std::string, DeltaDoc> delta;
    for (const auto& [id, upserted] : touched_) {
      MarkDeadLocked(id);
      if (upserted) {
        auto it = delta_.find(id);
        if (it != delta_.end()) delta.emplace(id, std::move(it->second));
      }
    }
    delta_ = std::move(delta);
    ResetTailLocked();
    touched_.clear();
    index_delta = tail_.size() > options_.tail_threshold;
    if (NeedsCompactionLocked()) Wake(/*compactor=*/true);  // changes piled up
  }
  if (index_delta) Wake(/*compactor=*/false);
}

std::vector<std::shared_ptr<const IndexDoc>> LiveIndex::DeltaSnapshotLocked()
    const {
  std::vector<std::shared_ptr<const IndexDoc>> out;
  out.reserve(delta_.size());
  for (const auto& [id, d] : delta_) out.push_back(d.doc);
  return out;
}

void LiveIndex::IndexDelta() {
  std::vector<std::shared_ptr<const IndexDoc>> delta;
  uint64_t generation;
  {
    std::unique_lock lock(mu_);
    if (indexing_delta_ || tail_.empty()) return;
    indexing_delta_ = true;
    delta_touched_.clear();
    generation = generation_;
    delta = DeltaSnapshotLocked();
  }
  IndexDocs docs;
  AppendCopies(std::move(delta), docs);
  auto index = PrefixIndex::Build(std::move(docs));
  std::unique_lock lock(mu_);
  indexing_delta_ = false;
  if (generation != generation_) {  // the delta was replaced meanwhile
    delta_touched_.clear();
    return;
  }
  delta_index_ = std::move(index);
  delta_index_dead_.assign(delta_index_->size(), 0);
  // The tail is now what changed during the build, dead in the new index.
  for (TailEntry& e : tail_) e.doc->slot = kNotInTail;
  tail_.clear();
  for (const std::string& id : delta_touched_) {
    if (auto doc = delta_index_->Find(id)) delta_index_dead_[*doc] = 1;
    if (auto it = delta_.find(id); it != delta_.end()) AddToTailLocked(it->second);
  }
  delta_touched_.clear();
  if (tail_.size() > options_.tail_threshold) Wake(/*compactor=*/false);
}

bool LiveIndex::NeedsCompactionLocked() const {
  // A large delta costs memory twice and makes indexing it slower; many
  // dead documents waste memory and push single-term queries off their
  // precomputed top lists.
  return delta_.size() > options_.compact_threshold ||
         dead_count_ > std::max(options_.compact_threshold, base_->size() / 16);
}

std::vector<SearchHit> LiveIndex::Search(const Query& q, size_t k) const {
  k = std::min(k, QueryLimits::kMaxResults);
  std::shared_lock lock(mu_);
  std::vector<SearchHit> out;
  for (const auto& h : base_->Search(q, k, &dead_)) {
    out.push_back({std::string(base_->id(h.doc)), h.score});
  }
  if (delta_.empty()) return out;
  if (delta_index_ != nullptr) {
    for (const auto& h : delta_index_->Search(q, k, &delta_index_dead_)) {
      out.push_back({std::string(delta_index_->id(h.doc)), h.score});
    }
  }
  const uint64_t want = QuerySignature(q);
  for (const TailEntry& e : tail_) {
    if ((e.first_bytes & want) != want) continue;
    if (auto s = MatchScore(*e.doc->doc, q)) out.push_back({e.doc->doc->id, *s});
  }
  auto better = [](const SearchHit& a, const SearchHit& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  };
  const size_t keep = std::min(out.size(), k);
  std::partial_sort(out.begin(), out.begin() + keep, out.end(), better);
  out.resize(keep);
  return out;
}

size_t LiveIndex::size() const {
  std::shared_lock lock(mu_);
  return base_->size() - dead_count_ + delta_.size();
}

size_t LiveIndex::delta_size() const {
  std::shared_lock lock(mu_);
  return delta_.size();
}

size_t LiveIndex::tail_size() const {
  std::shared_lock lock(mu_);
  return tail_.size();
}

size_t LiveIndex::MemoryBytes() const {
  std::shared_lock lock(mu_);
  size_t n = base_->MemoryBytes() + dead_.capacity();
  if (delta_index_ != nullptr) {
    n += delta_index_->MemoryBytes() + delta_index_dead_.capacity();
  }
  for (const auto& [id, d] : delta_) {
    n += id.size() + 96;
    for (const auto& w : d.doc->words) n += w.text.size() + 40;
  }
  return n;
}

}  // namespace galsync
