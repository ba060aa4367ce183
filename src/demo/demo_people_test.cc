// Tests for the demo people generator: determinism, ids, org chart, unique
// work e-mails, locale diversity, and that every person passes the codec.
#include "demo/demo_people.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "galsync/contact.h"

namespace galsync::demo {
namespace {

constexpr std::string_view kDomain = "example.com";

// Compares the content members (Contact has SameContent, but this test
// should not depend on the codec for its basic checks).
bool SameContentLocal(const Contact& a, const Contact& b) {
  return a.id == b.id && a.name == b.name && a.nickname == b.nickname &&
         a.emails == b.emails && a.phones == b.phones && a.title == b.title &&
         a.department == b.department && a.organization == b.organization &&
         a.manager == b.manager && a.office == b.office &&
         a.links == b.links && a.photo == b.photo && a.extra == b.extra;
}

// Decodes UTF-8; returns false on malformed input or control characters.
bool DecodeUtf8(std::string_view s, std::vector<char32_t>* out) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
                       : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    char32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3F);
    }
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) return false;
    if (out != nullptr) out->push_back(cp);
    i += len;
  }
  return true;
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x80;
  });
}

bool IsLocalPartChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.';
}

bool LooksLikeEmail(std::string_view address) {
  const size_t at = address.find('@');
  if (at == std::string_view::npos || at == 0) return false;
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = address.substr(at + 1);
  if (!std::all_of(local.begin(), local.end(), IsLocalPartChar)) return false;
  if (local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos || local.size() > 64) {
    return false;
  }
  if (domain.find('.') == std::string_view::npos) return false;
  if (domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(domain.begin(), domain.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
  });
}

bool LooksLikePhone(std::string_view number) {
  int digits = 0;
  for (size_t i = 0; i < number.size();) {
    const char c = number[i];
    if (c >= '0' && c <= '9') {
      ++digits;
      ++i;
    } else if (number.substr(i, 3) == "ext") {
      i += 3;
    } else if (c == 'x') {
      ++i;
    } else if (std::string_view(" +()-./#*,;").find(c) !=
               std::string_view::npos) {
      ++i;
    } else {
      return false;
    }
  }
  return digits >= 3;
}

bool LooksLikeId(std::string_view id) {
  if (id.empty() || id.size() > ContactLimits::kMaxIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') ||
           std::string_view("._~@+=-").find(c) != std::string_view::npos;
  });
}

bool LooksLikeLinkType(std::string_view type) {
  return !type.empty() && std::all_of(type.begin(), type.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool LooksLikeExtraKey(std::string_view key) {
  return !key.empty() && key.size() <= ContactLimits::kMaxExtraKeyBytes &&
         std::all_of(key.begin(), key.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (c >= '0' && c <= '9') ||
                  std::string_view("_.:-").find(c) != std::string_view::npos;
         });
}

// The 0-based index encoded in an id such as "p000123" (-> 122).
size_t IndexOfId(std::string_view id) {
  return std::stoul(std::string(id.substr(1))) - 1;
}

// Runs the checks the codec makes, without the codec. Returns "" if all pass.
std::string LocalProblem(const Contact& p) {
  if (!LooksLikeId(p.id)) return "id";
  if (p.name.full.empty() && p.name.given.empty() && p.name.family.empty()) {
    return "name";
  }
  for (const std::string* text :
       {&p.name.full, &p.name.prefix, &p.name.given, &p.name.middle,
        &p.name.family, &p.name.suffix}) {
    if (!DecodeUtf8(*text, nullptr)) return "name: bad UTF-8";
    if (text->size() > ContactLimits::kMaxNamePartBytes) return "name: long";
  }
  for (const std::string* text :
       {&p.nickname, &p.title, &p.department, &p.organization, &p.manager,
        &p.office.room, &p.office.street, &p.office.locality,
        &p.office.region, &p.office.postcode, &p.office.country}) {
    if (!DecodeUtf8(*text, nullptr)) return "text: bad UTF-8: " + *text;
    if (text->size() > ContactLimits::kMaxTextBytes) return "text: long";
  }
  if (p.emails.empty() || p.emails.size() > 3) return "emails: count";
  for (const Email& e : p.emails) {
    if (!LooksLikeEmail(e.address)) return "email: " + e.address;
    if (e.type != "work" && e.type != "home" && e.type != "other") {
      return "email type: " + e.type;
    }
  }
  if (p.phones.empty() || p.phones.size() > 2) return "phones: count";
  for (const Phone& ph : p.phones) {
    if (!LooksLikePhone(ph.number)) return "phone: " + ph.number;
    if (ph.number.size() > ContactLimits::kMaxPhoneBytes) return "phone: long";
    if (ph.type != "work" && ph.type != "mobile") return "phone type";
  }
  if (!p.manager.empty() && !LooksLikeId(p.manager)) return "manager id";
  for (const Link& l : p.links) {
    if (!LooksLikeLinkType(l.type)) return "link type: " + l.type;
    if (l.uri.rfind("https://", 0) != 0 || !IsAscii(l.uri) ||
        l.uri.find(' ') != std::string::npos) {
      return "link uri: " + l.uri;
    }
  }
  if (!p.photo.empty() && p.photo.rfind("https://", 0) != 0) return "photo";
  for (size_t i = 0; i < p.extra.size(); ++i) {
    if (!LooksLikeExtraKey(p.extra[i].first)) return "extra key";
    if (p.extra[i].second.empty()) return "extra value";
    if (i > 0 && !(p.extra[i - 1].first < p.extra[i].first)) {
      return "extra: not sorted or duplicate keys";
    }
  }
  return {};
}

TEST(DemoPeopleTest, NameTablesAreConsistent) {
  EXPECT_EQ(internal::CheckNameTables(), "");
}

TEST(DemoPeopleTest, IdsAreFormattedAndUnique) {
  const std::vector<Contact> people = GeneratePeople(2000);
  ASSERT_EQ(people.size(), 2000u);
  EXPECT_EQ(people[0].id, "p000001");
  EXPECT_EQ(people[122].id, "p000123");
  EXPECT_EQ(people[1999].id, "p002000");
  std::set<std::string> ids;
  for (const Contact& p : people) {
    EXPECT_EQ(p.id.size(), 7u) << p.id;
    EXPECT_TRUE(ids.insert(p.id).second) << p.id;
  }
  EXPECT_EQ(GeneratePerson(999'998, 42, kDomain).id, "p999999");
  EXPECT_EQ(GeneratePerson(999'999, 42, kDomain).id, "p1000000");
  EXPECT_EQ(GeneratePerson(12'345'677, 42, kDomain).id, "p12345678");
}

TEST(DemoPeopleTest, DeterministicForASeed) {
  const std::vector<Contact> a = GeneratePeople(500, 7);
  const std::vector<Contact> b = GeneratePeople(500, 7);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(SameContentLocal(a[i], b[i])) << a[i].id;
    // Streaming one person at a time gives the same people.
    EXPECT_TRUE(SameContentLocal(a[i], GeneratePerson(i, 7, kDomain)))
        << a[i].id;
  }
  // Order of generation does not matter either.
  EXPECT_TRUE(SameContentLocal(GeneratePerson(777'777, 7, kDomain),
                               GeneratePerson(777'777, 7, kDomain)));
}

TEST(DemoPeopleTest, DifferentSeedsGiveDifferentPeople) {
  const std::vector<Contact> a = GeneratePeople(500, 1);
  const std::vector<Contact> b = GeneratePeople(500, 2);
  int same_name = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    if (a[i].name.full == b[i].name.full) ++same_name;
  }
  EXPECT_LT(same_name, 25);
}

TEST(DemoPeopleTest, MailDomainIsUsed) {
  const Contact p = GeneratePerson(5, 42, "corp.galsync.test");
  ASSERT_FALSE(p.emails.empty());
  EXPECT_TRUE(p.emails[0].address.ends_with("@corp.galsync.test"))
      << p.emails[0].address;
}

TEST(DemoPeopleTest, ManagersHaveLowerIndexes) {
  const std::vector<Contact> people = GeneratePeople(20'000);
  EXPECT_TRUE(people[0].manager.empty());
  std::map<std::string, int> reports;
  for (size_t i = 1; i < people.size(); ++i) {
    ASSERT_FALSE(people[i].manager.empty()) << people[i].id;
    ASSERT_EQ(people[i].manager[0], 'p');
    EXPECT_LT(IndexOfId(people[i].manager), i) << people[i].id;
    ++reports[people[i].manager];
  }
  // A plausible org chart: managers are a minority with a handful of
  // reports each, and most people share their manager's department.
  EXPECT_GT(reports.size(), people.size() / 20);
  EXPECT_LT(reports.size(), people.size() / 5);
  EXPECT_LT(reports["p000001"], 100);
  int same_department = 0;
  for (size_t i = 20; i < people.size(); ++i) {
    const Contact& boss = people[IndexOfId(people[i].manager)];
    if (boss.department == people[i].department) ++same_department;
  }
  EXPECT_GT(same_department, static_cast<int>(people.size() * 8 / 10));
  EXPECT_EQ(people[0].title, "Chief Executive Officer");
}

TEST(DemoPeopleTest, WorkEmailsAreUniqueAcross100kPeople) {
  std::set<std::string> work;
  std::set<std::string> names_seen;  // "given.family" parts of addresses
  size_t plain = 0;
  for (size_t i = 0; i < 100'000; ++i) {
    const Contact p = GeneratePerson(i, 42, kDomain);
    ASSERT_FALSE(p.emails.empty());
    const Email& e = p.emails[0];
    ASSERT_EQ(e.type, "work") << p.id;
    ASSERT_TRUE(e.address.ends_with("@example.com")) << e.address;
    ASSERT_TRUE(work.insert(e.address).second)
        << "duplicate " << e.address << " at " << p.id;
    const std::string local = e.address.substr(0, e.address.find('@'));
    ASSERT_NE(local.find('.'), std::string::npos) << e.address;
    // The first person with a name gets the plain address, namesakes get
    // their id's number appended.
    const bool is_plain =
        !std::isdigit(static_cast<unsigned char>(local.back()));
    const std::string name =
        is_plain ? local
                 : local.substr(0, local.size() - std::to_string(i + 1).size());
    const bool first_with_name = names_seen.insert(name).second;
    ASSERT_EQ(is_plain, first_with_name) << e.address << " at " << p.id;
    if (is_plain) {
      ++plain;
    } else {
      ASSERT_TRUE(local.ends_with(std::to_string(i + 1))) << e.address;
    }
  }
  // Most of a small directory has plain "given.family" addresses; by
  // 100,000 people the common names have been taken.
  EXPECT_GT(plain, 5'000u);
  size_t plain_in_first_1000 = 0;
  for (size_t i = 0; i < 1000; ++i) {
    const std::string a = GeneratePerson(i, 42, kDomain).emails[0].address;
    if (!std::isdigit(static_cast<unsigned char>(a[a.find('@') - 1]))) {
      ++plain_in_first_1000;
    }
  }
  EXPECT_GT(plain_in_first_1000, 900u);
}

TEST(DemoPeopleTest, WorkEmailsAreUniqueForAnotherSeed) {
  std::set<std::string> work;
  for (const Contact& p : GeneratePeople(30'000, 2024)) {
    ASSERT_TRUE(work.insert(p.emails[0].address).second)
        << p.emails[0].address;
  }
}

TEST(DemoPeopleTest, ExamplesOfWorkEmails) {
  // Non-Latin names get a hard-coded romanization; Latin ones are folded.
  int checked = 0;
  for (const Contact& p : GeneratePeople(20'000)) {
    const std::string& a = p.emails[0].address;
    if (p.name.family == "Иванов" && p.name.given == "Пётр") {
      EXPECT_TRUE(a.starts_with("pyotr.ivanov")) << a;
      ++checked;
    } else if (p.name.family == "张" && p.name.given == "伟") {
      EXPECT_TRUE(a.starts_with("wei.zhang")) << a;
      ++checked;
    } else if (p.name.family == "Müller") {
      EXPECT_TRUE(a.find(".mueller") != std::string::npos) << a;
      ++checked;
    } else if (p.name.family.starts_with("Muñoz")) {
      EXPECT_TRUE(a.find(".munoz") != std::string::npos) << a;
      ++checked;
    } else if (p.name.given == "Łukasz") {
      EXPECT_TRUE(a.starts_with("lukasz.")) << a;
      ++checked;
    }
  }
  EXPECT_GT(checked, 50);
}

TEST(DemoPeopleTest, PeopleComeFromManyLocales) {
  const std::vector<Contact> people = GeneratePeople(20'000);
  int non_ascii = 0, cyrillic = 0, greek = 0, cjk = 0, hangul = 0, arabic = 0,
      latin_diacritics = 0;
  std::set<std::string> countries;
  for (const Contact& p : people) {
    std::vector<char32_t> cps;
    ASSERT_TRUE(DecodeUtf8(p.name.full, &cps)) << p.id;
    if (!IsAscii(p.name.full)) ++non_ascii;
    auto any = [&](char32_t lo, char32_t hi) {
      return std::any_of(cps.begin(), cps.end(),
                         [&](char32_t c) { return c >= lo && c <= hi; });
    };
    if (any(0x0400, 0x04FF)) ++cyrillic;
    if (any(0x0370, 0x03FF)) ++greek;
    if (any(0x4E00, 0x9FFF)) ++cjk;
    if (any(0xAC00, 0xD7AF)) ++hangul;
    if (any(0x0600, 0x06FF)) ++arabic;
    if (any(0x00C0, 0x024F) || any(0x1E00, 0x1EFF)) ++latin_diacritics;
    countries.insert(p.office.country);
  }
  const int n = static_cast<int>(people.size());
  EXPECT_GT(non_ascii, n / 20);
  EXPECT_GT(cyrillic, n / 100);
  EXPECT_GT(cjk, n / 20);
  EXPECT_GT(greek, n / 200);
  EXPECT_GT(hangul, n / 100);
  EXPECT_GT(arabic, n / 100);
  EXPECT_GT(latin_diacritics, n / 20);
  EXPECT_GE(countries.size(), 20u);
}

TEST(DemoPeopleTest, FullNamesFollowLocaleConventions) {
  int chinese = 0, western = 0;
  for (const Contact& p : GeneratePeople(5000)) {
    const PersonName& n = p.name;
    std::vector<char32_t> cps;
    ASSERT_TRUE(DecodeUtf8(n.family, &cps));
    if (!cps.empty() && cps[0] >= 0x4E00 && cps[0] <= 0x9FFF) {
      // Chinese and Japanese (kanji): family then given, no space.
      EXPECT_EQ(n.full, n.family + n.given) << p.id;
      ++chinese;
    } else if (IsAscii(n.given) && IsAscii(n.family) && n.middle.empty() &&
               n.prefix.empty() && n.suffix.empty()) {
      EXPECT_EQ(n.full, n.given + " " + n.family) << p.id;
      ++western;
    }
    if (!n.prefix.empty()) {
      EXPECT_TRUE(n.full.starts_with(n.prefix + " ")) << n.full;
    }
  }
  EXPECT_GT(chinese, 100);
  EXPECT_GT(western, 1000);
}

TEST(DemoPeopleTest, SurnamesAreShared) {
  std::map<std::string, int> families;
  const std::vector<Contact> people = GeneratePeople(20'000);
  for (const Contact& p : people) ++families[p.name.family];
  int top = 0;
  int shared_by_50 = 0;
  for (const auto& [family, count] : families) {
    top = std::max(top, count);
    if (count >= 50) ++shared_by_50;
  }
  EXPECT_GE(top, 200);  // >= 1% of everybody
  EXPECT_GE(shared_by_50, 40);
  EXPECT_GE(families["Smith"], 150);
  EXPECT_GE(families["Müller"], 30);
  EXPECT_GE(families["王"], 50);
}

TEST(DemoPeopleTest, OptionalFieldsAppearInRealisticProportions) {
  const std::vector<Contact> people = GeneratePeople(20'000);
  int middle = 0, prefix = 0, suffix = 0, nickname = 0, mobile = 0,
      several_emails = 0, links = 0, github = 0, linkedin = 0, photo = 0,
      extra = 0, room = 0;
  for (const Contact& p : people) {
    if (!p.name.middle.empty()) ++middle;
    if (!p.name.prefix.empty()) ++prefix;
    if (!p.name.suffix.empty()) ++suffix;
    if (!p.nickname.empty()) ++nickname;
    if (p.phones.size() == 2) ++mobile;
    if (p.emails.size() > 1) ++several_emails;
    if (!p.links.empty()) ++links;
    for (const Link& l : p.links) {
      if (l.type == "github") ++github;
      if (l.type == "linkedin") ++linkedin;
    }
    if (!p.photo.empty()) ++photo;
    if (!p.extra.empty()) ++extra;
    if (!p.office.room.empty()) ++room;
    EXPECT_FALSE(p.title.empty());
    EXPECT_FALSE(p.department.empty());
    EXPECT_FALSE(p.organization.empty());
    EXPECT_FALSE(p.office.country.empty());
    EXPECT_EQ(p.phones[0].type, "work");
  }
  const double n = static_cast<double>(people.size());
  EXPECT_NEAR(middle / n, 0.15, 0.05);
  EXPECT_NEAR(prefix / n, 0.03, 0.015);
  EXPECT_GT(suffix, 20);
  EXPECT_LT(suffix / n, 0.02);
  EXPECT_GT(nickname / n, 0.03);
  EXPECT_NEAR(mobile / n, 0.45, 0.05);
  EXPECT_NEAR(several_emails / n, 0.45, 0.05);
  EXPECT_GT(github, 1000);
  EXPECT_GT(linkedin, 2000);
  EXPECT_NEAR(photo / n, 0.35, 0.05);
  EXPECT_NEAR(extra / n, 0.60, 0.05);
  EXPECT_GT(room / n, 0.9);
  for (const Contact& p : people) {
    if (!p.photo.empty()) {
      EXPECT_EQ(p.photo, "https://photos.example.com/" + p.id + ".jpg");
    }
  }
}

TEST(DemoPeopleTest, EveryPersonPassesLocalValidation) {
  for (size_t i = 0; i < 20'000; ++i) {
    const Contact p = GeneratePerson(i, 42, kDomain);
    ASSERT_EQ(LocalProblem(p), "") << p.id << " " << p.name.full;
  }
  // Far into a large directory, too.
  for (size_t i = 990'000; i < 1'000'000; ++i) {
    const Contact p = GeneratePerson(i, 42, kDomain);
    ASSERT_EQ(LocalProblem(p), "") << p.id << " " << p.name.full;
  }
}

TEST(DemoPeopleTest, EveryPersonPassesTheCodecAndRoundTrips) {
  for (size_t i = 0; i < 20'000; ++i) {
    const Contact p = GeneratePerson(i, 42, kDomain);
    ASSERT_TRUE(IsValidContactId(p.id)) << p.id;
    const std::string json = CanonicalContentJson(p);
    Result<Contact> parsed = ParseContactJson(json);
    ASSERT_TRUE(parsed.ok()) << p.id << ": " << parsed.error().message << "\n"
                             << json;
    EXPECT_TRUE(parsed->SameContent(p)) << json;
    EXPECT_TRUE(SameContentLocal(*parsed, p)) << json;
    EXPECT_EQ(CanonicalContentJson(*parsed), json);
  }
}

}  // namespace
}  // namespace galsync::demo
