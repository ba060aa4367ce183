// Tests of the prefix index: query parsing, the reference semantics and
// ranking, precomputed tops, the live index, and a differential test of the
// index against the reference semantics on 100,000 generated people.
#include "galsync/prefix_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bitset>
#include <map>
#include <random>
#include <set>

#include "demo/demo_people.h"
#include "galsync/live_index.h"
#include "galsync/search.h"

namespace galsync {
namespace {

IndexDoc Doc(std::string id, std::vector<IndexedWord> words, uint8_t rank = 0) {
  IndexDoc d{std::move(id), std::move(words), rank};
  CanonicalizeWords(d);
  return d;
}

Query Q(std::string_view text, uint8_t fields = kAllFields) {
  auto q = ParseQuery(text, fields);
  EXPECT_TRUE(q.ok()) << text;
  return q.ok() ? *q : Query{};
}

std::vector<std::string> Ids(const PrefixIndex& ix,
                             const std::vector<PrefixIndex::Hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.emplace_back(ix.id(h.doc));
  return out;
}

TEST(ParseQueryTest, SplitsFoldsAndRejects) {
  auto q = ParseQuery("  Jo   SMÍTH ");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->terms, (std::vector<std::string>{"jo", "smith"}));
  EXPECT_EQ(ParseQuery("\xff\xfe").error().reason, "invalid_query");
  EXPECT_EQ(ParseQuery("").error().reason, "empty_query");
  EXPECT_EQ(ParseQuery("   ").error().reason, "empty_query");
  EXPECT_EQ(ParseQuery("😀 !!").error().reason, "empty_query");
  EXPECT_EQ(ParseQuery("jo 😀")->terms, (std::vector<std::string>{"jo"}));
  EXPECT_EQ(ParseQuery("a b c d e f g h i").error().reason, "invalid_query");
  EXPECT_EQ(ParseQuery(std::string(300, 'a')).error().reason, "invalid_query");
  EXPECT_EQ(ParseQuery("ali@")->terms, (std::vector<std::string>{"ali@"}));
}

TEST(MatchScoreTest, EveryTermNeedsADifferentWordInAnyOrder) {
  IndexDoc john = Doc("j", {{"john", Field::kName, 0}, {"smith", Field::kName, 1}});
  EXPECT_TRUE(MatchScore(john, Q("jo sm")));
  EXPECT_TRUE(MatchScore(john, Q("sm jo")));
  EXPECT_TRUE(MatchScore(john, Q("john s")));
  EXPECT_TRUE(MatchScore(john, Q("j smith")));
  EXPECT_FALSE(MatchScore(john, Q("jo jo")));  // one word can't serve twice
  EXPECT_FALSE(MatchScore(john, Q("jo x")));
  EXPECT_FALSE(MatchScore(john, Q("ohn")));     // prefixes only
  IndexDoc twins = Doc("t", {{"anna", Field::kName, 0}, {"annika", Field::kName, 1}});
  EXPECT_TRUE(MatchScore(twins, Q("ann ann")));
  EXPECT_FALSE(MatchScore(twins, Q("ann ann ann")));
}

TEST(MatchScoreTest, RankingOrderFollowsTheDocumentedKey) {
  auto s = [](std::vector<IndexedWord> w, std::string_view q, uint8_t rank = 0) {
    return *MatchScore(Doc("x", std::move(w), rank), Q(q));
  };
  // Exact word beats prefix, whatever the field.
  EXPECT_GT(s({{"jo", Field::kOther, 9}}, "jo"), s({{"john", Field::kName, 0}}, "jo"));
  // Name beats e-mail beats other.
  EXPECT_GT(s({{"john", Field::kName, 5}}, "jo"), s({{"john", Field::kEmail, 0}}, "jo"));
  EXPECT_GT(s({{"john", Field::kEmail, 5}}, "jo"), s({{"john", Field::kOther, 0}}, "jo"));
  // Earlier word beats later.
  EXPECT_GT(s({{"john", Field::kName, 0}}, "jo"), s({{"jo1", Field::kName, 1}}, "jo"));
  // Shorter match beats longer.
  EXPECT_GT(s({{"john", Field::kName, 0}}, "jo"), s({{"jonathan", Field::kName, 0}}, "jo"));
  // Rank adds on top.
  EXPECT_EQ(s({{"john", Field::kName, 0}}, "jo", 7), s({{"john", Field::kName, 0}}, "jo") + 7);
  // Field filter.
  IndexDoc d = Doc("x", {{"sales", Field::kOther, 0}, {"ann", Field::kName, 0}});
  EXPECT_FALSE(MatchScore(d, Q("sa", kFieldName)));
  EXPECT_TRUE(MatchScore(d, Q("sa", kFieldOther)));
}

TEST(CanonicalizeWordsTest, SortsAndKeepsTheBestOfEachRepeatedWord) {
  IndexDoc d{"x",
             {{"smith", Field::kOther, 0},
              {"", Field::kName, 0},
              {"anna", Field::kName, 3},
              {"smith", Field::kName, 2},
              {"anna", Field::kName, 1},
              {"smith", Field::kEmail, 0},
              // Longer than 16 bytes, alike in their first 16, and a word
              // that ends where another goes on with a zero byte.
              {"abcdefghijklmnopz", Field::kOther, 0},
              {"abcdefghijklmnopa", Field::kOther, 1},
              {std::string("ab\0", 3), Field::kName, 0},
              {"ab", Field::kName, 4}}};
  CanonicalizeWords(d);
  std::vector<std::string> texts;
  for (const auto& w : d.words) texts.push_back(w.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"ab", std::string("ab\0", 3),
                                             "abcdefghijklmnopa",
                                             "abcdefghijklmnopz", "anna",
                                             "smith"}));
  EXPECT_EQ(d.words[4].position, 1);  // anna: the earlier position
  EXPECT_EQ(d.words[5].field, Field::kName);  // smith: name beats e-mail
  EXPECT_EQ(d.words[5].position, 2);
}

TEST(CanonicalizeWordsTest, KeepsTheBestRankedWordsPastTheLimit) {
  IndexDoc d{"x", {}};
  const size_t n = QueryLimits::kMaxWordsPerDoc + 10;
  for (size_t i = 0; i < n; ++i) {
    // Later words are other-field words: the ones that rank worst.
    d.words.push_back({"w" + std::to_string(1000 + i),
                       i < 20 ? Field::kName : Field::kOther,
                       static_cast<uint8_t>(i < 20 ? i : 0)});
  }
  std::shuffle(d.words.begin(), d.words.end(), std::mt19937(7));
  CanonicalizeWords(d);
  ASSERT_EQ(d.words.size(), QueryLimits::kMaxWordsPerDoc);
  EXPECT_TRUE(std::is_sorted(d.words.begin(), d.words.end(),
                             [](const IndexedWord& a, const IndexedWord& b) {
                               return a.text < b.text;
                             }));
  size_t names = 0;
  for (const auto& w : d.words) names += w.field == Field::kName;
  EXPECT_EQ(names, 20u);  // every name word kept
}

TEST(PrefixIndexTest, SearchRanksAndBreaksTiesById) {
  auto ix = PrefixIndex::Build({
      Doc("c", {{"jo", Field::kName, 0}}),
      Doc("b", {{"john", Field::kName, 0}, {"smith", Field::kName, 1}}),
      Doc("a", {{"john", Field::kName, 0}, {"smythe", Field::kName, 1}}),
      Doc("d", {{"jonathan", Field::kName, 0}}),
      Doc("e", {{"x", Field::kName, 0}, {"john", Field::kEmail, 0}}),
  });
  EXPECT_EQ(Ids(*ix, ix->Search(Q("jo"), 10)),
            (std::vector<std::string>{"c", "a", "b", "d", "e"}));
  EXPECT_EQ(Ids(*ix, ix->Search(Q("jo"), 2)), (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(Ids(*ix, ix->Search(Q("sm jo"), 10)), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(Ids(*ix, ix->Search(Q("smi"), 10)), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(ix->Search(Q("zz"), 10).empty());
  EXPECT_TRUE(ix->Search(Q("jo zz"), 10).empty());
  std::vector<uint8_t> dead(ix->size(), 0);
  dead[*ix->Find("c")] = 1;
  EXPECT_EQ(Ids(*ix, ix->Search(Q("jo"), 1, &dead)), (std::vector<std::string>{"a"}));
  EXPECT_EQ(ix->Doc(*ix->Find("b")).words.size(), 2u);
}

TEST(IndexDocsTest, AddCanonicalizesAndGetGivesTheDocumentBack) {
  IndexDocs table;
  table.Add({"b", {{"zed", Field::kOther, 2}, {"", Field::kName, 0},
                   {"ann", Field::kEmail, 0}, {"zed", Field::kName, 70}},
             7});
  table.AddRemoval("a");
  ASSERT_EQ(table.size(), 2u);
  EXPECT_EQ(table.words(), 2u);
  const IndexDoc b = table.Get(0);
  EXPECT_EQ(b.id, "b");
  EXPECT_EQ(b.rank, 7);
  ASSERT_EQ(b.words.size(), 2u);  // sorted, the empty word dropped
  EXPECT_EQ(b.words[0].text, "ann");
  EXPECT_EQ(b.words[1].text, "zed");
  EXPECT_EQ(b.words[1].field, Field::kName);  // the better of the two
  EXPECT_EQ(b.words[1].position, 63);         // positions stop at 63
  EXPECT_FALSE(table.removal(0));
  EXPECT_TRUE(table.removal(1));
  EXPECT_EQ(table.id(1), "a");
  EXPECT_EQ(table.first_word(1), table.first_word(2));  // a removal has none
}

// Entries are read in order across the parts: of one id the last counts,
// and a removal leaves none, whichever part either is in.
TEST(IndexDocsTest, TheLastEntryOfAnIdIsIndexedAndARemovalRemoves) {
  std::vector<IndexDocs> parts(3);
  parts[0].Add(Doc("x", {{"old", Field::kName, 0}}));
  parts[0].Add(Doc("y", {{"yann", Field::kName, 0}}));
  parts[0].Add(Doc("z", {{"zoe", Field::kName, 0}}));
  parts[0].Add(Doc("x", {{"older", Field::kName, 0}}));  // replaced again below
  parts[1].AddRemoval("y");
  parts[1].Add(Doc("w", {{"wendy", Field::kName, 0}}));
  parts[1].AddRemoval("nobody");  // removes nothing
  parts[2].Add(Doc("x", {{"new", Field::kName, 0}}));
  parts[2].AddRemoval("z");
  parts[2].Add(Doc("z", {{"zara", Field::kName, 0}}));  // back after removal
  parts[2].AddRemoval("w");
  auto ix = PrefixIndex::Build(std::move(parts));
  ASSERT_EQ(ix->size(), 2u);
  EXPECT_EQ(ix->id(0), "x");
  EXPECT_EQ(ix->id(1), "z");
  EXPECT_EQ(ix->Doc(0).words.at(0).text, "new");
  EXPECT_EQ(ix->Doc(1).words.at(0).text, "zara");
  EXPECT_TRUE(ix->Search(Q("old"), 10).empty());
  EXPECT_TRUE(ix->Search(Q("yann"), 10).empty());
  EXPECT_TRUE(ix->Search(Q("zoe"), 10).empty());
  EXPECT_TRUE(ix->Search(Q("wendy"), 10).empty());
  EXPECT_EQ(Ids(*ix, ix->Search(Q("n"), 10)), (std::vector<std::string>{"x"}));
  // Docs gives the documents back as a table that builds the same index.
  const IndexDocs again = ix->Docs({});
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again.Get(1).words.at(0).text, "zara");
  EXPECT_EQ(PrefixIndex::Build(again)->Doc(0).words.at(0).text, "new");
  // The same from one vector of documents: the later of two alike ids.
  auto one = PrefixIndex::Build(std::vector<IndexDoc>{
      Doc("x", {{"first", Field::kName, 0}}),
      Doc("x", {{"second", Field::kName, 0}})});
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->Doc(0).words.at(0).text, "second");
}

TEST(PrefixIndexTest, EveryHeavyPrefixHasAPrecomputedTop) {
  // Words under many first letters, so that the build shares the tops out
  // among its threads.
  std::vector<IndexDoc> docs;
  std::mt19937 rng(5);
  std::map<std::string, size_t> postings;  // per prefix
  for (int i = 0; i < 60000; ++i) {
    std::set<std::string> words;
    for (int w = 0; w < 3; ++w) {
      words.insert(std::string(1, static_cast<char>('a' + rng() % 20)) +
                   std::string(1, static_cast<char>('a' + rng() % 4)) +
                   std::to_string(rng() % 700));
    }
    std::vector<IndexedWord> list;
    for (const std::string& w : words) {
      list.push_back({w, Field::kName, 0});
      for (size_t len = 1; len <= w.size(); ++len) ++postings[w.substr(0, len)];
    }
    docs.push_back(Doc("d" + std::to_string(i), std::move(list)));
  }
  size_t heavy = 0;
  for (const auto& [prefix, n] : postings) {
    heavy += n > PrefixIndex::kHeavyPostings;
  }
  ASSERT_GT(heavy, 40u);
  EXPECT_EQ(PrefixIndex::Build(docs)->PrecomputedTops(), heavy);
}

// Many documents share short prefixes, so the precomputed tops serve them;
// they must agree with a full evaluation, also after deletions.
TEST(PrefixIndexTest, PrecomputedTopsAgreeWithFullEvaluation) {
  std::vector<IndexDoc> docs;
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i) {
    std::string w1 = "a" + std::to_string(rng() % 5000);
    std::string w2 = "ab" + std::to_string(rng() % 300);
    docs.push_back(Doc("d" + std::to_string(i),
                       {{w1, Field::kName, static_cast<uint8_t>(rng() % 3)},
                        {w2, static_cast<Field>(rng() % 3), 1}},
                       static_cast<uint8_t>(rng() % 4)));
  }
  auto ix = PrefixIndex::Build(docs);
  std::vector<uint8_t> dead(ix->size(), 0);
  for (int round = 0; round < 2; ++round) {
    for (std::string q : {"a", "ab", "a1", "ab1", "ab12"}) {
      auto got = ix->Search(Q(q), 100, &dead);
      std::vector<std::pair<uint32_t, std::string>> want;
      for (const auto& d : docs) {
        if (dead[*ix->Find(d.id)]) continue;
        if (auto s = MatchScore(d, Q(q))) want.emplace_back(*s, d.id);
      }
      std::sort(want.begin(), want.end(), [](const auto& x, const auto& y) {
        return x.first != y.first ? x.first > y.first : x.second < y.second;
      });
      want.resize(std::min<size_t>(want.size(), 100));
      ASSERT_EQ(got.size(), want.size()) << q;
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(ix->id(got[i].doc), want[i].second) << q << " #" << i;
        EXPECT_EQ(got[i].score, want[i].first) << q << " #" << i;
      }
    }
    // Kill the best half of every top list and check again.
    for (std::string q : {"a", "ab"}) {
      for (const auto& h : ix->Search(Q(q), 50, &dead)) dead[h.doc] = 1;
    }
  }
}

TEST(LiveIndexTest, ChangesAreVisibleAtOnceAndSurviveCompaction) {
  LiveIndex::Options o;
  o.compact_threshold = 1000000;  // compaction only when asked
  LiveIndex live(o);
  live.Reset({Doc("a", {{"alice", Field::kName, 0}}),
              Doc("b", {{"bob", Field::kName, 0}})});
  EXPECT_EQ(live.Search(Q("al"), 10).size(), 1u);
  live.Apply({Doc("a", {{"alicia", Field::kName, 0}}),
              Doc("c", {{"alan", Field::kName, 0}})},
             {"b"});
  auto hits = live.Search(Q("al"), 10);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].id, "c");  // "alan" is shorter than "alicia"
  EXPECT_TRUE(live.Search(Q("alice"), 10).empty());
  EXPECT_TRUE(live.Search(Q("bo"), 10).empty());
  EXPECT_EQ(live.size(), 2u);
  EXPECT_EQ(live.delta_size(), 2u);
  live.CompactNow();
  EXPECT_EQ(live.delta_size(), 0u);
  EXPECT_EQ(live.size(), 2u);
  EXPECT_EQ(live.Search(Q("al"), 10).size(), 2u);
  EXPECT_TRUE(live.Search(Q("bo"), 10).empty());
  live.Apply({}, {"a", "c", "never-existed"});
  EXPECT_TRUE(live.Search(Q("al"), 10).empty());
  EXPECT_EQ(live.size(), 0u);
}

TEST(LiveIndexTest, BackgroundCompactionKeepsConcurrentChanges) {
  LiveIndex::Options o;
  o.compact_threshold = 50;
  LiveIndex live(o);
  std::map<std::string, std::string> truth;  // id -> word
  std::mt19937 rng(11);
  for (int i = 0; i < 5000; ++i) {
    std::string id = "d" + std::to_string(rng() % 400);
    if (rng() % 4 == 0) {
      live.Apply({}, {id});
      truth.erase(id);
    } else {
      std::string word = "w" + std::to_string(rng() % 1000);
      live.Apply({Doc(id, {{word, Field::kName, 0}})}, {});
      truth[id] = word;
    }
  }
  live.CompactNow();
  EXPECT_EQ(live.size(), truth.size());
  for (const auto& [id, word] : truth) {
    auto hits = live.Search(Q(word), 100);
    bool found = false;
    for (const auto& h : hits) found |= h.id == id;
    EXPECT_TRUE(found) << id << " " << word;
  }
}

// Random documents of words made of a few pieces, and random queries of
// prefixes of such words, so that terms share prefixes often.
class RandomDocs {
 public:
  explicit RandomDocs(unsigned seed) : rng_(seed) {}
  std::string Word() {
    static const char* const kPieces[] = {"ma", "jo", "an", "li", "s",
                                          "th", "é",  "ж",  "7"};
    std::string w;
    for (int i = 0, n = 1 + rng_() % 3; i < n; ++i) w += kPieces[rng_() % 9];
    return w;
  }
  IndexDoc Make(int i) {
    std::vector<IndexedWord> words;
    for (int j = 0, n = 1 + rng_() % 5; j < n; ++j) {
      words.push_back({Word(), static_cast<Field>(rng_() % 3),
                       static_cast<uint8_t>(rng_() % 3)});
    }
    return Doc("d" + std::to_string(i), std::move(words), rng_() % 3);
  }
  // Documents d0 .. d(n-1), also recorded in `live`.
  std::vector<IndexDoc> MakeMany(int n, std::map<std::string, IndexDoc>& live) {
    std::vector<IndexDoc> docs;
    for (int i = 0; i < n; ++i) {
      docs.push_back(Make(i));
      live[docs.back().id] = docs.back();
    }
    return docs;
  }
  // `queries` random queries of one or two terms return from `ix` exactly
  // the reference's top 10 over `live`.
  void ExpectSearchEqualsReference(const LiveIndex& ix,
                                   const std::map<std::string, IndexDoc>& live,
                                   int queries) {
    for (int i = 0; i < queries; ++i) {
      std::string text = Word().substr(0, 1 + rng_() % 3);
      if (i % 2) text += " " + Word().substr(0, 1 + rng_() % 3);
      auto q = ParseQuery(text);
      if (!q) continue;
      std::vector<std::pair<uint32_t, std::string>> want;
      for (const auto& [id, d] : live) {
        if (auto s = MatchScore(d, *q)) want.emplace_back(*s, id);
      }
      std::sort(want.begin(), want.end(), [](const auto& x, const auto& y) {
        return x.first != y.first ? x.first > y.first : x.second < y.second;
      });
      const auto got = ix.Search(*q, 10);
      ASSERT_EQ(got.size(), std::min<size_t>(10, want.size())) << text;
      for (size_t k = 0; k < got.size(); ++k) {
        EXPECT_EQ(got[k].id, want[k].second) << text << " #" << k;
        EXPECT_EQ(got[k].score, want[k].first) << text << " #" << k;
      }
    }
  }
  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
};

// Documents in the delta (not yet compacted) are found exactly as the
// reference finds them, also those that replace a base document, whether
// they are in the tail (the tail's filter by first bytes only rules out
// documents that cannot match) or in the delta index, and when documents
// of the delta index are replaced or removed.
TEST(LiveIndexTest, DeltaSearchEqualsTheReference) {
  RandomDocs gen(3);
  std::map<std::string, IndexDoc> live;
  const std::vector<IndexDoc> base = gen.MakeMany(3000, live);
  // No background work: the delta is indexed when the test says so.
  LiveIndex ix(LiveIndex::Options{.compact_threshold = SIZE_MAX,
                                  .tail_threshold = SIZE_MAX});
  ix.Reset(base);
  std::vector<IndexDoc> upserts;
  for (int i = 2000; i < 5000; ++i) {
    upserts.push_back(gen.Make(i));
    live[upserts.back().id] = upserts.back();
  }
  ix.Apply(upserts, {"d1", "d1500"});
  live.erase("d1");
  live.erase("d1500");
  ASSERT_EQ(ix.delta_size(), 3000u);
  ASSERT_EQ(ix.tail_size(), 3000u);
  gen.ExpectSearchEqualsReference(ix, live, 400);

  ix.IndexDeltaNow();
  ASSERT_EQ(ix.delta_size(), 3000u);
  ASSERT_EQ(ix.tail_size(), 0u);
  gen.ExpectSearchEqualsReference(ix, live, 400);

  // Delta documents removed (the first, one in the middle, the last) and
  // replaced, and base documents replaced: into the tail.
  std::vector<IndexDoc> again;
  for (int i : {2000, 3500, 4999}) live.erase("d" + std::to_string(i));
  for (int i : {7, 1999, 2001, 4000}) {
    again.push_back(gen.Make(i));
    live[again.back().id] = again.back();
  }
  ix.Apply(again, {"d2000", "d3500", "d4999"});
  ASSERT_EQ(ix.delta_size(), 2999u);
  ASSERT_EQ(ix.tail_size(), 4u);
  gen.ExpectSearchEqualsReference(ix, live, 400);
  ix.IndexDeltaNow();
  ASSERT_EQ(ix.tail_size(), 0u);
  gen.ExpectSearchEqualsReference(ix, live, 200);
  ix.CompactNow();
  ASSERT_EQ(ix.delta_size(), 0u);
  gen.ExpectSearchEqualsReference(ix, live, 200);
}

// With tiny thresholds the delta is indexed, and the base rebuilt, in the
// background again and again while changes go on; a search at any moment
// returns exactly the reference's answer over the documents of that moment.
TEST(LiveIndexTest, SearchIsExactWhileTheDeltaIsIndexedAndCompacted) {
  RandomDocs gen(5);
  std::map<std::string, IndexDoc> live;
  const std::vector<IndexDoc> base = gen.MakeMany(500, live);
  LiveIndex ix(LiveIndex::Options{.compact_threshold = 150,
                                  .tail_threshold = 4});
  ix.Reset(base);
  // One change at a time, so that many land while a build runs.
  for (int change = 0; change < 3000; ++change) {
    const int i = static_cast<int>(gen.rng()() % 900);
    if (gen.rng()() % 5 == 0) {
      const std::string id = "d" + std::to_string(i);
      ix.Apply({}, {id});
      live.erase(id);
    } else {
      IndexDoc d = gen.Make(i);
      live[d.id] = d;
      ix.Apply({std::move(d)}, {});
    }
    ASSERT_EQ(ix.size(), live.size());
    gen.ExpectSearchEqualsReference(ix, live, 2);
    if (HasFailure()) return;
  }
}

// Generated people and the reference semantics evaluated on every one of
// them. It skips at once the documents with no word starting with a term's
// first byte (or first two bytes): a sound filter that keeps the tests fast
// without changing what they compute.
class BruteForce {
 public:
  explicit BruteForce(size_t people) {
    docs_.reserve(people);
    for (size_t i = 0; i < people; ++i) {
      docs_.push_back(IndexDocFromContact(
          demo::GeneratePerson(i, 5, "example.com"), static_cast<uint8_t>(i % 7)));
      CanonicalizeWords(docs_.back());
    }
    first_bytes_.resize(docs_.size());
    first_pairs_.assign(docs_.size(), 0);
    for (size_t i = 0; i < docs_.size(); ++i) {
      for (const auto& w : docs_[i].words) {
        first_bytes_[i].set(static_cast<unsigned char>(w.text[0]));
        if (w.text.size() > 1) first_pairs_[i] |= Sig(w.text);
      }
    }
  }
  const std::vector<IndexDoc>& docs() const { return docs_; }

  // Every match: id -> score, skipping docs for which skip(i) is true.
  template <typename Skip>
  std::map<std::string, uint32_t> Matches(const Query& q, Skip skip) const {
    std::map<std::string, uint32_t> out;
    for (size_t i = 0; i < docs_.size(); ++i) {
      bool possible = !skip(i);
      for (const auto& t : q.terms) {
        possible = possible &&
                   (t.size() > 1 ? (first_pairs_[i] & Sig(t)) != 0
                                 : first_bytes_[i].test(static_cast<unsigned char>(t[0])));
      }
      if (!possible) continue;
      if (auto s = MatchScore(docs_[i], q)) out[docs_[i].id] = *s;
    }
    return out;
  }
  std::map<std::string, uint32_t> Matches(const Query& q) const {
    return Matches(q, [](size_t) { return false; });
  }

  // Ids in ranking order: score, then id.
  static std::vector<std::string> Ranked(const std::map<std::string, uint32_t>& m,
                                         size_t k) {
    std::vector<std::pair<uint32_t, std::string>> ranked;
    for (auto& [id, s] : m) ranked.emplace_back(s, id);
    std::sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first > y.first : x.second < y.second;
    });
    std::vector<std::string> out;
    for (size_t i = 0; i < ranked.size() && i < k; ++i) out.push_back(ranked[i].second);
    return out;
  }

  // A random prefix of a random word, of whole UTF-8 characters.
  std::string RandomPrefix(std::mt19937& rng) const {
    const IndexDoc& d = docs_[rng() % docs_.size()];
    const std::string& w = d.words[rng() % d.words.size()].text;
    return CharPrefix(w, 1 + rng() % std::min<size_t>(w.size(), 6));
  }
  static std::string CharPrefix(const std::string& w, size_t len) {
    while (len < w.size() && (static_cast<unsigned char>(w[len]) & 0xC0) == 0x80) {
      ++len;
    }
    return w.substr(0, std::min(len, w.size()));
  }

 private:
  static uint64_t Sig(std::string_view w) {
    unsigned a = static_cast<unsigned char>(w[0]);
    unsigned b = w.size() > 1 ? static_cast<unsigned char>(w[1]) : 0;
    return uint64_t{1} << ((a * 31 + b) % 64);
  }
  std::vector<IndexDoc> docs_;
  std::vector<std::bitset<256>> first_bytes_;
  std::vector<uint64_t> first_pairs_;
};

const BruteForce& People100k() {
  static const BruteForce* people = new BruteForce(100000);
  return *people;
}

// The differential test: on 100,000 generated people, for 1,500 random
// queries, the index's full match set and scores, and its top 10,
// equal those of the reference semantics evaluated on every document.
TEST(PrefixIndexDifferentialTest, IndexEqualsBruteForceOn100kPeople) {
  const BruteForce& people = People100k();
  // From several tables, filled back to front: the build sorts by id
  // across them.
  std::vector<IndexDocs> parts(5);
  const auto& docs = people.docs();
  for (size_t i = docs.size(); i-- > 0;) parts[i % parts.size()].Add(docs[i]);
  auto ix = PrefixIndex::Build(std::move(parts));
  ASSERT_EQ(ix->size(), people.docs().size());
  std::mt19937 rng(2026);
  size_t total_matches = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string text;
    int terms = 1 + rng() % 3;
    for (int t = 0; t < terms; ++t) {
      if (rng() % 10 == 0) {
        text += std::string(1, static_cast<char>('a' + rng() % 26));
      } else {
        text += people.RandomPrefix(rng);
      }
      text += ' ';
    }
    uint8_t fields = rng() % 5 == 0 ? static_cast<uint8_t>(1 + rng() % 7)
                                    : kAllFields;
    auto q = ParseQuery(text, fields);
    if (!q) continue;  // e.g. a prefix of punctuation only
    const auto want = people.Matches(*q);
    std::map<std::string, uint32_t> got;
    for (const auto& h : ix->AllMatches(*q)) got[std::string(ix->id(h.doc))] = h.score;
    ASSERT_EQ(got, want) << "query \"" << text << "\" fields " << int(fields);
    total_matches += want.size();
    EXPECT_EQ(Ids(*ix, ix->Search(*q, 10)), BruteForce::Ranked(want, 10)) << text;
  }
  EXPECT_GT(total_matches, 100000u);  // the queries do hit things
}

// Two-term queries take tiers and precomputed pairs of heavy name prefixes
// (see SearchTwoTerms). With a low heaviness threshold most prefixes are
// heavy, so the pairs answer most queries; with the default, few are. Both
// indexes must rank exactly as the reference does: for typed names ("jo
// sm", "john smi", whole names), random prefixes of any field, several k,
// and with a tenth of the documents deleted.
TEST(PrefixIndexDifferentialTest, TwoTermQueriesEqualBruteForce) {
  const BruteForce& people = People100k();
  const auto& docs = people.docs();
  auto heavy = PrefixIndex::Build(docs, {.heavy_name_docs = 64});
  auto plain = PrefixIndex::Build(docs);
  std::mt19937 rng(7);
  std::vector<uint8_t> dead(docs.size(), 0);
  std::vector<uint8_t> dead_by_doc(heavy->size(), 0);
  for (size_t i = 0; i < docs.size(); ++i) {
    if (rng() % 10 == 0) {
      dead[i] = 1;
      dead_by_doc[*heavy->Find(docs[i].id)] = 1;
    }
  }
  auto name_word = [&](const IndexDoc& d) -> std::string {
    std::vector<const IndexedWord*> names;
    for (const auto& w : d.words) {
      if (w.field == Field::kName) names.push_back(&w);
    }
    return names.empty() ? d.words[0].text : names[rng() % names.size()]->text;
  };
  size_t compared = 0;
  for (int i = 0; i < 600; ++i) {
    std::string a, b;
    const IndexDoc& d = docs[rng() % docs.size()];
    switch (i % 3) {
      case 0:  // a typed name: 1-3 letters of two of a person's name words
        a = BruteForce::CharPrefix(name_word(d), 1 + rng() % 3);
        b = BruteForce::CharPrefix(name_word(d), 1 + rng() % 3);
        break;
      case 1:  // whole name words, or one whole and one begun
        a = name_word(d);
        b = BruteForce::CharPrefix(name_word(d), rng() % 2 ? 64 : 1 + rng() % 4);
        break;
      default:
        a = people.RandomPrefix(rng);
        b = people.RandomPrefix(rng);
    }
    auto q = ParseQuery(a + " " + b);
    if (!q || q->terms.size() != 2) continue;
    const auto all = people.Matches(*q);
    const auto alive = people.Matches(*q, [&](size_t i) { return dead[i] != 0; });
    for (size_t k : {1, 3, 10, 20}) {
      const auto want = BruteForce::Ranked(all, k);
      EXPECT_EQ(Ids(*heavy, heavy->Search(*q, k)), want) << a << " " << b << " k " << k;
      EXPECT_EQ(Ids(*plain, plain->Search(*q, k)), want) << a << " " << b << " k " << k;
    }
    EXPECT_EQ(Ids(*heavy, heavy->Search(*q, 10, &dead_by_doc)),
              BruteForce::Ranked(alive, 10))
        << a << " " << b << " with deletions";
    ++compared;
  }
  EXPECT_GT(compared, 550u);
}

}  // namespace
}  // namespace galsync
