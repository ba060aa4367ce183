// API keys and their verification; see galsync/keys.h.
#include "galsync/keys.h"

#include <algorithm>
#include <mutex>

#include "galsync/contact.h"
#include "util/crypto.h"

namespace galsync {
namespace {

constexpr std::string_view kPrefix = "gsk_";
constexpr size_t kIdHex = 16;
constexpr size_t kSecretHex = 64;
constexpr size_t kBearerBytes = kPrefix.size() + kIdHex + 1 + kSecretHex;
constexpr size_t kMaxNameBytes = 200;

constexpr std::pair<uint32_t, std::string_view> kScopeNames[] = {
    {kScopeRead, "read"},
    {kScopeWrite, "write"},
    {kScopeAdmin, "admin"},
    {kScopePrivate, "private"}};

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

Error InvalidKey() {
  return {ErrorKind::kUnauthenticated, "invalid_key",
          "the API key is not valid (see docs/security.md for keys)"};
}

// The stored hash of a secret: SHA-256 of its 32 bytes (one SHA-256 block,
// where its 64 hex digits would take two). `hex` is lowercase hex.
std::string SecretHash(std::string_view hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  char raw[kSecretHex / 2];
  for (size_t i = 0; i < sizeof raw; ++i) {
    raw[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return crypto::Hex(crypto::Sha256(std::string_view(raw, sizeof raw)));
}

}  // namespace

std::string ScopesToString(uint32_t scopes) {
  std::string out;
  for (auto [bit, name] : kScopeNames) {
    if (!(scopes & bit)) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

Result<uint32_t> ParseScopes(std::string_view list) {
  if (list.empty()) {
    return Error::InvalidArgument(
        "invalid_scopes",
        "give at least one scope: a comma-separated list of read, write, "
        "admin, private");
  }
  uint32_t scopes = 0;
  for (size_t start = 0;;) {
    const size_t comma = list.find(',', start);
    const std::string_view word = list.substr(start, comma - start);
    auto it = std::find_if(std::begin(kScopeNames), std::end(kScopeNames),
                           [&](const auto& s) { return s.second == word; });
    if (it == std::end(kScopeNames)) {
      return Error::InvalidArgument(
          "invalid_scopes", "unknown scope \"" + std::string(word.substr(0, 32)) +
                                "\"; scopes are read, write, admin and private");
    }
    scopes |= it->first;
    if (comma == std::string_view::npos) return scopes;
    start = comma + 1;
  }
}

Status Authorize(const Principal& p, uint32_t scope, std::string_view domain) {
  if (domain.empty() && !p.server_wide()) {
    return Error{ErrorKind::kPermissionDenied, "wrong_domain",
                 "this key belongs to domain \"" + p.domain +
                     "\"; this resource needs a server-wide key"};
  }
  if (!p.server_wide() && p.domain != domain) {
    return Error{ErrorKind::kPermissionDenied, "wrong_domain",
                 "this key belongs to domain \"" + p.domain +
                     "\" and cannot be used for another domain"};
  }
  if ((p.scopes & scope) != scope) {
    return Error{ErrorKind::kPermissionDenied, "insufficient_scope",
                 "this needs a key with the " + ScopesToString(scope) +
                     " scope; this key has " + ScopesToString(p.scopes)};
  }
  return Ok{};
}

KeyRing::KeyRing(Store& store, Clock* clock) : store_(store), clock_(clock) {}

Status KeyRing::Load() {
  auto keys = store_.ListKeys();
  if (!keys) return std::move(keys).error();
  // Merged, not replaced: the list may have been read before a key that
  // Create or Revoke has since put in memory was committed. Keys are never
  // deleted and a revocation is never undone, so a key missing from the
  // list is newer than it, and a revocation in either one stands.
  std::unique_lock lock(mu_);
  for (StoredKey& k : *keys) {
    auto [it, fresh] = keys_.try_emplace(k.id, k);
    if (!fresh && it->second.revoked_us == 0) it->second.revoked_us = k.revoked_us;
  }
  return Ok{};
}

Result<NewKey> KeyRing::Create(std::string_view domain, uint32_t scopes,
                               std::string_view name,
                               std::string_view created_by) {
  if (scopes == 0 || (scopes & ~uint32_t{kAllScopes}) != 0) {
    return Error::InvalidArgument("invalid_scopes",
                                  "scopes are read, write and admin");
  }
  if (name.size() > kMaxNameBytes) {
    return Error::InvalidArgument(
        "invalid_key_name",
        "a key's name may be at most " + std::to_string(kMaxNameBytes) +
            " bytes");
  }
  if (!domain.empty()) {
    auto d = store_.GetDomain(domain);
    if (!d) return std::move(d).error();
  }
  char raw[kIdHex / 2 + kSecretHex / 2];
  crypto::RandomBytes(raw, sizeof raw);
  const std::string id = crypto::Hex(std::string_view(raw, kIdHex / 2));
  const std::string secret =
      crypto::Hex(std::string_view(raw + kIdHex / 2, kSecretHex / 2));
  NewKey out;
  out.key.id = id;
  out.key.domain = std::string(domain);
  out.key.scopes = scopes;
  out.key.name = std::string(name);
  out.key.secret_sha256 = SecretHash(secret);
  out.key.created_us = clock_->NowMicros();
  out.key.created_by = std::string(created_by);
  out.bearer = std::string(kPrefix) + id + "_" + secret;
  // The durable write happens outside the lock, so verification of other
  // keys never waits for an fsync; the new key is usable once it returns.
  if (auto st = store_.InsertKey(out.key); !st) return std::move(st).error();
  std::unique_lock lock(mu_);
  keys_.emplace(id, out.key);
  return out;
}

std::optional<StoredKey> KeyRing::Get(std::string_view id) const {
  std::shared_lock lock(mu_);
  auto it = keys_.find(std::string(id));
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

std::vector<StoredKey> KeyRing::List(
    std::optional<std::string_view> domain) const {
  std::vector<StoredKey> out;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, k] : keys_) {
      if (!domain || k.domain == *domain) out.push_back(k);
    }
  }
  std::sort(out.begin(), out.end(), [](const StoredKey& a, const StoredKey& b) {
    return std::tie(a.created_us, a.id) < std::tie(b.created_us, b.id);
  });
  return out;
}

Result<StoredKey> KeyRing::Revoke(std::string_view id,
                                  std::optional<std::string_view> domain) {
  auto k = Get(id);
  if (!k || (domain && k->domain != *domain)) {
    return Error::NotFound("key_not_found",
                           "no key with id \"" +
                               std::string(id.substr(0, kIdHex + 8)) + "\"");
  }
  if (k->revoked_us != 0) return *k;
  // Durable first, outside the lock (see Create). Should two revocations
  // race, memory and store may keep different ones of their two times
  // until the next start; either is a moment the key was revoked.
  const int64_t now = clock_->NowMicros();
  if (auto st = store_.RevokeKey(id, now); !st) return std::move(st).error();
  std::unique_lock lock(mu_);
  StoredKey& stored = keys_.at(std::string(id));
  if (stored.revoked_us == 0) stored.revoked_us = now;
  return stored;
}

Result<Principal> KeyRing::Authenticate(std::string_view bearer) const {
  if (bearer.size() != kBearerBytes || !bearer.starts_with(kPrefix) ||
      bearer[kPrefix.size() + kIdHex] != '_') {
    return InvalidKey();
  }
  const std::string_view id = bearer.substr(kPrefix.size(), kIdHex);
  const std::string_view secret = bearer.substr(kPrefix.size() + kIdHex + 1);
  if (!IsLowerHex(id) || !IsLowerHex(secret)) return InvalidKey();
  const std::string hash = SecretHash(secret);
  std::shared_lock lock(mu_);
  auto it = keys_.find(std::string(id));
  // An unknown id costs the same hash as a known one; only the id, which is
  // not secret, decides the branch.
  if (it == keys_.end() ||
      !crypto::ConstantTimeEqual(hash, it->second.secret_sha256)) {
    return InvalidKey();
  }
  const StoredKey& k = it->second;
  if (k.revoked_us != 0) {
    return Error{ErrorKind::kUnauthenticated, "key_revoked",
                 "this API key was revoked on " + FormatTime(k.revoked_us)};
  }
  return Principal{k.id, k.domain, k.scopes, k.name};
}

size_t KeyRing::LiveCount() const {
  std::shared_lock lock(mu_);
  return std::count_if(keys_.begin(), keys_.end(),
                       [](const auto& e) { return e.second.revoked_us == 0; });
}

}  // namespace galsync
