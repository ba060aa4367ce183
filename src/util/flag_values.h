// Values of command-line flags shared by galsyncd and galsync: counts and
// durations, checked against bounds, with errors that name the flag.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "galsync/status.h"

namespace galsync {

// A decimal count in [min, max]. kInvalidArgument otherwise, e.g.
// `--limit wants a number in 1..100000, got "0"`.
Result<uint64_t> ParseCount(std::string_view flag, std::string_view text,
                            uint64_t min, uint64_t max);

// A duration in seconds, written "90" or "90s", "15m", "12h", "30d", in
// [min_seconds, max_seconds]. kInvalidArgument otherwise.
Result<uint64_t> ParseDurationSeconds(std::string_view flag,
                                      std::string_view text,
                                      uint64_t min_seconds,
                                      uint64_t max_seconds);

}  // namespace galsync
