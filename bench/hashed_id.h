// Ids in no particular order for the benchmarks, as an import derives them
// from source keys (e-mail addresses, hashes): the n-th is 'h' and 16 hex
// digits of a bijection of n, so distinct n give distinct ids.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace galsync::bench {

inline std::string HashedId(uint64_t n) {
  uint64_t h = (n + 1) * 0x9E3779B97F4A7C15ull;  // an odd multiplier
  h ^= h >> 29;                                  // and a shift-xor: both invertible
  char id[24];
  std::snprintf(id, sizeof id, "h%016llx", static_cast<unsigned long long>(h));
  return id;
}

}  // namespace galsync::bench
