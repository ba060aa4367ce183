// Fuzz target: typeahead queries (?q=...). The first byte picks the field
// classes, the rest is the query text. A query that parses is scored
// against a few fixed people with the reference semantics.
#include <cstdint>
#include <string_view>
#include <vector>

#include "demo/demo_people.h"
#include "galsync/prefix_index.h"
#include "galsync/search.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<galsync::IndexDoc> docs = [] {
    std::vector<galsync::IndexDoc> d;
    for (const auto& c : galsync::demo::GeneratePeople(20)) {
      d.push_back(galsync::IndexDocFromContact(c));
    }
    return d;
  }();
  if (size == 0) return 0;
  const uint8_t fields = data[0] & galsync::kAllFields;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto q = galsync::ParseQuery(text, fields ? fields : galsync::kAllFields);
  if (!q.ok()) return 0;
  for (const auto& d : docs) (void)galsync::MatchScore(d, *q);
  return 0;
}
