// API keys: who may do what to which domain.
//
// A key belongs to one domain, or to the whole server, and carries a set of
// scopes:
//   read   sync, search and read contacts
//   write  change contacts (single writes, batches, imports)
//   admin  the domain's keys, policy, history and purge; with a server-wide
//          key also domains and every key
//   private  with read: see hidden contacts and private attributes (the full
//          view, galsync/visibility.h); without it reads get the public view
// Scopes do not imply each other: a writer that also syncs holds both.
//
// The bearer form of a key is "gsk_" + 16 hex digits (the key's public id) +
// "_" + 64 hex digits (256 random bits). Only the SHA-256 of the secret part
// is stored; the secret is shown once, when the key is made. A plain hash is
// enough because the secret is random, not a password: there is nothing to
// guess from a dictionary. Verification looks the id up in memory and compares
// the hash in constant time.
//
// Thread-safety: a KeyRing may be used from any thread; Authenticate takes a
// shared lock, Create and Revoke an exclusive one and write through to the
// store before they change memory.
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "galsync/clock.h"
#include "galsync/status.h"
#include "galsync/store.h"
#include "galsync/visibility.h"

namespace galsync {

enum ScopeBits : uint32_t {
  kScopeRead = 1,
  kScopeWrite = 2,
  kScopeAdmin = 4,
  kScopePrivate = 8,
  kAllScopes = kScopeRead | kScopeWrite | kScopeAdmin | kScopePrivate,
};

// "read,write" for kScopeRead | kScopeWrite; "" for none.
std::string ScopesToString(uint32_t scopes);
// Parses "read,write,admin" (any order, no spaces). kInvalidArgument
// "invalid_scopes" on an unknown or empty list.
Result<uint32_t> ParseScopes(std::string_view list);

// The identity a request acts as, once its key is verified.
struct Principal {
  std::string key_id;
  std::string domain;  // empty: server-wide
  uint32_t scopes = 0;
  std::string name;

  bool server_wide() const { return domain.empty(); }
  // What this principal's reads may see.
  View view() const {
    return (scopes & kScopePrivate) != 0 ? View::kFull : View::kPublic;
  }
  // The audit actor of the changes this principal makes: "key:<id>".
  std::string actor() const { return "key:" + key_id; }
};

// Whether `p` may act with `scope` on `domain` (empty: a server-level
// resource, e.g. the list of domains, which needs a server-wide key).
// kPermissionDenied with reason "wrong_domain" or "insufficient_scope".
Status Authorize(const Principal& p, uint32_t scope, std::string_view domain);

// A key made by KeyRing::Create: its record and its bearer form (the only
// time the secret exists outside the caller's hands).
struct NewKey {
  StoredKey key;
  std::string bearer;
};

class KeyRing {
 public:
  // `store` must outlive the key ring.
  explicit KeyRing(Store& store, Clock* clock = Clock::System());

  // Loads every key from the store into those held: call once before use,
  // and again when the store reports that keys changed. A key held but not
  // in the store's list (made since it was read) stays, and so does a
  // revocation held.
  Status Load();

  // Makes a key for `domain` (empty: server-wide) with `scopes`. The domain
  // must exist (kNotFound "domain_not_found"). `created_by` is the audit
  // actor that asked for it.
  Result<NewKey> Create(std::string_view domain, uint32_t scopes,
                        std::string_view name, std::string_view created_by);

  // The key with this id, revoked or not.
  std::optional<StoredKey> Get(std::string_view id) const;

  // Keys, oldest first, revoked ones included. A domain filters to that
  // domain's keys; nullopt lists all.
  std::vector<StoredKey> List(std::optional<std::string_view> domain) const;

  // Revokes key `id` at once. With a domain, only a key of that domain
  // qualifies (kNotFound "key_not_found" otherwise, as for an unknown id).
  Result<StoredKey> Revoke(std::string_view id,
                           std::optional<std::string_view> domain);

  // Verifies a bearer key (the part after "Bearer "). kUnauthenticated with
  // reason "invalid_key" (malformed, unknown or wrong secret) or
  // "key_revoked".
  Result<Principal> Authenticate(std::string_view bearer) const;

  // Keys not revoked (galsyncd makes the first admin key when there are none).
  size_t LiveCount() const;

 private:
  Store& store_;
  Clock* const clock_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, StoredKey> keys_;  // GUARDED_BY(mu_); by id
};

}  // namespace galsync
