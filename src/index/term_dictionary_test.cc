#include "galsync/term_dictionary.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace galsync {
namespace {

std::vector<std::string_view> Views(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

TEST(TermDictionaryTest, EmptyDictionaryFindsNothing) {
  TermDictionary d(std::vector<std::string_view>{});
  EXPECT_EQ(d.size(), 0u);
  EXPECT_EQ(d.LowerBound(""), 0u);
  EXPECT_EQ(d.LowerBound("a"), 0u);
}

TEST(TermDictionaryTest, GetLengthAndLowerBoundAgreeWithThePlainList) {
  // Words with long shared prefixes, words longer than 255 bytes (whose
  // length is looked up), an empty-free list across many blocks.
  std::mt19937 rng(11);
  std::vector<std::string> words;
  for (int i = 0; i < 2000; ++i) {
    std::string w;
    const int n = 1 + static_cast<int>(rng() % 12);
    for (int j = 0; j < n; ++j) w += static_cast<char>('a' + rng() % 4);
    if (i % 7 == 0) w += "@example.com";
    if (i % 301 == 0) w += std::string(300 + i % 50, 'z');
    if (i % 97 == 0) w += "\xc3\xa9\xff";
    words.push_back(w);
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  TermDictionary d(Views(words));
  ASSERT_EQ(d.size(), words.size());
  for (uint32_t t = 0; t < words.size(); ++t) {
    ASSERT_EQ(d.Get(t), words[t]) << t;
    ASSERT_EQ(d.length(t), words[t].size()) << t;
  }
  std::vector<std::string> probes = {"", "a", "ab", "abcd", "b", "zzz", "\xff"};
  for (int i = 0; i < 3000; ++i) {
    std::string p;
    const int n = static_cast<int>(rng() % 8);
    for (int j = 0; j < n; ++j) p += static_cast<char>('a' + rng() % 5);
    probes.push_back(p);
  }
  for (const auto& w : words) probes.push_back(w);
  for (const auto& p : probes) {
    const auto want = static_cast<uint32_t>(
        std::lower_bound(words.begin(), words.end(), p) - words.begin());
    ASSERT_EQ(d.LowerBound(p), want) << p;
  }
  uint32_t seen = 0;
  d.ForEach([&](uint32_t t, std::string_view w) {
    ASSERT_EQ(t, seen);
    ASSERT_EQ(w, words[t]);
    ++seen;
  });
  EXPECT_EQ(seen, words.size());
}

TEST(TermDictionaryTest, AddressesWithCommonAndRareDomainsReadBackWhole) {
  // Domains coded as a byte (common ones), stored as bytes (one of a kind),
  // wholly or partly shared with the address before (".com" and ".com.au"),
  // at the start of a block, and addresses with two '@'.
  std::mt19937 rng(5);
  const std::vector<std::string> domains = {
      "@example.com", "@emea.example.com", "@example.com.au", "@x.org", "@"};
  std::vector<std::string> words;
  for (int i = 0; i < 3000; ++i) {
    std::string local;
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int j = 0; j < n; ++j) local += static_cast<char>('a' + rng() % 3);
    words.push_back(local + domains[rng() % domains.size()]);
    if (i % 11 == 0) words.push_back(local + "@only" + std::to_string(i) + ".net");
    if (i % 13 == 0) words.push_back(local + "@a@example.com");
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  TermDictionary d(Views(words));
  ASSERT_EQ(d.size(), words.size());
  for (uint32_t t = 0; t < words.size(); ++t) ASSERT_EQ(d.Get(t), words[t]) << t;
  for (const auto& w : words) {
    for (size_t cut = 0; cut <= w.size(); cut += 3) {
      const std::string p = w.substr(0, cut);
      ASSERT_EQ(d.LowerBound(p),
                std::lower_bound(words.begin(), words.end(), p) - words.begin())
          << p;
    }
  }
  uint32_t seen = 0;
  d.ForEach([&](uint32_t t, std::string_view w) { seen += w == words[t]; });
  EXPECT_EQ(seen, words.size());
}

TEST(TermDictionaryTest, CommonDomainsAreStoredOnce) {
  // Each address shares its local part with the word before it; what is
  // left is its domain, which front coding alone stores every time.
  std::vector<std::string> words;
  for (int i = 0; i < 1000; ++i) {
    const std::string local = "person." + std::to_string(10000 + i);
    words.push_back(local);
    words.push_back(local + (i % 3 ? "@example.com" : "@emea.example.com"));
  }
  std::sort(words.begin(), words.end());
  size_t plain = 0;
  for (const auto& w : words) plain += w.size() + sizeof(uint32_t);
  TermDictionary d(Views(words));
  EXPECT_LT(d.MemoryBytes(), plain / 4);
}

TEST(TermDictionaryTest, SharedPrefixesTakeLessThanThePlainBytes) {
  std::vector<std::string> words;
  for (int i = 0; i < 1000; ++i) {
    const std::string local = "person." + std::to_string(10000 + i);
    words.push_back(local);
    words.push_back(local + "@example.com");
  }
  std::sort(words.begin(), words.end());
  size_t plain = 0;
  for (const auto& w : words) plain += w.size() + sizeof(uint32_t);
  TermDictionary d(Views(words));
  EXPECT_LT(d.MemoryBytes(), plain / 2);
}

}  // namespace
}  // namespace galsync
