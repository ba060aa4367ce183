// Tests for the contact codec (src/model/contact.cc): decoding and
// validation, canonical and stored serializations, and time formatting.
#include "galsync/contact.h"

#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace galsync {
namespace {

// Substring check with a readable failure message (gtest only, no gmock).
::testing::AssertionResult Contains(std::string_view text,
                                    std::string_view part) {
  if (text.find(part) != std::string_view::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "\"" << text << "\" does not contain \"" << part << "\"";
}

// A complete contact, members deliberately not in canonical order.
constexpr std::string_view kFullContactJson = R"({
  "extra": {"shoe-size": "44", "cost.center": "CC-17", "aa:b_c": "x"},
  "photo": "https://example.com/p/jose.jpg",
  "id": "jose.alvarez@example.com",
  "name": {"suffix": "Jr.", "family": "Álvarez", "given": "José",
           "prefix": "Dr.", "middle": "María", "full": "Dr. José Álvarez Jr."},
  "nickname": "Pepe",
  "emails": [{"type": "work", "address": "jose@example.com"},
             {"address": "pepe@home.example.org", "type": "home"}],
  "phones": [{"number": "+34 91 123 45 67", "type": "work"},
             {"number": "+34 600 000 000", "type": "mobile"}],
  "title": "Chief \"Quoted\" Officer",
  "department": "R&D \\ Platform",
  "organization": "Example S.A.",
  "manager": "ceo",
  "office": {"country": "ES", "room": "4.12", "street": "Calle Mayor 1",
             "locality": "Madrid", "region": "M", "postcode": "28013"},
  "links": [{"uri": "https://www.linkedin.com/in/jose", "type": "linkedin"},
            {"uri": "https://example.com/~jose"}]
})";

constexpr std::string_view kFullContactCanonical =
    R"({"id":"jose.alvarez@example.com",)"
    R"("name":{"full":"Dr. José Álvarez Jr.","prefix":"Dr.","given":"José",)"
    R"("middle":"María","family":"Álvarez","suffix":"Jr."},)"
    R"("nickname":"Pepe",)"
    R"("emails":[{"address":"jose@example.com","type":"work"},)"
    R"({"address":"pepe@home.example.org","type":"home"}],)"
    R"("phones":[{"number":"+34 91 123 45 67","type":"work"},)"
    R"({"number":"+34 600 000 000","type":"mobile"}],)"
    R"("title":"Chief \"Quoted\" Officer",)"
    R"("department":"R&D \\ Platform",)"
    R"("organization":"Example S.A.",)"
    R"("manager":"ceo",)"
    R"("office":{"room":"4.12","street":"Calle Mayor 1","locality":"Madrid",)"
    R"("region":"M","postcode":"28013","country":"ES"},)"
    R"("links":[{"uri":"https://www.linkedin.com/in/jose","type":"linkedin"},)"
    R"({"uri":"https://example.com/~jose","type":"profile"}],)"
    R"("photo":"https://example.com/p/jose.jpg",)"
    R"("extra":{"aa:b_c":"x","cost.center":"CC-17","shoe-size":"44"}})";

// A minimal valid contact with `members` (JSON text, without a leading
// comma) added.
std::string With(std::string_view members) {
  std::string s = R"({"id":"u1","name":{"given":"Ann"})";
  if (!members.empty()) {
    s += ',';
    s += members;
  }
  s += '}';
  return s;
}

// JSON string literal for `s` (for building test inputs).
std::string Quote(std::string_view s) {
  return boost::json::serialize(boost::json::string(s));
}

Contact MustParse(std::string_view text) {
  Result<Contact> r = ParseContactJson(text);
  EXPECT_TRUE(r.ok()) << text << "\n  -> " << r.error().reason << ": "
                      << r.error().message;
  return r.ok() ? std::move(r).value() : Contact{};
}

Error MustFail(std::string_view text) {
  Result<Contact> r = ParseContactJson(text);
  EXPECT_FALSE(r.ok()) << text << "\n  -> parsed as "
                       << CanonicalContentJson(r.value());
  return r.ok() ? Error{} : std::move(r).error();
}

// Expects `text` to be rejected as invalid with `reason` and a message that
// contains `fragment`.
void ExpectInvalid(std::string_view text, std::string_view reason,
                   std::string_view fragment) {
  SCOPED_TRACE(std::string(text.substr(0, 200)));
  Error e = MustFail(text);
  EXPECT_EQ(e.kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(e.reason, reason) << e.message;
  EXPECT_TRUE(Contains(e.message, std::string(fragment)));
}

// parse -> canonical -> parse gives equal content and identical bytes.
void ExpectCanonicalRoundTrip(std::string_view text) {
  SCOPED_TRACE(std::string(text));
  Contact c = MustParse(text);
  std::string canonical = CanonicalContentJson(c);
  Contact again = MustParse(canonical);
  EXPECT_TRUE(again.SameContent(c));
  EXPECT_EQ(CanonicalContentJson(again), canonical);
}

// ---------------------------------------------------------------------------
// Ids.

TEST(ContactIdTest, Valid) {
  EXPECT_TRUE(IsValidContactId("a"));
  EXPECT_TRUE(IsValidContactId("jose.alvarez@example.com"));
  EXPECT_TRUE(IsValidContactId("A-Z_a~z+0=9"));
  EXPECT_TRUE(IsValidContactId(std::string(128, 'x')));
}

TEST(ContactIdTest, Invalid) {
  EXPECT_FALSE(IsValidContactId(""));
  EXPECT_FALSE(IsValidContactId(std::string(129, 'x')));
  for (std::string_view id : {"a b", "a/b", "a#b", "a?b", "a%20", "a\"b",
                              "José", "a\nb", "a:b", "a,b"}) {
    EXPECT_FALSE(IsValidContactId(id)) << id;
  }
}

// ---------------------------------------------------------------------------
// Decoding and the canonical form.

TEST(ContactJsonTest, ParsesFullContact) {
  Contact c = MustParse(kFullContactJson);
  EXPECT_EQ(c.id, "jose.alvarez@example.com");
  EXPECT_EQ(c.name.full, "Dr. José Álvarez Jr.");
  EXPECT_EQ(c.name.prefix, "Dr.");
  EXPECT_EQ(c.name.given, "José");
  EXPECT_EQ(c.name.middle, "María");
  EXPECT_EQ(c.name.family, "Álvarez");
  EXPECT_EQ(c.name.suffix, "Jr.");
  EXPECT_EQ(c.nickname, "Pepe");
  ASSERT_EQ(c.emails.size(), 2u);
  EXPECT_EQ(c.emails[0], (Email{"jose@example.com", "work"}));
  EXPECT_EQ(c.emails[1], (Email{"pepe@home.example.org", "home"}));
  ASSERT_EQ(c.phones.size(), 2u);
  EXPECT_EQ(c.phones[1], (Phone{"+34 600 000 000", "mobile"}));
  EXPECT_EQ(c.title, "Chief \"Quoted\" Officer");
  EXPECT_EQ(c.department, "R&D \\ Platform");
  EXPECT_EQ(c.organization, "Example S.A.");
  EXPECT_EQ(c.manager, "ceo");
  EXPECT_EQ(c.office,
            (Office{"4.12", "Calle Mayor 1", "Madrid", "M", "28013", "ES"}));
  ASSERT_EQ(c.links.size(), 2u);
  EXPECT_EQ(c.links[0], (Link{"https://www.linkedin.com/in/jose", "linkedin"}));
  EXPECT_EQ(c.links[1], (Link{"https://example.com/~jose", "profile"}));
  EXPECT_EQ(c.photo, "https://example.com/p/jose.jpg");
  const std::vector<std::pair<std::string, std::string>> extra = {
      {"aa:b_c", "x"}, {"cost.center", "CC-17"}, {"shoe-size", "44"}};
  EXPECT_EQ(c.extra, extra);  // sorted by key
  EXPECT_EQ(c.domain, "");
  EXPECT_EQ(c.seq, 0u);
  EXPECT_EQ(c.updated_us, 0);
}

TEST(ContactJsonTest, CanonicalFormIsExact) {
  EXPECT_EQ(CanonicalContentJson(MustParse(kFullContactJson)),
            kFullContactCanonical);
}

TEST(ContactJsonTest, CanonicalOfMinimalContact) {
  EXPECT_EQ(
      CanonicalContentJson(MustParse(R"({"id":"x","name":{"full":"X"}})")),
      R"({"id":"x","name":{"full":"X"}})");
  Contact c;
  c.id = "only-id";
  EXPECT_EQ(CanonicalContentJson(c), R"({"id":"only-id"})");
}

TEST(ContactJsonTest, CanonicalRoundTrip) {
  ExpectCanonicalRoundTrip(kFullContactJson);
  ExpectCanonicalRoundTrip(kFullContactCanonical);
  ExpectCanonicalRoundTrip(With(""));
  ExpectCanonicalRoundTrip(With(R"("title":"q\" b\\ s\/ u\u00e9")"));
  // The canonical text is a fixed point.
  Contact c = MustParse(kFullContactCanonical);
  EXPECT_EQ(CanonicalContentJson(c), kFullContactCanonical);
}

TEST(ContactJsonTest, CanonicalIgnoresInputOrderAndWhitespace) {
  Contact a =
      MustParse(R"({"id":"p","name":{"given":"A","family":"B"},"title":"T",)"
                R"("extra":{"b":"2","a":"1"}})");
  Contact b = MustParse(R"(  {"extra":{"a":"1","b":"2"},"title":"T",)"
                        "\n\t"
                        R"("name":{"family":"B","given":"A"},"id":"p"} )");
  EXPECT_TRUE(a.SameContent(b));
  EXPECT_EQ(CanonicalContentJson(a), CanonicalContentJson(b));
}

TEST(ContactJsonTest, CanonicalOfUnsortedExtraBuiltInCode) {
  Contact c;
  c.id = "p";
  c.name.full = "P";
  c.extra = {{"zeta", "1"}, {"alpha", "2"}, {"empty", ""}, {"mid", "3"}};
  EXPECT_EQ(CanonicalContentJson(c),
            R"({"id":"p","name":{"full":"P"},)"
            R"("extra":{"alpha":"2","mid":"3","zeta":"1"}})");
}

TEST(ContactJsonTest, DefaultsForTypes) {
  Contact c = MustParse(With(R"("emails":[{"address":"a@example.com"}],)"
                             R"("phones":[{"number":"555-1234"}],)"
                             R"("links":[{"uri":"https://example.com/a"}])"));
  EXPECT_EQ(c.emails[0].type, "work");
  EXPECT_EQ(c.phones[0].type, "work");
  EXPECT_EQ(c.links[0].type, "profile");
  EXPECT_EQ(CanonicalContentJson(c),
            R"({"id":"u1","name":{"full":"Ann","given":"Ann"},)"
            R"("emails":[{"address":"a@example.com","type":"work"}],)"
            R"("phones":[{"number":"555-1234","type":"work"}],)"
            R"("links":[{"uri":"https://example.com/a","type":"profile"}]})");
}

TEST(ContactJsonTest, AllTypesAccepted) {
  for (std::string_view t : {"work", "home", "other"}) {
    Contact c = MustParse(With(R"("emails":[{"address":"a@b.example",)"
                               R"("type":)" +
                               Quote(t) + "}]"));
    EXPECT_EQ(c.emails[0].type, t);
  }
  for (std::string_view t :
       {"work", "home", "mobile", "fax", "pager", "other"}) {
    Contact c = MustParse(
        With(R"("phones":[{"number":"12345","type":)" + Quote(t) + "}]"));
    EXPECT_EQ(c.phones[0].type, t);
  }
  for (std::string_view t : {"linkedin", "github", "x", "blog-2",
                             "abcdefghijklmnopqrstuvwxyz012345"}) {
    Contact c = MustParse(
        With(R"("links":[{"uri":"https://e.x","type":)" + Quote(t) + "}]"));
    EXPECT_EQ(c.links[0].type, t);
  }
}

TEST(ContactJsonTest, EmptyMembersAreOmitted) {
  Contact c = MustParse(
      R"({"id":"e","name":{"full":"E","prefix":"","middle":""},)"
      R"("nickname":"","emails":[],"phones":[],"title":"","department":"",)"
      R"("organization":"","manager":"","office":{"room":"","country":""},)"
      R"("links":[],"photo":"","extra":{"gone":""}})");
  EXPECT_TRUE(c.extra.empty());
  EXPECT_EQ(CanonicalContentJson(c), R"({"id":"e","name":{"full":"E"}})");
  EXPECT_EQ(CanonicalContentJson(MustParse(
                R"({"id":"e","name":{"full":"E"},"office":{"room":"1"}})")),
            R"({"id":"e","name":{"full":"E"},"office":{"room":"1"}})");
}

TEST(ContactJsonTest, FullNameDerivedFromParts) {
  EXPECT_EQ(MustParse(R"({"id":"a","name":{"given":"Ann","middle":"B",)"
                      R"("family":"Cole","prefix":"Dr.","suffix":"PhD"}})")
                .name.full,
            "Ann B Cole");
  EXPECT_EQ(MustParse(R"({"id":"a","name":{"family":"Cole"}})").name.full,
            "Cole");
  EXPECT_EQ(MustParse(R"({"id":"a","name":{"given":"Ann","family":"Cole"}})")
                .name.full,
            "Ann Cole");
  EXPECT_EQ(MustParse(R"({"id":"a","name":{"middle":"B","family":"Cole"}})")
                .name.full,
            "B Cole");
  // An explicit full name is kept as is.
  EXPECT_EQ(MustParse(R"({"id":"a","name":{"full":"Annie","given":"Ann"}})")
                .name.full,
            "Annie");
  // The derived name must fit the limit like an explicit one.
  std::string part(200, 'n');
  ExpectInvalid(R"({"id":"a","name":{"given":")" + part + R"(","family":")" +
                    part + R"("}})",
                "invalid_contact", "name.full");
}

TEST(ContactJsonTest, MissingName) {
  ExpectInvalid(R"({"id":"a"})", "missing_name", "name");
  ExpectInvalid(R"({"id":"a","name":{}})", "missing_name", "name.given");
  ExpectInvalid(R"({"id":"a","name":{"full":"","given":"","family":""}})",
                "missing_name", "name.full");
  ExpectInvalid(R"({"id":"a","name":{"prefix":"Dr.","middle":"X",)"
                R"("suffix":"Jr."},"nickname":"Doc"})",
                "missing_name", "name.family");
}

TEST(ContactJsonTest, Id) {
  ExpectInvalid(R"({"name":{"full":"A"}})", "invalid_contact",
                "\"id\" is required");
  ExpectInvalid(R"({"id":"","name":{"full":"A"}})", "invalid_contact", "id");
  ExpectInvalid(R"({"id":"a b","name":{"full":"A"}})", "invalid_contact",
                R"(id: "a b" is not a valid contact id)");
  ExpectInvalid(R"({"id":"josé","name":{"full":"A"}})", "invalid_contact",
                "not a valid contact id");
  ExpectInvalid(
      R"({"id":")" + std::string(129, 'i') + R"(","name":{"full":"A"}})",
      "invalid_contact", "129 bytes");
  EXPECT_EQ(MustParse(R"({"id":")" + std::string(128, 'i') +
                      R"(","name":{"full":"A"}})")
                .id.size(),
            128u);
}

TEST(ContactJsonTest, Manager) {
  EXPECT_EQ(MustParse(With(R"("manager":"boss@example.com")")).manager,
            "boss@example.com");
  ExpectInvalid(With(R"("manager":"the boss")"), "invalid_contact",
                R"(manager: "the boss")");
  ExpectInvalid(With(R"("manager":7)"), "invalid_contact",
                "manager: expected a string, got a number");
}

// ---------------------------------------------------------------------------
// Unknown members and wrong types.

TEST(ContactJsonTest, UnknownFields) {
  ExpectInvalid(R"({"id":"a","nmae":{"full":"A"}})", "unknown_field",
                R"(unknown field "nmae" (free-form attributes belong in )"
                R"("extra"))");
  ExpectInvalid(With(R"("Title":"x")"), "unknown_field", R"("Title")");
  ExpectInvalid(R"({"id":"a","name":{"full":"A","frist":"B"}})",
                "unknown_field", R"(unknown field "name.frist")");
  ExpectInvalid(With(R"("emails":[{"address":"a@b.example"},)"
                     R"({"adress":"c@d.example"}])"),
                "unknown_field", R"(unknown field "emails[1].adress")");
  ExpectInvalid(With(R"("phones":[{"number":"12345","kind":"home"}])"),
                "unknown_field", R"("phones[0].kind")");
  ExpectInvalid(With(R"("office":{"city":"Madrid"})"), "unknown_field",
                R"("office.city")");
  ExpectInvalid(With(R"("links":[{"url":"https://e.x"}])"), "unknown_field",
                R"("links[0].url")");
  // An unknown member is reported even when it is empty or null.
  ExpectInvalid(With(R"("foo":null)"), "unknown_field", R"("foo")");
  // Keys are escaped in messages.
  ExpectInvalid(With(R"("a\"b\n":"x")"), "unknown_field", R"("a\"b\n")");
}

TEST(ContactJsonTest, WrongTypes) {
  struct Case {
    std::string json;
    std::string fragment;
  };
  const Case cases[] = {
      {R"({"id":1,"name":{"full":"A"}})",
       "id: expected a string, got a number"},
      {R"({"id":"a","name":"Ann"})", "name: expected an object, got a string"},
      {R"({"id":"a","name":{"full":["A"]}})",
       "name.full: expected a string, got an array"},
      {With(R"("nickname":null)"), "nickname: expected a string, got null"},
      {With(R"("title":true)"), "title: expected a string, got a boolean"},
      {With(R"("emails":{"address":"a@b.example"})"),
       "emails: expected an array, got an object"},
      {With(R"("emails":["a@b.example"])"),
       "emails[0]: expected an object, got a string"},
      {With(R"("emails":[{"address":"a@b.example","type":1}])"),
       "emails[0].type: expected a string"},
      {With(R"("phones":[{"number":5551234}])"),
       "phones[0].number: expected a string, got a number"},
      {With(R"("office":"Madrid")"), "office: expected an object"},
      {With(R"("office":{"room":12})"), "office.room: expected a string"},
      {With(R"("links":[{"uri":"https://e.x"},null])"),
       "links[1]: expected an object, got null"},
      {With(R"("photo":{})"), "photo: expected a string, got an object"},
      {With(R"("extra":[])"), "extra: expected an object, got an array"},
      {With(R"("extra":{"n":3})"), "extra.n: expected a string, got a number"},
      {With(R"("extra":{"n":{"nested":"x"}})"), "extra.n: expected a string"},
      {With(R"("domain":5)"), "domain: expected a string"},
      {With(R"("seq":"5")"), "seq: expected a non-negative integer"},
      {With(R"("seq":-1)"), "seq: expected a non-negative integer"},
      {With(R"("seq":1.5)"), "seq: expected a non-negative integer"},
      {With(R"("updated":12345)"), "updated: expected a string"},
      {With(R"("version":5)"), "version: expected a string"},
  };
  for (const Case& c : cases) {
    ExpectInvalid(c.json, "invalid_contact", c.fragment);
  }
}

TEST(ContactJsonTest, NonObjectTopLevel) {
  for (std::string_view text : {"[]", "\"contact\"", "42", "null", "true"}) {
    ExpectInvalid(text, "invalid_contact", "must be a JSON object");
  }
}

TEST(ContactJsonTest, ContactFromJsonValue) {
  boost::json::value v = {{"id", "v1"}, {"name", {{"given", "Val"}}}};
  Result<Contact> r = ContactFromJson(v);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name.full, "Val");
  boost::json::value bad = {{"id", "v1"}, {"name", {{"given", 3}}}};
  Result<Contact> rb = ContactFromJson(bad);
  ASSERT_FALSE(rb.ok());
  EXPECT_EQ(rb.error().reason, "invalid_contact");
  EXPECT_TRUE(Contains(rb.error().message, "name.given"));
}

// ---------------------------------------------------------------------------
// Strings: control characters, lengths, Unicode, escaping.

TEST(ContactJsonTest, ControlCharactersRejected) {
  ExpectInvalid(With(R"("title":"a\nb")"), "invalid_contact",
                R"(title: "a\nb" contains the control character U+000A)");
  ExpectInvalid(With(R"("title":"tab\there")"), "invalid_contact", "U+0009");
  ExpectInvalid(With(R"("department":"\u0000")"), "invalid_contact", "U+0000");
  ExpectInvalid(With(R"("organization":"del\u007f")"), "invalid_contact",
                "U+007F");
  ExpectInvalid(With("\"nickname\":\"raw\x01\""), "invalid_json", "");
  ExpectInvalid(With(R"("extra":{"k":"v\u001f"})"), "invalid_contact",
                "extra.k");
  ExpectInvalid(R"({"id":"a","name":{"full":"A\rB"}})", "invalid_contact",
                "name.full");
  ExpectInvalid(With(R"("office":{"street":"1\n2"})"), "invalid_contact",
                "office.street");
  ExpectInvalid(With(R"("emails":[{"address":"a\n@b.example"}])"),
                "invalid_email", "emails[0].address");
  ExpectInvalid(With(R"("phones":[{"number":"555\t1234"}])"), "invalid_phone",
                "phones[0].number");
  ExpectInvalid(With(R"("links":[{"uri":"https://e.x/\n"}])"), "invalid_uri",
                "links[0].uri");
  // C1 controls and other non-ASCII characters are not ASCII controls.
  EXPECT_EQ(MustParse(With(R"("title":"x\u0085y\u00a0z")")).title,
            "x\u0085y\u00a0z");
}

TEST(ContactJsonTest, LengthLimits) {
  const auto str = [](size_t n) { return Quote(std::string(n, 'a')); };
  struct Case {
    std::string member;  // JSON text with "%" standing for the string
    size_t limit;
    std::string reason;
    std::string path;
  };
  const Case cases[] = {
      {R"("name":{"full":"A","prefix":%})", ContactLimits::kMaxNamePartBytes,
       "invalid_contact", "name.prefix"},
      {R"("nickname":%)", ContactLimits::kMaxNamePartBytes, "invalid_contact",
       "nickname"},
      {R"("title":%)", ContactLimits::kMaxTextBytes, "invalid_contact",
       "title"},
      {R"("department":%)", ContactLimits::kMaxTextBytes, "invalid_contact",
       "department"},
      {R"("organization":%)", ContactLimits::kMaxTextBytes, "invalid_contact",
       "organization"},
      {R"("office":{"street":%})", ContactLimits::kMaxTextBytes,
       "invalid_contact", "office.street"},
      {R"("extra":{"k":%})", ContactLimits::kMaxExtraValueBytes,
       "invalid_contact", "extra.k"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    std::string ok = c.member, bad = c.member;
    ok.replace(ok.find('%'), 1, str(c.limit));
    bad.replace(bad.find('%'), 1, str(c.limit + 1));
    MustParse(With(ok));
    ExpectInvalid(With(bad), c.reason, c.path + ": \"aaaa");
    ExpectInvalid(With(bad), c.reason,
                  std::to_string(c.limit + 1) + " bytes long; at most " +
                      std::to_string(c.limit));
  }
  // Limits count bytes, not characters: 128 "é" are 256 bytes.
  std::string e128, e129;
  for (int i = 0; i < 128; ++i) e128 += "é";
  e129 = e128 + "é";
  EXPECT_EQ(MustParse(With(R"("nickname":")" + e128 + "\"")).nickname, e128);
  ExpectInvalid(With(R"("nickname":")" + e129 + "\""), "invalid_contact",
                "258 bytes");

  // URIs.
  const std::string uri_ok = "https://e.x/" + std::string(2048 - 12, 'p');
  MustParse(With(R"("photo":)" + Quote(uri_ok)));
  MustParse(With(R"("links":[{"uri":)" + Quote(uri_ok) + "}]"));
  ExpectInvalid(With(R"("photo":)" + Quote(uri_ok + "p")), "invalid_uri",
                "2049 bytes");
  ExpectInvalid(With(R"("links":[{"uri":)" + Quote(uri_ok + "p") + "}]"),
                "invalid_uri", "links[0].uri");

  // E-mail: 254 bytes in total (64 local + '@' + 189 domain).
  std::string domain = std::string(63, 'd') + "." + std::string(63, 'd') + "." +
                       std::string(61, 'd');  // 189 bytes
  const std::string email_ok = std::string(64, 'l') + "@" + domain;
  ASSERT_EQ(email_ok.size(), 254u);
  MustParse(With(R"("emails":[{"address":)" + Quote(email_ok) + "}]"));
  ExpectInvalid(With(R"("emails":[{"address":)" + Quote(email_ok + "d") + "}]"),
                "invalid_email", "255 bytes");

  // Phone: 64 bytes.
  const std::string phone_ok(64, '5');
  MustParse(With(R"("phones":[{"number":)" + Quote(phone_ok) + "}]"));
  ExpectInvalid(With(R"("phones":[{"number":)" + Quote(phone_ok + "5") + "}]"),
                "invalid_phone", "65 bytes");
}

TEST(ContactJsonTest, LongValuesAreTruncatedInMessages) {
  Error e = MustFail(With(R"("title":)" + Quote(std::string(600, 'q'))));
  EXPECT_EQ(e.reason, "invalid_contact");
  EXPECT_TRUE(Contains(e.message, "\"" + std::string(64, 'q') + "\"..."));
  EXPECT_LT(e.message.size(), 200u);
  // Truncation never splits a UTF-8 character: 21 three-byte characters
  // (63 bytes) are shown.
  std::string cjk;
  for (int i = 0; i < 300; ++i) cjk += "山";
  Error e2 = MustFail(With(R"("title":)" + Quote(cjk)));
  EXPECT_TRUE(Contains(e2.message, "\"" + cjk.substr(0, 63) + "\"..."));
}

TEST(ContactJsonTest, ArrayCountLimits) {
  const auto emails = [](size_t n) {
    std::string s = R"("emails":[)";
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) s += ',';
      s += R"({"address":"user)" + std::to_string(i) + R"(@example.com"})";
    }
    return s + "]";
  };
  const auto repeat = [](std::string_view member, std::string_view element,
                         size_t n) {
    std::string s = "\"" + std::string(member) + "\":[";
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) s += ',';
      s += element;
    }
    return s + "]";
  };
  EXPECT_EQ(MustParse(With(emails(ContactLimits::kMaxEmails))).emails.size(),
            ContactLimits::kMaxEmails);
  ExpectInvalid(With(emails(ContactLimits::kMaxEmails + 1)), "invalid_contact",
                "emails: 33 entries; at most 32");
  const std::string phone = R"({"number":"555 1234"})";
  EXPECT_EQ(MustParse(With(repeat("phones", phone, ContactLimits::kMaxPhones)))
                .phones.size(),
            ContactLimits::kMaxPhones);
  ExpectInvalid(With(repeat("phones", phone, ContactLimits::kMaxPhones + 1)),
                "invalid_contact", "phones: 33 entries");
  const std::string link = R"({"uri":"https://e.x"})";
  EXPECT_EQ(MustParse(With(repeat("links", link, ContactLimits::kMaxLinks)))
                .links.size(),
            ContactLimits::kMaxLinks);
  ExpectInvalid(With(repeat("links", link, ContactLimits::kMaxLinks + 1)),
                "invalid_contact", "links: 33 entries");

  const auto extra = [](size_t n) {
    std::string s = R"("extra":{)";
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) s += ',';
      s += "\"k" + std::to_string(i) + "\":\"v\"";
    }
    return s + "}";
  };
  EXPECT_EQ(MustParse(With(extra(ContactLimits::kMaxExtra))).extra.size(),
            ContactLimits::kMaxExtra);
  ExpectInvalid(With(extra(ContactLimits::kMaxExtra + 1)), "invalid_contact",
                "extra: 65 attributes; at most 64");
}

TEST(ContactJsonTest, UnicodePreserved) {
  const std::string values[] = {
      "José Álvarez Núñez",          // accents
      "Дмитрий Шостакович",          // Cyrillic
      "山田 太郎",                   // CJK
      "Ana 👩🏽‍💻 🚀",    // emoji, ZWJ sequence, skin tone
      "Ελληνικά · עברית · العربية",  // Greek, Hebrew, Arabic
  };
  for (const std::string& v : values) {
    SCOPED_TRACE(v);
    Contact c =
        MustParse(R"({"id":"u","name":{"full":)" + Quote(v) + R"(},"title":)" +
                  Quote(v) + R"(,"extra":{"note":)" + Quote(v) + "}}");
    EXPECT_EQ(c.name.full, v);
    EXPECT_EQ(c.title, v);
    EXPECT_EQ(c.extra[0].second, v);
    const std::string canonical = CanonicalContentJson(c);
    // Non-ASCII text is written as UTF-8, not as \u escapes.
    EXPECT_TRUE(Contains(canonical, "\"title\":\"" + v + "\""));
    EXPECT_EQ(canonical.find("\\u"), std::string::npos);
    ExpectCanonicalRoundTrip(canonical);
  }
  // \u escapes in the input (including a surrogate pair) decode to UTF-8.
  Contact c = MustParse(With(R"("title":"Jos\u00e9 \u5c71 \ud83d\ude80")"));
  EXPECT_EQ(c.title, "José 山 🚀");
  EXPECT_TRUE(Contains(CanonicalContentJson(c), R"("title":"José 山 🚀")"));
}

TEST(ContactJsonTest, EscapingInCanonicalForm) {
  Contact c = MustParse(
      With(R"("title":"say \"hi\" \\ C:\\dir\\ a/b \/","nickname":"'q'")"));
  EXPECT_EQ(c.title, R"(say "hi" \ C:\dir\ a/b /)");
  const std::string canonical = CanonicalContentJson(c);
  EXPECT_TRUE(
      Contains(canonical, R"("title":"say \"hi\" \\ C:\\dir\\ a/b /")"));
  EXPECT_TRUE(Contains(canonical, R"("nickname":"'q'")"));
  ExpectCanonicalRoundTrip(canonical);

  // A contact built in code may hold control characters; the serializer
  // still produces valid JSON that decodes to the same bytes.
  Contact raw;
  raw.id = "raw";
  raw.title = std::string("a\b\f\n\r\t\x01\x1f\x7f\"\\z\0", 13);
  const std::string json = CanonicalContentJson(raw);
  EXPECT_EQ(
      json,
      R"({"id":"raw","title":"a\b\f\n\r\t\u0001\u001f\u007f\"\\z\u0000"})");
  EXPECT_EQ(boost::json::parse(json).at("title").as_string(), raw.title);
}

TEST(ContactJsonTest, CanonicalOutputIsValidJson) {
  Contact c = MustParse(kFullContactJson);
  boost::json::value v = boost::json::parse(CanonicalContentJson(c));
  EXPECT_EQ(v.at("name").at("given").as_string(), "José");
  EXPECT_EQ(v.at("extra").at("shoe-size").as_string(), "44");
}

// ---------------------------------------------------------------------------
// JSON syntax, UTF-8, depth, size.

TEST(ContactJsonTest, InvalidJson) {
  for (std::string_view text :
       {"", " ", "{", "not json", R"({"id":"a",})", R"({"id":'a'})",
        R"({"id":"a"} {"id":"b"})", R"({"id":"a"} x)", R"({"id":"a" "b":1})",
        "{\"id\":\"a\" /* c */}", R"({"id":"\x41"})"}) {
    ExpectInvalid(text, "invalid_json", "invalid JSON");
  }
  ExpectInvalid(R"({"id":"a",})", "invalid_json", "byte offset 10");
}

TEST(ContactJsonTest, InvalidUtf8Rejected) {
  const std::string bad[] = {
      "\xff",              // never valid
      "J\xc3",             // truncated sequence
      "\xc3\x28",          // bad continuation byte
      "\xc0\xaf",          // overlong '/'
      "\xe0\x80\xaf",      // overlong 3-byte
      "\xed\xa0\x80",      // UTF-16 surrogate encoded in UTF-8
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\x80",              // lone continuation byte
  };
  for (const std::string& b : bad) {
    SCOPED_TRACE(::testing::PrintToString(b));
    ExpectInvalid(With(R"("title":"ok )" + b + R"( ok")"), "invalid_json",
                  "UTF-8");
    ExpectInvalid(With(R"("extra":{"k)" + b + R"(":"v"})"), "invalid_json",
                  "UTF-8");
  }
  // A lone surrogate escape is not a character either.
  ExpectInvalid(With(R"("title":"\ud800")"), "invalid_json", "invalid JSON");
}

TEST(ContactJsonTest, DepthLimit) {
  // 16 levels of nesting parse; the content is then rejected as a wrong
  // type, not as invalid JSON.
  const auto nested = [](int depth) {
    // The contact object is level 1 and "extra" level 2.
    return With(R"("extra":{"k":)" + std::string(depth - 2, '[') +
                std::string(depth - 2, ']') + "}");
  };
  ExpectInvalid(nested(16), "invalid_contact", "extra.k: expected a string");
  ExpectInvalid(nested(17), "invalid_json", "nested deeper than 16 levels");
  ExpectInvalid(std::string(10000, '['), "invalid_json", "deeper");
}

TEST(ContactJsonTest, SizeLimit) {
  std::string at_limit = With(R"("title":"T")");
  at_limit.append(ContactLimits::kMaxContactJsonBytes - at_limit.size(), ' ');
  EXPECT_EQ(MustParse(at_limit).title, "T");
  Error e = MustFail(at_limit + " ");
  EXPECT_EQ(e.kind, ErrorKind::kPayloadTooLarge);
  EXPECT_EQ(e.reason, "contact_too_large");
  EXPECT_TRUE(Contains(e.message, "65537 bytes"));
  EXPECT_EQ(HttpStatus(e.kind), 413);
}

// ---------------------------------------------------------------------------
// E-mail addresses.

TEST(ContactJsonTest, ValidEmails) {
  for (std::string_view a :
       {"a@b.example", "jose.alvarez@example.com", "o'brien@example.ie",
        "first+tag@sub.mail.example.co.uk", "x_y-z!#$%&*/=?^`{|}~@e.example",
        "jose@exämple.de", "用户@例子.广告", "UPPER@EXAMPLE.COM",
        "a@1-2.example", "a@xn--bcher-kva.example"}) {
    EXPECT_EQ(MustParse(With(R"("emails":[{"address":)" + Quote(a) + "}]"))
                  .emails[0]
                  .address,
              a);
  }
}

TEST(ContactJsonTest, InvalidEmails) {
  const std::string long_label(64, 'l');
  const std::string cases[] = {
      "",
      "bob",
      "bob@@example.com",
      "bob@ex@ample.com",
      "@example.com",
      "bob@",
      ".bob@example.com",
      "bob.@example.com",
      "b..ob@example.com",
      "bob smith@example.com",
      "bob@exa mple.com",
      "bob@localhost",
      "bob@-example.com",
      "bob@example-.com",
      "bob@example..com",
      "bob@.example.com",
      "bob@example.com.",
      "bob@exa_mple.com",
      "bob@" + long_label + ".com",
      std::string(65, 'l') + "@example.com",
      "a,b@example.com",
      "<bob>@example.com",
      "\"bob\"@example.com",
      "bob@[192.0.2.1]",
  };
  for (const std::string& a : cases) {
    ExpectInvalid(With(R"("emails":[{"address":)" + Quote(a) + "}]"),
                  "invalid_email", "emails[0].address: ");
  }
  ExpectInvalid(With(R"("emails":[{"address":"bob@@x.example"}])"),
                "invalid_email",
                R"(emails[0].address: "bob@@x.example" is not a valid )"
                R"(e-mail address (more than one '@'))");
  ExpectInvalid(With(R"("emails":[{"type":"home"}])"), "invalid_email",
                "emails[0].address is required");
}

TEST(ContactJsonTest, InvalidEmailType) {
  ExpectInvalid(With(R"("emails":[{"address":"a@b.example","type":"Work"}])"),
                "invalid_contact", R"(emails[0].type: "Work")");
  ExpectInvalid(With(R"("emails":[{"address":"a@b.example","type":""}])"),
                "invalid_contact", "emails[0].type");
  ExpectInvalid(With(R"("emails":[{"address":"a@b.example","type":"mobile"}])"),
                "invalid_contact", "not an e-mail type");
}

TEST(ContactJsonTest, DuplicateEmails) {
  ExpectInvalid(With(R"("emails":[{"address":"ann@example.com"},)"
                     R"({"address":"other@example.com"},)"
                     R"({"address":"Ann@Example.COM","type":"home"}])"),
                "duplicate_email",
                R"(emails[2].address: "Ann@Example.COM" repeats )"
                R"(emails[0].address)");
  ExpectInvalid(With(R"("emails":[{"address":"a@b.example"},)"
                     R"({"address":"a@b.example"}])"),
                "duplicate_email", "emails[1].address");
  // Only ASCII letters are folded.
  MustParse(With(R"("emails":[{"address":"é@b.example"},)"
                 R"({"address":"É@b.example"}])"));
}

// ---------------------------------------------------------------------------
// Phones.

TEST(ContactJsonTest, ValidPhones) {
  for (std::string_view p :
       {"+1 (555) 123-4567", "+49 30 1234567 ext. 89", "555-1234 x12",
        "555-1234 X 12", "555.123.4567", "+44 20 7946 0958,,123#", "*67 123",
        "123", "1/2/3", "+81-3-1234-5678 ext99", "555 1234 EXT 7"}) {
    EXPECT_EQ(MustParse(With(R"("phones":[{"number":)" + Quote(p) + "}]"))
                  .phones[0]
                  .number,
              p);
  }
}

TEST(ContactJsonTest, InvalidPhones) {
  for (std::string_view p :
       {"", "12", "+1 ()", "call me", "+1 555 CALL NOW", "555_1234",
        "555–1234" /* en dash */, "555 1234 extension 5", "1-800-FLOWERS",
        "555 1234 xx5", "٣٤٥٦٧" /* Arabic-Indic digits */, "555@1234"}) {
    ExpectInvalid(With(R"("phones":[{"number":)" + Quote(p) + "}]"),
                  "invalid_phone", "phones[0].number: ");
  }
  ExpectInvalid(With(R"("phones":[{"number":"12"}])"), "invalid_phone",
                R"("12" is not a valid phone number (fewer than 3 digits))");
  ExpectInvalid(With(R"("phones":[{"type":"home"}])"), "invalid_phone",
                "phones[0].number is required");
  ExpectInvalid(With(R"("phones":[{"number":"12345","type":"cell"}])"),
                "invalid_contact", R"(phones[0].type: "cell")");
}

// ---------------------------------------------------------------------------
// URIs and links.

TEST(ContactJsonTest, ValidUris) {
  for (std::string_view u :
       {"https://example.com/a?b=c#d", "http://[2001:db8::1]:8080/",
        "mailto:ann@example.com", "urn:isbn:0451450523", "tel:+1-555-1234",
        "data:image/png;base64,iVBORw0KGgo=", "x-custom+v1.2-b:z",
        "https://例子.广告/路径"}) {
    EXPECT_EQ(MustParse(With(R"("photo":)" + Quote(u))).photo, u);
    EXPECT_EQ(
        MustParse(With(R"("links":[{"uri":)" + Quote(u) + "}]")).links[0].uri,
        u);
  }
}

TEST(ContactJsonTest, InvalidUris) {
  for (std::string_view u : {"example.com/photo.jpg", "//example.com/a",
                             "1http://x", "https:", ":nothing", "https://a b",
                             "ht tp://x", "h_ttp://x", "/relative", "é:x"}) {
    ExpectInvalid(With(R"("photo":)" + Quote(u)), "invalid_uri", "photo: ");
    ExpectInvalid(With(R"("links":[{"uri":)" + Quote(u) + "}]"), "invalid_uri",
                  "links[0].uri: ");
  }
  ExpectInvalid(With(R"("links":[{"uri":""}])"), "invalid_uri", "links[0].uri");
  ExpectInvalid(With(R"("links":[{"type":"github"}])"), "invalid_uri",
                "links[0].uri is required");
}

TEST(ContactJsonTest, InvalidLinkTypes) {
  for (std::string_view t : {"", "LinkedIn", "my blog", "a_b", "x.y", "ü",
                             "abcdefghijklmnopqrstuvwxyz0123456"}) {
    ExpectInvalid(
        With(R"("links":[{"uri":"https://e.x","type":)" + Quote(t) + "}]"),
        "invalid_contact", "links[0].type");
  }
}

// ---------------------------------------------------------------------------
// Extra.

TEST(ContactJsonTest, ExtraKeys) {
  Contact c =
      MustParse(With(R"("extra":{"Z":"1","x-foo:bar_1.2":"2","a":"3","0":"4",)"
                     R"(")" +
                     std::string(64, 'k') + R"(":"5"})"));
  ASSERT_EQ(c.extra.size(), 5u);
  EXPECT_EQ(c.extra[0].first, "0");
  EXPECT_EQ(c.extra[1].first, "Z");
  EXPECT_EQ(c.extra[2].first, "a");
  EXPECT_EQ(c.extra[3].first, std::string(64, 'k'));
  EXPECT_EQ(c.extra[4].first, "x-foo:bar_1.2");
  for (std::string_view key : {"", "has space", "ü", "a/b", "a\"b", "a@b"}) {
    ExpectInvalid(With(R"("extra":{)" + Quote(key) + R"(:"v"})"),
                  "invalid_contact", "extra: key");
  }
  ExpectInvalid(With(R"("extra":{")" + std::string(65, 'k') + R"(":"v"})"),
                "invalid_contact", "extra: key");
}

TEST(ContactJsonTest, DuplicateJsonKeysKeepTheLast) {
  // Boost.JSON keeps the last of duplicate keys; the canonical form then has
  // a single member.
  Contact c = MustParse(With(R"("title":"first","title":"second")"));
  EXPECT_EQ(c.title, "second");
  Contact d = MustParse(With(R"("extra":{"k":"1","k":"2"})"));
  ASSERT_EQ(d.extra.size(), 1u);
  EXPECT_EQ(d.extra[0].second, "2");
}

// ---------------------------------------------------------------------------
// Server-maintained members and the stored form.

TEST(ContactJsonTest, MetadataDecodedButNotContent) {
  Contact c = MustParse(With(R"("domain":"example.com","seq":42,)"
                             R"("updated":"2026-11-22T07:15:03.123456Z",)"
                             R"("version":"42")"));
  EXPECT_EQ(c.domain, "example.com");
  EXPECT_EQ(c.seq, 42u);
  EXPECT_EQ(c.version(), "42");
  EXPECT_EQ(FormatTime(c.updated_us), "2026-11-22T07:15:03.123456Z");
  const std::string canonical = CanonicalContentJson(c);
  EXPECT_EQ(canonical, R"({"id":"u1","name":{"full":"Ann","given":"Ann"}})");
  Contact plain = MustParse(With(""));
  EXPECT_TRUE(c.SameContent(plain));
  // "version" is ignored; seq is authoritative.
  EXPECT_EQ(MustParse(With(R"("seq":7,"version":"99")")).version(), "7");
  EXPECT_EQ(MustParse(With(R"("seq":18446744073709551615)")).seq,
            std::numeric_limits<uint64_t>::max());
  ExpectInvalid(With(R"("updated":"yesterday")"), "invalid_time",
                R"(updated: "yesterday")");
}

TEST(StoredContactJsonTest, ExactForm) {
  const std::string content = R"({"id":"a","name":{"full":"A"}})";
  EXPECT_EQ(
      StoredContactJson(content, "example.com", 17, 1'795'331'703'123'456),
      R"({"id":"a","name":{"full":"A"},"domain":"example.com",)"
      R"("seq":17,"updated":"2026-11-22T07:15:03.123456Z",)"
      R"("version":"17"})");
  EXPECT_EQ(StoredContactJson(content, "we\"ird\\dom", 0, 0),
            R"({"id":"a","name":{"full":"A"},"domain":"we\"ird\\dom",)"
            R"("seq":0,"updated":"1970-01-01T00:00:00.000000Z",)"
            R"("version":"0"})");
}

TEST(StoredContactJsonTest, RoundTrip) {
  Contact c = MustParse(kFullContactJson);
  const std::string content = CanonicalContentJson(c);
  const uint64_t seqs[] = {0, 1, 123456789,
                           std::numeric_limits<uint64_t>::max()};
  for (uint64_t seq : seqs) {
    const std::string stored =
        StoredContactJson(content, "example.com", seq, 1'700'000'000'000'001);
    EXPECT_EQ(ContentOfStoredJson(stored), content);
    // The stored form is itself a valid contact carrying the metadata.
    Contact back = MustParse(stored);
    EXPECT_TRUE(back.SameContent(c));
    EXPECT_EQ(back.domain, "example.com");
    EXPECT_EQ(back.seq, seq);
    EXPECT_EQ(back.version(), std::to_string(seq));
    EXPECT_EQ(back.updated_us, 1'700'000'000'000'001);
    EXPECT_EQ(CanonicalContentJson(back), content);
  }
}

TEST(StoredContactJsonTest, ExtraKeyNamedDomain) {
  for (std::string_view extra :
       {R"({"domain":"evil.example"})",
        R"({"a":"1","domain":"evil.example","seq":"5"})",
        R"({"a":"\",\"domain\":\"x","domain":"y"})"}) {
    SCOPED_TRACE(extra);
    Contact c = MustParse(With(R"("extra":)" + std::string(extra)));
    const std::string content = CanonicalContentJson(c);
    const std::string stored =
        StoredContactJson(content, "real.example", 9, 1'000'000);
    EXPECT_EQ(ContentOfStoredJson(stored), content);
    Contact back = MustParse(stored);
    EXPECT_EQ(back.domain, "real.example");
    EXPECT_TRUE(back.SameContent(c));
  }
  // A domain value that itself looks like the marker.
  const std::string content = R"({"id":"a","name":{"full":"A"}})";
  const std::string stored =
      StoredContactJson(content, R"(x","domain":"y)", 1, 0);
  EXPECT_EQ(ContentOfStoredJson(stored), content);
  EXPECT_EQ(MustParse(stored).domain, R"(x","domain":"y)");
}

TEST(StoredContactJsonTest, ContentOfMalformed) {
  const std::string good =
      StoredContactJson(R"({"id":"a","name":{"full":"A"}})", "d.example", 5, 0);
  ASSERT_FALSE(ContentOfStoredJson(good).empty());
  const std::string cases[] = {
      "",
      "{}",
      R"({"id":"a","name":{"full":"A"}})",  // content without metadata
      good.substr(0, good.size() - 1),      // truncated
      good.substr(0, good.size() - 10),
      good + " ",
      good + "}",
      good.substr(1),  // no opening brace
      R"({"id":"a","domain":"d","seq":5})",
      R"({"id":"a","domain":"d","seq":x,"updated":"t","version":"5"})",
      R"({"id":"a","domain":"d","seq":5,"updated":"t","version":""})",
      R"({"id":"a","domain":"d,"seq":5,"updated":"t","version":"5"})",
  };
  for (const std::string& s : cases) {
    EXPECT_EQ(ContentOfStoredJson(s), "") << s;
  }
}

// ---------------------------------------------------------------------------
// SameContent.

TEST(ContactTest, SameContent) {
  const Contact base = MustParse(kFullContactJson);
  EXPECT_TRUE(base.SameContent(base));
  Contact meta = base;
  meta.domain = "other";
  meta.seq = 99;
  meta.updated_us = 12345;
  EXPECT_TRUE(base.SameContent(meta));

  using Mutator = void (*)(Contact&);
  const Mutator mutators[] = {
      [](Contact& c) { c.id += "x"; },
      [](Contact& c) { c.name.full += "x"; },
      [](Contact& c) { c.name.prefix += "x"; },
      [](Contact& c) { c.name.given += "x"; },
      [](Contact& c) { c.name.middle += "x"; },
      [](Contact& c) { c.name.family += "x"; },
      [](Contact& c) { c.name.suffix += "x"; },
      [](Contact& c) { c.nickname += "x"; },
      [](Contact& c) { c.emails[0].address += "x"; },
      [](Contact& c) { c.emails[0].type = "other"; },
      [](Contact& c) { std::swap(c.emails[0], c.emails[1]); },
      [](Contact& c) { c.emails.pop_back(); },
      [](Contact& c) { c.phones[0].number += "9"; },
      [](Contact& c) { c.phones[0].type = "fax"; },
      [](Contact& c) { c.title += "x"; },
      [](Contact& c) { c.department += "x"; },
      [](Contact& c) { c.organization += "x"; },
      [](Contact& c) { c.manager += "x"; },
      [](Contact& c) { c.office.room += "x"; },
      [](Contact& c) { c.office.street += "x"; },
      [](Contact& c) { c.office.locality += "x"; },
      [](Contact& c) { c.office.region += "x"; },
      [](Contact& c) { c.office.postcode += "x"; },
      [](Contact& c) { c.office.country += "x"; },
      [](Contact& c) { c.links[0].uri += "x"; },
      [](Contact& c) { c.links[0].type = "github"; },
      [](Contact& c) { c.photo += "x"; },
      [](Contact& c) { c.extra[0].second += "x"; },
      [](Contact& c) { c.extra.pop_back(); },
  };
  int i = 0;
  for (Mutator mutate : mutators) {
    SCOPED_TRACE(i++);
    Contact changed = base;
    mutate(changed);
    EXPECT_FALSE(base.SameContent(changed));
    EXPECT_FALSE(changed.SameContent(base));
    EXPECT_NE(CanonicalContentJson(changed), CanonicalContentJson(base));
  }
}

// ---------------------------------------------------------------------------
// Time.

TEST(TimeTest, FormatKnownValues) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTime(1), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(FormatTime(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTime(1'795'331'703'123'456), "2026-11-22T07:15:03.123456Z");
  EXPECT_EQ(FormatTime(951'782'400'000'000), "2000-02-29T00:00:00.000000Z");
  EXPECT_EQ(FormatTime(1'709'208'000'500'000), "2024-02-29T12:00:00.500000Z");
  EXPECT_EQ(FormatTime(-2'208'988'800'000'000), "1900-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTime(253'402'300'799'999'999), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTime(-62'167'219'200'000'000), "0000-01-01T00:00:00.000000Z");
  // Out of range values are clamped to years 0000..9999.
  EXPECT_EQ(FormatTime(std::numeric_limits<int64_t>::max()),
            "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTime(std::numeric_limits<int64_t>::min()),
            "0000-01-01T00:00:00.000000Z");
}

// Walks the calendar day by day with no arithmetic shortcuts and checks
// every date from 1600-01-01 to 2401-12-31 against FormatTime.
TEST(TimeTest, FormatMatchesCalendarWalk) {
  const auto is_leap = [](int y) {
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
  };
  const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  // Days from 1600-01-01 to 1970-01-01.
  int64_t day = 0;
  for (int y = 1600; y < 1970; ++y) day -= is_leap(y) ? 366 : 365;
  char expected[64];
  for (int y = 1600; y <= 2401; ++y) {
    for (int m = 1; m <= 12; ++m) {
      const int n = month_days[m - 1] + (m == 2 && is_leap(y) ? 1 : 0);
      for (int d = 1; d <= n; ++d, ++day) {
        std::snprintf(expected, sizeof(expected),
                      "%04d-%02d-%02dT00:00:00.000000Z", y, m, d);
        const int64_t us = day * 86'400'000'000;
        ASSERT_EQ(FormatTime(us), expected);
        Result<int64_t> back = ParseTime(expected);
        ASSERT_TRUE(back.ok()) << expected;
        ASSERT_EQ(*back, us);
      }
    }
  }
}

TEST(TimeTest, RoundTripRandom) {
  std::mt19937_64 rng(20261122);
  std::uniform_int_distribution<int64_t> dist(-62'167'219'200'000'000,
                                              253'402'300'799'999'999);
  for (int i = 0; i < 100000; ++i) {
    const int64_t us = dist(rng);
    const std::string text = FormatTime(us);
    Result<int64_t> back = ParseTime(text);
    ASSERT_TRUE(back.ok()) << text;
    ASSERT_EQ(*back, us) << text;
  }
}

TEST(TimeTest, ParseVariants) {
  const int64_t base = 1'795'331'703'000'000;  // 2026-11-22T07:15:03Z
  const auto parse = [](std::string_view s) {
    Result<int64_t> r = ParseTime(s);
    EXPECT_TRUE(r.ok()) << s << ": " << r.error().message;
    return r.ok() ? *r : int64_t{-1};
  };
  EXPECT_EQ(parse("2026-11-22T07:15:03Z"), base);
  EXPECT_EQ(parse("2026-11-22t07:15:03z"), base);
  EXPECT_EQ(parse("2026-11-22T07:15:03+00:00"), base);
  EXPECT_EQ(parse("2026-11-22T07:15:03-00:00"), base);
  EXPECT_EQ(parse("2026-11-22T09:15:03+02:00"), base);
  EXPECT_EQ(parse("2026-11-22T01:45:03-05:30"), base);
  EXPECT_EQ(parse("2026-11-23T06:15:03+23:00"), base);
  EXPECT_EQ(parse("2026-11-21T07:16:03-23:59"), base);
  EXPECT_EQ(parse("2026-11-22T07:15:03.1Z"), base + 100'000);
  EXPECT_EQ(parse("2026-11-22T07:15:03.12Z"), base + 120'000);
  EXPECT_EQ(parse("2026-11-22T07:15:03.123456Z"), base + 123'456);
  EXPECT_EQ(parse("2026-11-22T07:15:03.1234567Z"), base + 123'456);
  EXPECT_EQ(parse("2026-11-22T07:15:03.999999999Z"), base + 999'999);
  EXPECT_EQ(parse("2026-11-22T07:15:03.000000001+01:00"), base - 3'600'000'000);
  // Before the epoch.
  EXPECT_EQ(parse("1969-12-31T23:59:59.5Z"), -500'000);
  // Leap years.
  EXPECT_EQ(parse("2000-02-29T00:00:00Z"), 951'782'400'000'000);
  EXPECT_EQ(parse("2024-02-29T12:00:00.5Z"), 1'709'208'000'500'000);
  EXPECT_EQ(parse("1600-02-29T00:00:00Z"),
            parse("1600-03-01T00:00:00Z") - 86'400'000'000);
  // A leap second is the first second of the next minute.
  EXPECT_EQ(parse("2016-12-31T23:59:60Z"), parse("2017-01-01T00:00:00Z"));
  // Extremes.
  EXPECT_EQ(parse("0000-01-01T00:00:00Z"), -62'167'219'200'000'000);
  EXPECT_EQ(parse("9999-12-31T23:59:59.999999Z"), 253'402'300'799'999'999);
}

TEST(TimeTest, ParseRejects) {
  for (std::string_view s : {
           "",
           "2026",
           "2026-11-22",
           "2026-11-22T07:15Z",
           "2026-11-22 07:15:03Z",
           "2026-11-22T07:15:03",
           "2026-11-22T07:15:03.Z",
           "2026-11-22T07:15:03.1234567890Z",
           "2026-11-22T07:15:03,5Z",
           "2026-11-22T07:15:03ZZ",
           "2026-11-22T07:15:03Z ",
           " 2026-11-22T07:15:03Z",
           "2026-11-22T07:15:03+0200",
           "2026-11-22T07:15:03+02",
           "2026-11-22T07:15:03+24:00",
           "2026-11-22T07:15:03+02:60",
           "2026-11-22T07:15:03UTC",
           "26-11-22T07:15:03Z",
           "2026-1-22T07:15:03Z",
           "2026/11/22T07:15:03Z",
           "+2026-11-22T07:15:03Z",
           "2026-00-22T07:15:03Z",
           "2026-13-22T07:15:03Z",
           "2026-11-00T07:15:03Z",
           "2026-11-31T07:15:03Z",
           "2026-04-31T07:15:03Z",
           "2023-02-29T00:00:00Z",
           "1900-02-29T00:00:00Z",
           "2100-02-29T00:00:00Z",
           "2024-02-30T00:00:00Z",
           "2026-11-22T24:00:00Z",
           "2026-11-22T07:60:03Z",
           "2026-11-22T07:15:61Z",
           "2026-11-22T-7:15:03Z",
           "2026-11-22T07:15:03.-1Z",
           "yesterday",
       }) {
    Result<int64_t> r = ParseTime(s);
    ASSERT_FALSE(r.ok()) << s << " parsed as " << *r;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument) << s;
    EXPECT_EQ(r.error().reason, "invalid_time") << s;
    EXPECT_TRUE(Contains(r.error().message, "RFC 3339")) << s;
  }
}

}  // namespace
}  // namespace galsync
