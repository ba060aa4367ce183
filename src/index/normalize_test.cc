// Tests of matching normalization: folding of accents, case, compatibility
// forms and special letters; strict UTF-8 validation; word-character
// detection; romanization of non-Latin names; and thread safety.
#include "galsync/normalize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace galsync {
namespace {

std::string Fold(std::string_view text) {
  Result<std::string> r = FoldForMatch(text);
  EXPECT_TRUE(r.ok()) << "FoldForMatch(\"" << text
                      << "\"): " << r.error().message;
  return r.ok() ? *r : std::string("<error>");
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string Join(const std::vector<std::string>& v) {
  std::string out = "{";
  for (const std::string& s : v) out += "\"" + s + "\" ";
  return out + "}";
}

struct FoldCase {
  const char* in;
  const char* want;
};

TEST(FoldForMatchTest, FoldsNamesFromManyLanguages) {
  const FoldCase cases[] = {
      {"José", "jose"},
      {"JOSÉ", "jose"},
      {"Straße", "strasse"},
      {"STRASSE", "strasse"},
      {"Łukasz", "lukasz"},
      {"Øyvind", "oyvind"},
      {"Ægir", "aegir"},
      {"Đorđe", "dorde"},
      {"İstanbul", "istanbul"},
      {"ISTANBUL", "istanbul"},
      {"ışık", "isik"},
      {"Işık", "isik"},
      {"\xEF\xAC\x81nn", "finn"},  // ﬁ ligature
      {"\xEF\xBC\xAA\xEF\xBD\x8F\xEF\xBD\x88\xEF\xBD\x8E", "john"},  // Ｊｏｈｎ
      {"Nguyễn", "nguyen"},
      {"François", "francois"},
      {"Пётр", "петр"},
      {"ПЁТР", "петр"},
      {"张伟", "张伟"},
      // Full case folding maps the final sigma ς to σ.
      {"Γιώργος", "γιωργοσ"},
      {"jo😀", "jo😀"},
      {"alice@Example.COM", "alice@example.com"},
  };
  for (const FoldCase& c : cases) {
    EXPECT_EQ(Fold(c.in), c.want) << "input: " << c.in;
  }
}

TEST(FoldForMatchTest, MapsLettersWithoutDecomposition) {
  const FoldCase cases[] = {
      {"Þórr", "thorr"},    {"þ", "th"},    {"Œuvre", "oeuvre"},
      {"Ħamrun", "hamrun"}, {"Ŧ ŧ", "t t"}, {"ĸ", "k"},
      {"Ŋŋ", "nn"},         {"ſ", "s"},     {"Ðð", "dd"},
      {"ÆØÅ", "aeoa"},      {"ẞ", "ss"},    {"Ł ł", "l l"},
  };
  for (const FoldCase& c : cases) {
    EXPECT_EQ(Fold(c.in), c.want) << "input: " << c.in;
  }
}

TEST(FoldForMatchTest, CatalanMiddleDotJoinsTheLs) {
  // ŀ decomposes to l + U+00B7; the middle dot after an l is dropped, so the
  // precomposed and the usual spelling fold alike.
  EXPECT_EQ(Fold("Coŀlegi"), "collegi");
  EXPECT_EQ(Fold("COĿLEGI"), "collegi");
  EXPECT_EQ(Fold("Col·legi"), "collegi");
  // Elsewhere the middle dot is punctuation and is kept.
  EXPECT_EQ(Fold("A · B"), "a · b");
}

TEST(FoldForMatchTest, KeepsPunctuationSpacesAndSymbols) {
  EXPECT_EQ(Fold("O'Brien-Smith_Jr+1 @x.y"), "o'brien-smith_jr+1 @x.y");
  EXPECT_EQ(Fold("Zoë O'Brien"), "zoe o'brien");
  EXPECT_EQ(Fold("✓ Ök"), "✓ ok");
  EXPECT_EQ(Fold(std::string("a\0B", 3)), std::string("a\0b", 3));
  EXPECT_EQ(Fold(""), "");
}

TEST(FoldForMatchTest, AppliesCompatibilityDecomposition) {
  EXPECT_EQ(Fold("\xC2\xA0"), " ");  // no-break space
  EXPECT_EQ(Fold("＠"), "@");        // fullwidth commercial at
  EXPECT_EQ(Fold("ℌ"), "h");         // capital H only after NFKD
  EXPECT_EQ(Fold("Ⅻ"), "xii");       // roman numeral
  EXPECT_EQ(Fold("①"), "1");
}

TEST(FoldForMatchTest, AsciiPathAgreesWithIcuPath) {
  // Every ASCII character, alone (fast path) and after a non-ASCII
  // character (ICU path).
  for (int c = 0; c < 0x80; ++c) {
    const std::string ch(1, static_cast<char>(c));
    const std::string want(
        1, static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    EXPECT_EQ(Fold(ch), want) << "char " << c;
    EXPECT_EQ(Fold("é" + ch), "e" + want) << "char " << c;
  }
  // Long ASCII input and non-ASCII after a long ASCII prefix.
  const std::string upper(1000, 'Q');
  EXPECT_EQ(Fold(upper), std::string(1000, 'q'));
  EXPECT_EQ(Fold(upper + "É"), std::string(1000, 'q') + "e");
}

TEST(FoldForMatchTest, HandlesInputLongerThanTheStackBuffers) {
  std::string in, want;
  for (int i = 0; i < 1000; ++i) {
    in += "Éß";
    want += "ess";
  }
  EXPECT_EQ(Fold(in), want);
  // U+FDFA expands to 18 code points under NFKD.
  std::string arabic;
  for (int i = 0; i < 300; ++i) arabic += "\xEF\xB7\xBA";
  const std::string folded = Fold(arabic);
  EXPECT_GT(folded.size(), arabic.size() * 5);
  EXPECT_EQ(Fold(folded), folded);
}

// U+0645 ARABIC LETTER MEEM is outside the fast path's table, so appending
// it makes FoldForMatch fold the whole text with ICU; it is a starter that
// folds to itself, so the result must be the fast fold plus the meem.
constexpr char kMeem[] = "\xD9\x85";

std::string Utf8(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xC0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xE0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  }
  return s;
}

TEST(FoldForMatchTest, FastPathAgreesWithIcuForEveryCodePoint) {
  const char32_t ranges[][2] = {{0x80, 0x52F},
                                {0x1E00, 0x1FFF},
                                {0x3040, 0x30FF},
                                {0x4E00, 0x9FFF},
                                {0xAC00, 0xD7A3}};
  int mismatches = 0;
  for (const auto& range : ranges) {
    for (char32_t c = range[0]; c <= range[1]; ++c) {
      const std::string s = "A" + Utf8(c);
      if (Fold(s) + kMeem != Fold(s + kMeem)) {
        EXPECT_LT(++mismatches, 10)
            << "U+" << std::hex << static_cast<uint32_t>(c);
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(FoldForMatchTest, FastPathAgreesWithIcuOnMarkSequences) {
  // Letters, and marks of several combining classes including U+0345, which
  // folds to a letter, in random order: NFKD reorders the marks.
  const char32_t pieces[] = {
      'a',    'L',    0x00C5, 0x0130, 0x0140, 0x00B7, 0x01C4, 0x0390,
      0x0399, 0x0345, 0x0300, 0x0301, 0x0308, 0x0316, 0x031B, 0x0327,
      0x0334, 0x0342, 0x0344, 0x035C, 0x0483, 0x0488, 0x1F80, 0x1FB3,
      0x1FBE, 0x3099, 0x304B, 0x0439, 0x0451, 0x00DF, 0x1E9E, 0xAC01,
  };
  uint32_t seed = 12345;
  for (int round = 0; round < 5000; ++round) {
    std::string s;
    const int len = 1 + round % 8;
    for (int k = 0; k < len; ++k) {
      seed = seed * 1103515245 + 12345;
      s += Utf8(pieces[(seed >> 16) % std::size(pieces)]);
    }
    ASSERT_EQ(Fold(s) + kMeem, Fold(s + kMeem)) << s;
  }
}

TEST(FoldForMatchTest, IsIdempotent) {
  const char* inputs[] = {
      "José",  "Straße", "İstanbul", "Işık", "Coŀlegi",  "Γιώργος",
      "Пётр",  "张伟",   "김민준",   "محمد", "がくせい", "ᾳ",
      "ǅemal", "ﬃ",      "Ｊｏｈｎ", "jo😀",  "Ŀ·l",      "ŉ",
  };
  for (const char* in : inputs) {
    const std::string once = Fold(in);
    EXPECT_EQ(Fold(once), once) << "input: " << in;
  }
}

TEST(FoldForMatchTest, RejectsInvalidUtf8) {
  const std::string bad[] = {
      "\xff",              // never valid
      "\xc3",              // truncated 2-byte sequence
      "\xe2\x82",          // truncated 3-byte sequence
      "\xf0\x9f\x98",      // truncated 4-byte sequence
      "\xed\xa0\x80",      // surrogate U+D800
      "\xed\xbf\xbf",      // surrogate U+DFFF
      "\xc0\xaf",          // overlong '/'
      "\xc1\xbf",          // overlong
      "\xe0\x80\xaf",      // overlong 3-byte
      "\xf0\x80\x80\xaf",  // overlong 4-byte
      "\xf4\x90\x80\x80",  // U+110000
      "\xf5\x80\x80\x80",  // lead byte above F4
      "\x80",              // lone continuation byte
      "\xc3\x28",          // bad continuation byte
      "\xe2\x28\xa1",      // bad continuation byte
  };
  for (const std::string& s : bad) {
    Result<std::string> r = FoldForMatch(s);
    ASSERT_FALSE(r.ok()) << "accepted " << testing::PrintToString(s);
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
    EXPECT_EQ(r.error().reason, "invalid_utf8");
  }
}

TEST(FoldForMatchTest, InvalidUtf8MessageNamesTheByteOffset) {
  Result<std::string> r = FoldForMatch("abcdé\xff");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("offset 6"), std::string::npos)
      << r.error().message;
  r = FoldForMatch("\xc3\xa9x\xed\xa0\x80");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("offset 3"), std::string::npos)
      << r.error().message;
}

TEST(FoldForMatchTest, AcceptsBoundaryCodePoints) {
  EXPECT_EQ(Fold("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf");  // U+10FFFF
  EXPECT_EQ(Fold("\xee\x80\x80"), "\xee\x80\x80");          // U+E000
  EXPECT_EQ(Fold("\xed\x9f\xbf"), "\xed\x9f\xbf");          // U+D7FF
  EXPECT_EQ(Fold("\xef\xbf\xbd"), "\xef\xbf\xbd");          // U+FFFD
  EXPECT_EQ(Fold("\xc2\x80"), "\xc2\x80");                  // U+0080
}

TEST(HasWordCharsTest, FindsLettersAndDigitsOfAnyScript) {
  EXPECT_FALSE(HasWordChars("😀"));
  EXPECT_FALSE(HasWordChars("@."));
  EXPECT_FALSE(HasWordChars(""));
  EXPECT_FALSE(HasWordChars(" -_+'"));
  EXPECT_FALSE(HasWordChars("\xff"));
  EXPECT_TRUE(HasWordChars("j"));
  EXPECT_TRUE(HasWordChars("7"));
  EXPECT_TRUE(HasWordChars("@.Z"));
  EXPECT_TRUE(HasWordChars("张"));
  EXPECT_TRUE(HasWordChars("٣"));
  EXPECT_TRUE(HasWordChars("😀 é"));
}

TEST(LatinFormsTest, RomanizesCyrillicTwoWays) {
  const std::vector<std::string> forms = LatinForms("Пётр");
  EXPECT_TRUE(Contains(forms, "petr")) << Join(forms);
  EXPECT_TRUE(Contains(forms, "pyotr")) << Join(forms);
  const std::vector<std::string> upper = LatinForms("ПЁТР");
  EXPECT_TRUE(Contains(upper, "pyotr")) << Join(upper);
}

TEST(LatinFormsTest, CyrillicTableCoversRussianAndUkrainian) {
  EXPECT_TRUE(Contains(LatinForms("Щукин"), "shchukin"));
  EXPECT_TRUE(Contains(LatinForms("Хрущёв"), "khrushchyov"));
  EXPECT_TRUE(Contains(LatinForms("Юлия"), "yuliya"));
  EXPECT_TRUE(Contains(LatinForms("Игорь"), "igor"));
  EXPECT_TRUE(Contains(LatinForms("Цой"), "tsoy"));
  EXPECT_TRUE(
      Contains(LatinForms("Їжак Ґава Євген Іван"), "yizhak gava yevgen ivan"));
  // Letters outside the table go through the transliterator.
  const std::vector<std::string> serbian = LatinForms("Ђорђе");
  EXPECT_TRUE(Contains(serbian, "dorde")) << Join(serbian);
}

TEST(LatinFormsTest, RomanizesChineseWithAndWithoutSpaces) {
  const std::vector<std::string> forms = LatinForms("张伟");
  EXPECT_TRUE(Contains(forms, "zhang wei")) << Join(forms);
  EXPECT_TRUE(Contains(forms, "zhangwei")) << Join(forms);
  // Spaces in the original stay; only those inside a word are removed.
  const std::vector<std::string> mixed = LatinForms("张伟 Smith");
  EXPECT_TRUE(Contains(mixed, "zhang wei smith")) << Join(mixed);
  EXPECT_TRUE(Contains(mixed, "zhangwei smith")) << Join(mixed);
}

TEST(LatinFormsTest, EmptyForLatinText) {
  EXPECT_TRUE(LatinForms("José").empty());
  EXPECT_TRUE(LatinForms("alice@example.com").empty());
  EXPECT_TRUE(LatinForms("Łukasz 😀 1-2").empty());
  EXPECT_TRUE(LatinForms("").empty());
  EXPECT_TRUE(LatinForms("\xd0").empty());  // invalid UTF-8
}

TEST(LatinFormsTest, RomanizesOtherScripts) {
  const std::vector<std::string> greek = LatinForms("Γιώργος");
  ASSERT_FALSE(greek.empty());
  EXPECT_TRUE(std::any_of(greek.begin(), greek.end(), [](const auto& s) {
    return s.starts_with("g");
  })) << Join(greek);
  EXPECT_FALSE(LatinForms("김민준").empty());
  EXPECT_FALSE(LatinForms("محمد").empty());
  EXPECT_FALSE(LatinForms("やまだ").empty());
}

TEST(LatinFormsTest, FormsAreFoldedDistinctAndNotTheTextItself) {
  for (const char* in : {"Пётр", "张伟", "Γιώργος", "김민준", "محمد", "Объект",
                         "Иван Petrov", "עברית"}) {
    const std::vector<std::string> forms = LatinForms(in);
    ASSERT_FALSE(forms.empty()) << in;
    for (size_t i = 0; i < forms.size(); ++i) {
      EXPECT_EQ(Fold(forms[i]), forms[i]) << in;
      EXPECT_NE(forms[i], Fold(in)) << in;
      EXPECT_TRUE(HasWordChars(forms[i])) << in;
      for (size_t j = i + 1; j < forms.size(); ++j) {
        EXPECT_NE(forms[i], forms[j]) << in;
      }
    }
  }
}

TEST(LatinFormsTest, CachedResultsEqualFirstResults) {
  const std::vector<std::string> first = LatinForms("Наталья Волкова");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(LatinForms("Наталья Волкова"), first);
  }
}

TEST(NormalizeConcurrencyTest, ThreadsAgreeWithSingleThreadedResults) {
  const std::vector<std::string> inputs = {
      "José",   "Straße", "İstanbul",
      "Пётр",   "张伟",   "Γιώργος",
      "김민준", "محمد",   "alice@Example.COM",
      "Łukasz", "Nguyễn", "やまだ たろう",
      "Ђорђе",  "jo😀",
  };
  struct Expected {
    std::string folded;
    std::vector<std::string> forms;
  };
  std::vector<Expected> expected;
  for (const std::string& in : inputs) {
    expected.push_back({Fold(in), LatinForms(in)});
  }
  constexpr int kThreads = 4;
  constexpr int kIterations = 10'000;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        const size_t k = (i * 7 + t) % inputs.size();
        Result<std::string> folded = FoldForMatch(inputs[k]);
        if (!folded.ok() || *folded != expected[k].folded ||
            LatinForms(inputs[k]) != expected[k].forms) {
          ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(mismatches[t], 0) << "thread " << t;
  }
}

TEST(NormalizeConcurrencyTest, ThreadsRomanizeUncachedNamesConcurrently) {
  // Distinct names nobody has romanized yet, so that the threads run the
  // transliterators at the same time rather than read the cache. Name k is
  // "Пётр " plus k in digits "абвгдежзкл", so its table form is known.
  const char* kCyrillicDigits[] = {"а", "б", "в", "г", "д",
                                   "е", "ж", "з", "к", "л"};
  const char* kLatinDigits[] = {"a", "b",  "v", "g", "d",
                                "e", "zh", "z", "k", "l"};
  constexpr int kNames = 2000;
  std::vector<std::string> names, table_forms;
  for (int k = 0; k < kNames; ++k) {
    std::string name = "Пётр ", form = "pyotr ";
    for (int v = k + 1000; v > 0; v /= 10) {
      name += kCyrillicDigits[v % 10];
      form += kLatinDigits[v % 10];
    }
    names.push_back(std::move(name));
    table_forms.push_back(std::move(form));
  }
  constexpr int kThreads = 4;
  std::vector<std::vector<std::vector<std::string>>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      results[t].resize(kNames);
      for (int i = 0; i < kNames; ++i) {
        const int k = (i + t * kNames / kThreads) % kNames;
        results[t][k] = LatinForms(names[k]);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int k = 0; k < kNames; ++k) {
    EXPECT_TRUE(Contains(results[0][k], table_forms[k]))
        << names[k] << " " << Join(results[0][k]);
    for (int t = 1; t < kThreads; ++t) {
      EXPECT_EQ(results[t][k], results[0][k]) << names[k];
    }
  }
}

}  // namespace
}  // namespace galsync
