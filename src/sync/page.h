// Serializes one page of the change feed by concatenation: each upsert embeds
// the contact's stored JSON verbatim, so serving a page costs a range read
// plus memcpy, never a parse or re-serialization. The shape is documented in
// docs/api.md ("Changes") and on ChangesPage in galsync/directory.h.
//
// Thread-safety: a PageWriter is used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace galsync {

class PageWriter {
 public:
  explicit PageWriter(size_t reserve = 0);

  // Upper bound on what Finish() appends (token, has_more, full_sync).
  static constexpr size_t kTailBytes = 160;

  // Bytes one change adds to the page (to enforce a byte budget up front).
  static size_t CostOf(std::string_view id, std::string_view json) {
    return json.size() + id.size() + 96;
  }

  void AddUpsert(uint64_t seq, int64_t time_us, std::string_view id,
                 std::string_view json);
  void AddDelete(uint64_t seq, int64_t time_us, std::string_view id);

  size_t count() const { return count_; }
  size_t bytes() const { return body_.size(); }

  // Closes the page and returns the body.
  std::string Finish(std::string_view next_token, bool has_more,
                     bool full_sync);

 private:
  void Head(std::string_view op, uint64_t seq, int64_t time_us,
            std::string_view id);

  std::string body_;
  size_t count_ = 0;
};

}  // namespace galsync
