// Rules every store applies to a requested change in the same way, so the
// stores cannot drift apart on them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "galsync/status.h"
#include "galsync/store.h"

namespace galsync {

// Checks change `index` of a batch of `count` against the contact's current
// state (live or not, and its seq): kPreconditionFailed "version_mismatch"
// if its If-Match or If-None-Match condition fails, naming the change in a
// batch.
Status CheckPreconditions(const ChangeRequest& change, size_t index,
                          size_t count, bool live_now, uint64_t current_seq);

}  // namespace galsync
