// The LDIF writer: ContactToLdif and LdifBaseDn (galsync/export.h has the
// attribute table). The inverse of the LDIF reader for everything LDIF can
// carry, so that an LDIF import, exported and imported again, changes
// nothing.
#include <string>
#include <string_view>

#include "galsync/contact.h"
#include "galsync/export.h"
#include "util/crypto.h"

namespace galsync {
namespace {

constexpr size_t kLineOctets = 76;  // RFC 2849 suggests folding at 76

// RFC 2849 SAFE-STRING: ASCII without NUL, CR and LF, not starting with a
// space, ':' or '<'. A trailing space is legal but lost by careless
// readers, so such values are base64 too.
bool IsSafeString(std::string_view v) {
  if (v.empty()) return true;
  const char first = v.front();
  if (first == ' ' || first == ':' || first == '<') return false;
  if (v.back() == ' ') return false;
  for (unsigned char c : v) {
    if (c == 0 || c == '\r' || c == '\n' || c >= 0x80) return false;
  }
  return true;
}

// Appends "attr: value" (or "attr:: base64") folded at 76 octets: each
// continuation line starts with one space. Base64 and safe strings are
// ASCII, so a fold never splits a character.
void AppendAttr(std::string& out, std::string_view attr,
                std::string_view value) {
  if (value.empty()) return;
  std::string line(attr);
  if (IsSafeString(value)) {
    line.append(": ").append(value);
  } else {
    line.append(":: ").append(crypto::Base64Encode(value));
  }
  size_t pos = 0;
  size_t width = kLineOctets;
  while (line.size() - pos > width) {
    out.append(line, pos, width).append("\n ");
    pos += width;
    width = kLineOctets - 1;  // the leading space takes one octet
  }
  out.append(line, pos, std::string::npos).push_back('\n');
}

// An RDN value (RFC 4514 section 2.4): the characters a contact id may hold
// that need escaping are "+" and "="; "=" is escaped too for readers that
// split at the first "=" of a value.
std::string RdnValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '+' || c == '=' || c == ',' || c == ';' || c == '"' ||
        c == '\\' || c == '<' || c == '>') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  if (!out.empty() && (out.front() == '#' || out.front() == ' ')) {
    out.insert(out.begin(), '\\');
  }
  return out;
}

std::string_view PhoneAttr(std::string_view type) {
  if (type == "mobile") return "mobile";
  if (type == "home") return "homePhone";
  if (type == "fax") return "facsimileTelephoneNumber";
  if (type == "pager") return "pager";
  return "telephoneNumber";  // work and other
}

}  // namespace

std::string LdifBaseDn(std::string_view domain) {
  std::string dn = "ou=people";
  while (!domain.empty()) {
    const size_t dot = domain.find('.');
    dn += ",dc=";
    dn += RdnValue(domain.substr(0, dot));
    domain = dot == std::string_view::npos ? std::string_view()
                                           : domain.substr(dot + 1);
  }
  return dn;
}

std::string LdifHeader() { return "version: 1\n\n"; }

std::string ContactToLdif(const Contact& c, std::string_view base_dn) {
  std::string out;
  out.reserve(512);
  const std::string suffix = base_dn.empty() ? "" : "," + std::string(base_dn);
  AppendAttr(out, "dn", "uid=" + RdnValue(c.id) + suffix);
  for (std::string_view oc :
       {"top", "person", "organizationalPerson", "inetOrgPerson"}) {
    AppendAttr(out, "objectClass", oc);
  }
  AppendAttr(out, "uid", c.id);
  const std::string full = DisplayName(c);
  AppendAttr(out, "cn", full);
  AppendAttr(out, "displayName", full);
  AppendAttr(out, "givenName", c.name.given);
  AppendAttr(out, "sn", c.name.family);
  for (const Email& e : c.emails) AppendAttr(out, "mail", e.address);
  for (const Phone& p : c.phones) AppendAttr(out, PhoneAttr(p.type), p.number);
  AppendAttr(out, "title", c.title);
  AppendAttr(out, "ou", c.department);
  AppendAttr(out, "o", c.organization);
  if (!c.manager.empty()) {
    AppendAttr(out, "manager", "uid=" + RdnValue(c.manager) + suffix);
  }
  AppendAttr(out, "roomNumber", c.office.room);
  AppendAttr(out, "street", c.office.street);
  AppendAttr(out, "l", c.office.locality);
  AppendAttr(out, "st", c.office.region);
  AppendAttr(out, "postalCode", c.office.postcode);
  AppendAttr(out, "co", c.office.country);
  for (const Link& l : c.links) {
    AppendAttr(out, "labeledURI", l.uri + " " + l.type);
  }
  for (const auto& [key, value] : c.extra) {
    if (key == "employee_number") AppendAttr(out, "employeeNumber", value);
    if (key == "employee_id") AppendAttr(out, "employeeID", value);
    if (key == "employee_type") AppendAttr(out, "employeeType", value);
  }
  out.push_back('\n');
  return out;
}

}  // namespace galsync
