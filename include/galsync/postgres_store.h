// The PostgreSQL store: the same Store, in a PostgreSQL database that
// several galsyncd instances can share.
//
// Schema, seq assignment and snapshots are described in
// src/store/postgres_store.cc and docs/scale-out.md. In short: each write
// transaction first locks its domain's row (SELECT ... FOR UPDATE), reads
// last_seq there and raises it before committing, so writers to one domain,
// on any number of instances, take seqs in commit order; every read that
// must be consistent is one statement or one REPEATABLE READ transaction,
// i.e. one snapshot.
//
// Durability is the server's: with PostgreSQL's default synchronous_commit
// a write is on disk (and, with synchronous replication, on a standby) when
// it returns.
#pragma once

#include <memory>
#include <string>

#include "galsync/store.h"

namespace galsync {

struct PostgresStoreOptions {
  // Forces a new incarnation id on open (after restoring a backup), which
  // invalidates every outstanding sync token.
  bool new_incarnation = false;
  // Idle connections kept for reuse; more are opened while they are busy.
  size_t max_idle_connections = 16;
  // false: the store's sessions run with synchronous_commit = off, so a
  // commit returns before its WAL is flushed (galsyncd --durability
  // normal): a kill -9 of galsyncd loses nothing, a crash of PostgreSQL
  // may lose the last commits. true: the server's setting applies.
  bool synchronous_commit = true;
  // A streaming replica of the same database (URI or key=value string;
  // empty: none). Change scans (pages, full syncs, exports, the search
  // index's tailing) are read there, in the primary's schema; everything
  // else, and every write, goes to the primary. The replica may be behind:
  // a scan reports the seq its snapshot has reached (ScanResult::
  // snapshot_last_seq) and the sync engine never serves a snapshot older
  // than the reader's position. If the replica cannot be reached, scans
  // fall back to the primary; its connections use connect_timeout=2 and
  // tcp_user_timeout=10000 unless the string sets them. Opening the store
  // fails unless the replica is a standby holding this store.
  std::string read_replica;
};

// True if `spec` names a PostgreSQL database (postgresql:// or postgres://).
bool IsPostgresUri(std::string_view spec);

// Connects to `conninfo` (a postgresql:// URI or a libpq key=value string),
// creating and migrating the schema as needed. Several processes may open
// the same database at once; migrations run under an advisory lock.
Result<std::unique_ptr<Store>> OpenPostgresStore(
    const std::string& conninfo, const PostgresStoreOptions& opts);

}  // namespace galsync
