// Fuzz target: the contact JSON codec (every contact written through the
// API, batch or import passes through it). Beyond not crashing, a contact
// that decodes must round-trip: its canonical form decodes to the same
// canonical form; and it can be indexed, the same way into a build's table
// as one by one.
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
  // Both ways of making its index document agree: one by one, and into a
  // build's table (each word a view into one buffer).
  const galsync::IndexDoc doc = galsync::IndexDocFromContact(*c);
  galsync::IndexDocs table;
  galsync::AddContactDoc(*c, 0, table);
  const galsync::IndexDoc from_table = table.Get(0);
  if (from_table.id != doc.id || from_table.words.size() != doc.words.size()) {
    std::abort();
  }
  for (size_t i = 0; i < doc.words.size(); ++i) {
    const auto& a = doc.words[i];
    const auto& b = from_table.words[i];
    if (a.text != b.text || a.field != b.field || a.position != b.position) {
      std::abort();
    }
  }
  return 0;
}
