// The embedded store: one SQLite database file in WAL mode.
//
// Schema and key layout are documented in src/store/sqlite_store.cc and
// docs/architecture.md. Writes go through one connection under a mutex (SQLite
// has one writer at a time anyway); reads use a pool of connections and run
// in parallel with writes (WAL snapshot isolation).
#pragma once

#include <memory>
#include <string>

#include "galsync/store.h"

namespace galsync {

struct SqliteStoreOptions {
  // "full": fsync on every commit, survives power loss. "normal": survives a
  // crash or kill -9 of the process (the WAL is in the OS page cache) but the
  // last commits may be lost on power loss.
  bool synchronous_full = true;
  // Forces a new incarnation id on open (after restoring a backup), which
  // invalidates every outstanding sync token.
  bool new_incarnation = false;
  int cache_mib = 64;  // page cache per connection
};

// Opens (creating and migrating as needed) the database at `path`.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteStoreOptions& opts);

}  // namespace galsync
