// Mix64: splitmix64's step and finalizer, a fast 64-bit mixing function
// whose every output bit depends on every input bit. Not for secrets (see
// crypto.h); for hash tables, and for demo data drawn from an index.
#pragma once

#include <cstdint>

namespace galsync {

constexpr uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace galsync
