// Small cryptographic helpers over OpenSSL: randomness, HMAC-SHA256,
// constant-time comparison, unpadded base64url (RFC 4648 §5) and padded
// base64 (§4).
//
// Thread-safety: all functions are safe to call concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace galsync::crypto {

// Cryptographically secure random bytes. Aborts if the system RNG fails.
void RandomBytes(void* out, size_t n);
uint64_t RandomU64();
// 32 lowercase hex characters (128 random bits), e.g. for generated ids.
std::string RandomHex128();

using Sha256Digest = std::array<uint8_t, 32>;
Sha256Digest HmacSha256(std::string_view key, std::string_view data);
Sha256Digest Sha256(std::string_view data);

// Lowercase hex of `bytes`.
std::string Hex(std::string_view bytes);
template <size_t N>
std::string Hex(const std::array<uint8_t, N>& b) {
  return Hex(std::string_view(reinterpret_cast<const char*>(b.data()), N));
}

bool ConstantTimeEqual(std::string_view a, std::string_view b);

std::string Base64UrlEncode(std::string_view bytes);
// Padded base64 with the standard alphabet (RFC 4648 §4), e.g. for LDIF.
std::string Base64Encode(std::string_view bytes);
// nullopt on any character outside the alphabet or an impossible length.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace galsync::crypto
