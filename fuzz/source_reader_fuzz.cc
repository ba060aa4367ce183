// Fuzz target: the source readers (CSV, vCard, LDIF, JSON lines), which
// read whatever file an admin uploads for import. The first byte picks the
// format, the second how the bytes are cut into Feed calls (an upload
// arrives in arbitrary pieces). Beyond not crashing: every record is either
// an error with a message or an object the codec judges, and the same
// bytes fed whole or in pieces give the same records.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/serialize.hpp>

#include "galsync/contact.h"
#include "galsync/source_reader.h"

namespace {

std::vector<std::string> ReadRecords(galsync::SourceFormat format,
                                     std::string_view text, size_t piece,
                                     bool* failed) {
  galsync::SourceOptions options;
  options.limits.max_line_bytes = 4096;
  options.limits.max_record_bytes = 8192;
  auto reader = galsync::SourceReader::Create(format, options);
  if (!reader.ok()) std::abort();
  std::vector<std::string> out;
  auto sink = [&](galsync::SourceRecord&& r) {
    if (r.line == 0) std::abort();
    if (!r.error.empty()) {
      out.push_back(std::to_string(r.line) + " " + r.error);
      return;
    }
    auto c = galsync::ContactFromJson(r.contact);
    if (c.ok()) (void)galsync::CanonicalContentJson(*c);
    out.push_back(std::to_string(r.line) + " " + boost::json::serialize(r.contact));
  };
  *failed = false;
  for (size_t i = 0; i < text.size(); i += piece) {
    if (!(*reader)->Feed(text.substr(i, piece), sink).ok()) {
      *failed = true;
      return out;
    }
  }
  *failed = !(*reader)->Finish(sink).ok();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto format = static_cast<galsync::SourceFormat>(data[0] % 4);
  const size_t piece = 1 + data[1] % 97;
  std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  bool whole_failed = false, pieces_failed = false;
  auto whole = ReadRecords(format, text, text.size() + 1, &whole_failed);
  auto pieces = ReadRecords(format, text, piece, &pieces_failed);
  if (whole_failed != pieces_failed || whole != pieces) std::abort();
  return 0;
}
