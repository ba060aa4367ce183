// Tests for the CSV writer (src/formats/csv_writer.cc): the header, the exact
// row for a full contact, RFC 4180 quoting, and header/row agreement.
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

// Parses one RFC 4180 record that must end in CRLF and be all of `text`.
// Fails the test on malformed input.
std::vector<std::string> ParseRecord(std::string_view text) {
  std::vector<std::string> fields(1);
  size_t i = 0;
  bool at_field_start = true;
  while (i < text.size()) {
    const char c = text[i];
    if (at_field_start && c == '"') {
      ++i;
      while (true) {
        if (i >= text.size()) {
          ADD_FAILURE() << "unterminated quoted field in " << text;
          return fields;
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            fields.back().push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        fields.back().push_back(text[i++]);
      }
      at_field_start = false;
      if (i < text.size() && text[i] != ',' && text[i] != '\r') {
        ADD_FAILURE() << "text after a closing quote at " << i << ": " << text;
        return fields;
      }
      continue;
    }
    if (c == ',') {
      fields.emplace_back();
      at_field_start = true;
      ++i;
    } else if (c == '\r') {
      EXPECT_EQ(text.substr(i), "\r\n") << "record must end at its CRLF";
      return fields;
    } else {
      EXPECT_NE(c, '"') << "quote inside an unquoted field: " << text;
      EXPECT_NE(c, '\n') << "LF inside an unquoted field: " << text;
      fields.back().push_back(c);
      at_field_start = false;
      ++i;
    }
  }
  ADD_FAILURE() << "record does not end in CRLF: " << text;
  return fields;
}


TEST(CsvWriterTest, Header) {
  EXPECT_EQ(CsvHeader(),
            "id,full_name,name_prefix,given_name,middle_name,family_name,"
            "name_suffix,nickname,email,emails,phone,phones,title,department,"
            "organization,manager,office_room,office_street,office_locality,"
            "office_region,office_postcode,office_country,links,photo,extra,"
            "updated\r\n");
  EXPECT_EQ(ParseRecord(CsvHeader()), export_test::kCsvColumns);
}

TEST(CsvWriterTest, FullContactRow) {
  EXPECT_EQ(ContactToCsvRow(FullContact()),
            "jose.alvarez@example.com,"
            "\"Dr. José Álvarez, Jr.\","
            "Dr.,José,María,Álvarez,Jr.,Pepe,"
            "jose@example.com,"
            "\"work: jose@example.com\n"
            "home: pepe@home.example.org\n"
            "other: jose@other.example.net\","
            "+34 91 123 45 67,"
            "\"work: +34 91 123 45 67\n"
            "mobile: +34 600 000 000\n"
            "home: +34 91 000 11 22, ext 5\n"
            "fax: +34 91 123 45 68\n"
            "pager: +34 91 555\n"
            "other: +1 555 0100;4\","
            "\"Chief \"\"Quoted\"\" Officer; Acting\","
            "R&D \\ Platform,"
            "Example S.A.,"
            "ceo,"
            "4.12,Calle Mayor 1,Madrid,M,28013,ES,"
            "\"linkedin: https://www.linkedin.com/in/jose\n"
            "profile: https://example.com/~jose?a=1,b=2;c\","
            "https://example.com/p/jose.jpg,"
            "\"aa:b_c: x\n"
            "cost.center: CC-17, north\","
            "2026-11-22T07:15:03.123456Z\r\n");
}

TEST(CsvWriterTest, FullContactRowParsesBack) {
  const std::vector<std::string> row =
      ParseRecord(ContactToCsvRow(FullContact()));
  ASSERT_EQ(row.size(), export_test::kCsvColumns.size());
  EXPECT_EQ(row[1], "Dr. José Álvarez, Jr.");
  EXPECT_EQ(row[9],
            "work: jose@example.com\nhome: pepe@home.example.org\n"
            "other: jose@other.example.net");
  EXPECT_EQ(row[12], "Chief \"Quoted\" Officer; Acting");
  EXPECT_EQ(row[24], "aa:b_c: x\ncost.center: CC-17, north");
}

TEST(CsvWriterTest, FamilyNameOnlyRow) {
  EXPECT_EQ(ContactToCsvRow(FamilyOnlyContact()),
            "u1,Smith,,,,Smith,,,,,,,,,,,,,,,,,,,,\r\n");
}

TEST(CsvWriterTest, HeaderAndRowHaveTheSameColumnCount) {
  const size_t columns = ParseRecord(CsvHeader()).size();
  EXPECT_EQ(columns, 26u);
  Contact empty;
  for (const Contact& c : {FullContact(), FamilyOnlyContact(), empty}) {
    EXPECT_EQ(ParseRecord(ContactToCsvRow(c)).size(), columns);
  }
}

TEST(CsvWriterTest, QuotesOnlyWhenNeeded) {
  const std::pair<std::string, std::string> cases[] = {
      {"plain", "plain"},
      {"semi;colon", "semi;colon"},  // not special in CSV
      {" spaced ", " spaced "},      // kept verbatim
      {"a,b", "\"a,b\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"\"", "\"\"\"\""},
      {"line\nbreak", "\"line\nbreak\""},
      {"cr\rlf", "\"cr\rlf\""},
      {"crlf\r\nx", "\"crlf\r\nx\""},
      {"", ""},
  };
  for (const auto& [raw, written] : cases) {
    SCOPED_TRACE(raw);
    Contact c;
    c.id = "u1";
    c.title = raw;
    const std::string row = ContactToCsvRow(c);
    EXPECT_EQ(row, "u1" + std::string(12, ',') + written +
                       std::string(13, ',') + "\r\n");
    const std::vector<std::string> fields = ParseRecord(row);
    ASSERT_EQ(fields.size(), 26u);
    EXPECT_EQ(fields[12], raw);
  }
}

TEST(CsvWriterTest, FirstEmailAndPhoneColumns) {
  Contact c = FamilyOnlyContact();
  c.emails = {{"b@example.com", "home"}, {"a@example.com", "work"}};
  c.phones = {{"+1 555 0100", "mobile"}};
  const std::vector<std::string> row = ParseRecord(ContactToCsvRow(c));
  ASSERT_EQ(row.size(), 26u);
  EXPECT_EQ(row[8], "b@example.com");  // the preferred one, whatever its type
  EXPECT_EQ(row[9], "home: b@example.com\nwork: a@example.com");
  EXPECT_EQ(row[10], "+1 555 0100");
  EXPECT_EQ(row[11], "mobile: +1 555 0100");
}

TEST(CsvWriterTest, UpdatedEmptyWhenZero) {
  Contact c = FamilyOnlyContact();
  EXPECT_EQ(ParseRecord(ContactToCsvRow(c)).back(), "");
  c.updated_us = export_test::kUpdatedUs;
  EXPECT_EQ(ParseRecord(ContactToCsvRow(c)).back(),
            "2026-11-22T07:15:03.123456Z");
}

}  // namespace
}  // namespace galsync
