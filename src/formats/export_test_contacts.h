// Contacts shared by the export writer tests (vcard_writer_test.cc,
// csv_writer_test.cc, json_lines_writer_test.cc, export_parsers_test.cc).
#pragma once

#include <string>
#include <vector>

#include "galsync/contact.h"

namespace galsync::export_test {

// 2026-11-22T07:15:03.123456Z
inline constexpr int64_t kUpdatedUs = 1'795'331'703'123'456;

// Every field set, with the characters each format must escape: "," ";" "\"
// '"' in text, ";" "," in a phone number and in a URI, ":" "." in extra keys.
// The codec accepts it (vcard_writer_test checks that).
// The CSV columns, in order (docs: galsync/export.h).
inline const std::vector<std::string> kCsvColumns = {
    "id",
    "full_name",
    "name_prefix",
    "given_name",
    "middle_name",
    "family_name",
    "name_suffix",
    "nickname",
    "email",
    "emails",
    "phone",
    "phones",
    "title",
    "department",
    "organization",
    "manager",
    "office_room",
    "office_street",
    "office_locality",
    "office_region",
    "office_postcode",
    "office_country",
    "links",
    "photo",
    "extra",
    "updated",
};

inline Contact FullContact() {
  Contact c;
  c.id = "jose.alvarez@example.com";
  c.name = {.full = "Dr. José Álvarez, Jr.",
            .prefix = "Dr.",
            .given = "José",
            .middle = "María",
            .family = "Álvarez",
            .suffix = "Jr."};
  c.nickname = "Pepe";
  c.emails = {{"jose@example.com", "work"},
              {"pepe@home.example.org", "home"},
              {"jose@other.example.net", "other"}};
  c.phones = {{"+34 91 123 45 67", "work"},
              {"+34 600 000 000", "mobile"},
              {"+34 91 000 11 22, ext 5", "home"},
              {"+34 91 123 45 68", "fax"},
              {"+34 91 555", "pager"},
              {"+1 555 0100;4", "other"}};
  c.title = "Chief \"Quoted\" Officer; Acting";
  c.department = "R&D \\ Platform";
  c.organization = "Example S.A.";
  c.manager = "ceo";
  c.office = {.room = "4.12",
              .street = "Calle Mayor 1",
              .locality = "Madrid",
              .region = "M",
              .postcode = "28013",
              .country = "ES"};
  c.links = {{"https://www.linkedin.com/in/jose", "linkedin"},
             {"https://example.com/~jose?a=1,b=2;c", "profile"}};
  c.photo = "https://example.com/p/jose.jpg";
  c.extra = {{"aa:b_c", "x"}, {"cost.center", "CC-17, north"}};
  c.domain = "example.com";
  c.seq = 42;
  c.updated_us = kUpdatedUs;
  return c;
}

// Only what the codec requires: an id and one name part.
inline Contact FamilyOnlyContact() {
  Contact c;
  c.id = "u1";
  c.name.full = "Smith";  // what the codec derives from the family name
  c.name.family = "Smith";
  return c;
}

}  // namespace galsync::export_test
