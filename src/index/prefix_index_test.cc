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

// The differential test: on 100,000 generated people, for 1,500 random
// queries, the index's full match set and scores, and its top 10,
// equal those of the reference semantics evaluated on every document.
TEST(PrefixIndexDifferentialTest, IndexEqualsBruteForceOn100kPeople) {
  constexpr size_t kPeople = 100000;
  std::vector<IndexDoc> docs;
  docs.reserve(kPeople);
  for (size_t i = 0; i < kPeople; ++i) {
    docs.push_back(IndexDocFromContact(demo::GeneratePerson(i, 5, "example.com"),
                                       static_cast<uint8_t>(i % 7)));
  }
  auto ix = PrefixIndex::Build(docs);
  ASSERT_EQ(ix->size(), kPeople);
  // The brute force evaluates every document, but skips at once those with
  // no word starting with a term's first byte: a sound filter that keeps
  // the test fast without changing what it computes.
  auto sig = [](std::string_view w) -> uint64_t {
    unsigned a = static_cast<unsigned char>(w[0]);
    unsigned b = w.size() > 1 ? static_cast<unsigned char>(w[1]) : 0;
    return uint64_t{1} << ((a * 31 + b) % 64);
  };
  std::vector<std::bitset<256>> first_bytes(docs.size());
  std::vector<uint64_t> first_pairs(docs.size(), 0);
  for (size_t i = 0; i < docs.size(); ++i) {
    for (const auto& w : docs[i].words) {
      first_bytes[i].set(static_cast<unsigned char>(w.text[0]));
      if (w.text.size() > 1) first_pairs[i] |= sig(w.text);
    }
  }
  std::mt19937 rng(2026);
  auto random_prefix = [&]() {
    const IndexDoc& d = docs[rng() % docs.size()];
    const std::string& w = d.words[rng() % d.words.size()].text;
    size_t len = 1 + rng() % std::min<size_t>(w.size(), 6);
    while (len < w.size() && (static_cast<unsigned char>(w[len]) & 0xC0) == 0x80) {
      ++len;  // whole UTF-8 characters only
    }
    return w.substr(0, len);
  };
  size_t total_matches = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string text;
    int terms = 1 + rng() % 3;
    for (int t = 0; t < terms; ++t) {
      if (rng() % 10 == 0) {
        text += std::string(1, static_cast<char>('a' + rng() % 26));
      } else {
        text += random_prefix();
      }
      text += ' ';
    }
    uint8_t fields = rng() % 5 == 0 ? static_cast<uint8_t>(1 + rng() % 7)
                                    : kAllFields;
    auto q = ParseQuery(text, fields);
    if (!q) continue;  // e.g. a prefix of punctuation only
    std::map<std::string, uint32_t> want;
    for (size_t i = 0; i < docs.size(); ++i) {
      bool possible = true;
      for (const auto& t : q->terms) {
        possible &= t.size() > 1
                        ? (first_pairs[i] & sig(t)) != 0
                        : first_bytes[i].test(static_cast<unsigned char>(t[0]));
      }
      if (!possible) continue;
      if (auto s = MatchScore(docs[i], *q)) want[docs[i].id] = *s;
    }
    std::map<std::string, uint32_t> got;
    for (const auto& h : ix->AllMatches(*q)) got[std::string(ix->id(h.doc))] = h.score;
    ASSERT_EQ(got, want) << "query \"" << text << "\" fields " << int(fields);
    total_matches += want.size();
    // Top 10 in ranking order.
    std::vector<std::pair<uint32_t, std::string>> ranked;
    for (auto& [id, s] : want) ranked.emplace_back(s, id);
    std::sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first > y.first : x.second < y.second;
    });
    auto top = ix->Search(*q, 10);
    ASSERT_EQ(top.size(), std::min<size_t>(10, ranked.size())) << text;
    for (size_t k = 0; k < top.size(); ++k) {
      EXPECT_EQ(ix->id(top[k].doc), ranked[k].second) << text << " #" << k;
    }
  }
  EXPECT_GT(total_matches, 100000u);  // the queries do hit things
}

}  // namespace
}  // namespace galsync
