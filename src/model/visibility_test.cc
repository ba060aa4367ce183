// Tests of the visibility policy: its JSON, what the public view withholds,
// and when a policy change alters a contact's public view.
#include "galsync/visibility.h"

#include <gtest/gtest.h>

namespace galsync {
namespace {

Contact Person() {
  Contact c;
  c.id = "ada";
  c.name.given = "Ada";
  c.name.family = "Lovelace";
  c.emails = {{"ada@example.com", "work"}, {"ada@home.example", "home"}};
  c.phones = {{"+44 20 7946 0000", "work"}, {"+44 7700 900123", "mobile"}};
  c.title = "Analyst";
  c.office.locality = "London";
  c.extra = {{"badge", "1815"}, {"cost_center", "42"}};
  return c;
}

std::string Stored(const Contact& c) {
  return StoredContactJson(CanonicalContentJson(c), "example.com", 7,
                           1700000000000000);
}

VisibilityPolicy Policy(std::string_view json) {
  auto p = ParsePolicyJson(json);
  EXPECT_TRUE(p.ok()) << json;
  return p.ok() ? *p : VisibilityPolicy{};
}

TEST(VisibilityPolicyTest, ParsesAndCanonicalizes) {
  auto p = Policy(R"({"private_attributes":["phones.mobile","extra.badge",
                      "office","phones.mobile"]})");
  EXPECT_EQ(p.private_attributes,
            (std::vector<std::string>{"extra.badge", "office",
                                      "phones.mobile"}));
  EXPECT_EQ(PolicyJson(p),
            R"({"private_attributes":["extra.badge","office","phones.mobile"]})");
  EXPECT_EQ(Policy(PolicyJson(p)), p);
  EXPECT_TRUE(Policy("").empty());
  EXPECT_TRUE(Policy(R"({"private_attributes":[]})").empty());
}

TEST(VisibilityPolicyTest, RejectsWhatIsNotAnAttribute) {
  for (std::string_view bad :
       {R"([])", R"({"private":["phones"]})", R"({"private_attributes":"x"})",
        R"({"private_attributes":["name"]})", R"({"private_attributes":["id"]})",
        R"({"private_attributes":["phones.satellite"]})",
        R"({"private_attributes":["emails.mobile"]})",
        R"({"private_attributes":["extra."]})",
        R"({"private_attributes":["extra.a b"]})",
        R"({"private_attributes":[7]})", "{", "not json"}) {
    auto p = ParsePolicyJson(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.error().reason, "invalid_policy") << bad;
  }
  std::string many = R"({"private_attributes":[)";
  for (int i = 0; i < 65; ++i) {
    many += (i ? ",\"extra.k" : "\"extra.k") + std::to_string(i) + "\"";
  }
  EXPECT_FALSE(ParsePolicyJson(many + "]}").ok());
}

TEST(VisibilityPolicyTest, RemovesExactlyThePrivateAttributes) {
  Contact c = Person();
  const VisibilityPolicy p =
      Policy(R"({"private_attributes":["phones.mobile","emails.home",
                 "extra.badge","office"]})");
  EXPECT_TRUE(RemovePrivateAttributes(p, c));
  // Nothing left to remove the second time.
  Contact again = c;
  EXPECT_FALSE(RemovePrivateAttributes(p, again));
  EXPECT_TRUE(again.SameContent(c));
  EXPECT_EQ(c.phones, (std::vector<Phone>{{"+44 20 7946 0000", "work"}}));
  EXPECT_EQ(c.emails, (std::vector<Email>{{"ada@example.com", "work"}}));
  EXPECT_EQ(c.extra.size(), 1u);
  EXPECT_EQ(c.extra[0].first, "cost_center");
  EXPECT_EQ(c.office, Office{});
  EXPECT_EQ(c.title, "Analyst");
  EXPECT_EQ(c.name.full, "");  // untouched: Person() never set it
}

TEST(PublicProjectionTest, ServesStoredBytesWhenNothingIsWithheld) {
  PublicProjection p(Policy(R"({"private_attributes":["photo","manager"]})"));
  auto r = p.Project(Stored(Person()));
  EXPECT_EQ(r.kind, PublicProjection::Kind::kAsStored);
  EXPECT_TRUE(r.json.empty());
  // The empty policy only ever withholds hidden contacts.
  PublicProjection none{VisibilityPolicy{}};
  EXPECT_EQ(none.Project(Stored(Person())).kind,
            PublicProjection::Kind::kAsStored);
}

TEST(PublicProjectionTest, RedactsKeepingServerMembers) {
  PublicProjection p(Policy(R"({"private_attributes":["phones.mobile"]})"));
  auto r = p.Project(Stored(Person()));
  ASSERT_EQ(r.kind, PublicProjection::Kind::kRedacted);
  EXPECT_EQ(r.json.find("7700"), std::string::npos) << r.json;
  EXPECT_NE(r.json.find("7946"), std::string::npos) << r.json;
  auto back = ParseContactJson(r.json);
  ASSERT_TRUE(back.ok()) << r.json;
  EXPECT_EQ(back->seq, 7u);
  EXPECT_EQ(back->domain, "example.com");
  EXPECT_EQ(back->updated_us, 1700000000000000);
}

TEST(PublicProjectionTest, WithholdsHiddenContacts) {
  Contact c = Person();
  c.hidden = true;
  PublicProjection p{VisibilityPolicy{}};
  EXPECT_EQ(p.Project(Stored(c)).kind, PublicProjection::Kind::kHidden);
}

// A free-form attribute whose key looks like a member name makes the quick
// test say "maybe"; parsing then finds nothing to withhold.
TEST(PublicProjectionTest, LookalikeKeysAreNotWithheld) {
  Contact c = Person();
  c.phones.clear();
  c.extra = {{"phones", "none"}, {"type", "mobile"}};
  PublicProjection p(Policy(R"({"private_attributes":["phones.mobile"]})"));
  EXPECT_EQ(p.Project(Stored(c)).kind, PublicProjection::Kind::kAsStored);
  PublicProjection q(Policy(R"({"private_attributes":["phones"]})"));
  EXPECT_EQ(q.Project(Stored(c)).kind, PublicProjection::Kind::kAsStored);
}

TEST(PublicProjectionTest, DiffersOnlyWhereThePublicViewChanges) {
  PublicProjection none{VisibilityPolicy{}};
  PublicProjection mobile(Policy(R"({"private_attributes":["phones.mobile"]})"));
  PublicProjection pager(Policy(R"({"private_attributes":["phones.pager"]})"));
  const std::string ada = Stored(Person());
  EXPECT_TRUE(PublicProjection::Differs(none, mobile, ada));
  EXPECT_TRUE(PublicProjection::Differs(mobile, none, ada));
  EXPECT_FALSE(PublicProjection::Differs(none, pager, ada));
  EXPECT_FALSE(PublicProjection::Differs(mobile, mobile, ada));
  Contact hidden = Person();
  hidden.hidden = true;
  EXPECT_FALSE(PublicProjection::Differs(none, mobile, Stored(hidden)));
}

TEST(ContactHiddenTest, RoundTripsAndIsContent) {
  auto c = ParseContactJson(
      R"({"id":"svc","name":{"full":"Backup"},"hidden":true})");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->hidden);
  const std::string canonical = CanonicalContentJson(*c);
  EXPECT_EQ(canonical, R"({"id":"svc","hidden":true,"name":{"full":"Backup"}})");
  Contact shown = *c;
  shown.hidden = false;
  EXPECT_FALSE(shown.SameContent(*c));
  EXPECT_EQ(CanonicalContentJson(shown), R"({"id":"svc","name":{"full":"Backup"}})");
  auto bad = ParseContactJson(R"({"id":"svc","name":{"full":"B"},"hidden":1})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("hidden"), std::string::npos);
}

}  // namespace
}  // namespace galsync
