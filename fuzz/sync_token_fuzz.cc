// Fuzz target: sync tokens as clients send them. Decoding must never crash
// and anything it accepts must re-encode to a token that decodes the same.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "galsync/sync_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const galsync::TokenCodec codec(std::string(32, 'k'));
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = codec.Decode(text);
  if (!t.ok()) return 0;
  auto again = codec.Decode(codec.Encode(*t));
  if (!again.ok() || !(*again == *t)) std::abort();
  return 0;
}
