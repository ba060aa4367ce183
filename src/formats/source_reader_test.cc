// Tests of the source readers: each format with the quirks real exports
// have (BOM, CRLF, quoted line breaks, folded vCard lines, base64 LDIF,
// missing columns, invalid UTF-8), errors that name their line, byte-at-a-
// time feeding, and the round trip from galsync's own writers.
#include "galsync/source_reader.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "formats/export_test_contacts.h"
#include "galsync/contact.h"
#include "galsync/export.h"

namespace galsync {
namespace {

namespace json = boost::json;

struct Read {
  std::vector<SourceRecord> records;
  Status status = Ok{};
  uint64_t ignored = 0;
  std::vector<std::string> warnings;
};

// Reads `text` whole, or in pieces of `piece` bytes.
Read ReadAll(SourceFormat f, std::string_view text, size_t piece = 0,
             SourceOptions opts = {}) {
  Read out;
  auto reader = SourceReader::Create(f, std::move(opts));
  if (!reader) {
    out.status = reader.error();
    return out;
  }
  auto sink = [&](SourceRecord&& r) { out.records.push_back(std::move(r)); };
  if (piece == 0) piece = text.size() + 1;
  for (size_t i = 0; i < text.size(); i += piece) {
    out.status = (*reader)->Feed(text.substr(i, piece), sink);
    if (!out.status.ok()) return out;
  }
  out.status = (*reader)->Finish(sink);
  out.ignored = (*reader)->ignored();
  out.warnings = (*reader)->warnings();
  return out;
}

// What the writer tests write: every field with every character to escape,
// and the least a contact can have.
std::vector<Contact> WriterContacts() {
  return {export_test::FullContact(), export_test::FamilyOnlyContact()};
}

Contact Decode(const SourceRecord& r) {
  EXPECT_TRUE(r.error.empty()) << "line " << r.line << ": " << r.error;
  auto c = ContactFromJson(r.contact);
  EXPECT_TRUE(c.ok()) << "line " << r.line << ": "
                      << (c.ok() ? "" : c.error().message) << " in "
                      << json::serialize(r.contact);
  return c.ok() ? *c : Contact{};
}

// --- CSV -------------------------------------------------------------------

TEST(CsvReaderTest, BomCrlfQuotesAndLineBreaksInFields) {
  const std::string csv =
      "\xEF\xBB\xBFid,given_name,family_name,title,office_street\r\n"
      "ann,Ann,Smith,\"Head of R&D, \"\"Labs\"\"\",\"1 Main St\r\nSuite 4\"\r\n"
      "bob,Bob,Jones,,\r\n";
  for (size_t piece : {0, 1, 3, 7}) {
    auto r = ReadAll(SourceFormat::kCsv, csv, piece);
    ASSERT_TRUE(r.status.ok()) << r.status.error().message;
    ASSERT_EQ(r.records.size(), 2u) << "piece " << piece;
    Contact ann = Decode(r.records[0]);
    EXPECT_EQ(r.records[0].line, 2u);
    EXPECT_EQ(ann.id, "ann");
    EXPECT_EQ(ann.title, "Head of R&D, \"Labs\"");
    EXPECT_EQ(ann.office.street, "1 Main St Suite 4");  // one line in galsync
    EXPECT_EQ(r.records[1].line, 4u);  // the quoted line break counts
    EXPECT_EQ(Decode(r.records[1]).name.family, "Jones");
  }
}

TEST(CsvReaderTest, WrongFieldCountAndUnclosedQuoteNameTheirLines) {
  const std::string csv =
      "id,given_name\n"
      "a,Ann\n"
      "b,Bob,extra\n"
      "c,\"Cy\"x\n"
      "d,\"Dee\n";
  auto r = ReadAll(SourceFormat::kCsv, csv);
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_TRUE(r.records[0].error.empty());
  EXPECT_EQ(r.records[1].line, 3u);
  EXPECT_EQ(r.records[1].error, "the row has 3 fields; the header has 2");
  EXPECT_EQ(r.records[2].line, 4u);
  EXPECT_EQ(r.records[2].error, "field 2 has text after its closing quote");
  EXPECT_EQ(r.records[3].line, 5u);
  EXPECT_NE(r.records[3].error.find("not closed"), std::string::npos);
}

TEST(CsvReaderTest, InvalidUtf8IsTheRecordsErrorNotTheFiles) {
  const std::string csv = "id,given_name\nok,Ann\nbad,B\xC3(b\nok2,Cy\n";
  auto r = ReadAll(SourceFormat::kCsv, csv);
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.records.size(), 3u);
  auto c = ContactFromJson(r.records[1].contact);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("not valid UTF-8"), std::string::npos)
      << c.error().message;
  EXPECT_NE(c.error().message.find("name.given"), std::string::npos);
  EXPECT_EQ(Decode(r.records[2]).id, "ok2");
}

TEST(CsvReaderTest, OutlookExportColumns) {
  const std::string csv =
      "Title,First Name,Middle Name,Last Name,Suffix,Company,Department,"
      "Job Title,Business Street,Business City,Business Phone,Mobile Phone,"
      "E-mail Address,E-mail 2 Address,Manager's Name,Notes\r\n"
      "Dr.,José,María,Álvarez,Jr.,Example S.A.,R&D,CTO,Calle Mayor 1,Madrid,"
      "+34 91 123 45 67,+34 600 000 000,jose@example.com,pepe@example.org,"
      "Big Boss,likes tea\r\n";
  auto r = ReadAll(SourceFormat::kCsv, csv);
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.records.size(), 1u);
  json::object o = r.records[0].contact;
  o["id"] = "jose";
  auto c = ContactFromJson(o);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->name.prefix, "Dr.");  // Outlook's "Title"
  EXPECT_EQ(c->name.given, "José");
  EXPECT_EQ(c->name.middle, "María");
  EXPECT_EQ(c->name.family, "Álvarez");
  EXPECT_EQ(c->title, "CTO");
  EXPECT_EQ(c->organization, "Example S.A.");
  EXPECT_EQ(c->office.locality, "Madrid");
  ASSERT_EQ(c->phones.size(), 2u);
  EXPECT_EQ(c->phones[1].type, "mobile");
  ASSERT_EQ(c->emails.size(), 2u);
  EXPECT_EQ(c->emails[0].address, "jose@example.com");
  EXPECT_EQ(c->emails[1].type, "other");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0], "columns not imported: \"Notes\"");
}

TEST(CsvReaderTest, GoogleExportGroups) {
  const std::string csv =
      "Name,Given Name,Family Name,E-mail 1 - Type,E-mail 1 - Value,"
      "Phone 1 - Value,Phone 1 - Type,Organization 1 - Name\n"
      "Ann Smith,Ann,Smith,* Work,ann@example.com ::: ann@old.example.com,"
      "+1 555 0100,Mobile,Acme\n";
  auto r = ReadAll(SourceFormat::kCsv, csv);
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.records.size(), 1u);
  json::object o = r.records[0].contact;
  o["id"] = "ann";
  auto c = ContactFromJson(o);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->emails.size(), 2u);
  EXPECT_EQ(c->emails[1].address, "ann@old.example.com");
  EXPECT_EQ(c->emails[1].type, "work");
  ASSERT_EQ(c->phones.size(), 1u);
  EXPECT_EQ(c->phones[0].type, "mobile");  // type column after the value's
  EXPECT_EQ(c->organization, "Acme");
}

TEST(CsvReaderTest, ExplicitMappingAndMissingColumns) {
  SourceOptions o;
  o.columns = {{"Employee", "id"}, {"Surname", "family_name"},
               {"Badge", "extra.badge"}, {"Cell", "phone.mobile"}};
  const std::string csv = "Employee,Surname,Badge,Cell\nE1,Smith,B-7,+1 555\n";
  auto r = ReadAll(SourceFormat::kCsv, csv, 0, o);
  ASSERT_TRUE(r.status.ok()) << r.status.error().message;
  Contact c = Decode(r.records.at(0));
  EXPECT_EQ(c.id, "E1");
  EXPECT_EQ(c.name.full, "Smith");
  ASSERT_EQ(c.extra.size(), 1u);
  EXPECT_EQ(c.extra[0], std::make_pair(std::string("badge"), std::string("B-7")));
  EXPECT_EQ(c.phones.at(0).type, "mobile");

  o.columns = {{"Surname", "surname_please"}};
  auto bad = ReadAll(SourceFormat::kCsv, csv, 0, o);
  ASSERT_FALSE(bad.status.ok());
  EXPECT_EQ(bad.status.error().reason, "invalid_column_mapping");

  o.columns = {{"Nope", "family_name"}};
  bad = ReadAll(SourceFormat::kCsv, csv, 0, o);
  ASSERT_FALSE(bad.status.ok());
  EXPECT_NE(bad.status.error().message.find("\"Nope\""), std::string::npos);
}

TEST(CsvReaderTest, UnknownHeaderAndEmptyFileAreFatal) {
  auto r = ReadAll(SourceFormat::kCsv, "foo,bar\n1,2\n");
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.error().reason, "invalid_csv_header");
  r = ReadAll(SourceFormat::kCsv, "");
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.error().reason, "invalid_csv_header");
}

TEST(CsvReaderTest, LongRecordStopsReading) {
  SourceOptions o;
  o.limits.max_record_bytes = 100;
  std::string csv = "id,title\na,\"" + std::string(60, 'x') + "\n" +
                    std::string(60, 'y') + "\"\n";
  auto r = ReadAll(SourceFormat::kCsv, csv, 0, o);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.error().reason, "record_too_large");
  EXPECT_NE(r.status.error().message.find("line 2"), std::string::npos);
  o.limits.max_line_bytes = 50;
  r = ReadAll(SourceFormat::kCsv, "id,title\n" + std::string(80, 'z'), 7, o);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.error().reason, "record_too_large");
}

// --- vCard -----------------------------------------------------------------

TEST(VCardReaderTest, FoldedLinesEscapesParametersAndGroups) {
  const std::string vcf =
      "BEGIN:VCARD\r\n"
      "VERSION:3.0\r\n"
      "UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\r\n"
      "FN:Ann \r\n"
      " Smith\r\n"
      "N:Smith;Ann;;Dr.;\r\n"
      "item1.EMAIL;TYPE=INTERNET;TYPE=HOME:ann@home.example.org\r\n"
      "EMAIL;type=internet,work,pref:ann@example.com\r\n"
      "TEL;TYPE=cell:+1 555 0100\r\n"
      "TEL;TYPE=WORK,FAX:+1 555 0199\r\n"
      "ORG:Acme\\, Inc.;Research\r\n"
      "ADR;TYPE=home:;;9 Home Rd;Hometown;;;\r\n"
      "ADR;TYPE=work:;4.12;1 Main St;Springfield;IL;62701;US\r\n"
      "NOTE:first\\nsecond\\; third\r\n"
      "X-UNKNOWN;FOO=\"a:b\":ignored\r\n"
      "END:VCARD\r\n";
  for (size_t piece : {0, 1, 5}) {
    auto r = ReadAll(SourceFormat::kVCard, vcf, piece);
    ASSERT_TRUE(r.status.ok());
    ASSERT_EQ(r.records.size(), 1u);
    Contact c = Decode(r.records[0]);
    EXPECT_EQ(c.id, "4fbe8971-0bc3-424c-9c26-36c3e1eff6b1");
    EXPECT_EQ(c.name.full, "Ann Smith");
    EXPECT_EQ(c.name.prefix, "Dr.");
    ASSERT_EQ(c.emails.size(), 2u);
    EXPECT_EQ(c.emails[0].type, "home");  // document order
    EXPECT_EQ(c.emails[1].type, "work");
    ASSERT_EQ(c.phones.size(), 2u);
    EXPECT_EQ(c.phones[0].type, "mobile");
    EXPECT_EQ(c.phones[1].type, "fax");
    EXPECT_EQ(c.organization, "Acme, Inc.");
    EXPECT_EQ(c.department, "Research");
    EXPECT_EQ(c.office.room, "4.12");  // the work address, not the first
    EXPECT_EQ(c.office.country, "US");
    ASSERT_EQ(c.extra.size(), 1u);
    EXPECT_EQ(c.extra[0].second, "first second; third");
  }
}

TEST(VCardReaderTest, BrokenCardsAreErrorsAndReadingGoesOn) {
  const std::string vcf =
      "BEGIN:VCARD\nVERSION:4.0\nFN:One\nUID:one\nEND:VCARD\n"
      "stray text\n"
      "BEGIN:VCARD\nVERSION:4.0\nFN Two without colon\nUID:two\nEND:VCARD\n"
      "BEGIN:VCARD\nKIND:group\nFN:Team\nEND:VCARD\n"
      "BEGIN:VCARD\nFN:Three\nUID:three\n";
  auto r = ReadAll(SourceFormat::kVCard, vcf);
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_EQ(Decode(r.records[0]).id, "one");
  EXPECT_EQ(r.records[1].line, 6u);
  EXPECT_EQ(r.records[1].error, "text outside BEGIN:VCARD ... END:VCARD");
  EXPECT_EQ(r.records[2].line, 7u);
  EXPECT_NE(r.records[2].error.find("line 9"), std::string::npos);
  EXPECT_EQ(r.records[3].line, 16u);
  EXPECT_NE(r.records[3].error.find("no END:VCARD"), std::string::npos);
  EXPECT_EQ(r.ignored, 1u);  // the group card
}

// Everything galsync's writer produces reads back as the same content.
TEST(VCardReaderTest, RoundTripsTheWriter) {
  for (VCardVersion v : {VCardVersion::k40, VCardVersion::k30}) {
    std::string file;
    const auto contacts = WriterContacts();
    for (const Contact& c : contacts) file += ContactToVCard(c, v);
    auto r = ReadAll(SourceFormat::kVCard, file, 13);
    ASSERT_TRUE(r.status.ok());
    ASSERT_EQ(r.records.size(), contacts.size());
    for (size_t i = 0; i < contacts.size(); ++i) {
      Contact back = Decode(r.records[i]);
      EXPECT_TRUE(back.SameContent(contacts[i]))
          << "vCard " << (v == VCardVersion::k40 ? "4.0" : "3.0") << ": "
          << CanonicalContentJson(contacts[i]) << "\nread back as\n"
          << CanonicalContentJson(back);
    }
  }
}

// --- CSV round trip ------------------------------------------------------------

TEST(CsvReaderTest, RoundTripsTheWriter) {
  std::string file = CsvHeader();
  const auto contacts = WriterContacts();
  for (const Contact& c : contacts) file += ContactToCsvRow(c);
  auto r = ReadAll(SourceFormat::kCsv, file, 11);
  ASSERT_TRUE(r.status.ok()) << r.status.error().message;
  EXPECT_TRUE(r.warnings.empty());
  ASSERT_EQ(r.records.size(), contacts.size());
  for (size_t i = 0; i < contacts.size(); ++i) {
    Contact back = Decode(r.records[i]);
    EXPECT_TRUE(back.SameContent(contacts[i]))
        << CanonicalContentJson(contacts[i]) << "\nread back as\n"
        << CanonicalContentJson(back);
  }
}

// --- LDIF ------------------------------------------------------------------

TEST(LdifReaderTest, PersonEntriesBase64ContinuationsAndComments) {
  const std::string ldif =
      "version: 1\n"
      "\n"
      "# the people\n"
      "dn: ou=people,dc=example,dc=com\n"
      "objectClass: organizationalUnit\n"
      "ou: people\n"
      "\n"
      "dn: uid=jose,ou=people,dc=example,dc=com\n"
      "objectClass: top\n"
      "objectClass: inetOrgPerson\n"
      "uid: jose\n"
      "cn: Jose Alvarez\n"
      "displayName:: Sm9zw6kgw4FsdmFyZXo=\n"
      "givenName: Jos\xC3\xA9\n"
      "sn: \xC3\x81lvarez\n"
      "mail: jose@example.com\n"
      "mail: pepe@example.com\n"
      "telephoneNumber: +34 91 123 45 67\n"
      "mobile: +34 600 000 000\n"
      "title: Chief Technology Offi\n"
      " cer\n"
      "# a comment\n"
      " that continues\n"
      "ou: R&D\n"
      "manager: uid=ceo,ou=people,dc=example,dc=com\n"
      "l: Madrid\n"
      "c: ES\n"
      "employeeNumber: 1042\n"
      "jpegPhoto:< file:///photos/jose.jpg\n";
  for (size_t piece : {0, 1, 9}) {
    auto r = ReadAll(SourceFormat::kLdif, ldif, piece);
    ASSERT_TRUE(r.status.ok());
    EXPECT_EQ(r.ignored, 1u);
    ASSERT_EQ(r.records.size(), 1u);
    EXPECT_EQ(r.records[0].line, 8u);
    Contact c = Decode(r.records[0]);
    EXPECT_EQ(c.id, "jose");
    EXPECT_EQ(c.name.full, "José Álvarez");  // displayName over cn
    EXPECT_EQ(c.name.given, "José");
    ASSERT_EQ(c.emails.size(), 2u);
    ASSERT_EQ(c.phones.size(), 2u);
    EXPECT_EQ(c.phones[1].type, "mobile");
    EXPECT_EQ(c.title, "Chief Technology Officer");
    EXPECT_EQ(c.department, "R&D");
    EXPECT_EQ(c.manager, "ceo");
    EXPECT_EQ(c.office.country, "ES");
    ASSERT_EQ(c.extra.size(), 1u);
    EXPECT_EQ(c.extra[0].first, "employee_number");
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_NE(r.warnings[0].find("line 29"), std::string::npos) << r.warnings[0];
  }
}

TEST(LdifReaderTest, ChangeRecordsAndBadBase64AreErrors) {
  const std::string ldif =
      "dn: uid=a,dc=example\nchangetype: modify\nreplace: mail\nmail: a@x.org\n"
      "\n"
      "dn: uid=b,dc=example\nobjectClass: person\ncn:: not*base64\n"
      "\n"
      "cn: no dn\nsn: X\n";
  auto r = ReadAll(SourceFormat::kLdif, ldif);
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_NE(r.records[0].error.find("change record"), std::string::npos);
  EXPECT_EQ(r.records[1].line, 6u);
  EXPECT_EQ(r.records[1].error,
            "line 8: the value of \"cn\" is not valid base64");
  EXPECT_EQ(r.records[2].error, "an entry must begin with \"dn:\"");
}

// Found by fuzz_source_reader: a file that starts with a continuation line
// gave a record with no line number (line 0).
TEST(LdifReaderTest, AContinuationLineWithNothingToContinueNamesItsLine) {
  for (const std::string& ldif :
       {std::string(" stray\n\ndn: uid=a,dc=example\ncn: A\n"),
        std::string("# comment\n\n stray\n")}) {
    auto r = ReadAll(SourceFormat::kLdif, ldif);
    ASSERT_TRUE(r.status.ok());
    ASSERT_FALSE(r.records.empty()) << ldif;
    const uint64_t line = ldif[0] == ' ' ? 1 : 3;
    EXPECT_EQ(r.records[0].line, line) << ldif;
    EXPECT_EQ(r.records[0].error,
              "line " + std::to_string(line) +
                  ": a continuation line with nothing to continue")
        << ldif;
  }
}

// --- JSON lines ------------------------------------------------------------

TEST(JsonLinesReaderTest, OneContactPerLineAndErrorsPerLine) {
  std::string file;
  const auto contacts = WriterContacts();
  for (const Contact& c : contacts) file += ContactToJsonLine(c);
  file += "\n{\"id\":\"x\",\n[1,2]\n";
  auto r = ReadAll(SourceFormat::kJsonLines, file, 17);
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.records.size(), contacts.size() + 2);
  for (size_t i = 0; i < contacts.size(); ++i) {
    EXPECT_TRUE(Decode(r.records[i]).SameContent(contacts[i]));
  }
  EXPECT_EQ(r.records[contacts.size()].line, contacts.size() + 2);
  EXPECT_NE(r.records[contacts.size()].error.find("invalid JSON"),
            std::string::npos);
  EXPECT_EQ(r.records[contacts.size() + 1].error,
            "a line must hold one JSON object (a contact)");
}

TEST(SourceReaderTest, FormatNames) {
  EXPECT_EQ(*ParseSourceFormat("vcard"), SourceFormat::kVCard);
  EXPECT_EQ(*ParseSourceFormat("jsonl"), SourceFormat::kJsonLines);
  auto bad = ParseSourceFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason, "invalid_format");
  auto mapping = SourceReader::Create(SourceFormat::kVCard,
                                      {.columns = {{"a", "id"}}});
  ASSERT_FALSE(mapping.ok());
}

}  // namespace
}  // namespace galsync
