// The prefix index and its reference semantics; see galsync/prefix_index.h.
#include "galsync/prefix_index.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <queue>
#include <thread>
#include <unordered_map>

#include "galsync/normalize.h"
#include "util/mix.h"

namespace galsync {
namespace {

uint8_t Meta(Field f, uint8_t position) {
  return static_cast<uint8_t>(static_cast<uint8_t>(f) << 6 |
                              std::min<uint8_t>(position, 63));
}
uint32_t FieldOf(uint8_t meta) { return meta >> 6; }
bool Allowed(uint8_t meta, uint8_t fields) {
  return (fields >> FieldOf(meta)) & 1;
}
// The part of a word's key that does not depend on the query term.
uint32_t StaticKey(uint8_t meta) {
  return FieldOf(meta) << 11 | (63u - (meta & 63u)) << 5;
}
// The key of a word that has `extra` bytes beyond a term that is a prefix
// of it (see the header for the bit layout).
uint32_t ExtraKey(uint8_t meta, size_t extra) {
  return (extra == 0 ? 1u << 13 : 0u) | StaticKey(meta) |
         (31u - static_cast<uint32_t>(std::min<size_t>(extra, 31)));
}
// The key of a word of `word_len` bytes for a term of `term_len` bytes that
// is a prefix of it.
uint32_t WordKey(uint8_t meta, size_t word_len, size_t term_len) {
  return ExtraKey(meta, word_len - term_len);
}
constexpr uint32_t kMaxWordKey = (1u << 14) - 1;
// A word's key and a rank: the score of a one-term match.
static_assert(kMaxWordKey + 255 <= UINT16_MAX);
// Two words' keys and a rank: the score of a two-term match.
static_assert(2 * kMaxWordKey + 255 <= UINT16_MAX);

// How many threads a build step over `items` things uses: one per 16,384
// items, at most kBuildThreads and the machine's cores.
size_t BuildParts(size_t items) {
  return std::clamp<size_t>(
      std::min<size_t>(std::thread::hardware_concurrency(),
                       PrefixIndex::kBuildThreads),
      1, std::max<size_t>(1, items / 16384));
}
// The items [first, last) of part `part` of `parts` equal ones.
std::pair<uint32_t, uint32_t> PartOf(size_t items, size_t part,
                                     size_t parts) {
  return {static_cast<uint32_t>(items * part / parts),
          static_cast<uint32_t>(items * (part + 1) / parts)};
}
// Runs fn(part) for each part in [0, parts), part 0 on the caller's thread
// and each other on a thread of its own. Memory a thread frees stays in its
// malloc arena, so what outlives a step is allocated by the caller.
template <typename Fn>
void RunParts(size_t parts, const Fn& fn) {
  std::vector<std::thread> threads;
  for (size_t p = 1; p < parts; ++p) threads.emplace_back(fn, p);
  fn(size_t{0});
  for (auto& t : threads) t.join();
}

// Interns the strings of one build: an open-addressing table of (hash tag,
// id) pairs over the interned views (which must outlive it). Ids are dense,
// in first-seen order.
class Interner {
 public:
  explicit Interner(size_t expected) {
    size_t cap = 1024;
    while (cap < expected * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    strings_.reserve(expected);
  }
  // Words are short: one of up to 16 bytes takes one or two loads (each 8
  // bytes more, one multiply more), and Mix64 spreads every input bit over
  // the index (low bits), the tag (high) and the shard (bits 40 and up).
  static uint64_t Hash(std::string_view s) {
    const char* p = s.data();
    const size_t n = s.size();
    auto load = [](const char* at, size_t bytes) {
      uint64_t x = 0;
      std::memcpy(&x, at, bytes);
      return x;
    };
    uint64_t h = 0x9E3779B97F4A7C15ull * (n + 1);
    if (n >= 8) {
      size_t i = 0;
      for (; i + 8 < n; i += 8) {
        h = (h ^ load(p + i, 8)) * 0xBF58476D1CE4E5B9ull;
      }
      h ^= load(p + n - 8, 8);  // the last 8 bytes, overlapping
    } else if (n >= 4) {
      h ^= load(p, 4) << 32 | load(p + n - 4, 4);
    } else if (n > 0) {
      h ^= uint64_t{static_cast<unsigned char>(p[0])} << 16 |
           uint64_t{static_cast<unsigned char>(p[n / 2])} << 8 |
           static_cast<unsigned char>(p[n - 1]);
    }
    return Mix64(h);
  }
  // Starts loading the slot where a string of hash `h` is looked up.
  void Prefetch(uint64_t h) const {
    __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
  }
  // `h` is Hash(s).
  uint32_t Intern(std::string_view s, uint64_t h) {
    if ((strings_.size() + 1) * 2 > slots_.size()) Grow();
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.id == kEmpty) {
        slot = {tag, static_cast<uint32_t>(strings_.size())};
        strings_.push_back(s);
        return slot.id;
      }
      if (slot.tag == tag && strings_[slot.id] == s) return slot.id;
    }
  }
  // The interned strings by id; the table is freed.
  std::vector<std::string_view> Release() {
    slots_ = {};
    return std::move(strings_);
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    uint32_t tag = 0;
    uint32_t id = kEmpty;
  };
  void Grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    const size_t mask = slots_.size() - 1;
    for (const Slot& o : old) {
      if (o.id == kEmpty) continue;
      const uint64_t h = Hash(strings_[o.id]);
      size_t i = h & mask;
      while (slots_[i].id != kEmpty) i = (i + 1) & mask;
      slots_[i] = o;
    }
  }
  std::vector<Slot> slots_;
  std::vector<std::string_view> strings_;
};

// Bytes [from, from + 8) of `s`, big-endian, zero-padded: comparing these
// compares those bytes of two strings (a shorter string's padding sorts
// before any byte, so equal keys need the full comparison).
uint64_t KeyAt(std::string_view s, size_t from) {
  if (from >= s.size()) return 0;
  const size_t n = s.size() - from;
  uint64_t k = 0;
  if (n >= 8) {  // one load (a copy of variable length is a call)
    std::memcpy(&k, s.data() + from, 8);
    if constexpr (std::endian::native == std::endian::little) {
      k = __builtin_bswap64(k);
    }
    return k;
  }
  for (size_t i = 0; i < n; ++i) {
    k = k << 8 | static_cast<unsigned char>(s[from + i]);
  }
  return k << (8 * (8 - n));
}

// The permutation that sorts `v` (bytewise; equal strings in their order).
// Most comparisons are settled by the first 16 bytes, held as two integers
// beside each index, without touching the strings.
std::vector<uint32_t> SortedOrder(const std::vector<std::string_view>& v) {
  struct Keyed {
    uint64_t hi, lo;
    uint32_t index;
  };
  std::vector<Keyed> keyed(v.size());
  for (uint32_t i = 0; i < v.size(); ++i) {
    keyed[i] = {KeyAt(v[i], 0), KeyAt(v[i], 8), i};
  }
  auto less = [&](const Keyed& a, const Keyed& b) {
    if (a.hi != b.hi) return a.hi < b.hi;
    if (a.lo != b.lo) return a.lo < b.lo;
    if (const int c = v[a.index].compare(v[b.index]); c != 0) return c < 0;
    return a.index < b.index;  // equal strings keep their order
  };
  // Parts sorted on threads of their own, then merged.
  const size_t parts = BuildParts(v.size());
  auto bound = [&](size_t p) { return keyed.begin() + v.size() * p / parts; };
  RunParts(parts, [&](size_t p) { std::sort(bound(p), bound(p + 1), less); });
  for (size_t p = 1; p < parts; ++p) {
    std::inplace_merge(keyed.begin(), bound(p), bound(p + 1), less);
  }
  std::vector<uint32_t> order(v.size());
  for (size_t i = 0; i < v.size(); ++i) order[i] = keyed[i].index;
  return order;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

// Best total key over assignments of terms to distinct words.
//   cand[t][0..n[t]) = (word, key) pairs a term may take.
struct Candidates {
  struct C {
    uint8_t word;
    uint16_t key;
  };
  C c[QueryLimits::kMaxTerms][QueryLimits::kMaxWordsPerDoc];
  uint8_t n[QueryLimits::kMaxTerms];
  size_t terms = 0;
};

void Assign(const Candidates& cs, const size_t* order, size_t i, uint64_t used,
            uint32_t sum, const uint32_t* rest_max, int64_t& best) {
  if (i == cs.terms) {
    best = std::max<int64_t>(best, sum);
    return;
  }
  if (static_cast<int64_t>(sum + rest_max[i]) <= best) return;  // can't win
  const size_t t = order[i];
  for (size_t j = 0; j < cs.n[t]; ++j) {
    const auto& c = cs.c[t][j];
    if (used >> c.word & 1) continue;
    Assign(cs, order, i + 1, used | uint64_t{1} << c.word, sum + c.key,
           rest_max, best);
  }
}

// -1 if no assignment exists.
int64_t BestAssignment(Candidates& cs) {
  size_t order[QueryLimits::kMaxTerms];
  for (size_t t = 0; t < cs.terms; ++t) {
    if (cs.n[t] == 0) return -1;
    order[t] = t;
    // Best words first: the first complete assignment is then good, and the
    // bound prunes most of the rest.
    std::sort(cs.c[t], cs.c[t] + cs.n[t],
              [](const Candidates::C& x, const Candidates::C& y) {
                return x.key > y.key;
              });
  }
  // Fewest choices first: prunes the search early.
  std::sort(order, order + cs.terms,
            [&](size_t a, size_t b) { return cs.n[a] < cs.n[b]; });
  uint32_t rest_max[QueryLimits::kMaxTerms + 1] = {};
  for (size_t i = cs.terms; i-- > 0;) {
    uint32_t m = 0;
    const size_t t = order[i];
    for (size_t j = 0; j < cs.n[t]; ++j) m = std::max<uint32_t>(m, cs.c[t][j].key);
    rest_max[i] = rest_max[i + 1] + m;
  }
  int64_t best = -1;
  Assign(cs, order, 0, 0, 0, rest_max, best);
  return best;
}

// Orders hits best first: higher score, then lower doc (= lower id).
bool Better(const PrefixIndex::Hit& a, const PrefixIndex::Hit& b) {
  return a.score != b.score ? a.score > b.score : a.doc < b.doc;
}

// Keeps the best k hits seen.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}
  void Offer(PrefixIndex::Hit h) {
    if (k_ == 0) return;
    if (heap_.size() < k_) {
      heap_.push_back(h);
      std::push_heap(heap_.begin(), heap_.end(), Better);
    } else if (Better(h, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), Better);
      heap_.back() = h;
      std::push_heap(heap_.begin(), heap_.end(), Better);
    }
  }
  // As Offer, for hits of which several may be of one document: keeps
  // only the document's best. O(k) to find it among those kept.
  void OfferBest(PrefixIndex::Hit h) {
    for (PrefixIndex::Hit& kept : heap_) {
      if (kept.doc != h.doc) continue;
      if (Better(h, kept)) {
        kept = h;  // better: it may move away from the front
        std::make_heap(heap_.begin(), heap_.end(), Better);
      }
      return;
    }
    Offer(h);
  }
  size_t k() const { return k_; }
  bool Full() const { return k_ > 0 && heap_.size() == k_; }
  const PrefixIndex::Hit& Worst() const { return heap_.front(); }
  std::vector<PrefixIndex::Hit> Take() {
    std::sort_heap(heap_.begin(), heap_.end(), Better);
    return std::move(heap_);
  }

 private:
  size_t k_;
  std::vector<PrefixIndex::Hit> heap_;  // worst of the best at front
};

// A document that may enter the top k, with an upper bound of its score.
struct BoundedDoc {
  uint32_t bound, doc;
};

// Documents to be scored are fetched this many at a time (see
// PrefixIndex::PrefetchForScore).
constexpr uint32_t kFetchBatch = 8;

// Scores candidates best bound first, through score(doc), until the k-th
// result beats the next bound: the others cannot enter (nor can those left
// in `cands` when it returns, by a later call). They are taken a batch at
// a time, and fetch(docs, n) starts loading what scoring the batch reads,
// so that its documents' cache misses overlap rather than follow each
// other.
template <typename Fetch, typename ScoreDoc>
void ScoreInBoundOrder(std::vector<BoundedDoc>& cands, const TopK& top,
                       Fetch&& fetch, ScoreDoc&& score) {
  auto worse = [](const BoundedDoc& x, const BoundedDoc& y) {
    return x.bound != y.bound ? x.bound < y.bound : x.doc > y.doc;
  };
  std::make_heap(cands.begin(), cands.end(), worse);
  BoundedDoc batch[kFetchBatch];
  uint32_t docs[kFetchBatch];
  while (!cands.empty()) {
    size_t n = 0;
    for (; n < kFetchBatch && !cands.empty(); ++n) {
      std::pop_heap(cands.begin(), cands.end(), worse);
      batch[n] = cands.back();
      docs[n] = batch[n].doc;
      cands.pop_back();
    }
    fetch(docs, n);
    for (size_t i = 0; i < n; ++i) {
      const BoundedDoc& c = batch[i];
      if (top.Full() && Better(top.Worst(), PrefixIndex::Hit{c.doc, c.bound})) {
        return;
      }
      score(c.doc);
    }
  }
}

// Scores docs[0, n) in order through score(doc), fetching each batch
// first as ScoreInBoundOrder does.
template <typename Fetch, typename ScoreDoc>
void ScoreEach(const uint32_t* docs, size_t n, Fetch&& fetch,
               ScoreDoc&& score) {
  for (size_t i = 0; i < n; i += kFetchBatch) {
    const size_t m = std::min<size_t>(kFetchBatch, n - i);
    fetch(docs + i, m);
    for (size_t j = 0; j < m; ++j) score(docs[i + j]);
  }
}

// Per-thread "seen" marks for deduplicating documents during a query.
struct SeenMarks {
  std::vector<uint32_t> mark;
  uint32_t epoch = 0;
  void Reset(size_t docs) {
    if (mark.size() < docs) mark.assign(docs, 0);
    if (++epoch == 0) {  // wrapped: clear once every 4 billion queries
      std::fill(mark.begin(), mark.end(), 0);
      epoch = 1;
    }
  }
  void Prefetch(const uint32_t* docs, size_t n) const {
    for (size_t i = 0; i < n; ++i) __builtin_prefetch(&mark[docs[i]], 1);
  }
  bool TestAndSet(uint32_t doc) {
    if (mark[doc] == epoch) return true;
    mark[doc] = epoch;
    return false;
  }
};
thread_local SeenMarks tls_seen;

// The posting lists of an index (or of one being built).
struct PostingLists {
  const uint32_t* start;  // of each term's postings, and one past the last
  const uint32_t* doc;
  const uint8_t* meta;
  const uint8_t* rank;  // by doc
  uint8_t max_rank;
};

// The best k documents with a word in terms [lo, hi) for a term of
// `term_len` bytes, in `fields`, that keep(doc) wants, into `top`.
// length(t) is term t's length in bytes. A term's postings are best first
// (by static key + rank, then doc), so a term is read only while its next
// posting could still enter the top k, and skipped when, with the highest
// rank, not even its first could. O(terms + postings that enter).
template <typename Length, typename Keep>
void BestOfRange(const PostingLists& pl, uint32_t lo, uint32_t hi,
                 size_t term_len, uint8_t fields, Length&& length,
                 Keep&& keep, TopK& top) {
  if (top.k() == 0) return;
  for (uint32_t t = lo; t < hi; ++t) {
    const uint32_t begin = pl.start[t], end = pl.start[t + 1];
    const size_t wlen = length(t);
    if (top.Full() && WordKey(pl.meta[begin], wlen, term_len) + pl.max_rank <
                          top.Worst().score) {
      continue;
    }
    for (uint32_t p = begin; p < end; ++p) {
      const uint32_t doc = pl.doc[p];
      const PrefixIndex::Hit h{doc,
                               WordKey(pl.meta[p], wlen, term_len) + pl.rank[doc]};
      // No later posting of t scores more, nor as much with a lower doc.
      if (top.Full() && !Better(h, top.Worst())) break;
      if (Allowed(pl.meta[p], fields) && keep(doc)) top.OfferBest(h);
    }
  }
}

// Per-thread marks of documents, each with its best 16-bit key or score
// (at most 2^14 + 255): a bitmap small enough to stay in cache, and keys
// read only for documents found marked.
struct KeyMarks {
  std::vector<uint64_t> bits;
  std::vector<uint16_t> key;
  std::vector<uint32_t> touched;
  void Reset(size_t docs) {
    for (uint32_t d : touched) bits[d >> 6] = 0;
    touched.clear();
    if (bits.size() < (docs + 63) / 64) bits.assign((docs + 63) / 64, 0);
    if (key.size() < docs) key.resize(docs);
  }
  bool Has(uint32_t d) const { return bits[d >> 6] >> (d & 63) & 1; }
  void Offer(uint32_t d, uint32_t k) {
    uint64_t& w = bits[d >> 6];
    const uint64_t m = uint64_t{1} << (d & 63);
    if (!(w & m)) {
      w |= m;
      key[d] = static_cast<uint16_t>(k);
      touched.push_back(d);
    } else if (k > key[d]) {
      key[d] = static_cast<uint16_t>(k);
    }
  }
};
thread_local KeyMarks tls_key_marks;

// Sorted by text, no two alike, none empty, at most kMaxWordsPerDoc.
template <typename Word>
bool IsCanonical(const std::vector<Word>& w) {
  if (w.size() > QueryLimits::kMaxWordsPerDoc) return false;
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i].text.empty()) return false;
    if (i > 0 && w[i - 1].text.compare(w[i].text) >= 0) return false;
  }
  return true;
}

// An offset into one IndexDocs' arrays: each holds at most 4 GB of ids, of
// words' bytes, and 4G words.
uint32_t TableOffset(size_t n) {
  if (n > UINT32_MAX) std::abort();
  return static_cast<uint32_t>(n);
}

}  // namespace

Result<Query> ParseQuery(std::string_view text, uint8_t fields) {
  if (text.size() > QueryLimits::kMaxQueryBytes) {
    return Error::InvalidArgument(
        "invalid_query", "the query is longer than " +
                             std::to_string(QueryLimits::kMaxQueryBytes) +
                             " bytes");
  }
  auto folded = FoldForMatch(text);
  if (!folded) {
    return Error::InvalidArgument("invalid_query",
                                  "the query is not valid UTF-8: " +
                                      folded.error().message);
  }
  Query q;
  q.fields = fields;
  const std::string& f = *folded;
  size_t i = 0;
  while (i < f.size()) {
    while (i < f.size() && IsSpace(f[i])) ++i;
    size_t j = i;
    while (j < f.size() && !IsSpace(f[j])) ++j;
    if (j > i) {
      std::string term = f.substr(i, j - i);
      if (HasWordChars(term)) q.terms.push_back(std::move(term));
    }
    i = j;
  }
  if (q.terms.empty()) {
    return Error::InvalidArgument(
        "empty_query", "the query has no letters or digits to search for");
  }
  if (q.terms.size() > QueryLimits::kMaxTerms) {
    return Error::InvalidArgument(
        "invalid_query", "a query has at most " +
                             std::to_string(QueryLimits::kMaxTerms) + " terms");
  }
  return q;
}

void CanonicalizeWords(std::vector<WordRef>& w) {
  std::erase_if(w, [](const WordRef& x) { return x.text.empty(); });
  if (IsCanonical(w)) return;
  // Best (field, position) first within equal text, then keep the first.
  // The order is found on the first 16 bytes of each word (as two
  // integers: most words are shorter), so few comparisons read the strings.
  struct Keyed {
    uint64_t hi, lo;
    uint32_t key;  // StaticKey: best first
    uint32_t index;
  };
  thread_local std::vector<Keyed> keyed;
  keyed.resize(w.size());
  for (uint32_t i = 0; i < w.size(); ++i) {
    keyed[i] = {KeyAt(w[i].text, 0), KeyAt(w[i].text, 8),
                StaticKey(Meta(w[i].field, w[i].position)), i};
  }
  std::sort(keyed.begin(), keyed.end(), [&](const Keyed& a, const Keyed& b) {
    if (a.hi != b.hi) return a.hi < b.hi;
    if (a.lo != b.lo) return a.lo < b.lo;
    if (const int c = w[a.index].text.compare(w[b.index].text); c != 0) {
      return c < 0;
    }
    return a.key > b.key;
  });
  thread_local std::vector<WordRef> kept;
  kept.clear();
  for (const Keyed& k : keyed) {
    if (kept.empty() || kept.back().text != w[k.index].text) {
      kept.push_back(w[k.index]);
    }
  }
  w.assign(kept.begin(), kept.end());
  if (w.size() > QueryLimits::kMaxWordsPerDoc) {
    // Keep the words that rank best.
    std::stable_sort(w.begin(), w.end(),
                     [](const WordRef& a, const WordRef& b) {
                       return StaticKey(Meta(a.field, a.position)) >
                              StaticKey(Meta(b.field, b.position));
                     });
    w.resize(QueryLimits::kMaxWordsPerDoc);
    std::sort(w.begin(), w.end(), [](const WordRef& a, const WordRef& b) {
      return a.text < b.text;
    });
  }
}

namespace {
// Views of `words`, in this thread's buffer.
std::vector<WordRef>& RefsOf(const std::vector<IndexedWord>& words) {
  thread_local std::vector<WordRef> refs;
  refs.clear();
  for (const IndexedWord& w : words) {
    refs.push_back({w.text, w.field, w.position});
  }
  return refs;
}
}  // namespace

void CanonicalizeWords(IndexDoc& doc) {
  // Documents made by IndexDocFromContact are canonical already.
  if (IsCanonical(doc.words)) return;
  std::vector<WordRef>& refs = RefsOf(doc.words);
  CanonicalizeWords(refs);
  std::vector<IndexedWord> words;
  words.reserve(refs.size());
  for (const WordRef& r : refs) {
    words.push_back({std::string(r.text), r.field, r.position});
  }
  doc.words = std::move(words);
}

template <typename Fn>
void IndexDocs::AddCanonical(std::string_view id, uint8_t rank, Fn&& fn) {
  ids_.append(id);
  id_start_.push_back(TableOffset(ids_.size()));
  rank_.push_back(rank);
  removal_.push_back(0);
  fn([&](std::string_view text, uint8_t meta) {
    text_.append(text);
    word_start_.push_back(TableOffset(text_.size()));
    word_meta_.push_back(meta);
  });
  first_word_.push_back(TableOffset(word_meta_.size()));
}

void IndexDocs::Add(const IndexDoc& doc) {
  // By reference: canonicalized (if need be) without copying a string.
  Add(doc.id, doc.rank, RefsOf(doc.words));
}

void IndexDocs::Add(std::string_view id, uint8_t rank,
                    std::vector<WordRef>& words) {
  CanonicalizeWords(words);
  AddCanonical(id, rank, [&](auto&& sink) {
    for (const WordRef& w : words) sink(w.text, Meta(w.field, w.position));
  });
}

void IndexDocs::AddRemoval(std::string_view id) {
  AddCanonical(id, 0, [](auto&&) {});
  removal_.back() = 1;
}

void IndexDocs::Reserve(size_t entries, size_t words, size_t word_bytes) {
  id_start_.reserve(entries + 1);
  rank_.reserve(entries);
  removal_.reserve(entries);
  first_word_.reserve(entries + 1);
  text_.reserve(word_bytes);
  word_start_.reserve(words + 1);
  word_meta_.reserve(words);
}

IndexDoc IndexDocs::Get(size_t e) const {
  IndexDoc d;
  d.id = std::string(id(e));
  d.rank = rank(e);
  d.words.reserve(first_word(e + 1) - first_word(e));
  for (size_t w = first_word(e); w < first_word(e + 1); ++w) {
    d.words.push_back({std::string(word(w)), field(w), position(w)});
  }
  return d;
}

size_t IndexDocs::MemoryBytes() const {
  return ids_.capacity() + id_start_.capacity() * 4 + rank_.capacity() +
         removal_.capacity() + first_word_.capacity() * 4 + text_.capacity() +
         word_start_.capacity() * 4 + word_meta_.capacity();
}

std::optional<uint32_t> MatchScore(const IndexDoc& doc, const Query& q) {
  Candidates cs;
  cs.terms = q.terms.size();
  for (size_t t = 0; t < cs.terms; ++t) {
    const std::string& term = q.terms[t];
    cs.n[t] = 0;
    for (size_t w = 0; w < doc.words.size() && w < QueryLimits::kMaxWordsPerDoc;
         ++w) {
      const IndexedWord& word = doc.words[w];
      const uint8_t meta = Meta(word.field, word.position);
      if (!Allowed(meta, q.fields) || !word.text.starts_with(term)) continue;
      cs.c[t][cs.n[t]++] = {static_cast<uint8_t>(w),
                            static_cast<uint16_t>(WordKey(
                                meta, word.text.size(), term.size()))};
    }
  }
  int64_t best = BestAssignment(cs);
  if (best < 0) return std::nullopt;
  return static_cast<uint32_t>(best) + doc.rank;
}

std::shared_ptr<const PrefixIndex> PrefixIndex::Build(
    std::vector<IndexDoc> docs, const IndexBuildOptions& options) {
  IndexDocs table;
  size_t words = 0;
  for (const IndexDoc& d : docs) words += d.words.size();
  table.Reserve(docs.size(), words, 0);
  for (const IndexDoc& d : docs) table.Add(d);
  docs = {};
  return Build(std::move(table), options);
}

std::shared_ptr<const PrefixIndex> PrefixIndex::Build(
    IndexDocs docs, const IndexBuildOptions& options) {
  std::vector<IndexDocs> parts;
  parts.push_back(std::move(docs));
  return Build(std::move(parts), options);
}

std::shared_ptr<const PrefixIndex> PrefixIndex::Build(
    std::vector<IndexDocs> parts, const IndexBuildOptions& options) {
  auto ix = std::shared_ptr<PrefixIndex>(new PrefixIndex());
  // Entries and words are numbered across the parts, in order.
  std::vector<size_t> entry_base(parts.size() + 1, 0);
  std::vector<size_t> word_base(parts.size() + 1, 0);
  for (size_t p = 0; p < parts.size(); ++p) {
    entry_base[p + 1] = entry_base[p] + parts[p].size();
    word_base[p + 1] = word_base[p] + parts[p].words();
  }
  // 4G entries and 4G words at most.
  if (entry_base.back() > UINT32_MAX || word_base.back() > UINT32_MAX) {
    std::abort();
  }
  // The documents, in id order: of each id its last entry, unless that is
  // a removal.
  struct DocRef {
    uint32_t part, entry;
  };
  std::vector<DocRef> docs;
  std::vector<uint8_t> kept(entry_base.back(), 0);  // per entry
  {
    std::vector<std::string_view> ids;
    std::vector<DocRef> ref;
    ids.reserve(entry_base.back());
    ref.reserve(entry_base.back());
    for (uint32_t p = 0; p < parts.size(); ++p) {
      for (uint32_t e = 0; e < parts[p].size(); ++e) {
        ids.push_back(parts[p].id(e));
        ref.push_back({p, e});
      }
    }
    const std::vector<uint32_t> by_id = SortedOrder(ids);  // equal: in order
    docs.reserve(by_id.size());
    for (size_t i = 0; i < by_id.size(); ++i) {
      if (i + 1 < by_id.size() && ids[by_id[i + 1]] == ids[by_id[i]]) continue;
      const DocRef r = ref[by_id[i]];
      if (parts[r.part].removal(r.entry)) continue;
      docs.push_back(r);
      kept[by_id[i]] = 1;
    }
  }
  const size_t D = docs.size();
  const size_t doc_parts = BuildParts(D);
  auto words_of = [&](DocRef r) {
    return std::pair<size_t, size_t>(parts[r.part].first_word(r.entry),
                                     parts[r.part].first_word(r.entry + 1));
  };
  // Where each document's words (its occurrences, and later its forward
  // entries) start.
  ix->fwd_start_.resize(D + 1);
  ix->fwd_start_[0] = 0;
  for (size_t doc = 0; doc < D; ++doc) {
    const auto [first, last] = words_of(docs[doc]);
    ix->fwd_start_[doc + 1] =
        ix->fwd_start_[doc] + static_cast<uint32_t>(last - first);
  }
  const size_t occurrences = ix->fwd_start_[D];

  // Terms: intern (each word of a document gets its id), sort, renumber.
  // The words are read in the parts' order. Each goes to one shard by its
  // hash, and each shard is interned on a thread of its own; then the
  // shards' ids are made one range.
  std::vector<uint32_t> seen_id(word_base.back());  // per word of the parts
  std::vector<std::string_view> uniq;                // views into the parts
  {
    const size_t shards = BuildParts(occurrences);
    std::vector<Interner> shard;
    shard.reserve(shards);
    for (size_t s = 0; s < shards; ++s) {
      shard.emplace_back(occurrences / 4 / shards);
    }
    std::vector<uint8_t> shard_of(word_base.back(), 0);
    RunParts(shards, [&](size_t s) {
      // A word's slot is fetched kAhead words of the shard before it is
      // interned, so that the table's cache misses overlap.
      constexpr size_t kAhead = 16;
      struct Pending {
        std::string_view text;
        uint64_t hash;
        size_t word;  // numbered across the parts
      } ring[kAhead];
      size_t pending = 0;
      auto intern = [&](const Pending& x) {
        seen_id[x.word] = shard[s].Intern(x.text, x.hash);
        shard_of[x.word] = static_cast<uint8_t>(s);
      };
      for (size_t p = 0; p < parts.size(); ++p) {
        const IndexDocs& part = parts[p];
        const uint8_t* keep = kept.data() + entry_base[p];
        for (size_t e = 0; e < part.size(); ++e) {
          if (!keep[e]) continue;
          for (size_t w = part.first_word(e); w < part.first_word(e + 1); ++w) {
            const std::string_view text = part.word(w);
            const uint64_t h = Interner::Hash(text);
            // A word's shard is chosen by bits the tables do not index by.
            if ((h >> 40) % shards != s) continue;
            shard[s].Prefetch(h);
            Pending& next = ring[pending++ % kAhead];
            if (pending > kAhead) intern(next);  // the word kAhead before
            next = {text, h, word_base[p] + w};
          }
        }
      }
      // The last ones, oldest first.
      const size_t oldest = pending > kAhead ? pending - kAhead : 0;
      for (size_t i = oldest; i < pending; ++i) intern(ring[i % kAhead]);
    });
    std::vector<uint32_t> first_id(shards, 0);
    for (size_t s = 0; s < shards; ++s) {
      first_id[s] = static_cast<uint32_t>(uniq.size());
      const std::vector<std::string_view> strings = shard[s].Release();
      uniq.insert(uniq.end(), strings.begin(), strings.end());
    }
    for (size_t i = 0; i < seen_id.size(); ++i) {
      seen_id[i] += first_id[shard_of[i]];
    }
  }
  const size_t T = uniq.size();
  std::vector<uint32_t> order = SortedOrder(uniq);
  // The sorted terms, plain, for the rest of the build; front-coded last.
  // Each part of the sorted order numbers its terms and measures them, then
  // copies them after the bytes of the parts before it.
  std::vector<uint32_t> final_id(T);
  std::vector<uint32_t> term_start(T + 1);
  std::string term_bytes;
  {
    const size_t term_parts = BuildParts(T);
    std::vector<size_t> part_start(term_parts + 1, 0);
    RunParts(term_parts, [&](size_t part) {
      const auto [first, last] = PartOf(T, part, term_parts);
      size_t at = 0;
      for (uint32_t i = first; i < last; ++i) {
        final_id[order[i]] = i;
        term_start[i] = static_cast<uint32_t>(at);  // within the part
        at += uniq[order[i]].size();
      }
      part_start[part + 1] = at;
    });
    for (size_t part = 0; part < term_parts; ++part) {
      part_start[part + 1] += part_start[part];
    }
    if (part_start[term_parts] > UINT32_MAX) std::abort();  // 4 GB of terms
    term_bytes.resize(part_start[term_parts]);
    RunParts(term_parts, [&](size_t part) {
      const auto [first, last] = PartOf(T, part, term_parts);
      for (uint32_t i = first; i < last; ++i) {
        term_start[i] += static_cast<uint32_t>(part_start[part]);
        const std::string_view s = uniq[order[i]];
        std::memcpy(term_bytes.data() + term_start[i], s.data(), s.size());
      }
    });
    term_start[T] = static_cast<uint32_t>(part_start[term_parts]);
  }
  auto term = [&](uint32_t t) {
    return std::string_view(term_bytes.data() + term_start[t],
                            term_start[t + 1] - term_start[t]);
  };
  order = {};
  uniq = {};

  // Forward entries per doc, sorted by term id, and postings per term:
  // each on up to kBuildThreads threads, one range of documents each.
  ix->id_start_.reserve(D + 1);
  ix->ranks_.reserve(D);
  ix->fwd_term_.resize(occurrences);
  ix->fwd_meta_.resize(occurrences);
  // Per part, its postings of each term: counted first, then where the
  // part writes the next one (parts in document order, so each term's
  // postings come in document order). Allocated here, not by the threads.
  std::vector<std::vector<uint32_t>> fill(doc_parts);
  for (auto& f : fill) f.assign(T, 0);
  RunParts(doc_parts, [&](size_t part) {
    std::vector<std::pair<uint32_t, uint8_t>> entries;
    std::vector<uint32_t>& count = fill[part];
    const auto [first, last] = PartOf(D, part, doc_parts);
    for (uint32_t doc = first; doc < last; ++doc) {
      entries.clear();
      const DocRef r = docs[doc];
      const IndexDocs& part = parts[r.part];
      const uint32_t* ids = seen_id.data() + word_base[r.part];
      const auto [first_word, last_word] = words_of(r);
      for (size_t w = first_word; w < last_word; ++w) {
        entries.emplace_back(final_id[ids[w]], part.word_meta_[w]);
      }
      std::sort(entries.begin(), entries.end());
      uint32_t e = ix->fwd_start_[doc];
      for (auto [t, m] : entries) {
        ix->fwd_term_[e] = t;
        ix->fwd_meta_[e++] = m;
        ++count[t];
      }
    }
  });
  for (const DocRef r : docs) {
    ix->id_start_.push_back(static_cast<uint32_t>(ix->id_bytes_.size()));
    ix->id_bytes_ += parts[r.part].id(r.entry);
    const uint8_t rank = parts[r.part].rank(r.entry);
    ix->ranks_.push_back(rank);
    ix->max_rank_ = std::max(ix->max_rank_, rank);
  }
  ix->id_start_.push_back(static_cast<uint32_t>(ix->id_bytes_.size()));
  seen_id = {};
  final_id = {};
  docs = {};
  kept = {};
  parts = {};

  // Postings: counting sort by term, then best static key first.
  ix->post_start_.assign(T + 1, 0);
  for (size_t t = 0; t < T; ++t) {
    uint32_t at = ix->post_start_[t];
    for (auto& f : fill) {
      const uint32_t n = f[t];
      f[t] = at;
      at += n;
    }
    ix->post_start_[t + 1] = at;
  }
  const uint32_t P = ix->post_start_[T];
  ix->post_doc_.resize(P);
  ix->post_meta_.resize(P);
  RunParts(doc_parts, [&](size_t part) {
    std::vector<uint32_t>& next = fill[part];
    const auto [first, last] = PartOf(D, part, doc_parts);
    for (uint32_t doc = first; doc < last; ++doc) {
      for (uint32_t e = ix->fwd_start_[doc]; e < ix->fwd_start_[doc + 1]; ++e) {
        const uint32_t at = next[ix->fwd_term_[e]]++;
        ix->post_doc_[at] = doc;
        ix->post_meta_[at] = ix->fwd_meta_[e];
      }
    }
  });
  fill = {};
  // Each term's postings sorted, the terms split among threads by their
  // postings.
  const size_t post_parts = BuildParts(P);
  struct SortBuffers {  // per part, sized by the caller for the longest term
    std::vector<uint32_t> score;  // per posting: static key + rank
    std::vector<uint32_t> docs;
    std::vector<uint8_t> metas;
    std::vector<uint32_t> idx;
  };
  std::vector<SortBuffers> buffers(post_parts);
  {
    uint32_t longest = 0;
    for (size_t t = 0; t < T; ++t) {
      longest = std::max(longest, ix->post_start_[t + 1] - ix->post_start_[t]);
    }
    for (SortBuffers& b : buffers) {
      b.score.reserve(longest);
      b.docs.reserve(longest);
      b.metas.reserve(longest);
      b.idx.reserve(longest);
    }
  }
  RunParts(post_parts, [&](size_t part) {
    const auto& start = ix->post_start_;
    // Terms [first, last): about P / post_parts postings.
    auto term_at = [&](size_t k) {
      if (k == post_parts) return T;
      return static_cast<size_t>(
          std::lower_bound(start.begin(), start.end() - 1,
                           static_cast<uint32_t>(uint64_t{P} * k / post_parts)) -
          start.begin());
    };
    const size_t first = term_at(part), last = term_at(part + 1);
    auto& [score, docs, metas, idx] = buffers[part];
    for (size_t t = first; t < last; ++t) {
      const uint32_t lo = start[t], hi = start[t + 1];
      if (hi - lo < 2) continue;
      score.clear();
      for (uint32_t p = lo; p < hi; ++p) {
        // Best first by what the posting adds to a score: key + rank.
        score.push_back(StaticKey(ix->post_meta_[p]) +
                        ix->ranks_[ix->post_doc_[p]]);
      }
      // Postings of one term were filled in doc order: a stable sort keeps
      // equal keys in id order.
      docs.assign(ix->post_doc_.begin() + lo, ix->post_doc_.begin() + hi);
      metas.assign(ix->post_meta_.begin() + lo, ix->post_meta_.begin() + hi);
      idx.resize(hi - lo);
      for (uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
      // (Not a capture of `score`: clang 14 cannot capture a structured
      // binding, and the fuzz build uses it.)
      const std::vector<uint32_t>& by = score;
      std::stable_sort(idx.begin(), idx.end(), [&by](uint32_t a, uint32_t b) {
        return by[a] > by[b];
      });
      for (size_t i = 0; i < idx.size(); ++i) {
        ix->post_doc_[lo + i] = docs[idx[i]];
        ix->post_meta_[lo + i] = metas[idx[i]];
      }
    }
  });

  for (uint32_t t = 0; t < T; ++t) {
    uint32_t p = ix->post_start_[t];
    while (p < ix->post_start_[t + 1] &&
           FieldOf(ix->post_meta_[p]) == static_cast<uint32_t>(Field::kName)) {
      ++p;
    }
    if (p == ix->post_start_[t]) continue;
    ix->name_term_.push_back(t);
    ix->name_post_end_.push_back(p);
  }
  ix->name_term_.shrink_to_fit();
  ix->name_post_end_.shrink_to_fit();

  // The tops of heavy prefixes: descend from the whole term range one byte
  // at a time, only into ranges that are still heavy. Each heavy range is a
  // task: its top (if its prefix ends on a character boundary) and its
  // heavy children. The ranges under different first bytes share nothing,
  // so they are shared out among the build's threads by their postings.
  // A top reads each term of its range, and of a term's postings (best
  // first) only those that enter it. The front-coded dictionary is made on
  // the first thread, before its share.
  struct Pending {
    uint32_t lo, hi;  // terms sharing prefix bytes [0, len)
    uint32_t len;
  };
  auto heavy_children = [&](const Pending& w, std::vector<Pending>& out) {
    // Terms of exactly `len` bytes sort first; children group the rest by
    // their byte at `len`.
    uint32_t i = w.lo;
    while (i < w.hi && term(i).size() == w.len) ++i;
    while (i < w.hi) {
      const unsigned char b = static_cast<unsigned char>(term(i)[w.len]);
      uint32_t j = i;
      while (j < w.hi && static_cast<unsigned char>(term(j)[w.len]) == b) ++j;
      if (ix->Postings(Range{i, j}) > kHeavyPostings) {
        out.push_back({i, j, w.len + 1});
      }
      i = j;
    }
  };
  // One thread's tops, their hits one after another (few, large
  // allocations: many small ones would leave the heap fragmented).
  struct Tops {
    std::vector<uint64_t> key;
    std::vector<uint32_t> end;  // of each top's hits
    std::vector<Hit> hits;
  };
  const PostingLists lists{ix->post_start_.data(), ix->post_doc_.data(),
                           ix->post_meta_.data(), ix->ranks_.data(),
                           ix->max_rank_};
  auto make_tops = [&](std::vector<Pending> work, Tops& tops) {
    std::vector<Hit> hits;
    while (!work.empty()) {
      const Pending w = work.back();
      work.pop_back();
      heavy_children(w, work);
      // A prefix that ends inside a UTF-8 sequence is never a query.
      const std::string_view first = term(w.lo);
      if (first.size() != w.len &&
          (static_cast<unsigned char>(first[w.len]) & 0xC0) == 0x80) {
        continue;
      }
      TopK top(QueryLimits::kMaxResults);
      BestOfRange(
          lists, w.lo, w.hi, w.len, kAllFields,
          [&](uint32_t t) { return term(t).size(); }, AnyDoc{}, top);
      hits = top.Take();
      tops.key.push_back(TopKey({w.lo, w.hi}, w.len));
      tops.hits.insert(tops.hits.end(), hits.begin(), hits.end());
      tops.end.push_back(static_cast<uint32_t>(tops.hits.size()));
    }
  };
  {
    std::vector<Pending> first_level;
    heavy_children({0, static_cast<uint32_t>(T), 0}, first_level);
    // Largest first, each to the thread with the fewest postings so far.
    std::sort(first_level.begin(), first_level.end(),
              [&](const Pending& a, const Pending& b) {
                return ix->Postings(Range{a.lo, a.hi}) >
                       ix->Postings(Range{b.lo, b.hi});
              });
    const size_t parts = std::min(BuildParts(P), std::max<size_t>(
                                                     1, first_level.size()));
    std::vector<std::vector<Pending>> share(parts);
    std::vector<size_t> load(parts, 0);
    for (const Pending& w : first_level) {
      const size_t p = static_cast<size_t>(
          std::min_element(load.begin(), load.end()) - load.begin());
      share[p].push_back(w);
      load[p] += ix->Postings(Range{w.lo, w.hi});
    }
    std::vector<Tops> tops(parts);
    RunParts(parts, [&](size_t part) {
      if (part == 0) {
        std::vector<std::string_view> sorted(T);
        for (uint32_t t = 0; t < T; ++t) sorted[t] = term(t);
        ix->terms_ = TermDictionary(sorted);
      }
      make_tops(std::move(share[part]), tops[part]);
    });
    struct Ref {  // a top: its key, thread and number there
      uint64_t key;
      uint32_t part, n;
    };
    std::vector<Ref> all;
    size_t hits = 0;
    for (uint32_t part = 0; part < parts; ++part) {
      for (uint32_t n = 0; n < tops[part].key.size(); ++n) {
        all.push_back({tops[part].key[n], part, n});
      }
      hits += tops[part].hits.size();
    }
    std::sort(all.begin(), all.end(),
              [](const Ref& a, const Ref& b) { return a.key < b.key; });
    ix->top_key_.reserve(all.size());
    ix->top_start_.reserve(all.size() + 1);
    ix->top_doc_.reserve(hits);
    ix->top_score_.reserve(hits);
    for (const Ref& r : all) {
      const Tops& from = tops[r.part];
      ix->top_key_.push_back(r.key);
      ix->top_start_.push_back(static_cast<uint32_t>(ix->top_doc_.size()));
      for (uint32_t h = r.n == 0 ? 0 : from.end[r.n - 1]; h < from.end[r.n];
           ++h) {
        ix->top_doc_.push_back(from.hits[h].doc);
        ix->top_score_.push_back(static_cast<uint16_t>(from.hits[h].score));
      }
    }
    ix->top_start_.push_back(static_cast<uint32_t>(ix->top_doc_.size()));
  }
  term_bytes = {};
  term_start = {};
  ix->BuildPairs(options.heavy_name_docs);
  return ix;
}

void PrefixIndex::BuildPairs(uint32_t heavy_name_docs) {
  static_assert(kMaxHeavyNames <= 65536, "pair_second_ holds 16-bit ids");
  const uint32_t T = terms_.size();
  // The prefixes of every name term of 1 to kPairPrefixChars characters
  // (the term itself included), numbered.
  const size_t NT = name_term_.size();
  std::vector<std::string> names(NT);  // prefix views point into these
  std::unordered_map<std::string_view, uint32_t> prefix_id;
  std::vector<std::string_view> prefix;
  std::vector<uint32_t> own_start{0};  // per name term, into own
  std::vector<uint32_t> own;           // its prefix ids
  for (size_t i = 0; i < NT; ++i) {
    names[i] = terms_.Get(name_term_[i]);
    const std::string_view w = names[i];
    size_t chars = 0;
    for (size_t len = 1; len <= w.size() && chars < kPairPrefixChars; ++len) {
      if (len < w.size() && (static_cast<unsigned char>(w[len]) & 0xC0) == 0x80) {
        continue;
      }
      ++chars;
      auto [it, fresh] = prefix_id.try_emplace(
          w.substr(0, len), static_cast<uint32_t>(prefix.size()));
      if (fresh) prefix.push_back(w.substr(0, len));
      own.push_back(it->second);
    }
    own_start.push_back(static_cast<uint32_t>(own.size()));
  }
  // Documents per prefix (by the name words that start with it); the heavy
  // ones.
  // Counted on up to kBuildThreads threads, one range of documents and one
  // array of counts each (allocated here), then summed.
  const size_t count_parts = BuildParts(size());
  std::vector<std::vector<uint32_t>> counts(count_parts);
  for (auto& c : counts) c.assign(prefix.size(), 0);
  RunParts(count_parts, [&](size_t part) {
    std::vector<uint32_t>& docs_of = counts[part];
    std::vector<uint32_t> ids;
    const auto [first, last] = PartOf(size(), part, count_parts);
    for (uint32_t doc = first; doc < last; ++doc) {
      ids.clear();
      for (uint32_t e = fwd_start_[doc]; e < fwd_start_[doc + 1]; ++e) {
        if (FieldOf(fwd_meta_[e]) != static_cast<uint32_t>(Field::kName)) {
          continue;
        }
        const auto i = static_cast<uint32_t>(
            std::lower_bound(name_term_.begin(), name_term_.end(),
                             fwd_term_[e]) -
            name_term_.begin());
        ids.insert(ids.end(), own.begin() + own_start[i],
                   own.begin() + own_start[i + 1]);
      }
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      for (uint32_t id : ids) ++docs_of[id];
    }
  });
  std::vector<uint32_t> docs_of = std::move(counts[0]);
  for (size_t part = 1; part < count_parts; ++part) {
    for (size_t id = 0; id < docs_of.size(); ++id) docs_of[id] += counts[part][id];
  }
  counts = {};
  std::vector<uint32_t> heavy_ids;
  for (uint32_t id = 0; id < prefix.size(); ++id) {
    if (docs_of[id] > heavy_name_docs) heavy_ids.push_back(id);
  }
  if (heavy_ids.size() > kMaxHeavyNames) {  // keep the heaviest
    std::nth_element(heavy_ids.begin(), heavy_ids.begin() + kMaxHeavyNames,
                     heavy_ids.end(), [&](uint32_t x, uint32_t y) {
                       return docs_of[x] > docs_of[y];
                     });
    heavy_ids.resize(kMaxHeavyNames);
  }
  std::sort(heavy_ids.begin(), heavy_ids.end(),
            [&](uint32_t x, uint32_t y) { return prefix[x] < prefix[y]; });
  for (uint32_t id : heavy_ids) heavy_name_.emplace_back(prefix[id]);
  heavy_name_.shrink_to_fit();
  if (heavy_name_.empty()) return;

  // Per term, the heavy prefixes it starts with (itself included), and the
  // bytes the term has beyond each: each heavy prefix covers one range of
  // the sorted terms.
  struct Heavy {
    uint32_t id;
    uint32_t extra;
  };
  std::vector<uint32_t> heavy_start(T + 1, 0);
  std::vector<Heavy> heavy_of;
  {
    std::vector<Range> cover(heavy_name_.size());
    for (uint32_t h = 0; h < heavy_name_.size(); ++h) {
      cover[h] = TermRange(heavy_name_[h]);
      for (uint32_t t = cover[h].lo; t < cover[h].hi; ++t) ++heavy_start[t + 1];
    }
    for (uint32_t t = 0; t < T; ++t) heavy_start[t + 1] += heavy_start[t];
    // Giant prefixes: a bitmap of the documents with a name word that
    // starts with them.
    const size_t words = (size() + 63) / 64;
    for (uint32_t h = 0; h < heavy_name_.size(); ++h) {
      if (docs_of[heavy_ids[h]] <= std::max<size_t>(heavy_name_docs, size() / kGiantShare)) {
        continue;
      }
      giant_name_.push_back(heavy_name_[h]);
      giant_bits_.resize(giant_bits_.size() + words, 0);
      uint64_t* bits = giant_bits_.data() + giant_bits_.size() - words;
      auto it = std::lower_bound(name_term_.begin(), name_term_.end(), cover[h].lo);
      for (; it != name_term_.end() && *it < cover[h].hi; ++it) {
        for (uint32_t p = post_start_[*it]; p < name_post_end_[it - name_term_.begin()]; ++p) {
          bits[post_doc_[p] >> 6] |= uint64_t{1} << (post_doc_[p] & 63);
        }
      }
    }
    giant_name_.shrink_to_fit();
    giant_bits_.shrink_to_fit();
    heavy_of.resize(heavy_start[T]);
    std::vector<uint32_t> fill(heavy_start.begin(), heavy_start.end() - 1);
    for (uint32_t h = 0; h < heavy_name_.size(); ++h) {
      const auto len = static_cast<uint32_t>(heavy_name_[h].size());
      for (uint32_t t = cover[h].lo; t < cover[h].hi; ++t) {
        heavy_of[fill[t]++] = {h, terms_.length(t) - len};
      }
    }
  }

  // Every document offers, to each pair of heavy prefixes that two of its
  // words begin with, its best score by such words; each pair keeps the
  // best kPairTop. The words count when both are E or N for their prefix,
  // or one is E (see SearchTwoTerms): every other assignment scores at
  // most kOtherKey + kNameKey. Documents come in id order, so of equal
  // scores the first offered (the lower id) stays, and all offers of one
  // document to a pair come one after another.
  struct Slot {
    Hit hits[kPairTop];
    uint32_t n = 0, worst = 0;
    uint32_t last_doc = UINT32_MAX, last_at = 0;  // where last_doc went
    // Returns the least score a later document's offer needs (Need()).
    uint32_t Offer(Hit h) {
      if (h.doc == last_doc && last_at < n) {  // kept; now by other words
        if (h.score > hits[last_at].score) {
          hits[last_at].score = h.score;
          Rescan();
        }
        return Need();
      }
      last_doc = h.doc;
      if (n < kPairTop) {
        last_at = n;
        hits[n++] = h;
      } else if (Better(h, hits[worst])) {
        last_at = worst;
        hits[worst] = h;
      } else {
        last_at = kPairTop;  // not kept
        return Need();
      }
      Rescan();
      return Need();
    }
    void Rescan() {
      for (uint32_t i = 0; i < n; ++i) {
        if (Better(hits[worst], hits[i])) worst = i;
      }
    }
    // Once full, a document offered later (a higher id) must beat the
    // worst score kept: an equal score keeps the lower id. A document kept
    // already has at least that score, so only a higher one changes it.
    uint32_t Need() const { return n < kPairTop ? 0 : hits[worst].score + 1; }
  };
  // The pairs' slots. Per pair of heavy ids (i <= j), at cell
  // j * (j + 1) / 2 + i: the least score an offer needs, which most offers
  // read only and fall short of, and the pair's slot. The scores are 16
  // bits: 4 MiB a thread at most, 1.5 MiB for a million generated people.
  const size_t NH = heavy_name_.size();
  const size_t kCells = NH * (NH + 1) / 2;
  static_assert(2 * kMaxWordKey + 255 + 1 <= UINT16_MAX);
  struct Slots {
    std::vector<uint16_t> need;     // per cell
    std::vector<uint32_t> slot_of;  // per cell
    std::vector<uint64_t> key;      // per slot: i << 32 | j
    std::vector<Slot> slot;
    // Offers come in document order.
    void Offer(uint32_t i, uint32_t j, Hit h) {
      const size_t cell = size_t{j} * (j + 1) / 2 + i;
      if (h.score < need[cell]) return;
      need[cell] = static_cast<uint16_t>(SlotOf(cell, i, j).Offer(h));
    }
    // Any order (merging parts): the slot decides.
    void Merge(uint32_t i, uint32_t j, Hit h) {
      SlotOf(size_t{j} * (j + 1) / 2 + i, i, j).Offer(h);
    }
    Slot& SlotOf(size_t cell, uint32_t i, uint32_t j) {
      uint32_t& s = slot_of[cell];
      if (s == UINT32_MAX) {
        s = static_cast<uint32_t>(slot.size());
        slot.emplace_back();
        key.push_back(uint64_t{i} << 32 | j);
      }
      return slot[s];
    }
  };
  // Documents [lo, hi) into `out`.
  auto offer_range = [&](uint32_t lo, uint32_t hi, Slots& out) {
    struct Item {  // a word of the document and a heavy prefix of it
      uint32_t word, heavy, key;
    };
    std::vector<Item> strong, exact, weak;  // E or N; E; O
    auto offer = [&](uint32_t doc, const Item& x, const Item& y) {
      out.Offer(std::min(x.heavy, y.heavy), std::max(x.heavy, y.heavy),
                {doc, x.key + y.key + ranks_[doc]});
    };
    for (uint32_t doc = lo; doc < hi; ++doc) {
      // The terms' heavy prefixes are read at random: fetched ahead, each
      // term's range two documents ahead and its first heavy prefix one
      // ahead (the offers took 10-20% less time).
      if (doc + 2 < hi) {
        for (uint32_t e = fwd_start_[doc + 2]; e < fwd_start_[doc + 3]; ++e) {
          __builtin_prefetch(&heavy_start[fwd_term_[e]]);
        }
      }
      if (doc + 1 < hi) {
        for (uint32_t e = fwd_start_[doc + 1]; e < fwd_start_[doc + 2]; ++e) {
          __builtin_prefetch(heavy_of.data() + heavy_start[fwd_term_[e]]);
        }
      }
      strong.clear();
      exact.clear();
      weak.clear();
      for (uint32_t e = fwd_start_[doc]; e < fwd_start_[doc + 1]; ++e) {
        const uint32_t t = fwd_term_[e];
        const uint8_t meta = fwd_meta_[e];
        const bool name = FieldOf(meta) == static_cast<uint32_t>(Field::kName);
        for (uint32_t h = heavy_start[t]; h < heavy_start[t + 1]; ++h) {
          const Item item{e, heavy_of[h].id, ExtraKey(meta, heavy_of[h].extra)};
          const bool is_exact = heavy_of[h].extra == 0;
          if (is_exact) exact.push_back(item);
          (is_exact || name ? strong : weak).push_back(item);
        }
      }
      // Each two items once (offer orders their prefixes).
      for (size_t i = 0; i < strong.size(); ++i) {
        for (size_t j = i + 1; j < strong.size(); ++j) {
          if (strong[i].word != strong[j].word) offer(doc, strong[i], strong[j]);
        }
      }
      for (const Item& x : exact) {
        for (const Item& y : weak) {
          if (x.word != y.word) offer(doc, x, y);
        }
      }
    }
  };
  // On up to kBuildThreads threads, each over a range of documents; their
  // slots are then merged (Better orders ties by document, so the result
  // does not depend on the split).
  const size_t parts = BuildParts(size());
  std::vector<Slots> part(parts);
  for (Slots& sl : part) {
    // Allocated here, not by the threads: memory a thread frees stays in
    // its malloc arena. Untouched reserved pages cost no memory.
    sl.need.assign(kCells, 0);
    sl.slot_of.assign(kCells, UINT32_MAX);
    sl.slot.reserve(kCells);
    sl.key.reserve(kCells);
  }
  RunParts(parts, [&](size_t p) {
    const auto [first, last] = PartOf(size(), p, parts);
    offer_range(first, last, part[p]);
  });
  Slots& all = part[0];
  for (size_t p = 1; p < parts; ++p) {
    for (size_t sl = 0; sl < part[p].slot.size(); ++sl) {
      const uint64_t key = part[p].key[sl];
      for (uint32_t h = 0; h < part[p].slot[sl].n; ++h) {
        all.Merge(static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key),
                  part[p].slot[sl].hits[h]);
      }
    }
    part[p] = {};
  }
  all.need = {};
  all.slot_of = {};
  std::vector<Slot>& slots = all.slot;
  std::vector<uint64_t>& slot_key = all.key;
  std::vector<uint32_t> order(slots.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](uint32_t x, uint32_t y) { return slot_key[x] < slot_key[y]; });
  pair_first_.assign(NH + 1, 0);
  pair_second_.reserve(slots.size());
  pair_start_.reserve(slots.size() + 1);
  pair_last_score_.reserve(slots.size());
  size_t hits = 0;
  for (const Slot& sl : slots) hits += sl.n;
  pair_docs_.reserve(hits);
  for (uint32_t i : order) {
    Slot& sl = slots[i];
    std::sort(sl.hits, sl.hits + sl.n, Better);
    ++pair_first_[(slot_key[i] >> 32) + 1];
    pair_second_.push_back(static_cast<uint16_t>(slot_key[i]));
    pair_start_.push_back(static_cast<uint32_t>(pair_docs_.size()));
    for (uint32_t h = 0; h < sl.n; ++h) pair_docs_.push_back(sl.hits[h].doc);
    // Two 14-bit keys and a rank fit 16 bits.
    pair_last_score_.push_back(static_cast<uint16_t>(sl.hits[sl.n - 1].score));
  }
  pair_start_.push_back(static_cast<uint32_t>(pair_docs_.size()));
  for (size_t i = 0; i < NH; ++i) pair_first_[i + 1] += pair_first_[i];
}

const uint64_t* PrefixIndex::GiantBits(std::string_view prefix) const {
  auto it = std::lower_bound(giant_name_.begin(), giant_name_.end(), prefix);
  if (it == giant_name_.end() || *it != prefix) return nullptr;
  return giant_bits_.data() + (it - giant_name_.begin()) * ((size() + 63) / 64);
}

const uint32_t* PrefixIndex::PairDocs(std::string_view a, std::string_view b,
                                      size_t* count, Hit* last) const {
  auto heavy = [&](std::string_view p) -> int64_t {
    auto it = std::lower_bound(heavy_name_.begin(), heavy_name_.end(), p);
    if (it == heavy_name_.end() || *it != p) return -1;
    return it - heavy_name_.begin();
  };
  const int64_t i = heavy(a), j = heavy(b);
  if (i < 0 || j < 0) return nullptr;
  const auto begin = pair_second_.begin() + pair_first_[std::min(i, j)];
  const auto end = pair_second_.begin() + pair_first_[std::min(i, j) + 1];
  const auto it = std::lower_bound(begin, end, std::max(i, j));
  *count = 0;
  if (it == end || *it != std::max(i, j)) return pair_docs_.data();  // none
  const size_t n = it - pair_second_.begin();
  *count = pair_start_[n + 1] - pair_start_[n];
  *last = {pair_docs_[pair_start_[n + 1] - 1], pair_last_score_[n]};
  return pair_docs_.data() + pair_start_[n];
}

std::optional<uint32_t> PrefixIndex::Find(std::string_view id) const {
  uint32_t a = 0, b = static_cast<uint32_t>(size());
  while (a < b) {
    uint32_t m = a + (b - a) / 2;
    if (this->id(m) < id) a = m + 1; else b = m;
  }
  if (a == size() || this->id(a) != id) return std::nullopt;
  return a;
}

IndexDoc PrefixIndex::Doc(uint32_t doc) const {
  IndexDoc d;
  d.id = std::string(id(doc));
  d.rank = ranks_[doc];
  for (uint32_t e = fwd_start_[doc]; e < fwd_start_[doc + 1]; ++e) {
    d.words.push_back({terms_.Get(fwd_term_[e]),
                       static_cast<Field>(fwd_meta_[e] >> 6),
                       static_cast<uint8_t>(fwd_meta_[e] & 63)});
  }
  return d;
}

IndexDocs PrefixIndex::Docs(const std::vector<uint8_t>& skip) const {
  std::string bytes;  // the terms, decoded once
  std::vector<uint32_t> start{0};
  start.reserve(terms_.size() + 1);
  terms_.ForEach([&](uint32_t, std::string_view w) {
    bytes += w;
    start.push_back(TableOffset(bytes.size()));
  });
  IndexDocs out;
  out.Reserve(size(), fwd_start_[size()], 0);
  for (uint32_t doc = 0; doc < size(); ++doc) {
    if (doc < skip.size() && skip[doc]) continue;
    // Forward entries are in term order, which is the words' byte order:
    // canonical.
    out.AddCanonical(id(doc), ranks_[doc], [&](auto&& sink) {
      for (uint32_t e = fwd_start_[doc]; e < fwd_start_[doc + 1]; ++e) {
        const uint32_t t = fwd_term_[e];
        sink(std::string_view(bytes.data() + start[t], start[t + 1] - start[t]),
             fwd_meta_[e]);
      }
    });
  }
  return out;
}

PrefixIndex::Range PrefixIndex::TermRange(std::string_view prefix) const {
  // Terms are sorted, so those starting with `prefix` lie between the first
  // term >= prefix and the first term >= prefix's successor.
  const uint32_t lo = terms_.LowerBound(prefix);
  std::string succ(prefix);
  while (!succ.empty() && static_cast<unsigned char>(succ.back()) == 0xFF) {
    succ.pop_back();
  }
  if (succ.empty()) return {lo, terms_.size()};
  succ.back() = static_cast<char>(static_cast<unsigned char>(succ.back()) + 1);
  return {lo, terms_.LowerBound(succ)};
}

std::optional<uint32_t> PrefixIndex::Score(
    uint32_t doc, const Query& q, const std::vector<Range>& ranges) const {
  const uint32_t* first = fwd_term_.data() + fwd_start_[doc];
  const uint32_t* last = fwd_term_.data() + fwd_start_[doc + 1];
  // Calls fn(word, key) for each word of the document that term t may
  // take: in its range and the query's fields.
  auto each_word = [&](size_t t, auto&& fn) {
    const Range r = ranges[t];
    for (const uint32_t* e = std::lower_bound(first, last, r.lo);
         e != last && *e < r.hi; ++e) {
      const size_t w = static_cast<size_t>(e - first);
      const uint8_t meta = fwd_meta_[fwd_start_[doc] + w];
      if (!Allowed(meta, q.fields)) continue;
      fn(w, WordKey(meta, terms_.length(*e), q.terms[t].size()));
    }
  };
  if (q.terms.size() == 2) {
    // Each term's best word and the best of its others; the best
    // assignment is the two best words, or if they are one word, the
    // better of each with the other term's second.
    struct Best {
      int32_t key = -1, second = -1;
      size_t word = SIZE_MAX;
    } b[2];
    for (size_t t = 0; t < 2; ++t) {
      each_word(t, [&](size_t w, uint32_t word_key) {
        const auto key = static_cast<int32_t>(word_key);
        if (key > b[t].key) {
          b[t].second = b[t].key;
          b[t].key = key;
          b[t].word = w;
        } else if (key > b[t].second) {
          b[t].second = key;
        }
      });
      if (b[t].key < 0) return std::nullopt;
    }
    int32_t best = b[0].key + b[1].key;
    if (b[0].word == b[1].word) {
      const int32_t x = b[1].second < 0 ? -1 : b[0].key + b[1].second;
      const int32_t y = b[0].second < 0 ? -1 : b[0].second + b[1].key;
      best = std::max(x, y);
      if (best < 0) return std::nullopt;
    }
    return static_cast<uint32_t>(best) + ranks_[doc];
  }
  Candidates cs;
  cs.terms = q.terms.size();
  for (size_t t = 0; t < cs.terms; ++t) {
    cs.n[t] = 0;
    each_word(t, [&](size_t w, uint32_t key) {
      cs.c[t][cs.n[t]++] = {static_cast<uint8_t>(w),
                            static_cast<uint16_t>(key)};
    });
    if (cs.n[t] == 0) return std::nullopt;
  }
  int64_t best = BestAssignment(cs);
  if (best < 0) return std::nullopt;
  return static_cast<uint32_t>(best) + ranks_[doc];
}

void PrefixIndex::PrefetchForScore(const uint32_t* docs, size_t n) const {
  tls_seen.Prefetch(docs, n);
  for (size_t i = 0; i < n; ++i) {
    __builtin_prefetch(&fwd_start_[docs[i]]);
    __builtin_prefetch(&ranks_[docs[i]]);
  }
  // These loads wait about one miss in all: the loop above asked for
  // every line they read.
  for (size_t i = 0; i < n; ++i) {
    const uint32_t first = fwd_start_[docs[i]];
    __builtin_prefetch(&fwd_term_[first]);
    __builtin_prefetch(&fwd_meta_[first]);
  }
}

template <typename Sink>
void PrefixIndex::ForEachCandidate(const Query& q,
                                   const std::vector<Range>& ranges,
                                   Sink&& sink) const {
  // Drive from the term with the fewest postings; verify the others.
  size_t driver = 0;
  for (size_t t = 1; t < ranges.size(); ++t) {
    if (Postings(ranges[t]) < Postings(ranges[driver])) driver = t;
  }
  SeenMarks& seen = tls_seen;
  seen.Reset(size());
  const Range r = ranges[driver];
  for (uint32_t p = post_start_[r.lo]; p < post_start_[r.hi]; ++p) {
    if (!Allowed(post_meta_[p], q.fields)) continue;
    const uint32_t doc = post_doc_[p];
    if (seen.TestAndSet(doc)) continue;
    if (auto s = Score(doc, q, ranges)) sink(Hit{doc, *s});
  }
}

std::vector<PrefixIndex::Hit> PrefixIndex::Search(
    const Query& q, size_t k, const std::vector<uint8_t>* dead) const {
  k = std::min(k, QueryLimits::kMaxResults);
  std::vector<Range> ranges;
  ranges.reserve(q.terms.size());
  for (const auto& t : q.terms) {
    ranges.push_back(TermRange(t));
    if (ranges.back().lo == ranges.back().hi) return {};
  }
  auto is_dead = [&](uint32_t doc) {
    return dead != nullptr && doc < dead->size() && (*dead)[doc];
  };
  if (q.terms.size() == 1 && q.fields == kAllFields &&
      Postings(ranges[0]) > kHeavyPostings) {
    const uint64_t key = TopKey(ranges[0], q.terms[0].size());
    auto it = std::lower_bound(top_key_.begin(), top_key_.end(), key);
    if (it != top_key_.end() && *it == key) {
      const size_t n = it - top_key_.begin();
      std::vector<Hit> out;
      for (uint32_t i = top_start_[n]; i < top_start_[n + 1]; ++i) {
        if (out.size() == k) break;
        if (!is_dead(top_doc_[i])) out.push_back({top_doc_[i], top_score_[i]});
      }
      // The list holds kMaxResults: if deletions ate into it, fall through
      // to the full scan (until the next rebuild drops them).
      if (out.size() == k ||
          top_start_[n + 1] - top_start_[n] < QueryLimits::kMaxResults) {
        return out;
      }
    }
  }
  if (q.terms.size() == 1) return SearchOneTerm(q, ranges[0], k, dead);
  if (q.terms.size() == 2 && k > 0) {
    if (auto hits = SearchTwoTerms(q, ranges, k, dead)) return *hits;
  }
  return SearchIntersect(q, ranges, k, dead);
}

// One term: every posting carries what its score needs (field, position,
// the term's length), so no document is looked up.
std::vector<PrefixIndex::Hit> PrefixIndex::SearchOneTerm(
    const Query& q, Range r, size_t k,
    const std::vector<uint8_t>* dead) const {
  TopK top(k);
  BestOfRange(
      PostingLists{post_start_.data(), post_doc_.data(), post_meta_.data(),
                   ranks_.data(), max_rank_},
      r.lo, r.hi, q.terms[0].size(), q.fields,
      [&](uint32_t t) { return terms_.length(t); },
      [&](uint32_t doc) { return dead == nullptr || !(*dead)[doc]; }, top);
  return top.Take();
}

template <typename Fn, typename Keep>
void PrefixIndex::ForEachPosting(uint32_t t, uint32_t begin, uint32_t end,
                                 size_t term_len, uint8_t fields, Fn&& fn,
                                 Keep&& keep) const {
  const size_t wlen = terms_.length(t);
  for (uint32_t p = begin; p < end; ++p) {
    const uint32_t doc = post_doc_[p];
    if (keep(doc) && Allowed(post_meta_[p], fields)) {
      fn(doc, WordKey(post_meta_[p], wlen, term_len));
    }
  }
}

template <typename Sink>
void PrefixIndex::ForEachInBoth(Range x, size_t xlen, Range y, size_t ylen,
                                uint8_t fields, Sink&& sink) const {
  if (Postings(y) < Postings(x)) {
    std::swap(x, y);
    std::swap(xlen, ylen);
  }
  KeyMarks& marks = tls_key_marks;  // documents of x, with their best key
  marks.Reset(size());
  for (uint32_t t = x.lo; t < x.hi; ++t) {
    ForEachPosting(t, post_start_[t], post_start_[t + 1], xlen, fields,
                   [&](uint32_t doc, uint32_t key) { marks.Offer(doc, key); });
  }
  for (uint32_t t = y.lo; t < y.hi; ++t) {
    ForEachPosting(
        t, post_start_[t], post_start_[t + 1], ylen, fields,
        [&](uint32_t doc, uint32_t key) {
          sink(doc, marks.key[doc] + key + ranks_[doc]);
        },
        [&](uint32_t doc) { return marks.Has(doc); });
  }
}

// Two terms by tiers. A document's key for a term is, by its top bits:
//   E  the term is one of its words (exact; any field), or else
//   N  a name word: at most kNameKey, or else
//   O  an e-mail or other word: at most kOtherKey.
// A document whose best words are E or N for both terms, or E for one of
// them, is found by one of the paths below; any other scores at most
// kOtherKey + kNameKey + rank (an O word, and an N or O word).
//   pairs    both prefixes heavy: the best such documents, precomputed.
//   S        a small range whose term is a common whole word: all of it
//            intersected with the other range's E and N postings.
//   E        few postings of an exact term are scored one by one; many are
//            intersected with every posting of the other range.
//   N        the name postings of both ranges intersected: a small part of
//            ranges that hold e-mail addresses and departments.
// If the k-th result then beats the bound of every document not seen, it
// is exact; if not, nullopt.
std::optional<std::vector<PrefixIndex::Hit>> PrefixIndex::SearchTwoTerms(
    const Query& q, const std::vector<Range>& ranges, size_t k,
    const std::vector<uint8_t>* dead) const {
  static const uint32_t kNameKey =
      WordKey(Meta(Field::kName, 0), 2, 1);  // non-exact, shortest, first
  static const uint32_t kOtherKey = WordKey(Meta(Field::kEmail, 0), 2, 1);
  constexpr uint32_t kMaxExactPostings = 256;
  constexpr uint32_t kMaxMarkedPostings = 65536;
  constexpr uint32_t kSmallSide = 4;
  static constexpr uint32_t kNone = UINT32_MAX;
  auto is_dead = [&](uint32_t doc) { return dead != nullptr && (*dead)[doc]; };
  if ((q.fields & kFieldName) == 0) return std::nullopt;

  uint32_t exact[2];
  for (size_t i = 0; i < 2; ++i) {
    const Range r = ranges[i];
    exact[i] = terms_.length(r.lo) == q.terms[i].size() ? r.lo : kNone;
  }

  SeenMarks& seen = tls_seen;  // documents scored
  seen.Reset(size());
  TopK top(k);
  auto score = [&](uint32_t doc) {
    if (is_dead(doc) || seen.TestAndSet(doc)) return;
    if (auto s = Score(doc, q, ranges)) top.Offer({doc, *s});
  };
  auto fetch = [this](const uint32_t* docs, size_t n) {
    PrefetchForScore(docs, n);
  };

  // Both prefixes heavy: the best documents with E or N words for both
  // terms, or an E word for one, are precomputed (by that score, then id),
  // and any other such document ranks below the last of them; every other
  // document scores at most kOtherKey + kNameKey + rank. (A field filter
  // can leave a listed document below its listed score: hence the test
  // against the last one.)
  if (k <= kPairTop) {
    size_t n = 0;
    Hit last;
    if (const uint32_t* docs = PairDocs(q.terms[0], q.terms[1], &n, &last)) {
      ScoreEach(docs, n, fetch, score);
      const uint32_t others = kOtherKey + kNameKey + max_rank_;
      if (top.Full() && top.Worst().score > others &&
          (n < kPairTop || !Better(last, top.Worst()))) {
        return top.Take();
      }
    }
  }

  std::vector<BoundedDoc> cands;  // scored in the order of their bound
  KeyMarks& marks = tls_key_marks;
  // The name postings of each range; name_postings counts those of its
  // terms other than the exact one (the N tier).
  struct Span {
    uint32_t term, begin, end;
  };
  std::vector<Span> spans[2];
  uint32_t name_postings[2] = {0, 0};
  for (size_t i = 0; i < 2; ++i) {
    auto first = std::lower_bound(name_term_.begin(), name_term_.end(),
                                  ranges[i].lo);
    for (auto it = first; it != name_term_.end() && *it < ranges[i].hi; ++it) {
      const uint32_t end = name_post_end_[it - name_term_.begin()];
      spans[i].push_back({*it, post_start_[*it], end});
      if (*it != exact[i]) name_postings[i] += end - post_start_[*it];
    }
  }

  // The term of the smaller range (S) is a whole word of many postings,
  // and S is much smaller than the other range's (L's) strong postings: its
  // exact word's, in any field, and its name words'. Then the E tier below
  // would mark all those, and the N tier read L's name postings again.
  // Instead every posting of S is marked and L's strong postings are read
  // once, or, when L is a giant name prefix with more name postings than S
  // has postings, S's documents are tested against its bitmap. A document
  // not found has an O word for L, so it scores at most S's best key +
  // kOtherKey + rank; if the k-th result does not beat that, L's other
  // postings are read too, and no document is left unseen ("vy le": 506
  // documents have the word "vy", against 27,000 name postings of "le").
  {
    const size_t sm = Postings(ranges[1]) < Postings(ranges[0]) ? 1 : 0;
    const size_t lg = 1 - sm;
    const uint32_t el = exact[lg];
    const uint32_t strong =
        (el != kNone ? Postings({el, el + 1}) : 0) + name_postings[lg];
    const uint32_t es = exact[sm];
    if (es != kNone && Postings({es, es + 1}) > kMaxExactPostings &&
        kSmallSide * Postings(ranges[sm]) <= strong) {
      const size_t slen = q.terms[sm].size(), llen = q.terms[lg].size();
      marks.Reset(size());
      uint32_t best_s = 0;  // the best key of any word of S
      for (uint32_t t = ranges[sm].lo; t < ranges[sm].hi; ++t) {
        ForEachPosting(t, post_start_[t], post_start_[t + 1], slen, q.fields,
                       [&](uint32_t doc, uint32_t key) {
                         best_s = std::max(best_s, key);
                         marks.Offer(doc, key);
                       });
      }
      auto read = [&](uint32_t t, uint32_t begin, uint32_t end) {
        ForEachPosting(
            t, begin, end, llen, q.fields,
            [&](uint32_t doc, uint32_t key) {
              cands.push_back({marks.key[doc] + key + ranks_[doc], doc});
            },
            [&](uint32_t doc) { return marks.Has(doc); });
      };
      if (el != kNone) read(el, post_start_[el], post_start_[el + 1]);
      const uint64_t* bits = GiantBits(q.terms[lg]);
      if (bits != nullptr && name_postings[lg] > Postings(ranges[sm])) {
        for (uint32_t doc : marks.touched) {  // a non-exact name word at best
          if (bits[doc >> 6] >> (doc & 63) & 1) {
            cands.push_back({marks.key[doc] + kNameKey + ranks_[doc], doc});
          }
        }
      } else {
        for (const Span& sp : spans[lg]) {
          if (sp.term != el) read(sp.term, sp.begin, sp.end);
        }
      }
      ScoreInBoundOrder(cands, top, fetch, score);
      if (top.Full() && top.Worst().score > best_s + kOtherKey + max_rank_) {
        return top.Take();
      }
      auto name = std::lower_bound(name_term_.begin(), name_term_.end(),
                                   ranges[lg].lo);
      for (uint32_t t = ranges[lg].lo; t < ranges[lg].hi; ++t) {
        uint32_t begin = post_start_[t];
        if (name != name_term_.end() && *name == t) {
          begin = name_post_end_[name - name_term_.begin()];
          ++name;
        }
        if (t != el) read(t, begin, post_start_[t + 1]);
      }
      ScoreInBoundOrder(cands, top, fetch, score);
      return top.Take();
    }
  }

  // E documents. Few are scored one by one. Many are intersected with the
  // other range, as candidates bounded by their best keys: with all of it
  // if it is not too large; else with its exact word's documents and its
  // name documents (by its giant bitmap, or marked from its name
  // postings), and those whose other word is an O word then score at most
  // the exact key plus kOtherKey. (Walking the exact word's postings best
  // first and scoring each, until the k-th result beat what was left, was
  // tried: it ends early only when both terms are common whole names, and
  // scoring a document costs several cache misses, so it made the slow
  // tail slower.)
  uint32_t rest = kOtherKey + kNameKey + max_rank_;
  for (size_t i = 0; i < 2; ++i) {
    const uint32_t e = exact[i];
    if (e == kNone) continue;
    if (Postings({e, e + 1}) <= kMaxExactPostings) {
      ScoreEach(&post_doc_[post_start_[e]], Postings({e, e + 1}), fetch,
                score);
      continue;
    }
    const size_t j = 1 - i;
    const size_t elen = q.terms[i].size();
    const size_t jlen = q.terms[j].size();
    // Marked: every document of the other range if it is not too large;
    // else the other exact word's documents (any field) and the other
    // term's name documents (unless a giant bitmap holds them), and those
    // with an O word only are bounded.
    const bool whole = Postings(ranges[j]) <= kMaxMarkedPostings;
    const uint64_t* bits = whole ? nullptr : GiantBits(q.terms[j]);
    uint32_t marked = exact[j] != kNone ? Postings({exact[j], exact[j] + 1}) : 0;
    if (!whole && bits == nullptr) {
      for (const Span& sp : spans[j]) marked += sp.end - sp.begin;
    }
    if (marked > kMaxMarkedPostings) return std::nullopt;
    if (whole) {
      ForEachInBoth({e, e + 1}, elen, ranges[j], jlen, q.fields,
                    [&](uint32_t doc, uint32_t bound) {
                      cands.push_back({bound, doc});
                    });
      continue;
    }
    marks.Reset(size());
    auto mark = [&](uint32_t t, uint32_t begin, uint32_t end) {
      ForEachPosting(t, begin, end, jlen, q.fields,
                     [&](uint32_t doc, uint32_t key) { marks.Offer(doc, key); });
    };
    if (exact[j] != kNone) {
      mark(exact[j], post_start_[exact[j]], post_start_[exact[j] + 1]);
    }
    if (bits == nullptr) {
      for (const Span& sp : spans[j]) mark(sp.term, sp.begin, sp.end);
    }
    uint32_t best_exact = 0;
    for (uint32_t p = post_start_[e]; p < post_start_[e + 1]; ++p) {
      const uint32_t doc = post_doc_[p];
      const uint32_t key = WordKey(post_meta_[p], elen, elen);
      best_exact = std::max(best_exact, key);
      uint32_t other = marks.Has(doc) ? marks.key[doc] : 0;
      if (bits != nullptr && (bits[doc >> 6] >> (doc & 63) & 1)) {
        other = std::max(other, kNameKey);  // a non-exact name word at best
      }
      if (other == 0) continue;
      cands.push_back({key + other + ranks_[doc], doc});
    }
    rest = std::max(rest, best_exact + kOtherKey + max_rank_);
  }
  auto proven = [&] { return top.Full() && top.Worst().score > rest; };
  // A document the N tier would find has a non-exact name word for each
  // term, so scores at most 2 kNameKey + rank: if the E documents beat
  // that, the N tier is not read.
  ScoreInBoundOrder(cands, top, fetch, score);
  if (proven() && top.Worst().score > 2 * kNameKey + max_rank_) {
    return top.Take();
  }
  for (size_t i = 0; i < 2; ++i) {  // the N tier: without the exact term
    std::erase_if(spans[i], [&](const Span& sp) { return sp.term == exact[i]; });
  }

  const size_t a = name_postings[1] < name_postings[0] ? 1 : 0, b = 1 - a;
  if (const uint64_t* bits = GiantBits(q.terms[b]);
      bits != nullptr && name_postings[b] > 2 * name_postings[a]) {
    // b begins a name word of a large share of all documents: test a's
    // name documents against its bitmap instead of walking its postings;
    // b's key is then bounded by the best a non-exact name word can have.
    for (const Span& sp : spans[a]) {
      ForEachPosting(
          sp.term, sp.begin, sp.end, q.terms[a].size(), q.fields,
          [&](uint32_t doc, uint32_t key) {
            cands.push_back({key + kNameKey + ranks_[doc], doc});
          },
          [&](uint32_t doc) { return (bits[doc >> 6] >> (doc & 63) & 1) != 0; });
    }
    spans[a].clear();  // nothing to mark
    spans[b].clear();  // nor to walk
  }
  // (Name postings: in every query's fields, as the tiers need names.)
  marks.Reset(size());  // name documents of a, with their best key
  for (const Span& sp : spans[a]) {
    ForEachPosting(sp.term, sp.begin, sp.end, q.terms[a].size(), q.fields,
                   [&](uint32_t doc, uint32_t key) { marks.Offer(doc, key); });
  }
  for (const Span& sp : spans[b]) {
    ForEachPosting(
        sp.term, sp.begin, sp.end, q.terms[b].size(), q.fields,
        [&](uint32_t doc, uint32_t key) {
          cands.push_back({marks.key[doc] + key + ranks_[doc], doc});
        },
        [&](uint32_t doc) { return marks.Has(doc); });
  }
  ScoreInBoundOrder(cands, top, fetch, score);
  if (!proven()) return std::nullopt;
  return top.Take();
}

// Intersection first: mark the documents of the smallest range, keep those
// of the second smallest that are marked, and score only them. Costs two
// sequential passes over postings and a scoring per common document, so it
// serves queries whose terms are common but rarely together ("eri hau").
std::vector<PrefixIndex::Hit> PrefixIndex::SearchIntersect(
    const Query& q, const std::vector<Range>& ranges, size_t k,
    const std::vector<uint8_t>* dead) const {
  size_t a = 0, b = 1;
  if (Postings(ranges[b]) < Postings(ranges[a])) std::swap(a, b);
  for (size_t i = 2; i < ranges.size(); ++i) {
    if (Postings(ranges[i]) < Postings(ranges[a])) {
      b = a;
      a = i;
    } else if (Postings(ranges[i]) < Postings(ranges[b])) {
      b = i;
    }
  }
  SeenMarks& seen = tls_seen;
  seen.Reset(size());
  TopK top(k);
  if (ranges.size() == 2) {
    // Two terms: a common document scores at most its best word key for
    // each term plus its rank. Score documents in order of that bound and
    // stop once the k-th result beats the next bound, so only a few of the
    // common documents are scored in full.
    std::vector<BoundedDoc> cands;
    ForEachInBoth(ranges[0], q.terms[0].size(), ranges[1], q.terms[1].size(),
                  q.fields, [&](uint32_t doc, uint32_t bound) {
                    if (dead == nullptr || !(*dead)[doc]) {
                      cands.push_back({bound, doc});
                    }
                  });
    auto fetch = [this](const uint32_t* docs, size_t n) {
      PrefetchForScore(docs, n);
    };
    ScoreInBoundOrder(cands, top, fetch, [&](uint32_t doc) {
      if (seen.TestAndSet(doc)) return;  // its best bound came first
      if (auto s = Score(doc, q, ranges)) top.Offer({doc, *s});
    });
    return top.Take();
  }
  KeyMarks& marks = tls_key_marks;  // member of range a
  marks.Reset(size());
  for (uint32_t t = ranges[a].lo; t < ranges[a].hi; ++t) {
    for (uint32_t p = post_start_[t]; p < post_start_[t + 1]; ++p) {
      if (Allowed(post_meta_[p], q.fields)) marks.Offer(post_doc_[p], 0);
    }
  }
  for (uint32_t p = post_start_[ranges[b].lo]; p < post_start_[ranges[b].hi];
       ++p) {
    const uint32_t doc = post_doc_[p];
    if (!marks.Has(doc) || !Allowed(post_meta_[p], q.fields) ||
        (dead != nullptr && (*dead)[doc]) || seen.TestAndSet(doc)) {
      continue;
    }
    if (auto s = Score(doc, q, ranges)) top.Offer({doc, *s});
  }
  return top.Take();
}

std::vector<PrefixIndex::Hit> PrefixIndex::AllMatches(const Query& q) const {
  std::vector<Range> ranges;
  for (const auto& t : q.terms) {
    ranges.push_back(TermRange(t));
    if (ranges.back().lo == ranges.back().hi) return {};
  }
  std::vector<Hit> out;
  ForEachCandidate(q, ranges, [&](Hit h) { out.push_back(h); });
  return out;
}

size_t PrefixIndex::MemoryBytes() const {
  size_t n = terms_.MemoryBytes() +
             post_start_.capacity() * 4 + post_doc_.capacity() * 4 +
             post_meta_.capacity() + fwd_start_.capacity() * 4 +
             name_term_.capacity() * 4 + name_post_end_.capacity() * 4 +
             pair_first_.capacity() * 4 + pair_second_.capacity() * 2 +
             pair_start_.capacity() * 4 + pair_last_score_.capacity() * 2 +
             pair_docs_.capacity() * 4 +
             fwd_term_.capacity() * 4 + fwd_meta_.capacity() +
             ranks_.capacity();
  n += id_bytes_.capacity() + id_start_.capacity() * 4;
  n += top_key_.capacity() * 8 + top_start_.capacity() * 4 +
       top_doc_.capacity() * 4 + top_score_.capacity() * 2;
  for (const std::string& p : heavy_name_) n += sizeof(std::string) + p.capacity();
  for (const std::string& p : giant_name_) n += sizeof(std::string) + p.capacity();
  n += giant_bits_.capacity() * sizeof(uint64_t);
  return n;
}

}  // namespace galsync
