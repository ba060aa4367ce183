// Sync tokens: the opaque position a client hands back to continue syncing.
//
// Wire format (version 2), base64url without padding, 67 characters:
//
//   token   = version view incarnation domain_uid seq floor mac
//   version = %x02                      ; 1 byte
//   view    = %x00 / %x01               ; full / public (galsync/visibility.h)
//   incarnation, domain_uid, seq, floor ; 8 bytes each, little-endian
//   mac     = HMAC-SHA256(secret, version..floor)[0..16)
//
// Version 1 (66 characters, no view byte) is still accepted and stands for
// the full view.
//
// `seq` is the last change the client has (it receives seq > token.seq next).
// `floor` is non-zero only while a full sync is in progress: tombstones with
// seq <= floor are skipped, because they were deleted before the full sync
// started and so the client never received the contact they delete.
// The MAC makes tokens tamper-evident; the incarnation and domain uid bind a
// token to one store's life and one domain, the view to what the client was
// allowed to see (a token of one view is not continued in another).
//
// Thread-safety: a TokenCodec is immutable after construction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "galsync/status.h"
#include "galsync/visibility.h"

namespace galsync {

struct SyncToken {
  uint64_t incarnation = 0;
  uint64_t domain_uid = 0;
  uint64_t seq = 0;
  uint64_t floor = 0;
  View view = View::kFull;
  bool operator==(const SyncToken&) const = default;
};

class TokenCodec {
 public:
  static constexpr uint8_t kVersion = 2;
  static constexpr size_t kSecretBytes = 32;

  // `secret` must hold at least kSecretBytes random bytes.
  explicit TokenCodec(std::string secret) : secret_(std::move(secret)) {}

  std::string Encode(const SyncToken& t) const;
  // kInvalidArgument, reason "invalid_token", for anything that is not a
  // token this server issued: wrong length or alphabet, unknown version,
  // bad MAC. Never reveals which check failed.
  Result<SyncToken> Decode(std::string_view text) const;

 private:
  std::string secret_;
};

}  // namespace galsync
