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

}  // namespace

LiveIndex::LiveIndex(Options options)
    : options_(options), base_(PrefixIndex::Build({})) {
  worker_ = std::thread([this] { Worker(); });
}

LiveIndex::~LiveIndex() {
  {
    std::lock_guard lock(work_mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  worker_.join();
}

void LiveIndex::Worker() {
  std::unique_lock lock(work_mu_);
  for (;;) {
    work_cv_.wait(lock, [this] { return work_wanted_ || stop_; });
    if (stop_) return;
    work_wanted_ = false;
    lock.unlock();
    Compact();
    lock.lock();
  }
}

void LiveIndex::Reset(std::vector<IndexDoc> docs) {
  auto base = PrefixIndex::Build(std::move(docs));
  std::unique_lock lock(mu_);
  base_ = std::move(base);
  dead_.assign(base_->size(), 0);
  dead_count_ = 0;
  delta_.clear();
  IndexDeltaLocked();
  // A rebuild already running must not resurrect what it snapshotted.
  touched_.clear();
}

void LiveIndex::MarkDeadLocked(const std::string& id) {
  if (auto doc = base_->Find(id); doc && !dead_[*doc]) {
    dead_[*doc] = 1;
    ++dead_count_;
  }
}

void LiveIndex::Apply(std::vector<IndexDoc> upserts,
                      const std::vector<std::string>& removals) {
  for (auto& d : upserts) CanonicalizeWords(d);
  bool wake = false;
  {
    std::unique_lock lock(mu_);
    for (const auto& id : removals) {
      MarkDeadLocked(id);
      EraseDeltaLocked(id);
      if (compacting_) touched_[id] = false;
    }
    for (auto& d : upserts) {
      MarkDeadLocked(d.id);
      if (compacting_) touched_[d.id] = true;
      const uint64_t sig = WordsSignature(d);
      auto [it, fresh] = delta_.try_emplace(d.id);
      it->second.doc = std::move(d);
      it->second.first_bytes = sig;
      if (fresh) {
        it->second.slot = delta_scan_.size();
        delta_scan_.push_back({sig, &it->second});
      } else {
        delta_scan_[it->second.slot].first_bytes = sig;
      }
    }
    wake = NeedsCompactionLocked() && !compacting_;
  }
  if (wake) {
    {
      std::lock_guard lock(work_mu_);
      work_wanted_ = true;
    }
    work_cv_.notify_one();
  }
}

void LiveIndex::CompactNow() { Compact(); }

void LiveIndex::Compact() {
  std::shared_ptr<const PrefixIndex> base;
  std::vector<uint8_t> dead;
  std::vector<IndexDoc> docs;
  {
    std::unique_lock lock(mu_);
    if (compacting_) return;
    compacting_ = true;
    touched_.clear();
    base = base_;
    dead = dead_;
    docs.reserve(base->size() - dead_count_ + delta_.size());
    for (const auto& [id, d] : delta_) docs.push_back(d.doc);
  }
  for (IndexDoc& d : base->Docs(dead)) docs.push_back(std::move(d));
  auto fresh = PrefixIndex::Build(std::move(docs));
  std::unique_lock lock(mu_);
  if (base_ != base) {  // a Reset replaced the base meanwhile: discard
    compacting_ = false;
    touched_.clear();
    return;
  }
  base_ = std::move(fresh);
  dead_.assign(base_->size(), 0);
  dead_count_ = 0;
  // Carry over what changed during the rebuild.
  std::unordered_map<std::string, DeltaDoc> delta;
  for (const auto& [id, upserted] : touched_) {
    MarkDeadLocked(id);
    if (upserted) {
      auto it = delta_.find(id);
      if (it != delta_.end()) delta.emplace(id, std::move(it->second));
    }
  }
  delta_ = std::move(delta);
  IndexDeltaLocked();
  touched_.clear();
  compacting_ = false;
  if (NeedsCompactionLocked()) {  // changes piled up during the rebuild
    std::lock_guard work(work_mu_);
    work_wanted_ = true;
    work_cv_.notify_one();
  }
}

void LiveIndex::IndexDeltaLocked() {
  delta_scan_.clear();
  for (auto& entry : delta_) {
    DeltaDoc& d = entry.second;
    d.slot = delta_scan_.size();
    delta_scan_.push_back({d.first_bytes, &d});
  }
}

void LiveIndex::EraseDeltaLocked(const std::string& id) {
  auto it = delta_.find(id);
  if (it == delta_.end()) return;
  const size_t slot = it->second.slot;
  delta_scan_[slot] = delta_scan_.back();  // the last entry takes its place
  delta_scan_[slot].doc->slot = slot;
  delta_scan_.pop_back();
  delta_.erase(it);
}

bool LiveIndex::NeedsCompactionLocked() const {
  // A large delta slows every search; many dead documents waste memory and
  // push single-term queries off their precomputed top lists.
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
  if (!delta_.empty()) {
    const uint64_t want = QuerySignature(q);
    for (const DeltaEntry& e : delta_scan_) {
      if ((e.first_bytes & want) != want) continue;
      if (auto s = MatchScore(e.doc->doc, q)) out.push_back({e.doc->doc.id, *s});
    }
    auto better = [](const SearchHit& a, const SearchHit& b) {
      return a.score != b.score ? a.score > b.score : a.id < b.id;
    };
    const size_t keep = std::min(out.size(), k);
    std::partial_sort(out.begin(), out.begin() + keep, out.end(), better);
    out.resize(keep);
  }
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

size_t LiveIndex::MemoryBytes() const {
  std::shared_lock lock(mu_);
  size_t n = base_->MemoryBytes() + dead_.capacity();
  for (const auto& [id, d] : delta_) {
    n += id.size() + 96;
    for (const auto& w : d.doc.words) n += w.text.size() + 40;
  }
  return n;
}

}  // namespace galsync
