// Counts and durations from command-line flags (see flag_values.h).
#include "util/flag_values.h"

#include <charconv>
#include <string>

namespace galsync {

Result<uint64_t> ParseCount(std::string_view flag, std::string_view text,
                            uint64_t min, uint64_t max) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() ||
      n < min || n > max) {
    return Error::InvalidArgument(
        "invalid_flag", std::string(flag) + " wants a number in " +
                            std::to_string(min) + ".." + std::to_string(max) +
                            ", got \"" + std::string(text) + "\"");
  }
  return n;
}

Result<uint64_t> ParseDurationSeconds(std::string_view flag,
                                      std::string_view text,
                                      uint64_t min_seconds,
                                      uint64_t max_seconds) {
  auto bad = [&] {
    return Error::InvalidArgument(
        "invalid_flag", std::string(flag) +
                            " wants a duration like 30d, 12h, 90m, 10s "
                            "(from " + std::to_string(min_seconds) + "s to " +
                            std::to_string(max_seconds) + "s), got \"" +
                            std::string(text) + "\"");
  };
  if (text.empty()) return bad();
  uint64_t unit = 1;  // no suffix: seconds
  std::string_view digits = text;
  if (text.back() < '0' || text.back() > '9') {
    switch (text.back()) {
      case 'd': unit = 86400; break;
      case 'h': unit = 3600; break;
      case 'm': unit = 60; break;
      case 's': unit = 1; break;
      default: return bad();
    }
    digits.remove_suffix(1);
  }
  auto n = ParseCount(flag, digits, 0, max_seconds / unit);
  if (!n.ok() || *n * unit < min_seconds) return bad();
  return *n * unit;
}

}  // namespace galsync
