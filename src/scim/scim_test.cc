// Tests of the SCIM core: the User <-> Contact mapping, the filter language
// (the RFC 7644 3.4.2.2 examples among them), and PATCH (the RFC 7644
// 3.5.2 examples, adapted to Users where they patch Groups).
#include "galsync/scim.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace galsync::scim {
namespace {

namespace json = boost::json;

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

// RFC 7643 8.2's full representation, trimmed to what galsync keeps.
constexpr char kBabs[] = R"({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "ignored-on-input",
  "externalId": "701984",
  "userName": "bjensen@example.com",
  "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen",
           "givenName": "Barbara", "middleName": "Jane",
           "honorificPrefix": "Ms.", "honorificSuffix": "III"},
  "displayName": "Babs Jensen",
  "nickName": "Babs",
  "profileUrl": "https://login.example.com/bjensen",
  "emails": [{"value": "babs@jensen.org", "type": "home"},
             {"value": "bjensen@example.com", "type": "work", "primary": true}],
  "addresses": [{"type": "home", "streetAddress": "456 Hollywood Blvd",
                 "locality": "Hollywood", "region": "CA", "postalCode": "91608",
                 "country": "US"},
                {"type": "work", "streetAddress": "100 Universal City Plaza",
                 "locality": "Hollywood", "region": "CA", "postalCode": "91608",
                 "country": "US", "primary": true}],
  "phoneNumbers": [{"value": "555-555-5555", "type": "work"},
                   {"value": "555-555-4444", "type": "mobile"}],
  "ims": [{"value": "someaimhandle", "type": "aim"}],
  "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F",
              "type": "photo"}],
  "userType": "Employee",
  "title": "Tour Guide",
  "preferredLanguage": "en-US",
  "locale": "en-US",
  "timezone": "America/Los_Angeles",
  "active": true,
  "password": "t1meMa$heen",
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984", "costCenter": "4130",
    "organization": "Universal Studios", "division": "Theme Park",
    "department": "Tour Operations",
    "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d",
                "displayName": "John Smith"}},
  "meta": {"resourceType": "User", "version": "W/\"3694e05e9dff591\""}
})";

Contact Babs() {
  Contact base;
  base.id = "2819c223";
  std::string user_name;
  auto c = ContactOfUser(Obj(kBabs), base, &user_name);
  EXPECT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(user_name, "bjensen@example.com");
  return *c;
}

TEST(ScimUserTest, AUserBecomesAContact) {
  const Contact c = Babs();
  EXPECT_EQ(c.id, "2819c223");  // the resource's id is the server's
  EXPECT_EQ(c.name.full, "Babs Jensen");
  EXPECT_EQ(c.name.given, "Barbara");
  EXPECT_EQ(c.name.middle, "Jane");
  EXPECT_EQ(c.name.prefix, "Ms.");
  EXPECT_EQ(c.name.suffix, "III");
  EXPECT_EQ(c.nickname, "Babs");
  ASSERT_EQ(c.emails.size(), 2u);
  EXPECT_EQ(c.emails[0].address, "bjensen@example.com");  // primary first
  EXPECT_EQ(c.emails[0].type, "work");
  EXPECT_EQ(c.emails[1].type, "home");
  ASSERT_EQ(c.phones.size(), 2u);
  EXPECT_EQ(c.phones[1].type, "mobile");
  EXPECT_EQ(c.office.street, "100 Universal City Plaza");  // the work one
  EXPECT_EQ(c.photo, "https://photos.example.com/profilephoto/72930000000Ccne/F");
  ASSERT_EQ(c.links.size(), 1u);
  EXPECT_EQ(c.links[0].type, "profile");
  EXPECT_EQ(c.title, "Tour Guide");
  EXPECT_EQ(c.organization, "Universal Studios");
  EXPECT_EQ(c.department, "Tour Operations");
  EXPECT_EQ(c.manager, "26118915-6090-4610-87e4-49d8ca9f808d");
  EXPECT_FALSE(c.hidden);
  std::map<std::string, std::string> extra(c.extra.begin(), c.extra.end());
  EXPECT_EQ(extra["scim.userName"], "bjensen@example.com");
  EXPECT_EQ(extra["scim.externalId"], "701984");
  EXPECT_EQ(extra["employee_number"], "701984");
  EXPECT_EQ(extra["cost_center"], "4130");
  EXPECT_EQ(extra["division"], "Theme Park");
  EXPECT_EQ(extra["scim.timezone"], "America/Los_Angeles");
  EXPECT_EQ(extra.count("password"), 0u);
  // The contact is one the codec accepts.
  EXPECT_TRUE(ParseContactJson(CanonicalContentJson(c)).ok());
}

TEST(ScimUserTest, TheResourceOfAContactMapsBackToTheSameContact) {
  Contact c = Babs();
  c.seq = 42;
  c.updated_us = 1'700'000'000'000'000;
  const json::object u = UserOf(c, "/v1/domains/d/scim/v2/Users/2819c223");
  EXPECT_EQ(u.at("userName"), "bjensen@example.com");
  EXPECT_EQ(u.at("meta").at("version"), "W/\"42\"");
  EXPECT_EQ(u.at("meta").at("location"), "/v1/domains/d/scim/v2/Users/2819c223");
  EXPECT_EQ(u.at("emails").at(0).at("primary"), true);
  EXPECT_EQ(u.at("schemas").as_array().size(), 2u);
  EXPECT_FALSE(u.contains("password"));
  std::string user_name;
  Contact base;
  base.id = c.id;
  auto back = ContactOfUser(u, base, &user_name);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(back->SameContent(c)) << CanonicalContentJson(*back) << "\n"
                                    << CanonicalContentJson(c);
}

TEST(ScimUserTest, ReplacingKeepsWhatScimHasNoNameForAndClearsTheRest) {
  Contact base = Babs();
  base.office.room = "B-204";
  base.links.push_back({"https://github.com/bjensen", "github"});
  base.extra.emplace_back("badge", "7");
  std::sort(base.extra.begin(), base.extra.end());
  std::string user_name;
  auto c = ContactOfUser(Obj(R"({"USERNAME":"Babs","Name":{"GivenName":"B"},
                                 "active":"False"})"),
                         base, &user_name);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(user_name, "Babs");  // attribute names in any case
  EXPECT_EQ(c->name.given, "B");
  EXPECT_TRUE(c->hidden);  // active "False", as some providers send it
  EXPECT_TRUE(c->emails.empty());
  EXPECT_TRUE(c->title.empty());
  EXPECT_TRUE(c->manager.empty());
  EXPECT_EQ(c->office.room, "B-204");
  EXPECT_TRUE(c->office.street.empty());
  ASSERT_EQ(c->links.size(), 1u);
  EXPECT_EQ(c->links[0].type, "github");
  std::map<std::string, std::string> extra(c->extra.begin(), c->extra.end());
  EXPECT_EQ(extra["badge"], "7");
  EXPECT_EQ(extra.count("employee_number"), 0u);
}

TEST(ScimUserTest, TypesDefaultToWorkAndUnknownOnesAreOther) {
  std::string user_name;
  Contact base;
  base.id = "x";
  auto c = ContactOfUser(Obj(R"({"userName":"a",
      "emails":[{"value":"a@example.com"},{"value":"b@example.com","type":"Home"},
                {"value":"c@example.com","type":"school"}],
      "phoneNumbers":[{"value":"+1 555 0100"},{"value":"+1 555 0101","type":"MOBILE"}]})"),
                         base, &user_name);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->emails[0].type, "work");
  EXPECT_EQ(c->emails[1].type, "home");
  EXPECT_EQ(c->emails[2].type, "other");
  EXPECT_EQ(c->phones[0].type, "work");
  EXPECT_EQ(c->phones[1].type, "mobile");
}

TEST(ScimUserTest, BadUsersAreInvalidValue) {
  std::string user_name;
  Contact base;
  base.id = "x";
  for (const char* bad : {
           R"({"name":{"givenName":"A"}})",
           R"({"userName":""})",
           R"({"userName":7})",
           R"({"userName":"a","emails":"a@example.com"})",
           R"({"userName":"a","emails":[{"type":"work"}]})",
           R"({"userName":"a","active":"maybe"})",
           R"({"userName":"a","name":"Ann"})",
           R"({"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":[]})",
       }) {
    auto c = ContactOfUser(Obj(bad), base, &user_name);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.error().reason, "invalidValue") << bad;
  }
}

bool Match(std::string_view filter, const json::object& user) {
  auto f = ParseFilter(filter);
  EXPECT_TRUE(f.ok()) << filter << ": " << f.error().message;
  return f.ok() && Matches(*f, user);
}

TEST(ScimFilterTest, TheRfcExamples) {
  Contact c = Babs();
  c.seq = 3;
  c.updated_us = 1'305'261'754'000'000;  // 2011-05-13T04:42:34Z
  const json::object u = UserOf(c, "/u");
  EXPECT_TRUE(Match(R"(userName Eq "BJENSEN@example.com")", u));
  EXPECT_TRUE(Match(R"(name.familyName co "ens")", u));
  EXPECT_FALSE(Match(R"(name.familyName co "O'Malley")", u));
  EXPECT_TRUE(Match(R"(userName sw "B")", u));
  EXPECT_TRUE(Match(R"(urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "jensen")", u));
  EXPECT_TRUE(Match("title pr", u));
  EXPECT_FALSE(Match("nickName pr and not (title pr)", u));
  EXPECT_TRUE(Match(R"(meta.lastModified ge "2011-05-13T04:42:34Z")", u));
  EXPECT_FALSE(Match(R"(meta.lastModified gt "2011-05-13T04:42:34Z")", u));
  EXPECT_TRUE(Match(R"(title pr and userType eq "Employee")", u));
  EXPECT_TRUE(Match(R"(title pr or userType eq "Intern")", u));
  EXPECT_TRUE(Match(R"(userType eq "Employee" and (emails co "example.com" or emails.value co "example.org"))", u));
  EXPECT_FALSE(Match(R"(userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org"))", u));
  EXPECT_TRUE(Match(R"(userType eq "Employee" and (emails.type eq "work"))", u));
  EXPECT_TRUE(Match(R"(userType eq "Employee" and emails[type eq "work" and value co "@example.com"])", u));
  EXPECT_FALSE(Match(R"(emails[type eq "home" and value co "@example.com"])", u));
  EXPECT_TRUE(Match(R"(emails[type eq "work" and value co "@example.com"] or phoneNumbers[type eq "fax"])", u));
  EXPECT_TRUE(Match(R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations")", u));
  EXPECT_TRUE(Match(R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d")", u));
  EXPECT_TRUE(Match("active eq true", u));
  EXPECT_FALSE(Match("active eq false", u));
  EXPECT_TRUE(Match("nickName ne null", u));
  EXPECT_TRUE(Match(R"(title ne "Boss")", u));
  // id and externalId are case-exact; userName is not.
  EXPECT_TRUE(Match(R"(externalId eq "701984")", u));
  EXPECT_TRUE(Match(R"(id eq "2819c223")", u));
  EXPECT_FALSE(Match(R"(id eq "2819C223")", u));
  // "and" binds tighter than "or".
  EXPECT_TRUE(Match(R"(title eq "x" and title eq "y" or active eq true)", u));
  EXPECT_FALSE(Match(R"(title eq "x" and (title eq "y" or active eq true))", u));
}

TEST(ScimFilterTest, UserNameEqualsIsRecognised) {
  EXPECT_EQ(UserNameEquals(*ParseFilter(R"(userName eq "Ann")")), "Ann");
  EXPECT_EQ(UserNameEquals(*ParseFilter(R"(USERNAME EQ "Ann")")), "Ann");
  EXPECT_FALSE(UserNameEquals(*ParseFilter(R"(userName sw "Ann")")));
  EXPECT_FALSE(UserNameEquals(*ParseFilter(R"(userName eq "A" or title pr)")));
}

TEST(ScimFilterTest, BadFiltersAreInvalidFilterWithThePosition) {
  const std::string deep = std::string(20, '(') + "title pr" + std::string(20, ')');
  std::string many = "title pr";
  for (int i = 0; i < 70; ++i) many += " or title pr";
  for (const std::string& bad : {
           std::string(""), std::string("userName"), std::string("userName eq"),
           std::string("userName zz \"a\""), std::string("nosuch eq \"a\""),
           std::string("name.nosuch eq \"a\""), std::string("(title pr"),
           std::string("title pr)"), std::string("emails[type eq \"work\""),
           std::string("emails[nosuch eq \"a\"]"),
           std::string("title[value eq \"a\"]"),
           std::string("userName eq \"unterminated"),
           std::string("userName eq {\"a\":1}"),
           std::string("urn:example:other:2.0:User:x eq \"a\""),
           std::string("title pr and"), deep, many,
           std::string(5000, 'a')}) {
    auto f = ParseFilter(bad);
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_EQ(f.error().reason, "invalidFilter") << bad;
  }
  auto f = ParseFilter("userName zz \"a\"");
  EXPECT_NE(f.error().message.find("offset 9"), std::string::npos)
      << f.error().message;
}

json::object Patched(std::string_view ops, const json::object& user) {
  json::object u = user;
  auto st = ApplyPatch(json::parse(ops), u);
  EXPECT_TRUE(st.ok()) << ops << ": " << st.error().message;
  return u;
}

const json::object& BabsResource() {
  static const json::object u = UserOf(Babs(), "/u");
  return u;
}

TEST(ScimPatchTest, AddWithoutAPathAddsEveryMember) {
  // RFC 7644 3.5.2.1: "nickname" (any case) and an e-mail address.
  json::object u = Patched(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations":[{"op":"add","value":{
      "emails":[{"value":"babs@jensen.net","type":"other"}],
      "nickname":"Babsie"}}]})", BabsResource());
  EXPECT_EQ(u.at("emails").as_array().size(), 3u);
  EXPECT_EQ(u.at("emails").at(2).at("value"), "babs@jensen.net");
  EXPECT_EQ(u.at("nickName"), "Babsie");
}

TEST(ScimPatchTest, ReplaceAValuePathAndItsSubAttribute) {
  // RFC 7644 3.5.2.3: addresses[type eq "work"] and its streetAddress.
  json::object u = Patched(R"({"Operations":[
    {"op":"replace","path":"addresses[type eq \"work\"]",
     "value":{"type":"work","streetAddress":"911 Universal City Plaza",
              "locality":"Hollywood","region":"CA","postalCode":"91608",
              "country":"US","formatted":"911 Universal City Plaza\nHollywood, CA 91608 US",
              "primary":true}},
    {"op":"Replace","path":"addresses[type eq \"work\"].streetAddress",
     "value":"1010 Broadway Ave"}]})", BabsResource());
  EXPECT_EQ(u.at("addresses").at(0).at("streetAddress"), "1010 Broadway Ave");
  std::string un;
  Contact base;
  base.id = "x";
  EXPECT_EQ(ContactOfUser(u, base, &un)->office.street, "1010 Broadway Ave");
}

TEST(ScimPatchTest, ReplaceWithoutAPathAndWithDottedNames) {
  json::object u = Patched(R"({"Operations":[
    {"op":"replace","value":{
      "emails":[{"value":"bjensen@example.com","type":"work","primary":true},
                {"value":"babs@jensen.org","type":"home"}],
      "nickname":"Babs", "name.givenName":"Barb",
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales"},
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"9"}}]})",
                           BabsResource());
  EXPECT_EQ(u.at("emails").as_array().size(), 2u);
  EXPECT_EQ(u.at("name").at("givenName"), "Barb");
  EXPECT_EQ(u.at("name").at("familyName"), "Jensen");  // merged, not replaced
  const auto& ext = u.at(kEnterpriseSchema);
  EXPECT_EQ(ext.at("department"), "Sales");
  EXPECT_EQ(ext.at("employeeNumber"), "9");
  EXPECT_EQ(ext.at("organization"), "Universal Studios");
}

TEST(ScimPatchTest, RemoveAttributesSubAttributesAndMatchingElements) {
  // RFC 7644 3.5.2.2: remove one member by filter, then all members.
  json::object u = Patched(R"({"Operations":[
    {"op":"remove","path":"emails[type eq \"home\"]"},
    {"op":"remove","path":"name.middleName"},
    {"op":"remove","path":"title"},
    {"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]})",
                           BabsResource());
  ASSERT_EQ(u.at("emails").as_array().size(), 1u);
  EXPECT_EQ(u.at("emails").at(0).at("type"), "work");
  EXPECT_FALSE(u.at("name").as_object().contains("middleName"));
  EXPECT_FALSE(u.contains("title"));
  EXPECT_FALSE(u.at(kEnterpriseSchema).as_object().contains("manager"));
  u = Patched(R"({"Operations":[{"op":"remove","path":"emails"}]})", u);
  EXPECT_FALSE(u.contains("emails"));
}

TEST(ScimPatchTest, AddThroughAFilterThatMatchesNothingMakesTheElement) {
  json::object u = Patched(R"({"Operations":[
    {"op":"add","path":"phoneNumbers[type eq \"fax\"].value","value":"555-1"},
    {"op":"add","path":"active","value":false}]})", BabsResource());
  ASSERT_EQ(u.at("phoneNumbers").as_array().size(), 3u);
  EXPECT_EQ(u.at("phoneNumbers").at(2).at("type"), "fax");
  EXPECT_EQ(u.at("phoneNumbers").at(2).at("value"), "555-1");
  EXPECT_EQ(u.at("active"), false);
}

TEST(ScimPatchTest, FailuresChangeNothingAndSayWhy) {
  struct Case {
    const char* body;
    const char* reason;
  };
  for (const Case& c : {
           Case{R"([])", "invalidSyntax"},
           Case{R"({"Operations":[]})", "invalidSyntax"},
           Case{R"({"schemas":["x"],"Operations":[{"op":"add","value":{}}]})",
                "invalidSyntax"},
           Case{R"({"Operations":[{"op":"move","path":"title","value":"x"}]})",
                "invalidSyntax"},
           Case{R"({"Operations":[{"op":"add","path":"title"}]})", "invalidValue"},
           Case{R"({"Operations":[{"op":"add","path":"nosuch","value":"x"}]})",
                "invalidPath"},
           Case{R"({"Operations":[{"op":"add","path":"title[value eq \"x\"]","value":"x"}]})",
                "invalidPath"},
           Case{R"({"Operations":[{"op":"replace","path":"emails[type eq \"fax\"].value","value":"a@b.c"}]})",
                "noTarget"},
           Case{R"({"Operations":[{"op":"remove"}]})", "noTarget"},
           Case{R"({"Operations":[{"op":"replace","path":"id","value":"x"}]})",
                "mutability"},
           Case{R"({"Operations":[{"op":"replace","path":"meta.version","value":"x"}]})",
                "mutability"},
       }) {
    json::object u = BabsResource();
    auto st = ApplyPatch(json::parse(c.body), u);
    ASSERT_FALSE(st.ok()) << c.body;
    EXPECT_EQ(st.error().reason, c.reason) << c.body << ": " << st.error().message;
    EXPECT_EQ(u, BabsResource()) << c.body;
  }
  // The first operation applied, the second failed: nothing changed.
  json::object u = BabsResource();
  EXPECT_FALSE(ApplyPatch(json::parse(R"({"Operations":[
      {"op":"replace","path":"title","value":"Boss"},
      {"op":"replace","path":"id","value":"x"}]})"), u).ok());
  EXPECT_EQ(u.at("title"), "Tour Guide");
  std::string many = R"({"Operations":[)";
  for (int i = 0; i < 101; ++i) {
    many += std::string(i ? "," : "") + R"({"op":"add","path":"title","value":"x"})";
  }
  many += "]}";
  auto st = ApplyPatch(json::parse(many), u);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().reason, "tooMany");
}

TEST(ScimPatchTest, PathsParse) {
  auto p = ParsePatchPath(R"(emails[type eq "work"].value)");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->path.attr, "emails");
  EXPECT_EQ(p->path.sub, "value");
  ASSERT_TRUE(p->filter);
  p = ParsePatchPath("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:Manager.Value");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE(p->path.enterprise);
  EXPECT_EQ(p->path.attr, "manager");
  EXPECT_EQ(p->path.sub, "value");
  for (const char* bad : {"", "emails[", "emails[type eq \"a\"].nosuch",
                          "emails[type eq \"a\"] x", "name.givenName.x"}) {
    auto b = ParsePatchPath(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.error().reason, "invalidPath") << bad;
  }
}

}  // namespace
}  // namespace galsync::scim
