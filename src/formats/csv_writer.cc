// The CSV writer: CsvHeader and ContactToCsvRow (galsync/export.h documents
// the columns). One table, kColumns, names each column and says how to fill
// it, so the header and the rows cannot disagree.
#include <string>
#include <string_view>

#include "galsync/contact.h"
#include "galsync/export.h"

namespace galsync {
namespace {

// Appends "<label>: <value>" entries, one per line, to `cell`.
void AppendEntry(std::string& cell, std::string_view label,
                 std::string_view value) {
  if (!cell.empty()) cell.push_back('\n');
  cell.append(label).append(": ").append(value);
}

std::string Emails(const Contact& c) {
  std::string cell;
  for (const Email& e : c.emails) AppendEntry(cell, e.type, e.address);
  return cell;
}

std::string Phones(const Contact& c) {
  std::string cell;
  for (const Phone& p : c.phones) AppendEntry(cell, p.type, p.number);
  return cell;
}

std::string Links(const Contact& c) {
  std::string cell;
  for (const Link& l : c.links) AppendEntry(cell, l.type, l.uri);
  return cell;
}

std::string Extra(const Contact& c) {
  std::string cell;
  for (const auto& [key, value] : c.extra) {
    if (!value.empty()) AppendEntry(cell, key, value);
  }
  return cell;
}

struct Column {
  std::string_view name;
  std::string (*value)(const Contact&);
};

// The column list. Captureless lambdas convert to the function pointer.
constexpr Column kColumns[] = {
    {"id", [](const Contact& c) { return c.id; }},
    {"full_name", [](const Contact& c) { return c.name.full; }},
    {"name_prefix", [](const Contact& c) { return c.name.prefix; }},
    {"given_name", [](const Contact& c) { return c.name.given; }},
    {"middle_name", [](const Contact& c) { return c.name.middle; }},
    {"family_name", [](const Contact& c) { return c.name.family; }},
    {"name_suffix", [](const Contact& c) { return c.name.suffix; }},
    {"nickname", [](const Contact& c) { return c.nickname; }},
    {"email",
     [](const Contact& c) {
       return c.emails.empty() ? std::string() : c.emails.front().address;
     }},
    {"emails", Emails},
    {"phone",
     [](const Contact& c) {
       return c.phones.empty() ? std::string() : c.phones.front().number;
     }},
    {"phones", Phones},
    {"title", [](const Contact& c) { return c.title; }},
    {"department", [](const Contact& c) { return c.department; }},
    {"organization", [](const Contact& c) { return c.organization; }},
    {"manager", [](const Contact& c) { return c.manager; }},
    {"office_room", [](const Contact& c) { return c.office.room; }},
    {"office_street", [](const Contact& c) { return c.office.street; }},
    {"office_locality", [](const Contact& c) { return c.office.locality; }},
    {"office_region", [](const Contact& c) { return c.office.region; }},
    {"office_postcode", [](const Contact& c) { return c.office.postcode; }},
    {"office_country", [](const Contact& c) { return c.office.country; }},
    {"links", Links},
    {"photo", [](const Contact& c) { return c.photo; }},
    {"extra", Extra},
    {"updated",
     [](const Contact& c) {
       return c.updated_us == 0 ? std::string() : FormatTime(c.updated_us);
     }},
};

// Appends `field` per RFC 4180: quoted, with quotes doubled, when it
// contains a comma, a double quote, CR or LF; verbatim otherwise.
void AppendField(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

std::string CsvHeader() {
  std::string out;
  for (const Column& column : kColumns) {
    if (!out.empty()) out.push_back(',');
    AppendField(out, column.name);
  }
  out.append("\r\n");
  return out;
}

std::string ContactToCsvRow(const Contact& c) {
  std::string out;
  bool first = true;
  for (const Column& column : kColumns) {
    if (!first) out.push_back(',');
    first = false;
    AppendField(out, column.value(c));
  }
  out.append("\r\n");
  return out;
}

}  // namespace galsync
