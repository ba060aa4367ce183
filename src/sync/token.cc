// Sync token encoding and verification; the format is in sync_token.h.
#include "galsync/sync_token.h"

#include <cstring>

#include "util/crypto.h"

namespace galsync {
namespace {

// Version 2: version, view, four u64s, MAC. Version 1 had no view byte and
// stands for the full view (it predates views).
constexpr size_t kBodyBytes = 1 + 1 + 4 * 8;
constexpr size_t kV1BodyBytes = 1 + 4 * 8;
constexpr size_t kMacBytes = 16;
// Base64url of `bytes` without padding.
constexpr size_t CharsOf(size_t bytes) { return (bytes * 8 + 5) / 6; }
constexpr size_t kTokenChars = CharsOf(kBodyBytes + kMacBytes);
constexpr size_t kV1TokenChars = CharsOf(kV1BodyBytes + kMacBytes);

void PutU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  }
  return v;
}

Error Invalid() {
  return Error::InvalidArgument(
      "invalid_token",
      "sync token is not valid: it was truncated, altered, or not issued by "
      "this server; sync again without a token for a full download");
}

}  // namespace

std::string TokenCodec::Encode(const SyncToken& t) const {
  char buf[kBodyBytes + kMacBytes];
  buf[0] = static_cast<char>(kVersion);
  buf[1] = static_cast<char>(t.view);
  PutU64(buf + 2, t.incarnation);
  PutU64(buf + 10, t.domain_uid);
  PutU64(buf + 18, t.seq);
  PutU64(buf + 26, t.floor);
  auto mac = crypto::HmacSha256(secret_, std::string_view(buf, kBodyBytes));
  std::memcpy(buf + kBodyBytes, mac.data(), kMacBytes);
  return crypto::Base64UrlEncode(std::string_view(buf, sizeof(buf)));
}

Result<SyncToken> TokenCodec::Decode(std::string_view text) const {
  if (text.size() != kTokenChars && text.size() != kV1TokenChars) {
    return Invalid();
  }
  auto raw = crypto::Base64UrlDecode(text);
  if (!raw || raw->empty()) return Invalid();
  const char* p = raw->data();
  const uint8_t version = static_cast<uint8_t>(p[0]);
  const size_t body = version == kVersion ? kBodyBytes
                      : version == 1      ? kV1BodyBytes
                                          : 0;
  if (body == 0 || raw->size() != body + kMacBytes) return Invalid();
  auto mac = crypto::HmacSha256(secret_, std::string_view(p, body));
  if (!crypto::ConstantTimeEqual(
          std::string_view(reinterpret_cast<const char*>(mac.data()),
                           kMacBytes),
          std::string_view(p + body, kMacBytes))) {
    return Invalid();
  }
  SyncToken t;
  if (version == kVersion) {
    const uint8_t view = static_cast<uint8_t>(p[1]);
    if (view > static_cast<uint8_t>(View::kPublic)) return Invalid();
    t.view = static_cast<View>(view);
    ++p;
  }
  t.incarnation = GetU64(p + 1);
  t.domain_uid = GetU64(p + 9);
  t.seq = GetU64(p + 17);
  t.floor = GetU64(p + 25);
  return t;
}

}  // namespace galsync
