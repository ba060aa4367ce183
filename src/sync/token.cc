// Sync token encoding and verification; the format is in sync_token.h.
#include "galsync/sync_token.h"

#include <cstring>

#include "util/crypto.h"

namespace galsync {
namespace {

constexpr size_t kBodyBytes = 1 + 4 * 8;
constexpr size_t kMacBytes = 16;
constexpr size_t kTokenBytes = kBodyBytes + kMacBytes;
// Base64url of kTokenBytes without padding.
constexpr size_t kTokenChars = (kTokenBytes * 8 + 5) / 6;

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
  char buf[kTokenBytes];
  buf[0] = static_cast<char>(kVersion);
  PutU64(buf + 1, t.incarnation);
  PutU64(buf + 9, t.domain_uid);
  PutU64(buf + 17, t.seq);
  PutU64(buf + 25, t.floor);
  auto mac = crypto::HmacSha256(secret_, std::string_view(buf, kBodyBytes));
  std::memcpy(buf + kBodyBytes, mac.data(), kMacBytes);
  return crypto::Base64UrlEncode(std::string_view(buf, kTokenBytes));
}

Result<SyncToken> TokenCodec::Decode(std::string_view text) const {
  if (text.size() != kTokenChars) return Invalid();
  auto raw = crypto::Base64UrlDecode(text);
  if (!raw || raw->size() != kTokenBytes) return Invalid();
  const char* p = raw->data();
  if (static_cast<uint8_t>(p[0]) != kVersion) return Invalid();
  auto mac = crypto::HmacSha256(secret_, std::string_view(p, kBodyBytes));
  if (!crypto::ConstantTimeEqual(
          std::string_view(reinterpret_cast<const char*>(mac.data()),
                           kMacBytes),
          std::string_view(p + kBodyBytes, kMacBytes))) {
    return Invalid();
  }
  SyncToken t;
  t.incarnation = GetU64(p + 1);
  t.domain_uid = GetU64(p + 9);
  t.seq = GetU64(p + 17);
  t.floor = GetU64(p + 25);
  return t;
}

}  // namespace galsync
