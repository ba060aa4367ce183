// PrefixIndex: an immutable in-memory index that answers typeahead queries
// ("jo sm" finds John Smith) over one directory, and the query semantics and
// ranking function it implements.
//
// Semantics. A document is a list of words (already folded with
// FoldForMatch; identical words of one document are kept once, with their
// best field and position). A query is a list of terms (folded, split at
// whitespace). A document matches when every term is a prefix of a
// *different* word of the document, in any order ("sm jo", "john s").
//
// Ranking. Each term scores the word it is assigned to with a 14-bit key
// that orders, most significant first:
//
//   bit 13      exact: the word equals the term
//   bits 11-12  field: 2 name (given, middle, family, display, nickname),
//               1 e-mail, 0 other (title, department, office)
//   bits 5-10   position: 63 - position of the word in its field
//   bits 0-4    shortness: 31 - (bytes the word has beyond the term)
//
// A document's score is the best sum over distinct-word assignments plus its
// rank (0-255, supplied by the caller, e.g. popularity). Results are ordered
// by score, highest first, then by id (a stable tie-break).
//
// Layout (built once; never modified):
//
//   terms    sorted unique words, front-coded, common e-mail domains
//            numbered (TermDictionary)
//            ┌─────┬──────┬───────┬────────┬───┐
//            │ jo  │ john │ jones │ joseph │...│   binary search: the terms
//            └──┬──┴──┬───┴───┬───┴────┬───┴───┘   with prefix p are one
//               │     │       │        │           contiguous range
//   postings    ▼     ▼       ▼        ▼
//            [doc,meta] arrays, per term, best first (static key + rank,
//            then doc)
//   forward  per doc: its term ids (sorted) and meta, to verify the other
//            terms of a multi-term query without touching strings
//   tops     for every prefix whose range holds more than kHeavyPostings
//            postings: its top kMaxResults documents, precomputed, so
//            single-term queries of 1-2 letters cost O(k), not O(matches)
//   pairs    for every two prefixes of 1 to kPairPrefixChars characters
//            that each begin a name word of more than heavy_name_docs
//            documents ("ma", "jo", "cha"): the top kPairTop documents by
//            their words for both, precomputed, so that "ma jo" costs
//            O(k), not O(documents of "ma" + of "jo")
//   giants   for the heavy name prefixes of more than 1/64 of all
//            documents, a bitmap of those documents (at most 8 bytes per
//            document counted), to test another term's documents against
//   ids      documents are dense integers in id order; ids interned
//
// Costs (T terms, P postings, D documents, k results, m = postings in the
// range of the query's most selective term):
//   Build                 O(P log P) time, plus the pairs: O(s^2) per
//                         document for its s (word, heavy prefix) items;
//                         its steps over documents, words, terms and
//                         postings run on up to kBuildThreads threads;
//                         memory ~ 5 bytes a posting, 5 bytes a forward
//                         entry, 5 bytes a term and its front-coded bytes,
//                         tops, pairs (<= 40 bytes each), giant bitmaps
//   single term, heavy    O(log T + k)
//   single term, other    O(log T + t + e k), from the postings alone:
//                         the first posting of each of the range's t
//                         terms is read, and of the postings after it
//                         (best first) only the e that enter the top k
//                         (and one more); t <= kHeavyPostings unless a
//                         field filter or deletions pass over the top
//   two terms, usually    O(log T + k) when both prefixes are heavy name
//                         prefixes, else O(log T + e + n1 + n2 + c): the
//                         e postings of a term that is a whole word are
//                         scored (e <= 256) or intersected with the other
//                         range, and the name postings (n1, n2) of both
//                         ranges are intersected (n1 <= heavy_name_docs;
//                         n2 not walked if giant); other fields only bound
//                         the rest. When a whole word's range is small
//                         (m1 postings), all of it is intersected with the
//                         other range's exact and name postings instead:
//                         O(log T + m1 + e2 + n2 + c). If the bound does
//                         not prove the top k, the general path below runs
//                         (or, in that case, the other range's remaining
//                         postings are read).
//   several terms         O(t log T + m1 + m2 + c t): the documents of the
//                         two smallest ranges (m1, m2 postings) are
//                         intersected; of the c common ones, two-term
//                         queries score only those whose upper bound can
//                         still enter the top k
//   no match              O(t log T)
//
// Thread-safety: immutable after Build; any number of concurrent readers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "galsync/status.h"
#include "galsync/term_dictionary.h"

namespace galsync {

enum class Field : uint8_t { kOther = 0, kEmail = 1, kName = 2 };

// Bit masks of Field classes, for query filters.
constexpr uint8_t kFieldOther = 1 << 0;
constexpr uint8_t kFieldEmail = 1 << 1;
constexpr uint8_t kFieldName = 1 << 2;
constexpr uint8_t kAllFields = kFieldOther | kFieldEmail | kFieldName;

struct IndexedWord {
  std::string text;  // folded (FoldForMatch)
  Field field = Field::kName;
  uint8_t position = 0;  // 0 = first word of its field
};

// A word of a document being made, by reference: to canonicalize or add
// without a string of its own.
struct WordRef {
  std::string_view text;  // folded (FoldForMatch)
  Field field = Field::kName;
  uint8_t position = 0;
};

struct IndexDoc {
  std::string id;
  std::vector<IndexedWord> words;
  uint8_t rank = 0;  // added to the score; higher ranks first
};

struct Query {
  std::vector<std::string> terms;  // folded, non-empty
  uint8_t fields = kAllFields;     // which field classes may match
};

struct QueryLimits {
  static constexpr size_t kMaxQueryBytes = 256;
  static constexpr size_t kMaxTerms = 8;
  static constexpr size_t kMaxResults = 100;
  static constexpr size_t kMaxWordsPerDoc = 64;
};

// Splits `text` at whitespace and folds each term. Errors (kInvalidArgument):
// "invalid_query" (not UTF-8, too long, too many terms) and "empty_query"
// (no letters or digits at all: e.g. only punctuation or emoji). Terms with
// no letters or digits are dropped.
Result<Query> ParseQuery(std::string_view text, uint8_t fields = kAllFields);

// The reference semantics: the score of `doc` for `q`, or nullopt if it does
// not match. The index returns exactly what this function defines; it is
// also how small, changing sets of documents are searched.
std::optional<uint32_t> MatchScore(const IndexDoc& doc, const Query& q);

// Normalizes a document's word list the way the index stores it: identical
// words merged (keeping the best field and position), at most
// kMaxWordsPerDoc words.
void CanonicalizeWords(IndexDoc& doc);
void CanonicalizeWords(std::vector<WordRef>& words);

// Documents laid out flat, the way Build reads them: every word's bytes in
// one buffer and its field and position in one byte, each entry's words a
// run of them, nothing allocated per document or word (about a quarter of
// the memory of as many IndexDocs). Entries keep the order they are added
// in. Of the entries with one id Build indexes the last, and none if that
// one is a removal, so a table can be filled from a log of changes.
//
// Thread-safety: none; a table per thread, and Build takes several.
class IndexDocs {
 public:
  // Appends `doc`, with its words canonicalized (CanonicalizeWords).
  void Add(const IndexDoc& doc);
  // The same for a document given by reference; canonicalizes `words` in
  // place.
  void Add(std::string_view id, uint8_t rank, std::vector<WordRef>& words);
  // Appends a removal of `id`: no earlier entry with it is indexed.
  void AddRemoval(std::string_view id);
  void Reserve(size_t entries, size_t words, size_t word_bytes);

  size_t size() const { return rank_.size(); }  // entries
  size_t words() const { return word_meta_.size(); }
  std::string_view id(size_t e) const {
    return {ids_.data() + id_start_[e], id_start_[e + 1] - id_start_[e]};
  }
  uint8_t rank(size_t e) const { return rank_[e]; }
  bool removal(size_t e) const { return removal_[e] != 0; }
  // Entry e's words are [first_word(e), first_word(e + 1)).
  size_t first_word(size_t e) const { return first_word_[e]; }
  std::string_view word(size_t w) const {
    return {text_.data() + word_start_[w], word_start_[w + 1] - word_start_[w]};
  }
  Field field(size_t w) const { return static_cast<Field>(word_meta_[w] >> 6); }
  uint8_t position(size_t w) const { return word_meta_[w] & 63; }  // <= 63
  // Entry e as an IndexDoc (positions past 63 read as 63).
  IndexDoc Get(size_t e) const;
  size_t MemoryBytes() const;

 private:
  friend class PrefixIndex;
  // Appends an entry whose words are canonical, as fn(sink) gives them:
  // sink(text, meta) for each.
  template <typename Fn>
  void AddCanonical(std::string_view id, uint8_t rank, Fn&& fn);

  std::string ids_;
  std::vector<uint32_t> id_start_{0};    // entries + 1
  std::vector<uint8_t> rank_;            // per entry
  std::vector<uint8_t> removal_;         // per entry
  std::vector<uint32_t> first_word_{0};  // entries + 1
  std::string text_;
  std::vector<uint32_t> word_start_{0};  // words + 1, into text_
  std::vector<uint8_t> word_meta_;       // per word: field << 6 | position
};

struct IndexBuildOptions {
  // A prefix is a heavy name prefix when more documents than this have a
  // name word that starts with it (or is it).
  uint32_t heavy_name_docs = 500;
};

class PrefixIndex {
 public:
  static constexpr size_t kHeavyPostings = 2048;
  static constexpr size_t kPairTop = 10;
  static constexpr size_t kPairPrefixChars = 3;
  static constexpr size_t kMaxHeavyNames = 2048;  // the heaviest are kept
  static constexpr size_t kBuildThreads = 4;      // at most, per build step
  static constexpr size_t kGiantShare = 64;


  struct Hit {
    uint32_t doc;
    uint32_t score;
  };

  // Builds from the entries of `parts`, in order (see IndexDocs for
  // repeated ids and removals). O(P log P).
  static std::shared_ptr<const PrefixIndex> Build(
      std::vector<IndexDocs> parts, const IndexBuildOptions& options = {});
  static std::shared_ptr<const PrefixIndex> Build(
      IndexDocs docs, const IndexBuildOptions& options = {});
  // Builds from `docs` (of repeated ids, the last). Copies them into an
  // IndexDocs first.
  static std::shared_ptr<const PrefixIndex> Build(
      std::vector<IndexDoc> docs, const IndexBuildOptions& options = {});

  size_t size() const { return id_start_.size() - 1; }
  std::string_view id(uint32_t doc) const {
    return {id_bytes_.data() + id_start_[doc],
            id_start_[doc + 1] - id_start_[doc]};
  }
  std::optional<uint32_t> Find(std::string_view id) const;
  // The document as indexed (words canonicalized).
  IndexDoc Doc(uint32_t doc) const;
  // Every document as indexed except those with skip[doc] set, in doc
  // order, e.g. to rebuild; decodes the term dictionary once.
  IndexDocs Docs(const std::vector<uint8_t>& skip) const;

  // The top `k` (<= kMaxResults) hits in ranking order, skipping documents
  // for which dead(doc) is true (if given).
  std::vector<Hit> Search(const Query& q, size_t k,
                          const std::vector<uint8_t>* dead = nullptr) const;
  // Every matching document, in no particular order.
  std::vector<Hit> AllMatches(const Query& q) const;

  // Heap bytes held by the index.
  size_t MemoryBytes() const;
  // How many prefixes have a precomputed top: every prefix, ending on a
  // character boundary, of more than kHeavyPostings postings.
  size_t PrecomputedTops() const { return top_key_.size(); }

 private:
  struct Range {
    uint32_t lo = 0, hi = 0;  // term ids [lo, hi)
  };
  Range TermRange(std::string_view prefix) const;
  uint32_t Postings(Range r) const {
    return post_start_[r.hi] - post_start_[r.lo];
  }
  // Scores `doc` against all terms with distinct words; nullopt if no
  // assignment exists.
  std::optional<uint32_t> Score(uint32_t doc, const Query& q,
                                const std::vector<Range>& ranges) const;
  // Starts loading what scoring n documents reads (their forward entries,
  // ranks and this thread's seen marks), so that their cache misses
  // overlap.
  void PrefetchForScore(const uint32_t* docs, size_t n) const;
  // Calls fn(doc, key) for each posting of term t in [begin, end) in
  // `fields` whose document keep(doc) wants (tested first: most postings a
  // search reads are of documents it does not want), with its word's key
  // for a term of term_len bytes.
  struct AnyDoc {
    bool operator()(uint32_t) const { return true; }
  };
  template <typename Fn, typename Keep = AnyDoc>
  void ForEachPosting(uint32_t t, uint32_t begin, uint32_t end,
                      size_t term_len, uint8_t fields, Fn&& fn,
                      Keep&& keep = {}) const;
  // Every document with a word in each of the ranges x and y (terms of
  // xlen and ylen bytes) in `fields`, with an upper bound of its score: its
  // best key in each plus its rank; once for each of its words in the
  // larger range. The smaller range is marked, the larger read past the
  // marks (a bitmap that stays in cache).
  template <typename Sink>
  void ForEachInBoth(Range x, size_t xlen, Range y, size_t ylen,
                     uint8_t fields, Sink&& sink) const;
  template <typename Sink>
  void ForEachCandidate(const Query& q, const std::vector<Range>& ranges,
                        Sink&& sink) const;
  std::vector<Hit> SearchOneTerm(const Query& q, Range r, size_t k,
                                 const std::vector<uint8_t>* dead) const;
  // Two terms, by tiers of the ranking key (see the .cc); nullopt when the
  // tiers cannot prove the answer and the general intersection must run.
  std::optional<std::vector<Hit>> SearchTwoTerms(
      const Query& q, const std::vector<Range>& ranges, size_t k,
      const std::vector<uint8_t>* dead) const;
  // Several terms: intersects the documents of the two smallest ranges and
  // scores only the common ones (for two terms, in upper-bound order with
  // an early stop).
  std::vector<Hit> SearchIntersect(const Query& q,
                                   const std::vector<Range>& ranges, size_t k,
                                   const std::vector<uint8_t>* dead) const;

  std::string id_bytes_;                 // ids, sorted, concatenated
  std::vector<uint32_t> id_start_;       // D + 1 offsets into id_bytes_
  uint8_t max_rank_ = 0;
  std::vector<uint8_t> ranks_;           // by doc
  TermDictionary terms_;                 // T sorted words
  std::vector<uint32_t> post_start_;     // T + 1 offsets into postings
  std::vector<uint32_t> post_doc_;       // P
  std::vector<uint8_t> post_meta_;       // P: field << 6 | min(position, 63)
  // Terms that have name postings (which come first in a term's list) and
  // where those end: a range's name postings without walking its terms.
  std::vector<uint32_t> name_term_;      // term ids, increasing
  std::vector<uint32_t> name_post_end_;  // per name_term_ entry
  std::vector<uint32_t> fwd_start_;      // D + 1 offsets into forward
  std::vector<uint32_t> fwd_term_;       // per doc, sorted term ids
  std::vector<uint8_t> fwd_meta_;
  // Precomputed results of heavy single-term prefixes, best first: the
  // prefix of `len` bytes whose terms are r has the key TopKey(r, len) (a
  // range and a length name one prefix), in top_key_ (sorted); the n-th
  // one's hits are [top_start_[n], top_start_[n + 1]) of top_doc_ and
  // top_score_ (a one-term score fits 16 bits).
  static uint64_t TopKey(Range r, size_t len) {
    return uint64_t{r.lo} << 32 | len;
  }
  std::vector<uint64_t> top_key_;
  std::vector<uint32_t> top_start_;
  std::vector<uint32_t> top_doc_;
  std::vector<uint16_t> top_score_;
  // Heavy name prefixes, sorted (at most kMaxHeavyNames, so an id fits 16
  // bits). The pairs of them (ids i <= j) are numbered in (i, j) order:
  // those of i are [pair_first_[i], pair_first_[i + 1]), pair n is
  // (i, pair_second_[n]). Its documents, best first by their score on words
  // that are E or N for both prefixes or E for one (see SearchTwoTerms),
  // are pair_docs_[pair_start_[n], pair_start_[n + 1]); a search scores
  // them anyway, so of their scores only the last one's is kept.
  std::vector<std::string> heavy_name_;
  std::vector<uint32_t> pair_first_;   // per heavy id, + 1
  std::vector<uint16_t> pair_second_;  // per pair
  std::vector<uint32_t> pair_start_;   // per pair, + 1
  std::vector<uint32_t> pair_docs_;
  std::vector<uint16_t> pair_last_score_;  // per pair
  // The pairs and the giant prefixes' bitmaps, from the rest of the index.
  void BuildPairs(uint32_t heavy_name_docs);
  // Giant name prefixes, sorted (of the heavy ones, those that begin a name
  // word of more than 1/kGiantShare of all documents), and for each a
  // bitmap of those documents, (D + 63) / 64 words each.
  std::vector<std::string> giant_name_;
  std::vector<uint64_t> giant_bits_;
  const uint64_t* GiantBits(std::string_view prefix) const;
  // The pair's precomputed documents (and in `last` its last hit), or
  // nullptr if a prefix is not heavy.
  const uint32_t* PairDocs(std::string_view a, std::string_view b,
                           size_t* count, Hit* last) const;
};

}  // namespace galsync
