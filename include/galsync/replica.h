// A client's local copy of one domain of a galsync server, in an SQLite file.
//
// The replica holds the latest state of every contact it has received, the
// sync token that continues the feed after the last applied page, and what
// the user configured (server URL, domain, key). Pages of the change feed
// are applied atomically with their next_token (design invariant 6): after a
// crash at any instant the replica is exactly as after some whole page, so
// the next sync resumes with no loss and no double apply.
//
// Schema (version 1):
//
//   meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)     configuration and
//        sync state: server_url, domain, api_key, ca_file, token, resync_token,
//        resync_active, last_success_us, last_attempt_us, last_error,
//        incarnation, generation (bumped whenever a full sync replaces the
//        searched copy), schema_version
//   contacts(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, json TEXT)
//        the copy searched and exported; json NULL marks a tombstone
//   contacts_next(...)                                   same shape: a full
//        sync (first sync, or a resync after 410) fills it page by page and
//        it replaces `contacts` in the transaction of its last page, so
//        search keeps answering from the old copy meanwhile
//
// Applying a change (id, seq) is idempotent: a row is replaced only by a
// change with a higher seq, and a delete leaves a tombstone so an older
// upsert replayed later cannot bring the contact back. Rows are keyed by
// seq, which is unique within a domain, so a full sync appends in key order.
//
// Thread-safety: a Replica belongs to one thread at a time. Several
// processes may open the same file: SQLite serializes writers, and Apply
// refuses a page requested with a token that is no longer the stored one
// (another process applied a page meanwhile), so no page is applied twice.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "galsync/status.h"

namespace galsync {

namespace sqlite {
class Db;
class Stmt;
}

// One change of the feed, as received (docs/api.md, "Changes").
struct FeedChange {
  enum class Op : uint8_t { kUpsert, kDelete };
  Op op = Op::kUpsert;
  std::string id;
  uint64_t seq = 0;
  int64_t time_us = 0;
  std::string contact_json;  // the served contact; empty for a delete
};

// One page of the feed, validated (see ParseFeedPage in galsync/sync_client.h).
struct FeedPage {
  std::vector<FeedChange> changes;  // ascending seq
  std::string next_token;
  bool has_more = false;
  bool full_sync = false;
};

// What the user configured with `galsync init`.
struct ReplicaConfig {
  std::string server_url;  // e.g. http://127.0.0.1:8080
  std::string domain;
  std::string api_key;     // may be empty
  // For an https server: a PEM file of the certificate authorities to trust
  // instead of the system's (e.g. a private CA or a self-signed server).
  std::string ca_file;     // may be empty
};

// The sync position and bookkeeping, as stored.
struct ReplicaState {
  std::string token;         // continues the delta feed; empty: never synced
  bool resync_active = false;  // a full sync is filling contacts_next
  std::string resync_token;  // continues that full sync; empty: not begun
  int64_t last_success_us = 0;
  int64_t last_attempt_us = 0;
  std::string last_error;    // of the last failed sync; empty after success
  std::string incarnation;   // the server store's, when last seen
  uint64_t generation = 0;   // bumped each time a full sync completes
};

struct ReplicaCounts {
  uint64_t live = 0;        // contacts in the searched copy
  uint64_t tombstones = 0;
  uint64_t max_seq = 0;     // highest seq applied to the searched copy
  uint64_t resync_rows = 0;  // rows received so far by an active full sync
};

class Replica {
 public:
  // Opens or creates the replica file (and its directory is not created:
  // the caller does that). Errors: kInvalidArgument reason
  // "replica_corrupt" when the file is not a replica (or not SQLite at
  // all), "replica_too_new" when its schema is newer than this program.
  static Result<std::unique_ptr<Replica>> Open(const std::string& path);
  ~Replica();

  const std::string& path() const { return path_; }

  // Configuration. Changing the server or domain of a replica that holds
  // data discards its contacts and position (they belong to another feed).
  Result<std::optional<ReplicaConfig>> Config();
  Status SetConfig(const ReplicaConfig& config);

  Result<ReplicaState> State();
  Result<ReplicaCounts> Counts();

  // Starts a full sync into contacts_next (discarding one in progress).
  // The searched copy stays as it is until the full sync completes.
  Status BeginResync();

  // Applies `page`, which was requested with `from_token` (empty for the
  // first page of a full sync), in one transaction with its next_token:
  //  - during a full sync (State().resync_active) the page goes into
  //    contacts_next and must have full_sync; its last page (has_more
  //    false) swaps contacts_next in;
  //  - otherwise it goes into contacts and must not have full_sync.
  // kConflict reason "concurrent_sync" if the stored token is no longer
  // `from_token`; kInvalidArgument reason "bad_response" if the page does
  // not fit the replica's state. Nothing is changed on error.
  Status Apply(const FeedPage& page, std::string_view from_token);

  // Records the outcome of a sync attempt (times in µs since the epoch).
  Status RecordAttempt(int64_t now_us, std::string_view error);
  Status SetIncarnation(std::string_view incarnation);

  // Reading the searched copy. Get: kNotFound if absent or deleted.
  Result<std::string> Get(std::string_view id);
  // Calls `fn(id, json)` for every live contact in seq order; stops early
  // if fn returns false.
  Status ForEach(
      const std::function<bool(std::string_view id, std::string_view json)>&
          fn);
  // Calls `fn(id, seq, json)` for every row of the searched copy with a seq
  // above `after_seq`, tombstones included (json empty), in seq order: what
  // changed since a reader last looked, within one generation.
  Status ForEachSince(
      uint64_t after_seq,
      const std::function<void(std::string_view id, uint64_t seq,
                               std::string_view json)>& fn);

 private:
  Replica(std::string path, std::unique_ptr<sqlite::Db> db);
  Status Migrate();
  // A prepared statement kept for the life of the connection.
  Result<sqlite::Stmt*> Cached(const std::string& sql);
  Result<std::string> MetaGet(std::string_view key);
  Status MetaSet(std::string_view key, std::string_view value);

  std::string path_;
  std::unique_ptr<sqlite::Db> db_;
  struct StmtCache;
  std::unique_ptr<StmtCache> stmts_;  // destroyed before db_
};

}  // namespace galsync
