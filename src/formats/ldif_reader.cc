// The LDIF source reader (galsync/source_reader.h): RFC 2849 content
// records of person entries, mapped by the attribute names of
// inetOrgPerson (RFC 2798), its ancestors (RFC 4519) and Active Directory's
// user objects (docs/import.md has the table).
//
// Lines are unfolded (a line starting with one space continues the previous
// one), comments dropped, and an entry is the lines between blank lines.
// "attr:: <base64>" values are decoded; "attr:< <URL>" values are not
// fetched (a warning says so).
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/contact_object.h"
#include "formats/readers.h"

namespace galsync::formats {
namespace {

// RFC 4648 base64; false on anything else (white space is skipped).
bool DecodeBase64(std::string_view in, std::string& out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : in) {
    if (c == ' ') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    const int v = value(c);
    if (v < 0 || pad > 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return pad <= 2;
}

// The value of a DN's first RDN: "uid=ann,ou=people,dc=example" -> "ann".
std::string FirstRdnValue(std::string_view dn) {
  const size_t eq = dn.find('=');
  if (eq == std::string_view::npos) return {};
  std::string out;
  for (size_t i = eq + 1; i < dn.size(); ++i) {
    if (dn[i] == '\\' && i + 1 < dn.size()) {
      out.push_back(dn[++i]);
    } else if (dn[i] == ',' || dn[i] == '+') {
      break;
    } else {
      out.push_back(dn[i]);
    }
  }
  return out;
}

// Whether a labeledURI label can be a link type (1..32 of a-z 0-9 -).
bool IsLinkLabel(std::string_view label) {
  if (label.empty() || label.size() > 32) return false;
  for (char c : label) {
    if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-') {
      return false;
    }
  }
  return true;
}

// How an attribute fills a contact.
enum class Use {
  kId, kFull, kCn, kGiven, kFamily, kEmail, kPhone, kText, kOffice, kManager,
  kLink, kExtra, kDepartmentOu, kCountryCode, kObjectClass, kChangeType,
};
struct AttrUse {
  Use use;
  std::string_view arg;
};

const std::map<std::string_view, AttrUse, std::less<>>& Attributes() {
  static const std::map<std::string_view, AttrUse, std::less<>> k = {
      {"uid", {Use::kId, ""}},
      {"displayname", {Use::kFull, ""}},
      {"cn", {Use::kCn, ""}},
      {"givenname", {Use::kGiven, ""}},
      {"sn", {Use::kFamily, ""}},
      {"mail", {Use::kEmail, ""}},
      {"telephonenumber", {Use::kPhone, "work"}},
      {"mobile", {Use::kPhone, "mobile"}},
      {"homephone", {Use::kPhone, "home"}},
      {"facsimiletelephonenumber", {Use::kPhone, "fax"}},
      {"pager", {Use::kPhone, "pager"}},
      {"title", {Use::kText, "title"}},
      {"department", {Use::kText, "department"}},       // Active Directory
      {"departmentnumber", {Use::kText, "department"}},
      {"ou", {Use::kDepartmentOu, ""}},
      {"o", {Use::kText, "organization"}},
      {"company", {Use::kText, "organization"}},        // Active Directory
      {"manager", {Use::kManager, ""}},
      {"roomnumber", {Use::kOffice, "room"}},
      {"physicaldeliveryofficename", {Use::kOffice, "room"}},
      {"street", {Use::kOffice, "street"}},
      {"streetaddress", {Use::kOffice, "street"}},
      {"l", {Use::kOffice, "locality"}},
      {"st", {Use::kOffice, "region"}},
      {"postalcode", {Use::kOffice, "postcode"}},
      {"co", {Use::kOffice, "country"}},
      {"c", {Use::kCountryCode, ""}},
      {"labeleduri", {Use::kLink, ""}},
      {"employeenumber", {Use::kExtra, "employee_number"}},
      {"employeeid", {Use::kExtra, "employee_id"}},
      {"employeetype", {Use::kExtra, "employee_type"}},
      {"objectclass", {Use::kObjectClass, ""}},
      {"changetype", {Use::kChangeType, ""}},
  };
  return k;
}

bool IsPersonClass(std::string_view c) {
  const std::string l = AsciiLower(c);
  return l == "person" || l == "organizationalperson" || l == "inetorgperson" ||
         l == "user" || l == "contact";
}

class LdifReader final : public SourceReader {
 public:
  explicit LdifReader(SourceOptions o) : SourceReader(o.limits) {}

 protected:
  Status Line(std::string_view line, uint64_t number,
              const RecordSink& sink) override {
    if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    if (!line.empty() && line[0] == ' ') {
      if (in_comment_) return Ok{};
      if (!has_logical_) {
        // The bad line belongs to an entry (a new one if none is open), so
        // its error comes out with a line number.
        if (!in_entry_) {
          in_entry_ = true;
          entry_line_ = number;
          entry_bytes_ = 0;
        }
        Reject("line " + std::to_string(number) +
               ": a continuation line with nothing to continue");
        return Ok{};
      }
      logical_.append(line.substr(1));
      entry_bytes_ += line.size();
      if (entry_bytes_ > limits_.max_record_bytes) {
        return RecordTooLarge(entry_line_, limits_.max_record_bytes);
      }
      return Ok{};
    }
    TakeLogical();
    in_comment_ = false;
    if (line.empty()) {
      EndEntry(sink);
      return Ok{};
    }
    if (line[0] == '#') {
      in_comment_ = true;
      return Ok{};
    }
    if (!in_entry_) {
      in_entry_ = true;
      entry_line_ = number;
      entry_bytes_ = 0;
    }
    entry_bytes_ += line.size();
    if (entry_bytes_ > limits_.max_record_bytes) {
      return RecordTooLarge(entry_line_, limits_.max_record_bytes);
    }
    logical_.assign(line);
    logical_number_ = number;
    has_logical_ = true;
    return Ok{};
  }

  Status End(const RecordSink& sink) override {
    TakeLogical();
    EndEntry(sink);
    return Ok{};
  }

 private:
  void Reject(std::string why) {
    if (fault_.empty()) fault_ = std::move(why);
  }

  // Splits the unfolded line into attribute and value and keeps it.
  void TakeLogical() {
    if (!has_logical_) return;
    has_logical_ = false;
    const std::string_view line = logical_;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      Reject("line " + std::to_string(logical_number_) +
             ": expected \"attribute: value\"");
      return;
    }
    std::string attr = AsciiLower(line.substr(0, colon));
    // Attribute options ("cn;lang-en") do not change the meaning here.
    if (const size_t semi = attr.find(';'); semi != std::string::npos) {
      attr.resize(semi);
    }
    std::string_view rest = line.substr(colon + 1);
    std::string value;
    if (!rest.empty() && rest[0] == ':') {
      if (!DecodeBase64(rest.substr(1), value)) {
        Reject("line " + std::to_string(logical_number_) + ": the value of \"" +
               attr + "\" is not valid base64");
        return;
      }
    } else if (!rest.empty() && rest[0] == '<') {
      if (!warned_url_) {
        warnings_.push_back("values given by URL (\"" + attr +
                            ":<\") are not fetched; first at line " +
                            std::to_string(logical_number_));
        warned_url_ = true;
      }
      return;
    } else {
      while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
      value.assign(rest);
    }
    if (attr == "version" && !in_entry_after_dn_ && attrs_.empty()) {
      // "version: 1" heads the file, before the first dn.
      in_entry_ = false;
      return;
    }
    if (attr == "dn") in_entry_after_dn_ = true;
    attrs_.emplace_back(std::move(attr), std::move(value));
  }

  void EndEntry(const RecordSink& sink) {
    if (!in_entry_ && attrs_.empty() && fault_.empty()) return;
    SourceRecord r = NewRecord(entry_line_);
    const bool person = Build(r);
    in_entry_ = false;
    in_entry_after_dn_ = false;
    attrs_.clear();
    fault_.clear();
    if (person) sink(std::move(r));
  }

  // Fills `r` from the entry; false if the entry is no person's.
  bool Build(SourceRecord& r) {
    if (!fault_.empty()) {
      r.error = fault_;
      return true;
    }
    if (attrs_.empty() || attrs_[0].first != "dn") {
      r.error = "an entry must begin with \"dn:\"";
      return true;
    }
    bool person = false, any_class = false;
    ContactObject o(storage_);
    // Preferred values: displayName over cn, co (a name) over c (a code).
    std::string display, cn, ou, country, country_code;
    for (const auto& [attr, value] : attrs_) {
      auto it = Attributes().find(attr);
      if (it == Attributes().end()) continue;
      const AttrUse& u = it->second;
      switch (u.use) {
        case Use::kObjectClass:
          any_class = true;
          person = person || IsPersonClass(value);
          break;
        case Use::kChangeType:
          if (AsciiLower(value) != "add") {
            r.error = "a change record (changetype: " + value +
                      ") is not part of a snapshot; export the entries "
                      "themselves";
            return true;
          }
          break;
        case Use::kId: o.SetIfUnset("id", value); break;
        case Use::kFull: if (display.empty()) display = value; break;
        case Use::kCn: if (cn.empty()) cn = value; break;
        case Use::kGiven: o.SetName("given", value); break;
        case Use::kFamily: o.SetName("family", value); break;
        case Use::kEmail: o.AddEmail(value, "work"); break;
        case Use::kPhone: o.AddPhone(value, u.arg); break;
        case Use::kText: o.SetIfUnset(u.arg, value); break;
        case Use::kOffice:
          if (u.arg == "country") {
            country = value;
          } else {
            o.SetOffice(u.arg, value);
          }
          break;
        case Use::kDepartmentOu: if (ou.empty()) ou = value; break;
        case Use::kCountryCode: country_code = value; break;
        case Use::kManager: o.Set("manager", FirstRdnValue(value)); break;
        case Use::kLink: {
          // labeledURI: "<uri> <label>". A label that is a link type
          // (galsync's LDIF export writes one) is kept as the type.
          const size_t sp = value.find(' ');
          const std::string_view uri = std::string_view(value).substr(0, sp);
          std::string label =
              sp == std::string::npos ? "" : AsciiLower(CleanValue(value.substr(sp)));
          o.AddLink(uri, IsLinkLabel(label) ? std::string_view(label)
                                            : std::string_view("profile"));
          break;
        }
        case Use::kExtra: o.AddExtra(u.arg, value); break;
      }
    }
    if (any_class && !person) {
      ++ignored_;  // an organizational unit, a group, ...
      return false;
    }
    o.SetName("full", display.empty() ? cn : display);
    if (!ou.empty()) o.SetIfUnset("department", ou);
    o.SetOffice("country", country.empty() ? country_code : country);
    r.contact = o.Take();
    return true;
  }

  // The line being unfolded.
  std::string logical_;
  uint64_t logical_number_ = 0;
  bool has_logical_ = false;
  bool in_comment_ = false;

  // The entry being read.
  bool in_entry_ = false;
  bool in_entry_after_dn_ = false;
  uint64_t entry_line_ = 0;
  size_t entry_bytes_ = 0;
  std::vector<std::pair<std::string, std::string>> attrs_;
  std::string fault_;
  bool warned_url_ = false;
};

}  // namespace

std::unique_ptr<SourceReader> NewLdifReader(SourceOptions options) {
  return std::make_unique<LdifReader>(std::move(options));
}

}  // namespace galsync::formats
