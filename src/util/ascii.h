// ASCII case helpers for names that are ASCII by their standards (CSV and
// vCard parameter names, LDIF attributes, SCIM attribute names, e-mail
// domains): no locale, no Unicode folding (that is normalize.h's job).
#pragma once

#include <string>
#include <string_view>

namespace galsync {

inline char AsciiLowerChar(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// A copy of `s` with A-Z made a-z.
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLowerChar(c);
  return out;
}

inline bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLowerChar(a[i]) != AsciiLowerChar(b[i])) return false;
  }
  return true;
}

}  // namespace galsync
