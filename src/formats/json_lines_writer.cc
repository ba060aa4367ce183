// The JSON lines writer: ContactToJsonLine (see galsync/export.h).
#include <string>

#include "galsync/contact.h"
#include "galsync/export.h"

namespace galsync {

std::string ContactToJsonLine(const Contact& c) {
  std::string line =
      StoredContactJson(CanonicalContentJson(c), c.domain, c.seq, c.updated_us);
  line.push_back('\n');
  return line;
}

}  // namespace galsync
