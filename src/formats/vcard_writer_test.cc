// Tests for the vCard writer (src/formats/vcard_writer.cc): the exact output
// for a full contact in 4.0 and 3.0, escaping, folding of ASCII and
// multi-byte text, omission of empty fields, and contacts built in code.
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "formats/export_test_contacts.h"
#include "galsync/contact.h"
#include "galsync/export.h"

namespace galsync {
namespace {

using export_test::FamilyOnlyContact;
using export_test::FullContact;

// Joins lines with CRLF, each line terminated (the expected-output notation).
std::string Crlf(std::initializer_list<std::string_view> lines) {
  std::string out;
  for (std::string_view l : lines) {
    out.append(l);
    out.append("\r\n");
  }
  return out;
}

// The physical lines of `card`, without their CRLF. Fails the test if the
// card does not end in CRLF or contains a bare CR or LF.
std::vector<std::string> PhysicalLines(std::string_view card) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < card.size()) {
    const size_t crlf = card.find("\r\n", start);
    if (crlf == std::string_view::npos) {
      ADD_FAILURE() << "card does not end in CRLF: " << card.substr(start);
      break;
    }
    const std::string_view line = card.substr(start, crlf - start);
    EXPECT_EQ(line.find_first_of("\r\n"), std::string_view::npos)
        << "bare CR or LF in line: " << line;
    lines.emplace_back(line);
    start = crlf + 2;
  }
  return lines;
}

// RFC 6350 3.2 unfolding: remove every CRLF immediately followed by one
// space, then split at CRLF.
std::vector<std::string> LogicalLines(std::string_view card) {
  std::string unfolded;
  for (size_t i = 0; i < card.size(); ++i) {
    if (card.substr(i, 3) == "\r\n ") {
      i += 2;
      continue;
    }
    unfolded.push_back(card[i]);
  }
  return PhysicalLines(unfolded);
}

bool IsContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Length of the UTF-8 sequence a lead byte starts (1 for ASCII).
size_t SequenceLength(char lead) {
  const unsigned char u = static_cast<unsigned char>(lead);
  if (u < 0x80) return 1;
  if ((u & 0xE0) == 0xC0) return 2;
  if ((u & 0xF0) == 0xE0) return 3;
  return 4;
}

// Checks the folding contract on every physical line of `card`: at most 75
// octets, continuation lines start with one space, and each line holds only
// whole UTF-8 sequences.
void ExpectFoldedCorrectly(std::string_view card) {
  const std::vector<std::string> lines = PhysicalLines(card);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    SCOPED_TRACE("physical line " + std::to_string(i) + ": " +
                 std::string(line));
    EXPECT_LE(line.size(), 75u);
    if (!line.empty() && line[0] == ' ') line.remove_prefix(1);
    if (line.empty()) continue;
    EXPECT_FALSE(IsContinuation(line[0])) << "starts inside a code point";
    size_t pos = 0;
    while (pos < line.size()) pos += SequenceLength(line[pos]);
    EXPECT_EQ(pos, line.size()) << "ends inside a code point";
  }
}

// The one logical line of `card` that starts with `prefix`, or "".
std::string LogicalLine(std::string_view card, std::string_view prefix) {
  for (const std::string& line : LogicalLines(card)) {
    if (line.starts_with(prefix)) return line;
  }
  return "";
}

TEST(VCardWriterTest, FullContactIsValidForTheCodec) {
  // The fixture is a contact the codec accepts, so the exact outputs below
  // are what real exports look like.
  const Contact c = FullContact();
  Result<Contact> parsed = ParseContactJson(CanonicalContentJson(c));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed->SameContent(c));
}

TEST(VCardWriterTest, FullContact40) {
  EXPECT_EQ(ContactToVCard(FullContact(), VCardVersion::k40),
            Crlf({
                "BEGIN:VCARD",
                "VERSION:4.0",
                "UID;VALUE=text:jose.alvarez@example.com",
                "FN:Dr. José Álvarez\\, Jr.",
                "N:Álvarez;José;María;Dr.;Jr.",
                "NICKNAME:Pepe",
                "EMAIL;TYPE=work;PREF=1:jose@example.com",
                "EMAIL;TYPE=home:pepe@home.example.org",
                "EMAIL:jose@other.example.net",
                "TEL;VALUE=text;TYPE=work;PREF=1:+34 91 123 45 67",
                "TEL;VALUE=text;TYPE=cell:+34 600 000 000",
                "TEL;VALUE=text;TYPE=home:+34 91 000 11 22\\, ext 5",
                "TEL;VALUE=text;TYPE=fax:+34 91 123 45 68",
                "TEL;VALUE=text;TYPE=pager:+34 91 555",
                "TEL;VALUE=text:+1 555 0100\\;4",
                "TITLE:Chief \"Quoted\" Officer\\; Acting",
                "ORG:Example S.A.;R&D \\\\ Platform",
                "ADR;TYPE=work:;4.12;Calle Mayor 1;Madrid;M;28013;ES",
                "URL;TYPE=linkedin:https://www.linkedin.com/in/jose",
                "URL;TYPE=profile:https://example.com/~jose?a=1\\,b=2;c",
                "PHOTO:https://example.com/p/jose.jpg",
                "RELATED;TYPE=co-worker,x-manager;VALUE=text:ceo",
                "X-GALSYNC-EXTRA;X-KEY=\"aa:b_c\":x",
                "X-GALSYNC-EXTRA;X-KEY=\"cost.center\":CC-17\\, north",
                "REV:20261122T071503Z",
                "END:VCARD",
            }));
}

TEST(VCardWriterTest, FullContact30) {
  EXPECT_EQ(ContactToVCard(FullContact(), VCardVersion::k30),
            Crlf({
                "BEGIN:VCARD",
                "VERSION:3.0",
                "UID:jose.alvarez@example.com",
                "FN:Dr. José Álvarez\\, Jr.",
                "N:Álvarez;José;María;Dr.;Jr.",
                "NICKNAME:Pepe",
                "EMAIL;TYPE=internet,work,pref:jose@example.com",
                "EMAIL;TYPE=internet,home:pepe@home.example.org",
                "EMAIL;TYPE=internet:jose@other.example.net",
                "TEL;TYPE=work,pref:+34 91 123 45 67",
                "TEL;TYPE=cell:+34 600 000 000",
                "TEL;TYPE=home:+34 91 000 11 22\\, ext 5",
                "TEL;TYPE=fax:+34 91 123 45 68",
                "TEL;TYPE=pager:+34 91 555",
                "TEL:+1 555 0100\\;4",
                "TITLE:Chief \"Quoted\" Officer\\; Acting",
                "ORG:Example S.A.;R&D \\\\ Platform",
                "ADR;TYPE=work:;4.12;Calle Mayor 1;Madrid;M;28013;ES",
                "URL;TYPE=linkedin:https://www.linkedin.com/in/jose",
                "URL;TYPE=profile:https://example.com/~jose?a=1\\,b=2;c",
                "PHOTO;VALUE=uri:https://example.com/p/jose.jpg",
                "X-GALSYNC-MANAGER:ceo",
                "X-GALSYNC-EXTRA;X-KEY=\"aa:b_c\":x",
                "X-GALSYNC-EXTRA;X-KEY=\"cost.center\":CC-17\\, north",
                "REV:2026-11-22T07:15:03Z",
                "END:VCARD",
            }));
}

TEST(VCardWriterTest, DefaultVersionIs40) {
  EXPECT_EQ(ContactToVCard(FullContact()),
            ContactToVCard(FullContact(), VCardVersion::k40));
}

TEST(VCardWriterTest, FamilyNameOnly40) {
  EXPECT_EQ(ContactToVCard(FamilyOnlyContact(), VCardVersion::k40),
            Crlf({"BEGIN:VCARD", "VERSION:4.0", "UID;VALUE=text:u1", "FN:Smith",
                  "N:Smith;;;;", "END:VCARD"}));
}

TEST(VCardWriterTest, FamilyNameOnly30) {
  EXPECT_EQ(ContactToVCard(FamilyOnlyContact(), VCardVersion::k30),
            Crlf({"BEGIN:VCARD", "VERSION:3.0", "UID:u1", "FN:Smith",
                  "N:Smith;;;;", "END:VCARD"}));
}

TEST(VCardWriterTest, EmptyFieldsAreOmitted) {
  // Only a full name: no N in 4.0; 3.0 requires N, so it is written empty.
  Contact c;
  c.id = "room-4.12";
  c.name.full = "Meeting room 4.12";
  EXPECT_EQ(ContactToVCard(c, VCardVersion::k40),
            Crlf({"BEGIN:VCARD", "VERSION:4.0", "UID;VALUE=text:room-4.12",
                  "FN:Meeting room 4.12", "END:VCARD"}));
  EXPECT_EQ(ContactToVCard(c, VCardVersion::k30),
            Crlf({"BEGIN:VCARD", "VERSION:3.0", "UID:room-4.12",
                  "FN:Meeting room 4.12", "N:;;;;", "END:VCARD"}));
}

TEST(VCardWriterTest, PartialStructuredValuesKeepTheirComponents) {
  Contact c = FamilyOnlyContact();
  c.department = "Sales";      // no organization
  c.office.locality = "Oslo";  // nothing else of the office
  for (VCardVersion v : {VCardVersion::k40, VCardVersion::k30}) {
    const std::string card = ContactToVCard(c, v);
    EXPECT_EQ(LogicalLine(card, "ORG"), "ORG:;Sales");
    EXPECT_EQ(LogicalLine(card, "ADR"), "ADR;TYPE=work:;;;Oslo;;;");
  }
  c.department.clear();
  c.organization = "Acme";
  EXPECT_EQ(LogicalLine(ContactToVCard(c), "ORG"), "ORG:Acme");
}

TEST(VCardWriterTest, RevOnlyWhenUpdatedIsSet) {
  Contact c = FamilyOnlyContact();
  EXPECT_EQ(LogicalLine(ContactToVCard(c), "REV"), "");
  c.updated_us = 1;  // 1970-01-01T00:00:00.000001Z
  EXPECT_EQ(LogicalLine(ContactToVCard(c), "REV"), "REV:19700101T000000Z");
  EXPECT_EQ(LogicalLine(ContactToVCard(c, VCardVersion::k30), "REV"),
            "REV:1970-01-01T00:00:00Z");
}

TEST(VCardWriterTest, EscapesEachSpecialCharacterInText) {
  Contact c = FamilyOnlyContact();
  const std::pair<std::string, std::string> cases[] = {
      {"a\\b", "a\\\\b"},
      {"a,b", "a\\,b"},
      {"a;b", "a\\;b"},
      {"a\nb", "a\\nb"},
      {"a\r\nb", "a\\nb"},
      {"a\rb", "a\\nb"},
      {"a:b", "a:b"},    // a colon is never escaped
      {"a\"b", "a\"b"},  // nor a double quote in a value
      {"\\,;\n", "\\\\\\,\\;\\n"},
  };
  for (const auto& [raw, escaped] : cases) {
    SCOPED_TRACE(raw);
    c.title = raw;
    c.nickname = raw;
    c.extra = {{"k", raw}};
    for (VCardVersion v : {VCardVersion::k40, VCardVersion::k30}) {
      const std::string card = ContactToVCard(c, v);
      EXPECT_EQ(LogicalLine(card, "TITLE"), "TITLE:" + escaped);
      EXPECT_EQ(LogicalLine(card, "NICKNAME"), "NICKNAME:" + escaped);
      EXPECT_EQ(LogicalLine(card, "X-GALSYNC-EXTRA"),
                "X-GALSYNC-EXTRA;X-KEY=\"k\":" + escaped);
    }
  }
}

TEST(VCardWriterTest, StructuredComponentsEscapeTheirSeparators) {
  Contact c;
  c.id = "u1";
  c.name = {.full = "x",
            .prefix = "p;1",
            .given = "g,1",
            .middle = "m\\1",
            .family = "f;2",
            .suffix = "s\n1"};
  c.organization = "O;rg, Inc.";
  c.department = "D;ept";
  c.office = {.room = "r;1",
              .street = "s,1",
              .locality = "l\\1",
              .region = "r;2",
              .postcode = "p,2",
              .country = "c;3"};
  const std::string card = ContactToVCard(c);
  EXPECT_EQ(LogicalLine(card, "N:"), "N:f\\;2;g\\,1;m\\\\1;p\\;1;s\\n1");
  EXPECT_EQ(LogicalLine(card, "ORG:"), "ORG:O\\;rg\\, Inc.;D\\;ept");
  EXPECT_EQ(LogicalLine(card, "ADR"),
            "ADR;TYPE=work:;r\\;1;s\\,1;l\\\\1;r\\;2;p\\,2;c\\;3");
}

TEST(VCardWriterTest, TypeMappings) {
  Contact c = FamilyOnlyContact();
  c.emails = {{"a@example.com", "home"}, {"b@example.com", "work"}};
  c.phones = {{"+1 555 0101", "other"}, {"+1 555 0102", "mobile"}};
  const std::string v4 = ContactToVCard(c, VCardVersion::k40);
  EXPECT_NE(v4.find("\r\nEMAIL;TYPE=home;PREF=1:a@example.com\r\n"
                    "EMAIL;TYPE=work:b@example.com\r\n"),
            std::string::npos)
      << v4;
  EXPECT_NE(v4.find("\r\nTEL;VALUE=text;PREF=1:+1 555 0101\r\n"
                    "TEL;VALUE=text;TYPE=cell:+1 555 0102\r\n"),
            std::string::npos)
      << v4;
  const std::string v3 = ContactToVCard(c, VCardVersion::k30);
  EXPECT_NE(v3.find("\r\nEMAIL;TYPE=internet,home,pref:a@example.com\r\n"
                    "EMAIL;TYPE=internet,work:b@example.com\r\n"),
            std::string::npos)
      << v3;
  // An "other" phone has no type of its own; the first one is still pref.
  EXPECT_NE(v3.find("\r\nTEL;TYPE=pref:+1 555 0101\r\n"
                    "TEL;TYPE=cell:+1 555 0102\r\n"),
            std::string::npos)
      << v3;
}

TEST(VCardWriterTest, LineOf75OctetsIsNotFolded) {
  Contact c = FamilyOnlyContact();
  c.title = std::string(75 - 6, 'x');  // "TITLE:" + 69 = 75 octets
  std::string card = ContactToVCard(c);
  EXPECT_NE(card.find("\r\nTITLE:" + c.title + "\r\n"), std::string::npos);

  c.title.push_back('y');  // 76 octets: one fold, 75 + " y"
  card = ContactToVCard(c);
  EXPECT_NE(card.find("\r\nTITLE:" + std::string(69, 'x') + "\r\n y\r\n"),
            std::string::npos)
      << card;
}

TEST(VCardWriterTest, FoldsLongAsciiLines) {
  Contact c = FamilyOnlyContact();
  for (char ch = 'a'; c.title.size() < 1000; ch = ch == 'z' ? 'a' : ch + 1) {
    c.title.push_back(ch);
  }
  for (VCardVersion v : {VCardVersion::k40, VCardVersion::k30}) {
    const std::string card = ContactToVCard(c, v);
    ExpectFoldedCorrectly(card);
    // Folded lines are filled: 75 octets, then 1 + 74.
    const std::vector<std::string> lines = PhysicalLines(card);
    const auto title = std::find_if(lines.begin(), lines.end(), [](auto& l) {
      return l.starts_with("TITLE:");
    });
    ASSERT_NE(title, lines.end());
    EXPECT_EQ(title->size(), 75u);
    EXPECT_EQ((title + 1)->size(), 75u);
    EXPECT_EQ((title + 1)->front(), ' ');
    EXPECT_EQ(LogicalLine(card, "TITLE"), "TITLE:" + c.title);
  }
}

TEST(VCardWriterTest, FoldsMultiByteTextWithoutSplittingCodePoints) {
  // 2-, 3- and 4-byte sequences, each shifted by 0 to 3 ASCII bytes so that
  // every alignment of a sequence against the 75-octet limit occurs.
  const std::string_view samples[] = {
      "Дмитрий Алексеевич Щербаков-Голенищев ",    // Cyrillic, 2 bytes
      "東京都千代田区丸の内一丁目株式会社開発部",  // CJK, 3 bytes
      "😀🎉👩‍💻🇳🇴",               // emoji, 4 bytes + ZWJ
      "aé東😀",                                     // all widths mixed
  };
  for (std::string_view sample : samples) {
    for (size_t shift = 0; shift < 4; ++shift) {
      Contact c = FamilyOnlyContact();
      c.title = std::string(shift, '.');
      while (c.title.size() < 600) c.title.append(sample);
      c.name.full = c.title;
      c.extra = {{"long", c.title}};
      for (VCardVersion v : {VCardVersion::k40, VCardVersion::k30}) {
        SCOPED_TRACE(std::string(sample) + " shift " + std::to_string(shift));
        const std::string card = ContactToVCard(c, v);
        ExpectFoldedCorrectly(card);
        EXPECT_EQ(LogicalLine(card, "TITLE"), "TITLE:" + c.title);
        EXPECT_EQ(LogicalLine(card, "FN"), "FN:" + c.title);
        EXPECT_EQ(LogicalLine(card, "X-GALSYNC-EXTRA"),
                  "X-GALSYNC-EXTRA;X-KEY=\"long\":" + c.title);
      }
    }
  }
}

TEST(VCardWriterTest, FoldsEveryPropertyOfALongContact) {
  // Long values in each kind of property: text, structured, URI, parameter.
  Contact c = FullContact();
  const std::string long_text(200, 'w');
  c.name.given = long_text + "Ж";
  c.office.street = "Улица " + long_text;
  c.links.push_back({"https://example.com/" + long_text, "blog"});
  c.photo = "https://example.com/" + long_text + ".jpg";
  c.extra.push_back({std::string(64, 'k'), "v"});
  for (VCardVersion v : {VCardVersion::k40, VCardVersion::k30}) {
    const std::string card = ContactToVCard(c, v);
    ExpectFoldedCorrectly(card);
    EXPECT_EQ(LogicalLine(card, "URL;TYPE=blog"),
              "URL;TYPE=blog:https://example.com/" + long_text);
    EXPECT_EQ(LogicalLine(card, "X-GALSYNC-EXTRA;X-KEY=\"kkk"),
              "X-GALSYNC-EXTRA;X-KEY=\"" + std::string(64, 'k') + "\":v");
  }
}

TEST(VCardWriterTest, UriValuesEscapeOnlyBackslashAndComma) {
  Contact c = FamilyOnlyContact();
  c.links = {{"https://example.com/a,b;c:d\\e", "profile"}};
  c.photo = "data:image/png;base64,iVBORw0KGgo=";
  const std::string v4 = ContactToVCard(c, VCardVersion::k40);
  EXPECT_EQ(LogicalLine(v4, "URL"),
            "URL;TYPE=profile:https://example.com/a\\,b;c:d\\\\e");
  EXPECT_EQ(LogicalLine(v4, "PHOTO"),
            "PHOTO:data:image/png;base64\\,iVBORw0KGgo=");
  EXPECT_EQ(LogicalLine(ContactToVCard(c, VCardVersion::k30), "PHOTO"),
            "PHOTO;VALUE=uri:data:image/png;base64\\,iVBORw0KGgo=");
}

TEST(VCardWriterTest, DerivesFnWhenFullNameIsEmpty) {
  Contact c;
  c.id = "u2";
  c.name.given = "Ann";
  c.name.family = "Lee";
  EXPECT_EQ(LogicalLine(ContactToVCard(c), "FN"), "FN:Ann Lee");
  c.name = {};
  EXPECT_EQ(LogicalLine(ContactToVCard(c), "FN"), "FN:u2");
}

TEST(VCardWriterTest, ParameterValuesCannotBreakTheLine) {
  // Not possible for contacts the codec accepts; a contact built in code
  // must still give a well-formed card.
  Contact c = FamilyOnlyContact();
  c.extra = {{"we\"ird^key\nx", "v"}};
  c.links = {{"https://example.com/", "My Site;x"}};
  c.photo = "https://example.com/a\r\nb";
  const std::string card = ContactToVCard(c);
  ExpectFoldedCorrectly(card);
  EXPECT_EQ(LogicalLine(card, "X-GALSYNC-EXTRA"),
            "X-GALSYNC-EXTRA;X-KEY=\"we^'ird^^key^nx\":v");
  EXPECT_EQ(LogicalLine(card, "URL"),
            "URL;TYPE=\"My Site;x\":https://example.com/");
  EXPECT_EQ(LogicalLine(card, "PHOTO"), "PHOTO:https://example.com/ab");
}

TEST(VCardWriterTest, DropsControlCharactersOtherThanLineBreaks) {
  Contact c = FamilyOnlyContact();
  c.title = std::string("a\x01") + "b\x7f" + "c\td";
  EXPECT_EQ(LogicalLine(ContactToVCard(c), "TITLE"), "TITLE:abc\td");
}

}  // namespace
}  // namespace galsync
