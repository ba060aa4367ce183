#include "store/change_rules.h"

#include <string>

namespace galsync {

Status CheckPreconditions(const ChangeRequest& ch, size_t index, size_t count,
                          bool live_now, uint64_t current_seq) {
  auto mismatch = [&](const std::string& why) {
    std::string msg = "contact \"" + ch.id + "\": " + why;
    if (count > 1) msg = "change " + std::to_string(index) + ": " + msg;
    return Error{ErrorKind::kPreconditionFailed, "version_mismatch", msg};
  };
  if (ch.if_match) {
    if (!live_now) return mismatch("If-Match given but contact does not exist");
    if (*ch.if_match != "*" && *ch.if_match != std::to_string(current_seq)) {
      return mismatch("version is " + std::to_string(current_seq) +
                      ", If-Match wanted " + *ch.if_match);
    }
  }
  if (ch.if_none_match && live_now) {
    return mismatch("already exists (If-None-Match: *)");
  }
  return Ok{};
}

}  // namespace galsync
