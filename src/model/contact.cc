// The contact codec: validating JSON decoder, canonical and stored
// serializations, and RFC 3339 time formatting/parsing (see docs/api.md).
#include "galsync/contact.h"
#include "util/ascii.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

namespace galsync {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------------------
// Character classes and small string helpers.

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
bool IsControl(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}
char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }


// A 256-entry membership table for a set of ASCII characters.
using CharSet = std::array<bool, 256>;

constexpr CharSet MakeCharSet(std::string_view extra) {
  CharSet set{};
  for (int c = '0'; c <= '9'; ++c) set[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) set[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) set[c] = true;
  for (char c : extra) set[static_cast<unsigned char>(c)] = true;
  return set;
}

constexpr CharSet kIdChars = MakeCharSet("._~@+=-");
constexpr CharSet kExtraKeyChars = MakeCharSet("_.:-");

bool AllIn(std::string_view s, const CharSet& set) {
  for (char c : s) {
    if (!set[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

// Strict UTF-8 check (no overlong forms, no surrogates, at most U+10FFFF).
// On failure stores the offset of the first bad sequence in `bad_offset`.
bool IsValidUtf8(std::string_view s, size_t& bad_offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;  // bounds for the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      bad_offset = i;
      return false;
    }
    if (n - i < len || p[i + 1] < lo || p[i + 1] > hi) {
      bad_offset = i;
      return false;
    }
    for (size_t k = 2; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) {
        bad_offset = i;
        return false;
      }
    }
    i += len;
  }
  return true;
}

// ---------------------------------------------------------------------------
// JSON string escaping (the hot path of CanonicalContentJson).

// For each byte, 0 if it is copied as is, else the character that follows
// the backslash in its escape ('u' meaning \u00XX).
constexpr std::array<char, 256> MakeEscapeTable() {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 'u';
  table[0x7f] = 'u';
  table['\b'] = 'b';
  table['\f'] = 'f';
  table['\n'] = 'n';
  table['\r'] = 'r';
  table['\t'] = 't';
  table['"'] = '"';
  table['\\'] = '\\';
  return table;
}

constexpr std::array<char, 256> kEscapes = MakeEscapeTable();

// Appends `s` JSON-escaped (without the surrounding quotes). Bytes >= 0x80
// are copied unchanged, so valid UTF-8 stays valid UTF-8.
void AppendEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* run = s.data();
  const char* const end = s.data() + s.size();
  for (const char* p = run; p != end; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    const char e = kEscapes[c];
    if (e == 0) continue;
    out.append(run, p - run);
    char buf[6] = {'\\', e, '0', '0', kHex[c >> 4], kHex[c & 0xf]};
    out.append(buf, e == 'u' ? 6 : 2);
    run = p + 1;
  }
  out.append(run, end - run);
}

void AppendQuoted(std::string& out, std::string_view s) {
  out.push_back('"');
  AppendEscaped(out, s);
  out.push_back('"');
}

// Renders a user-supplied value for an error message: quoted, escaped and
// cut to about 64 bytes (at a UTF-8 character boundary).
std::string QuoteForMessage(std::string_view value) {
  constexpr size_t kMaxShown = 64;
  bool cut = false;
  if (value.size() > kMaxShown) {
    size_t n = kMaxShown;
    while (n > 0 && (static_cast<unsigned char>(value[n]) & 0xc0) == 0x80) --n;
    value = value.substr(0, n);
    cut = true;
  }
  std::string out;
  AppendQuoted(out, value);
  if (cut) out += "...";
  return out;
}

// ---------------------------------------------------------------------------
// Time.

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

// Days since 1970-01-01 of the proleptic Gregorian date y-m-d. Works in
// 400-year cycles (146097 days each) with years starting on March 1, so the
// leap day is the last day of its year.
constexpr int64_t DaysFromCivil(int64_t y, int m, int d) {
  if (m <= 2) --y;
  const int64_t cycle = (y >= 0 ? y : y - 399) / 400;
  const int64_t year_of_cycle = y - cycle * 400;           // [0, 399]
  const int64_t month_from_march = m > 2 ? m - 3 : m + 9;  // [0, 11]
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + d - 1;
  const int64_t day_of_cycle = year_of_cycle * 365 + year_of_cycle / 4 -
                               year_of_cycle / 100 + day_of_year;
  return cycle * 146097 + day_of_cycle - 719468;  // 719468: 0000-03-01..1970
}

struct CivilDate {
  int64_t year;
  int month;
  int day;
};

// The inverse of DaysFromCivil.
constexpr CivilDate CivilFromDays(int64_t days) {
  days += 719468;
  const int64_t cycle = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_cycle = days - cycle * 146097;  // [0, 146096]
  const int64_t year_of_cycle = (day_of_cycle - day_of_cycle / 1460 +
                                 day_of_cycle / 36524 - day_of_cycle / 146096) /
                                365;  // [0, 399]
  const int64_t day_of_year =
      day_of_cycle -
      (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
  const int64_t month_from_march = (5 * day_of_year + 2) / 153;  // [0, 11]
  const int day =
      static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  const int month = static_cast<int>(
      month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  const int64_t year = year_of_cycle + cycle * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

static_assert(DaysFromCivil(1970, 1, 1) == 0);
static_assert(DaysFromCivil(2000, 3, 1) == 11017);
static_assert(CivilFromDays(11016).month == 2 &&
              CivilFromDays(11016).day == 29);

bool IsLeapYear(int64_t y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// FormatTime's representable range: years 0000 to 9999.
constexpr int64_t kMinFormattableMicros =
    DaysFromCivil(0, 1, 1) * kMicrosPerDay;
constexpr int64_t kMaxFormattableMicros =
    DaysFromCivil(10000, 1, 1) * kMicrosPerDay - 1;

constexpr size_t kFormattedTimeSize = sizeof("2026-11-22T07:15:03.123456Z") - 1;

// Writes `value` as exactly `width` decimal digits ending at p[width - 1].
void PutDigits(char* p, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Writes the kFormattedTimeSize characters of FormatTime(micros) to `out`.
void WriteTime(int64_t micros, char* out) {
  micros = std::clamp(micros, kMinFormattableMicros, kMaxFormattableMicros);
  int64_t days = micros / kMicrosPerDay;
  int64_t in_day = micros % kMicrosPerDay;
  if (in_day < 0) {
    in_day += kMicrosPerDay;
    --days;
  }
  const CivilDate date = CivilFromDays(days);
  const int64_t secs = in_day / kMicrosPerSecond;
  PutDigits(out, date.year, 4);
  out[4] = '-';
  PutDigits(out + 5, date.month, 2);
  out[7] = '-';
  PutDigits(out + 8, date.day, 2);
  out[10] = 'T';
  PutDigits(out + 11, secs / 3600, 2);
  out[13] = ':';
  PutDigits(out + 14, secs / 60 % 60, 2);
  out[16] = ':';
  PutDigits(out + 17, secs % 60, 2);
  out[19] = '.';
  PutDigits(out + 20, in_day % kMicrosPerSecond, 6);
  out[26] = 'Z';
}

// A cursor over a timestamp being parsed.
class TimeScanner {
 public:
  explicit TimeScanner(std::string_view s) : s_(s) {}

  // Reads exactly `n` digits.
  bool Digits(int n, int& value) {
    if (s_.size() - pos_ < static_cast<size_t>(n)) return false;
    value = 0;
    for (int i = 0; i < n; ++i) {
      const char c = s_[pos_ + i];
      if (!IsDigit(c)) return false;
      value = value * 10 + (c - '0');
    }
    pos_ += n;
    return true;
  }
  // Consumes `c` (or its lowercase form when `fold` is set).
  bool Char(char c, bool fold = false) {
    if (pos_ < s_.size() &&
        (s_[pos_] == c || (fold && s_[pos_] == AsciiLower(c)))) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool AtEnd() const { return pos_ == s_.size(); }
  char Next() { return s_[pos_++]; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

Error TimeError(std::string_view text, std::string_view problem) {
  return Error::InvalidArgument(
      "invalid_time",
      QuoteForMessage(text) + " is not an RFC 3339 timestamp (" +
          std::string(problem) + "); expected e.g. \"2026-11-22T07:15:03Z\"");
}

// ---------------------------------------------------------------------------
// Syntax checks for e-mail addresses, phone numbers and URIs. Each returns
// nullptr when the value is acceptable, else what is wrong with it.

const char* EmailProblem(std::string_view address) {
  const size_t at = address.find('@');
  if (at == std::string_view::npos) return "no '@'";
  if (address.find('@', at + 1) != std::string_view::npos) {
    return "more than one '@'";
  }
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = address.substr(at + 1);
  if (local.empty()) return "nothing before the '@'";
  if (local.size() > 64) return "more than 64 bytes before the '@'";
  for (char c : local) {
    if (c == ' ' || IsControl(c)) return "a space before the '@'";
    // RFC 5322 "specials" are only allowed in quoted local parts, which
    // we do not accept.
    if (std::strchr("\"(),:;<>[\\]", c) != nullptr) {
      return "a character that is not allowed before the '@'";
    }
  }
  if (local.front() == '.' || local.back() == '.') {
    return "the part before the '@' starts or ends with '.'";
  }
  if (local.find("..") != std::string_view::npos) return "'..' before the '@'";
  if (domain.empty()) return "nothing after the '@'";
  if (domain.size() > 253) return "a domain longer than 253 bytes";
  if (domain.find('.') == std::string_view::npos) return "a domain without '.'";
  size_t start = 0;
  while (true) {
    size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    const std::string_view label = domain.substr(start, dot - start);
    if (label.empty()) return "an empty domain label";
    if (label.size() > 63) return "a domain label longer than 63 bytes";
    if (label.front() == '-' || label.back() == '-') {
      return "a domain label that starts or ends with '-'";
    }
    for (char c : label) {
      // Bytes >= 0x80 belong to internationalized (UTF-8) labels.
      if (!IsAlnum(c) && c != '-' && static_cast<unsigned char>(c) < 0x80) {
        return "a character that is not allowed in a domain";
      }
    }
    if (dot == domain.size()) break;
    start = dot + 1;
  }
  return nullptr;
}

const char* PhoneProblem(std::string_view number) {
  if (number.empty()) return "it is empty";
  int digits = 0;
  size_t i = 0;
  while (i < number.size()) {
    const char c = number[i];
    if (IsDigit(c)) {
      ++digits;
      ++i;
    } else if (IsAlpha(c)) {
      size_t j = i;
      while (j < number.size() && IsAlpha(number[j])) ++j;
      const std::string_view word = number.substr(i, j - i);
      if (!EqualsIgnoreAsciiCase(word, "ext") &&
          !EqualsIgnoreAsciiCase(word, "x")) {
        return "the only letters allowed are an \"ext\" or \"x\" extension";
      }
      i = j;
    } else if (c != '\0' && std::strchr(" +()-./#*,;", c) != nullptr) {
      ++i;
    } else {
      return "only digits, spaces, + ( ) - . / # * , ; and \"ext\"/\"x\" are "
             "allowed";
    }
  }
  if (digits < 3) return "fewer than 3 digits";
  return nullptr;
}

const char* UriProblem(std::string_view uri) {
  if (uri.empty()) return "it is empty";
  size_t i = 0;
  if (IsAlpha(uri[0])) {
    i = 1;
    while (i < uri.size() && (IsAlnum(uri[i]) || uri[i] == '+' ||
                              uri[i] == '.' || uri[i] == '-')) {
      ++i;
    }
  }
  if (i == 0 || i == uri.size() || uri[i] != ':') {
    return "it does not start with a scheme such as \"https:\"";
  }
  if (i + 1 == uri.size()) return "nothing follows the scheme";
  for (char c : uri) {
    if (c == ' ' || IsControl(c)) return "it contains whitespace";
  }
  return nullptr;
}

bool IsEmailType(std::string_view t) {
  return t == "work" || t == "home" || t == "other";
}

bool IsPhoneType(std::string_view t) {
  return t == "work" || t == "home" || t == "mobile" || t == "fax" ||
         t == "pager" || t == "other";
}

bool IsLinkType(std::string_view t) {
  if (t.empty() || t.size() > 32) return false;
  for (char c : t) {
    if (!(c >= 'a' && c <= 'z') && !IsDigit(c) && c != '-') return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Decoding.

// Where a member sits, e.g. {"emails[1]", "address"}; rendered only for
// error messages.
struct Path {
  std::string_view parent;  // empty at the top level
  std::string_view member;

  std::string str() const {
    std::string s;
    if (!parent.empty()) {
      s.append(parent);
      s.push_back('.');
    }
    s.append(member);
    return s;
  }
};

std::string_view KindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

constexpr std::string_view kInvalidContact = "invalid_contact";

// Decodes one contact. Every method returns false after recording the first
// error, which the caller then takes with TakeError().
class Decoder {
 public:
  bool Decode(const json::object& o, Contact& c);
  Error TakeError() { return std::move(error_); }

 private:
  bool Fail(std::string_view reason, std::string message) {
    error_ = Error::InvalidArgument(std::string(reason), std::move(message));
    return false;
  }
  bool WrongType(const Path& path, std::string_view expected,
                 const json::value& v) {
    return Fail(kInvalidContact, path.str() + ": expected " +
                                     std::string(expected) + ", got " +
                                     std::string(KindName(v)));
  }
  bool Unknown(const Path& path, std::string_view hint) {
    return Fail("unknown_field", "unknown field " +
                                     QuoteForMessage(path.str()) + " (" +
                                     std::string(hint) + ")");
  }

  // Reads a string member of at most `max_bytes` bytes without control
  // characters; violations other than a wrong type are reported with
  // `reason`.
  bool Text(const json::value& v, const Path& path, size_t max_bytes,
            std::string& out, std::string_view reason = kInvalidContact);
  const json::object* Object(const json::value& v, const Path& path) {
    const json::object* o = v.if_object();
    if (o == nullptr) WrongType(path, "an object", v);
    return o;
  }
  const json::array* Array(const json::value& v, const Path& path,
                           size_t max_items);

  bool DecodeName(const json::value& v, PersonName& name);
  bool DecodeEmails(const json::value& v, std::vector<Email>& emails);
  bool DecodePhones(const json::value& v, std::vector<Phone>& phones);
  bool DecodeOffice(const json::value& v, Office& office);
  bool DecodeLinks(const json::value& v, std::vector<Link>& links);
  bool DecodeExtra(const json::value& v,
                   std::vector<std::pair<std::string, std::string>>& extra);
  bool DecodeId(const json::value& v, const Path& path, std::string& out);
  bool DecodeSeq(const json::value& v, uint64_t& seq);
  bool DecodeUpdated(const json::value& v, int64_t& updated_us);

  Error error_;
};

bool Decoder::Text(const json::value& v, const Path& path, size_t max_bytes,
                   std::string& out, std::string_view reason) {
  const json::string* s = v.if_string();
  if (s == nullptr) return WrongType(path, "a string", v);
  if (s->size() > max_bytes) {
    return Fail(reason, path.str() + ": " + QuoteForMessage(*s) + " is " +
                            std::to_string(s->size()) +
                            " bytes long; at most " +
                            std::to_string(max_bytes) + " are allowed");
  }
  // Text parsed from JSON is valid UTF-8 already; objects built in code (by
  // the source readers) are checked here.
  if (size_t bad = 0; !IsValidUtf8(*s, bad)) {
    return Fail(reason, path.str() + ": not valid UTF-8 (at byte " +
                            std::to_string(bad) + " of the value)");
  }
  for (char c : *s) {
    if (IsControl(c)) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      const unsigned char u = static_cast<unsigned char>(c);
      const char code[] = {'U',          '+',           '0', '0',
                           kHex[u >> 4], kHex[u & 0xf], '\0'};
      return Fail(reason, path.str() + ": " + QuoteForMessage(*s) +
                              " contains the control character " + code +
                              ", which is not allowed");
    }
  }
  out.assign(s->data(), s->size());
  return true;
}

const json::array* Decoder::Array(const json::value& v, const Path& path,
                                  size_t max_items) {
  const json::array* a = v.if_array();
  if (a == nullptr) {
    WrongType(path, "an array", v);
    return nullptr;
  }
  if (a->size() > max_items) {
    Fail(kInvalidContact, path.str() + ": " + std::to_string(a->size()) +
                              " entries; at most " + std::to_string(max_items) +
                              " are allowed");
    return nullptr;
  }
  return a;
}

bool Decoder::DecodeId(const json::value& v, const Path& path,
                       std::string& out) {
  if (!Text(v, path, ContactLimits::kMaxIdBytes, out)) return false;
  if (!IsValidContactId(out)) {
    return Fail(kInvalidContact,
                path.str() + ": " + QuoteForMessage(out) +
                    " is not a valid contact id (1 to 128 bytes of A-Z a-z "
                    "0-9 . _ ~ @ + = -)");
  }
  return true;
}

bool Decoder::DecodeName(const json::value& v, PersonName& name) {
  const json::object* o = Object(v, {"", "name"});
  if (o == nullptr) return false;
  constexpr size_t kMax = ContactLimits::kMaxNamePartBytes;
  for (const json::key_value_pair& kv : *o) {
    const std::string_view key = kv.key();
    const Path path{"name", key};
    std::string* field = key == "full"     ? &name.full
                         : key == "prefix" ? &name.prefix
                         : key == "given"  ? &name.given
                         : key == "middle" ? &name.middle
                         : key == "family" ? &name.family
                         : key == "suffix" ? &name.suffix
                                           : nullptr;
    if (field == nullptr) {
      return Unknown(path,
                     "expected one of: full, prefix, given, middle, family, "
                     "suffix");
    }
    if (!Text(kv.value(), path, kMax, *field)) return false;
  }
  return true;
}

bool Decoder::DecodeEmails(const json::value& v, std::vector<Email>& emails) {
  const json::array* a = Array(v, {"", "emails"}, ContactLimits::kMaxEmails);
  if (a == nullptr) return false;
  emails.resize(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string element = "emails[" + std::to_string(i) + "]";
    const json::object* o = Object((*a)[i], {"", element});
    if (o == nullptr) return false;
    Email& email = emails[i];
    bool has_address = false;
    for (const json::key_value_pair& kv : *o) {
      const std::string_view key = kv.key();
      const Path path{element, key};
      if (key == "address") {
        if (!Text(kv.value(), path, ContactLimits::kMaxEmailBytes,
                  email.address, "invalid_email")) {
          return false;
        }
        if (const char* problem = EmailProblem(email.address)) {
          return Fail("invalid_email",
                      path.str() + ": " + QuoteForMessage(email.address) +
                          " is not a valid e-mail address (" + problem + ")");
        }
        has_address = true;
      } else if (key == "type") {
        if (!Text(kv.value(), path, 32, email.type)) return false;
        if (!IsEmailType(email.type)) {
          return Fail(kInvalidContact,
                      path.str() + ": " + QuoteForMessage(email.type) +
                          " is not an e-mail type (work, home or other)");
        }
      } else {
        return Unknown(path, "expected one of: address, type");
      }
    }
    if (!has_address) {
      return Fail("invalid_email", element + ".address is required");
    }
    for (size_t j = 0; j < i; ++j) {
      if (EqualsIgnoreAsciiCase(emails[j].address, email.address)) {
        return Fail("duplicate_email",
                    element + ".address: " + QuoteForMessage(email.address) +
                        " repeats emails[" + std::to_string(j) + "].address");
      }
    }
  }
  return true;
}

bool Decoder::DecodePhones(const json::value& v, std::vector<Phone>& phones) {
  const json::array* a = Array(v, {"", "phones"}, ContactLimits::kMaxPhones);
  if (a == nullptr) return false;
  phones.resize(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string element = "phones[" + std::to_string(i) + "]";
    const json::object* o = Object((*a)[i], {"", element});
    if (o == nullptr) return false;
    Phone& phone = phones[i];
    bool has_number = false;
    for (const json::key_value_pair& kv : *o) {
      const std::string_view key = kv.key();
      const Path path{element, key};
      if (key == "number") {
        if (!Text(kv.value(), path, ContactLimits::kMaxPhoneBytes, phone.number,
                  "invalid_phone")) {
          return false;
        }
        if (const char* problem = PhoneProblem(phone.number)) {
          return Fail("invalid_phone",
                      path.str() + ": " + QuoteForMessage(phone.number) +
                          " is not a valid phone number (" + problem + ")");
        }
        has_number = true;
      } else if (key == "type") {
        if (!Text(kv.value(), path, 32, phone.type)) return false;
        if (!IsPhoneType(phone.type)) {
          return Fail(kInvalidContact,
                      path.str() + ": " + QuoteForMessage(phone.type) +
                          " is not a phone type (work, home, mobile, fax, "
                          "pager or other)");
        }
      } else {
        return Unknown(path, "expected one of: number, type");
      }
    }
    if (!has_number) {
      return Fail("invalid_phone", element + ".number is required");
    }
  }
  return true;
}

bool Decoder::DecodeOffice(const json::value& v, Office& office) {
  const json::object* o = Object(v, {"", "office"});
  if (o == nullptr) return false;
  for (const json::key_value_pair& kv : *o) {
    const std::string_view key = kv.key();
    const Path path{"office", key};
    std::string* field = key == "room"       ? &office.room
                         : key == "street"   ? &office.street
                         : key == "locality" ? &office.locality
                         : key == "region"   ? &office.region
                         : key == "postcode" ? &office.postcode
                         : key == "country"  ? &office.country
                                             : nullptr;
    if (field == nullptr) {
      return Unknown(path,
                     "expected one of: room, street, locality, region, "
                     "postcode, country");
    }
    if (!Text(kv.value(), path, ContactLimits::kMaxTextBytes, *field)) {
      return false;
    }
  }
  return true;
}

bool Decoder::DecodeLinks(const json::value& v, std::vector<Link>& links) {
  const json::array* a = Array(v, {"", "links"}, ContactLimits::kMaxLinks);
  if (a == nullptr) return false;
  links.resize(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string element = "links[" + std::to_string(i) + "]";
    const json::object* o = Object((*a)[i], {"", element});
    if (o == nullptr) return false;
    Link& link = links[i];
    bool has_uri = false;
    for (const json::key_value_pair& kv : *o) {
      const std::string_view key = kv.key();
      const Path path{element, key};
      if (key == "uri") {
        if (!Text(kv.value(), path, ContactLimits::kMaxUriBytes, link.uri,
                  "invalid_uri")) {
          return false;
        }
        if (const char* problem = UriProblem(link.uri)) {
          return Fail("invalid_uri",
                      path.str() + ": " + QuoteForMessage(link.uri) +
                          " is not a valid URI (" + problem + ")");
        }
        has_uri = true;
      } else if (key == "type") {
        if (!Text(kv.value(), path, 32, link.type)) return false;
        if (!IsLinkType(link.type)) {
          return Fail(kInvalidContact,
                      path.str() + ": " + QuoteForMessage(link.type) +
                          " is not a valid link type (1 to 32 bytes of a-z, "
                          "0-9, -)");
        }
      } else {
        return Unknown(path, "expected one of: uri, type");
      }
    }
    if (!has_uri) return Fail("invalid_uri", element + ".uri is required");
  }
  return true;
}

bool Decoder::DecodeExtra(
    const json::value& v,
    std::vector<std::pair<std::string, std::string>>& extra) {
  const json::object* o = Object(v, {"", "extra"});
  if (o == nullptr) return false;
  if (o->size() > ContactLimits::kMaxExtra) {
    return Fail(kInvalidContact, "extra: " + std::to_string(o->size()) +
                                     " attributes; at most " +
                                     std::to_string(ContactLimits::kMaxExtra) +
                                     " are allowed");
  }
  extra.clear();
  extra.reserve(o->size());
  for (const json::key_value_pair& kv : *o) {
    const std::string_view key = kv.key();
    if (key.empty() || key.size() > ContactLimits::kMaxExtraKeyBytes ||
        !AllIn(key, kExtraKeyChars)) {
      return Fail(kInvalidContact,
                  "extra: key " + QuoteForMessage(key) +
                      " is not valid (1 to 64 bytes of A-Z a-z 0-9 _ . : -)");
    }
    std::string value;
    if (!Text(kv.value(), {"extra", key}, ContactLimits::kMaxExtraValueBytes,
              value)) {
      return false;
    }
    // An empty value is the same as no attribute (the canonical form omits
    // empty strings).
    if (!value.empty()) extra.emplace_back(std::string(key), std::move(value));
  }
  // Object keys are unique, so sorting by key alone is deterministic.
  std::sort(extra.begin(), extra.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return true;
}

bool Decoder::DecodeSeq(const json::value& v, uint64_t& seq) {
  if (v.is_uint64()) {
    seq = v.get_uint64();
    return true;
  }
  if (v.is_int64() && v.get_int64() >= 0) {
    seq = static_cast<uint64_t>(v.get_int64());
    return true;
  }
  return WrongType({"", "seq"}, "a non-negative integer", v);
}

bool Decoder::DecodeUpdated(const json::value& v, int64_t& updated_us) {
  const json::string* s = v.if_string();
  if (s == nullptr) return WrongType({"", "updated"}, "a string", v);
  Result<int64_t> t = ParseTime(*s);
  if (!t.ok()) {
    Error e = std::move(t).error();
    return Fail(e.reason, "updated: " + e.message);
  }
  updated_us = *t;
  return true;
}

bool Decoder::Decode(const json::object& o, Contact& c) {
  constexpr size_t kText = ContactLimits::kMaxTextBytes;
  bool has_id = false;
  for (const json::key_value_pair& kv : o) {
    const std::string_view key = kv.key();
    const json::value& v = kv.value();
    const Path path{"", key};
    bool ok = true;
    if (key == "id") {
      ok = DecodeId(v, path, c.id);
      has_id = true;
    } else if (key == "name") {
      ok = DecodeName(v, c.name);
    } else if (key == "nickname") {
      ok = Text(v, path, ContactLimits::kMaxNamePartBytes, c.nickname);
    } else if (key == "emails") {
      ok = DecodeEmails(v, c.emails);
    } else if (key == "phones") {
      ok = DecodePhones(v, c.phones);
    } else if (key == "title") {
      ok = Text(v, path, kText, c.title);
    } else if (key == "department") {
      ok = Text(v, path, kText, c.department);
    } else if (key == "organization") {
      ok = Text(v, path, kText, c.organization);
    } else if (key == "manager") {
      // An empty manager means "none".
      const json::string* s = v.if_string();
      if (s == nullptr || !s->empty()) ok = DecodeId(v, path, c.manager);
    } else if (key == "office") {
      ok = DecodeOffice(v, c.office);
    } else if (key == "links") {
      ok = DecodeLinks(v, c.links);
    } else if (key == "photo") {
      ok = Text(v, path, ContactLimits::kMaxUriBytes, c.photo, "invalid_uri");
      if (ok && !c.photo.empty()) {
        if (const char* problem = UriProblem(c.photo)) {
          ok = Fail("invalid_uri", "photo: " + QuoteForMessage(c.photo) +
                                       " is not a valid URI (" + problem + ")");
        }
      }
    } else if (key == "extra") {
      ok = DecodeExtra(v, c.extra);
    } else if (key == "hidden") {
      if (const bool* b = v.if_bool()) {
        c.hidden = *b;
      } else {
        ok = WrongType(path, "true or false", v);
      }
    } else if (key == "domain") {
      ok = Text(v, path, kText, c.domain);
    } else if (key == "seq") {
      ok = DecodeSeq(v, c.seq);
    } else if (key == "updated") {
      ok = DecodeUpdated(v, c.updated_us);
    } else if (key == "version") {
      // Derived from seq; accepted so that served contacts can be sent back.
      ok = v.is_string() || WrongType(path, "a string", v);
    } else {
      ok = Unknown(path, "free-form attributes belong in \"extra\"");
    }
    if (!ok) return false;
  }
  if (!has_id) return Fail(kInvalidContact, "\"id\" is required");
  PersonName& name = c.name;
  if (name.full.empty() && name.given.empty() && name.family.empty()) {
    return Fail("missing_name",
                "a contact needs a name: set at least one of name.full, "
                "name.given, name.family");
  }
  if (name.full.empty()) {
    for (const std::string* part : {&name.given, &name.middle, &name.family}) {
      if (part->empty()) continue;
      if (!name.full.empty()) name.full.push_back(' ');
      name.full.append(*part);
    }
    if (name.full.size() > ContactLimits::kMaxNamePartBytes) {
      return Fail(kInvalidContact,
                  "name.full: derived from name.given, name.middle and "
                  "name.family it would be " +
                      std::to_string(name.full.size()) +
                      " bytes long; at most " +
                      std::to_string(ContactLimits::kMaxNamePartBytes) +
                      " are allowed (set name.full explicitly)");
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Canonical serialization.

// Appends `"key":"value"` to an object being written, preceded by a comma
// unless it is the object's first member. `quoted_key` includes the quotes.
void AppendMember(std::string& out, bool& first, std::string_view quoted_key,
                  std::string_view value) {
  if (!first) out.push_back(',');
  first = false;
  out.append(quoted_key);
  out.push_back(':');
  AppendQuoted(out, value);
}

// Like AppendMember, but writes nothing for an empty value.
void AppendNonEmpty(std::string& out, bool& first, std::string_view quoted_key,
                    std::string_view value) {
  if (!value.empty()) AppendMember(out, first, quoted_key, value);
}

// Opens a nested object or array member: `,"key":` + `open`.
void OpenMember(std::string& out, bool& first, std::string_view quoted_key,
                char open) {
  if (!first) out.push_back(',');
  first = false;
  out.append(quoted_key);
  out.push_back(':');
  out.push_back(open);
}

bool IsEmpty(const PersonName& n) {
  return n.full.empty() && n.prefix.empty() && n.given.empty() &&
         n.middle.empty() && n.family.empty() && n.suffix.empty();
}

bool IsEmpty(const Office& o) {
  return o.room.empty() && o.street.empty() && o.locality.empty() &&
         o.region.empty() && o.postcode.empty() && o.country.empty();
}

// An upper-bound-ish guess of the canonical size, so that the output string
// is allocated once in the common case (little escaping).
size_t EstimateCanonicalSize(const Contact& c) {
  size_t n = 64 + c.id.size() + c.nickname.size() + c.title.size() +
             c.department.size() + c.organization.size() + c.manager.size() +
             c.photo.size();
  const PersonName& name = c.name;
  n += 80 + name.full.size() + name.prefix.size() + name.given.size() +
       name.middle.size() + name.family.size() + name.suffix.size();
  const Office& office = c.office;
  n += 96 + office.room.size() + office.street.size() + office.locality.size() +
       office.region.size() + office.postcode.size() + office.country.size();
  for (const Email& e : c.emails) n += 32 + e.address.size() + e.type.size();
  for (const Phone& p : c.phones) n += 32 + p.number.size() + p.type.size();
  for (const Link& l : c.links) n += 24 + l.uri.size() + l.type.size();
  for (const auto& [k, v] : c.extra) n += 6 + k.size() + v.size();
  return n + n / 16;
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API.

bool Contact::SameContent(const Contact& o) const {
  return id == o.id && name == o.name && nickname == o.nickname &&
         emails == o.emails && phones == o.phones && title == o.title &&
         department == o.department && organization == o.organization &&
         manager == o.manager && office == o.office && links == o.links &&
         photo == o.photo && extra == o.extra && hidden == o.hidden;
}

bool IsValidContactId(std::string_view id) {
  return !id.empty() && id.size() <= ContactLimits::kMaxIdBytes &&
         AllIn(id, kIdChars);
}

Result<Contact> ContactFromJson(const boost::json::object& json) {
  Contact contact;
  Decoder decoder;
  if (!decoder.Decode(json, contact)) return decoder.TakeError();
  return contact;
}

Result<Contact> ContactFromJson(const boost::json::value& json) {
  if (const json::object* o = json.if_object()) return ContactFromJson(*o);
  return Error::InvalidArgument(
      std::string(kInvalidContact),
      "a contact must be a JSON object, got " + std::string(KindName(json)));
}

Error JsonSyntaxError(std::string_view text, const boost::system::error_code& ec,
                      size_t consumed, int max_depth) {
  std::string message;
  size_t bad_offset = 0;
  if (ec == json::error::too_deep) {
    message = "invalid JSON: nested deeper than " + std::to_string(max_depth) +
              " levels";
  } else if (!IsValidUtf8(text, bad_offset)) {
    message = "invalid JSON: not valid UTF-8 (at byte offset " +
              std::to_string(bad_offset) + ")";
  } else {
    message = "invalid JSON near byte offset " + std::to_string(consumed) +
              ": " + ec.message();
  }
  return Error::InvalidArgument("invalid_json", std::move(message));
}

Result<Contact> ParseContactJson(std::string_view text) {
  if (text.size() > ContactLimits::kMaxContactJsonBytes) {
    return Error{ErrorKind::kPayloadTooLarge, "contact_too_large",
                 "the contact JSON is " + std::to_string(text.size()) +
                     " bytes long; at most " +
                     std::to_string(ContactLimits::kMaxContactJsonBytes) +
                     " are allowed"};
  }
  constexpr size_t kMaxDepth = 16;
  json::parse_options options;
  options.max_depth = kMaxDepth;
  // The parsed value only lives for the duration of this call: give it a
  // monotonic arena, which is what Boost.JSON is fastest with.
  unsigned char arena[4096];
  json::monotonic_resource resource(arena, sizeof(arena));
  json::parser parser(json::storage_ptr(), options);
  parser.reset(&resource);
  json::error_code ec;
  const size_t consumed = parser.write(text.data(), text.size(), ec);
  if (ec) return JsonSyntaxError(text, ec, consumed, kMaxDepth);
  const json::value value = parser.release();
  return ContactFromJson(value);
}

std::string CanonicalContentJson(const Contact& c) {
  std::string out;
  out.reserve(EstimateCanonicalSize(c));
  out.push_back('{');
  bool first = true;
  AppendMember(out, first, "\"id\"", c.id);
  if (c.hidden) out.append(",\"hidden\":true");
  if (!IsEmpty(c.name)) {
    OpenMember(out, first, "\"name\"", '{');
    bool f = true;
    AppendNonEmpty(out, f, "\"full\"", c.name.full);
    AppendNonEmpty(out, f, "\"prefix\"", c.name.prefix);
    AppendNonEmpty(out, f, "\"given\"", c.name.given);
    AppendNonEmpty(out, f, "\"middle\"", c.name.middle);
    AppendNonEmpty(out, f, "\"family\"", c.name.family);
    AppendNonEmpty(out, f, "\"suffix\"", c.name.suffix);
    out.push_back('}');
  }
  AppendNonEmpty(out, first, "\"nickname\"", c.nickname);
  if (!c.emails.empty()) {
    OpenMember(out, first, "\"emails\"", '[');
    for (size_t i = 0; i < c.emails.size(); ++i) {
      if (i > 0) out.push_back(',');
      out.append("{\"address\":");
      AppendQuoted(out, c.emails[i].address);
      out.append(",\"type\":");
      AppendQuoted(out, c.emails[i].type);
      out.push_back('}');
    }
    out.push_back(']');
  }
  if (!c.phones.empty()) {
    OpenMember(out, first, "\"phones\"", '[');
    for (size_t i = 0; i < c.phones.size(); ++i) {
      if (i > 0) out.push_back(',');
      out.append("{\"number\":");
      AppendQuoted(out, c.phones[i].number);
      out.append(",\"type\":");
      AppendQuoted(out, c.phones[i].type);
      out.push_back('}');
    }
    out.push_back(']');
  }
  AppendNonEmpty(out, first, "\"title\"", c.title);
  AppendNonEmpty(out, first, "\"department\"", c.department);
  AppendNonEmpty(out, first, "\"organization\"", c.organization);
  AppendNonEmpty(out, first, "\"manager\"", c.manager);
  if (!IsEmpty(c.office)) {
    OpenMember(out, first, "\"office\"", '{');
    bool f = true;
    AppendNonEmpty(out, f, "\"room\"", c.office.room);
    AppendNonEmpty(out, f, "\"street\"", c.office.street);
    AppendNonEmpty(out, f, "\"locality\"", c.office.locality);
    AppendNonEmpty(out, f, "\"region\"", c.office.region);
    AppendNonEmpty(out, f, "\"postcode\"", c.office.postcode);
    AppendNonEmpty(out, f, "\"country\"", c.office.country);
    out.push_back('}');
  }
  if (!c.links.empty()) {
    OpenMember(out, first, "\"links\"", '[');
    for (size_t i = 0; i < c.links.size(); ++i) {
      if (i > 0) out.push_back(',');
      out.append("{\"uri\":");
      AppendQuoted(out, c.links[i].uri);
      out.append(",\"type\":");
      AppendQuoted(out, c.links[i].type);
      out.push_back('}');
    }
    out.push_back(']');
  }
  AppendNonEmpty(out, first, "\"photo\"", c.photo);
  // Decoded contacts have `extra` sorted without empty values already; a
  // contact built in code may not, and must still serialize canonically.
  const auto by_key = [](const auto* a, const auto* b) {
    return a->first < b->first;
  };
  std::vector<const std::pair<std::string, std::string>*> extra;
  extra.reserve(c.extra.size());
  for (const auto& kv : c.extra) {
    if (!kv.second.empty()) extra.push_back(&kv);
  }
  if (!extra.empty()) {
    if (!std::is_sorted(extra.begin(), extra.end(), by_key)) {
      std::stable_sort(extra.begin(), extra.end(), by_key);
    }
    OpenMember(out, first, "\"extra\"", '{');
    bool f = true;
    for (const auto* kv : extra) {
      if (!f) out.push_back(',');
      f = false;
      AppendQuoted(out, kv->first);
      out.push_back(':');
      AppendQuoted(out, kv->second);
    }
    out.push_back('}');
  }
  out.push_back('}');
  return out;
}

std::string StoredContactJson(std::string_view canonical_content,
                              std::string_view domain, uint64_t seq,
                              int64_t updated_us) {
  std::string_view body = canonical_content;
  if (!body.empty() && body.back() == '}') body.remove_suffix(1);
  char seq_text[std::numeric_limits<uint64_t>::digits10 + 2];
  const size_t seq_size = static_cast<size_t>(
      std::to_chars(seq_text, seq_text + sizeof(seq_text), seq).ptr - seq_text);
  char time_text[kFormattedTimeSize];
  WriteTime(updated_us, time_text);

  std::string out;
  out.reserve(body.size() + domain.size() + 2 * seq_size + 96);
  out.append(body);
  out.append(",\"domain\":\"");
  AppendEscaped(out, domain);
  out.append("\",\"seq\":");
  out.append(seq_text, seq_size);
  out.append(",\"updated\":\"");
  out.append(time_text, kFormattedTimeSize);
  out.append("\",\"version\":\"");
  out.append(seq_text, seq_size);
  out.append("\"}");
  return out;
}

std::string ContentOfStoredJson(std::string_view stored) {
  // A '"' inside a JSON string is always escaped, so `,"domain":"` can only
  // occur as member syntax; the last occurrence is the appended metadata
  // (an "extra" key named "domain" comes earlier).
  constexpr std::string_view kMarker = ",\"domain\":\"";
  const size_t pos = stored.rfind(kMarker);
  if (pos == std::string_view::npos || stored.front() != '{') return {};
  std::string_view tail = stored.substr(pos + kMarker.size());
  // Skip the escaped domain string.
  size_t i = 0;
  while (i < tail.size() && tail[i] != '"') i += tail[i] == '\\' ? 2 : 1;
  if (i >= tail.size()) return {};
  tail.remove_prefix(i + 1);
  const auto consume = [&tail](std::string_view prefix) {
    if (tail.substr(0, prefix.size()) != prefix) return false;
    tail.remove_prefix(prefix.size());
    return true;
  };
  const auto consume_digits = [&tail]() {
    size_t n = 0;
    while (n < tail.size() && IsDigit(tail[n])) ++n;
    tail.remove_prefix(n);
    return n > 0;
  };
  if (!consume(",\"seq\":") || !consume_digits() ||
      !consume(",\"updated\":\"")) {
    return {};
  }
  const size_t quote = tail.find('"');
  if (quote == std::string_view::npos) return {};
  tail.remove_prefix(quote);
  if (!consume("\",\"version\":\"") || !consume_digits() || tail != "\"}") {
    return {};
  }
  std::string content;
  content.reserve(pos + 1);
  content.append(stored.substr(0, pos));
  content.push_back('}');
  return content;
}

std::string FormatTime(int64_t micros_since_epoch) {
  char buf[kFormattedTimeSize];
  WriteTime(micros_since_epoch, buf);
  return std::string(buf, kFormattedTimeSize);
}

Result<int64_t> ParseTime(std::string_view text) {
  TimeScanner s(text);
  int year, month, day, hour, minute, second;
  if (!s.Digits(4, year) || !s.Char('-') || !s.Digits(2, month) ||
      !s.Char('-') || !s.Digits(2, day)) {
    return TimeError(text, "the date must be YYYY-MM-DD");
  }
  if (!s.Char('T', /*fold=*/true)) {
    return TimeError(text, "a 'T' must separate date and time");
  }
  if (!s.Digits(2, hour) || !s.Char(':') || !s.Digits(2, minute) ||
      !s.Char(':') || !s.Digits(2, second)) {
    return TimeError(text, "the time must be HH:MM:SS");
  }
  int64_t fraction_us = 0;
  if (s.Char('.')) {
    int digits = 0;
    int64_t scale = 100'000;
    int d;
    while (s.Digits(1, d)) {
      if (++digits > 9) return TimeError(text, "more than 9 fraction digits");
      fraction_us += d * scale;
      scale /= 10;  // digits beyond the 6th are truncated (scale is 0)
    }
    if (digits == 0) return TimeError(text, "no digits after '.'");
  }
  int64_t offset_minutes = 0;
  if (!s.Char('Z', /*fold=*/true)) {
    if (!s.Peek('+') && !s.Peek('-')) {
      return TimeError(text, "it must end in 'Z' or an offset like +02:00");
    }
    const int sign = s.Next() == '-' ? -1 : 1;
    int off_hour, off_minute;
    if (!s.Digits(2, off_hour) || !s.Char(':') || !s.Digits(2, off_minute)) {
      return TimeError(text, "the offset must be +HH:MM or -HH:MM");
    }
    if (off_hour > 23 || off_minute > 59) {
      return TimeError(text, "the offset is out of range");
    }
    offset_minutes = sign * (off_hour * 60 + off_minute);
  }
  if (!s.AtEnd()) return TimeError(text, "unexpected characters at the end");
  if (month < 1 || month > 12) return TimeError(text, "month out of range");
  if (day < 1 || day > DaysInMonth(year, month)) {
    return TimeError(text, "day out of range for the month");
  }
  if (hour > 23 || minute > 59 || second > 60) {
    return TimeError(text, "time of day out of range");
  }
  // A leap second (:60) counts as the first second of the next minute.
  const int64_t seconds = DaysFromCivil(year, month, day) * 86'400 +
                          hour * 3600 + minute * 60 + second -
                          offset_minutes * 60;
  return seconds * kMicrosPerSecond + fraction_us;
}

}  // namespace galsync
