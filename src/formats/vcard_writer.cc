// The vCard writer: ContactToVCard (galsync/export.h holds the mapping
// table). A card is built one logical line at a time; each line is escaped
// as it is assembled and folded as it is appended.
#include <string>
#include <string_view>

#include "galsync/contact.h"
#include "galsync/export.h"

namespace galsync {
namespace {

// RFC 6350 3.2: a physical line holds at most 75 octets, CRLF excluded.
constexpr size_t kMaxLineOctets = 75;

bool IsUtf8Continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

bool IsControl(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7F;
}

// Appends the logical line `line` (no line break in it) to `out`, folded:
// every physical line but the first starts with one space, and no physical
// line exceeds kMaxLineOctets. A fold goes before a UTF-8 lead byte; in
// malformed UTF-8 with no lead byte in reach it goes at the limit.
void AppendFolded(std::string& out, std::string_view line) {
  size_t room = kMaxLineOctets;  // content octets left on this physical line
  while (line.size() > room) {
    size_t cut = room;
    while (cut > 0 && IsUtf8Continuation(line[cut])) --cut;
    if (cut == 0) cut = room;
    out.append(line.substr(0, cut));
    out.append("\r\n ");
    line.remove_prefix(cut);
    room = kMaxLineOctets - 1;  // the leading space takes one octet
  }
  out.append(line);
  out.append("\r\n");
}

// Appends `text` as a TEXT value (RFC 6350 3.4; same in RFC 2426): backslash,
// comma, semicolon escaped; CR, LF and CRLF as "\n"; other controls dropped.
void AppendText(std::string& out, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '\\':
        out.append("\\\\");
        break;
      case ',':
        out.append("\\,");
        break;
      case ';':
        out.append("\\;");
        break;
      case '\r':
        if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        out.append("\\n");
        break;
      case '\n':
        out.append("\\n");
        break;
      default:
        if (!IsControl(c)) out.push_back(c);
    }
  }
}

// Appends a URI value: backslash and comma escaped, everything else as it
// is. RFC 6350 3.4 requires an escaped comma in every value, "even for
// properties that don't allow multiple instances" (verified erratum 3846
// applies it to a URI value), and parsers such as vobject split URL and
// PHOTO values at unescaped commas. A semicolon needs no escape outside
// compound values, so it is kept.
// Control characters are dropped (a valid URI has none; a raw line break
// would end the property).
void AppendUri(std::string& out, std::string_view uri) {
  for (char c : uri) {
    if (c == '\\' || c == ',') out.push_back('\\');
    if (!IsControl(c) && c != '\t') out.push_back(c);
  }
}

// Appends `value` as a quoted parameter value: RFC 6868 caret encoding for
// "^", '"' and newlines; other control characters dropped.
void AppendQuotedParam(std::string& out, std::string_view value) {
  out.push_back('"');
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    switch (c) {
      case '^':
        out.append("^^");
        break;
      case '"':
        out.append("^'");
        break;
      case '\r':
        if (i + 1 < value.size() && value[i + 1] == '\n') ++i;
        out.append("^n");
        break;
      case '\n':
        out.append("^n");
        break;
      default:
        if (!IsControl(c) && c != '\t') out.push_back(c);
    }
  }
  out.push_back('"');
}

// Appends a parameter value that is meant to be a token (a link type):
// bare when it is one, quoted otherwise, so no value can break the line's
// syntax.
void AppendTokenParam(std::string& out, std::string_view value) {
  bool bare = !value.empty();
  for (char c : value) {
    const bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9') || c == '-';
    if (!token) bare = false;
  }
  if (bare) {
    out.append(value);
  } else {
    AppendQuotedParam(out, value);
  }
}


// "work" -> "work", "mobile" -> "cell", ...; empty for "other" and unknown.
std::string_view PhoneTypeValue(std::string_view type) {
  if (type == "work" || type == "home" || type == "fax" || type == "pager") {
    return type;
  }
  if (type == "mobile") return "cell";
  return {};
}

std::string_view EmailTypeValue(std::string_view type) {
  if (type == "work" || type == "home") return type;
  return {};
}

// REV value from FormatTime's "YYYY-MM-DDThh:mm:ss.ffffffZ": 4.0 uses the
// basic format without separators (RFC 6350 4.3.5), 3.0 the extended one
// (RFC 2426 3.6.4); both without the fraction.
std::string RevValue(int64_t updated_us, VCardVersion version) {
  const std::string t = FormatTime(updated_us);
  const std::string_view seconds = std::string_view(t).substr(0, 19);
  std::string out;
  for (char ch : seconds) {
    if (version == VCardVersion::k40 && (ch == '-' || ch == ':')) continue;
    out.push_back(ch);
  }
  out.push_back('Z');
  return out;
}

}  // namespace

std::string DisplayName(const Contact& c) {
  if (!c.name.full.empty()) return c.name.full;
  std::string full;
  for (const std::string* part :
       {&c.name.given, &c.name.middle, &c.name.family}) {
    if (part->empty()) continue;
    if (!full.empty()) full.push_back(' ');
    full.append(*part);
  }
  return full.empty() ? c.id : full;
}

std::string ContactToVCard(const Contact& c, VCardVersion version) {
  const bool v4 = version == VCardVersion::k40;
  std::string card;
  std::string line;  // the logical line being built
  const auto emit = [&card, &line] {
    AppendFolded(card, line);
    line.clear();
  };
  // "NAME:<text>" when `text` is not empty.
  const auto text_property = [&](std::string_view name, std::string_view text) {
    if (text.empty()) return;
    line.append(name).push_back(':');
    AppendText(line, text);
    emit();
  };

  line = "BEGIN:VCARD";
  emit();
  line = v4 ? "VERSION:4.0" : "VERSION:3.0";  // right after BEGIN (RFC 6350)
  emit();

  if (!c.id.empty()) {
    line = v4 ? "UID;VALUE=text:" : "UID:";  // a 4.0 UID is a URI by default
    AppendText(line, c.id);
    emit();
  }

  // FN is required in both versions.
  line = "FN:";
  AppendText(line, DisplayName(c));
  emit();

  const PersonName& n = c.name;
  const bool has_n = !n.family.empty() || !n.given.empty() ||
                     !n.middle.empty() || !n.prefix.empty() ||
                     !n.suffix.empty();
  if (has_n || !v4) {  // RFC 2426 requires N; RFC 6350 does not
    line = "N:";
    bool first = true;
    for (const std::string* part :
         {&n.family, &n.given, &n.middle, &n.prefix, &n.suffix}) {
      if (!first) line.push_back(';');
      first = false;
      AppendText(line, *part);
    }
    emit();
  }

  text_property("NICKNAME", c.nickname);

  bool first = true;  // the first written entry carries PREF
  for (const Email& e : c.emails) {
    if (e.address.empty()) continue;
    const std::string_view type = EmailTypeValue(e.type);
    line = "EMAIL";
    if (v4) {
      if (!type.empty()) line.append(";TYPE=").append(type);
      if (first) line.append(";PREF=1");
    } else {
      line.append(";TYPE=internet");
      if (!type.empty()) line.append(",").append(type);
      if (first) line.append(",pref");
    }
    line.push_back(':');
    AppendText(line, e.address);
    emit();
    first = false;
  }

  first = true;
  for (const Phone& p : c.phones) {
    if (p.number.empty()) continue;
    const std::string_view type = PhoneTypeValue(p.type);
    line = "TEL";
    if (v4) {
      line.append(";VALUE=text");
      if (!type.empty()) line.append(";TYPE=").append(type);
      if (first) line.append(";PREF=1");
    } else if (!type.empty() || first) {
      line.append(";TYPE=").append(type);
      if (first) line.append(type.empty() ? "pref" : ",pref");
    }
    line.push_back(':');
    AppendText(line, p.number);
    emit();
    first = false;
  }

  text_property("TITLE", c.title);

  if (!c.organization.empty() || !c.department.empty()) {
    line = "ORG:";
    AppendText(line, c.organization);
    if (!c.department.empty()) {
      line.push_back(';');
      AppendText(line, c.department);
    }
    emit();
  }

  const Office& o = c.office;
  if (!(o == Office{})) {
    line = "ADR;TYPE=work:";  // the PO box component stays empty
    for (const std::string* part : {&o.room, &o.street, &o.locality, &o.region,
                                    &o.postcode, &o.country}) {
      line.push_back(';');
      AppendText(line, *part);
    }
    emit();
  }

  for (const Link& l : c.links) {
    if (l.uri.empty()) continue;
    line = "URL";
    if (!l.type.empty()) {
      line.append(";TYPE=");
      AppendTokenParam(line, l.type);
    }
    line.push_back(':');
    AppendUri(line, l.uri);
    emit();
  }

  if (!c.photo.empty()) {
    line = v4 ? "PHOTO:" : "PHOTO;VALUE=uri:";
    AppendUri(line, c.photo);
    emit();
  }

  if (!c.manager.empty()) {
    line = v4 ? "RELATED;TYPE=co-worker,x-manager;VALUE=text:"
              : "X-GALSYNC-MANAGER:";
    AppendText(line, c.manager);
    emit();
  }

  for (const auto& [key, value] : c.extra) {
    if (value.empty()) continue;  // the codec's "no attribute"
    line = "X-GALSYNC-EXTRA;X-KEY=";
    AppendQuotedParam(line, key);
    line.push_back(':');
    AppendText(line, value);
    emit();
  }

  if (c.updated_us != 0) {
    line = "REV:" + RevValue(c.updated_us, version);
    emit();
  }

  line = "END:VCARD";
  emit();
  return card;
}

}  // namespace galsync
