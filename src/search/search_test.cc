// Tests of directory search: the words a contact is indexed under (accents,
// letters without decomposition, scripts, e-mail forms) and the search
// service following commits.
#include "galsync/search.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <tuple>

#include "galsync/directory.h"
#include "test_util.h"

namespace galsync {
namespace {

Contact Person(std::string id, std::string given, std::string family,
               std::vector<std::string> emails = {}) {
  Contact c;
  c.id = std::move(id);
  c.name.given = std::move(given);
  c.name.family = std::move(family);
  c.name.full = c.name.given + " " + c.name.family;
  for (auto& e : emails) c.emails.push_back({e, "work"});
  return c;
}

bool Finds(const Contact& c, std::string_view query) {
  auto q = ParseQuery(query);
  EXPECT_TRUE(q.ok()) << query;
  return q.ok() && MatchScore(IndexDocFromContact(c), *q).has_value();
}

TEST(ContactWordsTest, AccentsCaseAndLettersWithoutDecomposition) {
  Contact jose = Person("1", "José", "Álvarez");
  EXPECT_TRUE(Finds(jose, "jose"));
  EXPECT_TRUE(Finds(jose, "JOSE alv"));
  EXPECT_TRUE(Finds(jose, "José"));
  EXPECT_TRUE(Finds(Person("2", "Hans", "Straße"), "strasse"));
  EXPECT_TRUE(Finds(Person("3", "Hans", "Strasse"), "straße"));
  EXPECT_TRUE(Finds(Person("4", "Łukasz", "Wałęsa"), "lukasz wal"));
  EXPECT_TRUE(Finds(Person("5", "Øyvind", "Ås"), "oyvind"));
  EXPECT_TRUE(Finds(Person("6", "Ægir", "Þórsson"), "aegir thor"));
  EXPECT_TRUE(Finds(Person("7", "Đorđe", "Đukić"), "dorde dukic"));
  EXPECT_TRUE(Finds(Person("8", "İsmail", "Işık"), "ismail isik"));
  EXPECT_TRUE(Finds(Person("9", "Jean-Luc", "O'Brien"), "luc obrien"));
  EXPECT_TRUE(Finds(Person("9", "Jean-Luc", "O'Brien"), "jean-luc"));
  // Unicode spaces separate words, as they do in (folded) queries.
  EXPECT_TRUE(Finds(Person("10", "Mary\u00A0Ann", "Lee"), "mary ann"));
  EXPECT_TRUE(Finds(Person("11", "太郎", "山田"), "山田"));
  Contact jp;
  jp.id = "12";
  jp.name.full = "山田\u3000太郎";
  EXPECT_TRUE(Finds(jp, "太郎"));
}

TEST(ContactWordsTest, NonLatinScriptsInTheirOwnScriptAndInLatin) {
  Contact pyotr = Person("1", "Пётр", "Иванов");
  EXPECT_TRUE(Finds(pyotr, "пётр"));
  EXPECT_TRUE(Finds(pyotr, "пет ив"));
  EXPECT_TRUE(Finds(pyotr, "pyotr"));
  EXPECT_TRUE(Finds(pyotr, "petr ivanov"));
  Contact wei;
  wei.id = "2";
  wei.name.family = "张";
  wei.name.given = "伟";
  wei.name.full = "张伟";
  EXPECT_TRUE(Finds(wei, "张"));
  EXPECT_TRUE(Finds(wei, "zhang"));
  EXPECT_TRUE(Finds(wei, "zhang wei"));
  EXPECT_FALSE(Finds(wei, "smith"));
}

std::vector<std::tuple<std::string, Field, int>> Words(const Contact& c) {
  std::vector<std::tuple<std::string, Field, int>> out;
  for (const auto& w : IndexDocFromContact(c).words) {
    out.emplace_back(w.text, w.field, w.position);
  }
  return out;
}

TEST(ContactWordsTest, ADisplayNameThatRepeatsTheOtherPartsAddsNothingNew) {
  // A display name made of the other parts gives the words and positions
  // that the same name with wider spaces (read word by word) gives.
  struct Name {
    std::string given, middle, family;
  };
  for (const Name& n : {Name{"Mary Ann", "", "Lee"}, Name{"Jean", "Paul", "Sartre"},
                        Name{"", "", "Prince"}, Name{"Пётр", "", "Иванов"}}) {
    Contact joined, spaced;
    joined.id = spaced.id = "1";
    for (Contact* c : {&joined, &spaced}) {
      c->name.given = n.given;
      c->name.middle = n.middle;
      c->name.family = n.family;
    }
    std::string sep;
    for (const std::string* part : {&n.given, &n.middle, &n.family}) {
      if (part->empty()) continue;
      joined.name.full += sep + *part;
      spaced.name.full += (sep.empty() ? "" : "  ") + *part;
      sep = " ";
    }
    EXPECT_EQ(Words(joined), Words(spaced)) << joined.name.full;
  }
  // In another order, the display name's own positions count.
  auto lee_at = [](const Contact& c) {
    for (const auto& [text, field, position] : Words(c)) {
      if (text == "lee") return position;
    }
    return -1;
  };
  Contact lee = Person("2", "Mary Ann", "Lee");
  EXPECT_EQ(lee_at(lee), 2);  // "mary", "ann", "lee"
  lee.name.full = "Lee Mary Ann";
  EXPECT_EQ(lee_at(lee), 0);
  // Words past the other parts are the display name's own.
  lee.name.full = "Mary Ann Lee-Smith";
  EXPECT_TRUE(Finds(lee, "smith"));
  lee.name.full = "Mary Ann Lee Smith";
  EXPECT_TRUE(Finds(lee, "smith"));
}

TEST(ContactWordsTest, EmailAddressesWholeAndInPieces) {
  Contact alice = Person("1", "Alice", "Liddell",
                         {"alice.m_liddell+gal@example.com", "al@other.example"});
  EXPECT_TRUE(Finds(alice, "alice"));
  EXPECT_FALSE(Finds(alice, "alice@"));  // the address is alice.m_…@
  EXPECT_TRUE(Finds(alice, "alice.m_liddell+gal@exa"));
  EXPECT_TRUE(Finds(alice, "al@"));
  EXPECT_TRUE(Finds(alice, "gal"));
  EXPECT_TRUE(Finds(alice, "m liddell"));
  EXPECT_FALSE(Finds(alice, "example"));  // the domain alone is not a word
  Contact num = Person("2", "Bo", "Li", {"bo.li1234@example.com"});
  EXPECT_TRUE(Finds(num, "li 1234"));
  EXPECT_TRUE(Finds(num, "bo.li12"));
}

class SearchServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::OpenDirectory(tmp_, "example.com");
    ASSERT_TRUE(dir_);
  }
  void Put(const Contact& c) {
    ASSERT_TRUE(dir_->PutContact("example.com", c, {}, false, "t").ok());
  }
  std::vector<std::string> Search(std::string_view q) {
    auto hits = search_->Search("example.com", *ParseQuery(q), 10);
    EXPECT_TRUE(hits.ok());
    std::vector<std::string> ids;
    for (const auto& h : *hits) ids.push_back(h.id);
    return ids;
  }
  // Waits until the index has applied every commit (bounded).
  void Settle() {
    for (int i = 0; i < 500; ++i) {
      if (search_->applied_seq("example.com") == *dir_->LastSeq("example.com")) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    FAIL() << "index did not catch up";
  }

  testing::TempDir tmp_;
  std::unique_ptr<Directory> dir_;
  std::unique_ptr<SearchService> search_;
};

TEST_F(SearchServiceTest, BuildsFromTheStoreAndFollowsCommits) {
  Put(Person("a", "John", "Smith"));
  Put(Person("b", "Joanna", "Smythe"));
  Put(Person("c", "Bob", "Jones"));
  Put(Person("gone", "Johnny", "Gone"));
  ASSERT_TRUE(dir_->DeleteContact("example.com", "gone", {}, "t").ok());
  search_ = std::make_unique<SearchService>(*dir_);
  ASSERT_TRUE(search_->Start().ok());
  EXPECT_EQ(Search("jo sm"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(Search("johnny").empty());

  Put(Person("d", "Jo", "Smalls"));
  Settle();
  EXPECT_EQ(Search("jo sm").front(), "d");  // exact "jo"
  ASSERT_TRUE(dir_->DeleteContact("example.com", "a", {}, "t").ok());
  Put(Person("b", "Joanna", "Brown"));  // renamed: no longer a Smythe
  Settle();
  EXPECT_EQ(Search("jo sm"), (std::vector<std::string>{"d"}));
  EXPECT_EQ(Search("brown"), (std::vector<std::string>{"b"}));

  // A domain created after Start is searchable too.
  ASSERT_TRUE(dir_->CreateDomain("new.example").ok());
  ASSERT_TRUE(dir_->PutContact("new.example", Person("x", "Xena", "W"), {},
                               false, "t").ok());
  for (int i = 0; i < 500; ++i) {
    auto hits = search_->Search("new.example", *ParseQuery("xe"), 10);
    if (hits.ok() && hits->size() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto hits = search_->Search("new.example", *ParseQuery("xe"), 10);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(hits->size(), 1u);
  EXPECT_EQ(search_->Search("nope.example", *ParseQuery("x"), 10).error().kind,
            ErrorKind::kNotFound);
}

}  // namespace
}  // namespace galsync
