// Fuzz target: a change-feed page as the sync client receives it from a
// server it does not control. Validation must reject garbage cleanly.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "galsync/sync_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto page = galsync::ParseFeedPage(body);
  if (!page.ok()) return 0;
  // What validation promises: ascending seqs and a token to continue from.
  uint64_t last = 0;
  for (const auto& c : page->changes) {
    if (c.seq <= last) std::abort();
    last = c.seq;
  }
  return 0;
}
