// Change-feed page serialization; see page.h.
#include "sync/page.h"

#include <charconv>

#include "galsync/contact.h"

namespace galsync {

PageWriter::PageWriter(size_t reserve) {
  body_.reserve(reserve + 256);
  body_ = "{\"changes\":[";
}

void PageWriter::Head(std::string_view op, uint64_t seq, int64_t time_us,
                      std::string_view id) {
  if (count_++ > 0) body_ += ',';
  body_ += "{\"op\":\"";
  body_ += op;
  // Contact ids are restricted to URL-safe ASCII (IsValidContactId), so they
  // never need JSON escaping.
  body_ += "\",\"id\":\"";
  body_ += id;
  body_ += "\",\"seq\":";
  char num[24];
  auto [end, ec] = std::to_chars(num, num + sizeof num, seq);
  body_.append(num, end);
  body_ += ",\"time\":\"";
  body_ += FormatTime(time_us);
  body_ += '"';
}

void PageWriter::AddUpsert(uint64_t seq, int64_t time_us, std::string_view id,
                           std::string_view json) {
  Head("upsert", seq, time_us, id);
  body_ += ",\"contact\":";
  body_ += json;
  body_ += '}';
}

void PageWriter::AddDelete(uint64_t seq, int64_t time_us, std::string_view id) {
  Head("delete", seq, time_us, id);
  body_ += '}';
}

std::string PageWriter::Finish(std::string_view next_token, bool has_more,
                               bool full_sync) {
  body_ += "],\"next_token\":\"";
  body_ += next_token;  // base64url: no escaping needed
  body_ += has_more ? "\",\"has_more\":true" : "\",\"has_more\":false";
  body_ += full_sync ? ",\"full_sync\":true}" : ",\"full_sync\":false}";
  return std::move(body_);
}

}  // namespace galsync
