// Fuzz target: the contact JSON codec (every contact written through the
// API, batch or import passes through it). Beyond not crashing, a contact
// that decodes must round-trip: its canonical form decodes to the same
// canonical form, and it can be indexed.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "galsync/contact.h"
#include "galsync/search.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = galsync::ParseContactJson(text);
  if (!c.ok()) {
    if (c.error().reason.empty() || c.error().message.empty()) std::abort();
    return 0;
  }
  const std::string canonical = galsync::CanonicalContentJson(*c);
  auto again = galsync::ParseContactJson(canonical);
  if (!again.ok()) std::abort();  // the server would store what it can't read
  if (galsync::CanonicalContentJson(*again) != canonical) std::abort();
  (void)galsync::IndexDocFromContact(*c);
  return 0;
}
