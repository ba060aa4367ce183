// The store: durable home of every domain's contacts and change log.
//
// A Store is a narrow interface so that backends (SQLite today, PostgreSQL
// next) can be swapped without touching callers. It knows nothing of HTTP,
// tokens or JSON beyond storing opaque canonical contact JSON.
//
// The model, per domain:
//   - one row per contact holding its *latest* state (live or tombstone) and
//     the seq of the change that produced it. Reading "rows with seq > S in
//     seq order" is therefore the log compacted by key (brief invariant 2);
//   - last_seq: the highest seq assigned. Seqs are assigned 1, 2, 3, ... in
//     commit order (invariant 1): a reader that sees seq N sees every change
//     below N;
//   - horizon_seq: tombstones with seq <= horizon may have been purged, so a
//     sync token below it can no longer be served as a delta;
//   - an append-only audit history of every change (who, when, before/after),
//     kept separately from the compacted log and purged by retention.
// A store has an incarnation id, fixed at creation and changed on restore, to
// which sync tokens are bound.
//
// Thread-safety: all methods may be called concurrently from any thread.
// Writes are serialized inside the store; reads run in parallel and each sees
// a consistent snapshot.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "galsync/status.h"

namespace galsync {

struct DomainInfo {
  int64_t id = 0;         // store-internal key
  std::string name;       // e.g. "example.com"; see IsValidDomainName
  uint64_t uid = 0;       // random; binds sync tokens to this domain's life
  int64_t created_us = 0;
  uint64_t last_seq = 0;
  int64_t last_time_us = 0;   // commit time of last_seq
  uint64_t horizon_seq = 0;
  uint64_t live_count = 0;    // live (not deleted) contacts
  std::string policy_json;    // visibility policy (PolicyJson); "" for none
};

// Domain names: 1..253 bytes of [a-z0-9.-], starting with a letter or digit.
bool IsValidDomainName(std::string_view name);

enum class ChangeOp { kUpsert, kDelete };
std::string_view ChangeOpName(ChangeOp op);  // "upsert" | "delete"

// One requested change. For an upsert, `content_json` is the contact's
// canonical content (CanonicalContentJson); the store appends the
// server-maintained members.
struct ChangeRequest {
  ChangeOp op = ChangeOp::kUpsert;
  std::string id;
  std::string content_json;
  // If set, the change applies only if the contact is live with this version
  // ("*": any version) (412 otherwise).
  std::optional<std::string> if_match;
  // If true, an upsert applies only if no live contact has this id (412).
  bool if_none_match = false;
  // The contact's owner: a snapshot source (galsync/import.h) and the key
  // that identifies the contact in it. An applied upsert with a source
  // records them, replacing any earlier owner; with none (every write of the
  // API) the contact keeps its owner. Within a domain a (source, source_key)
  // pair belongs to one contact at most.
  std::string source;
  std::string source_key;
};

enum class ChangeResult {
  kApplied,    // took a seq
  kUnchanged,  // upsert with identical content: no seq, no log entry
  kNotFound,   // delete of an id that is not live: no seq
};

struct ChangeOutcome {
  ChangeResult result = ChangeResult::kApplied;
  // The contact's seq after the write (for a delete, its tombstone's seq);
  // 0 for a delete of a contact that was not live.
  uint64_t seq = 0;
  bool created = false;  // an upsert that made a new (or revived) contact
  // For kUnchanged: the stored JSON, read in the same transaction.
  std::string current_json;
};

struct WriteResult {
  uint64_t first_seq = 0;  // seqs taken: [first_seq, last_seq]; 0,0 if none
  uint64_t last_seq = 0;
  int64_t time_us = 0;     // commit time recorded for every change in it
  uint64_t domain_last_seq = 0;
  uint64_t live_count = 0;
  std::vector<ChangeOutcome> outcomes;  // one per request, same order
};

// A contact's stored state.
struct StoredContact {
  std::string id;
  uint64_t seq = 0;
  int64_t time_us = 0;
  bool deleted = false;
  std::string json;  // stored contact JSON; empty for tombstones
  std::string source;      // owner (ChangeRequest::source); empty: none
  std::string source_key;
};

// A contact owned by a source, as SourceContacts visits it. Views are valid
// only during the visitor call.
struct SourceRow {
  std::string_view source_key;
  std::string_view id;
  uint64_t seq;
  bool deleted;
  std::string_view json;  // empty for tombstones
};

// One row of a change scan; views are valid only during the visitor call.
struct ChangeRow {
  uint64_t seq;
  int64_t time_us;
  bool deleted;
  std::string_view id;
  std::string_view json;  // empty for tombstones
  // Set by a view (Directory::ScanChanges), never by a store: the reader may
  // not see this row at all; it only moves the reader's position past it.
  bool withheld = false;
};
// Return false to stop the scan after this row.
using ChangeVisitor = std::function<bool(const ChangeRow&)>;

// The reason of the kUnavailable error of a scan refused because its
// snapshot, read from a replica, is older than the request needs (or the
// replica has not yet replayed the domain's creation). Looking again soon
// succeeds once the replica has replayed that far: callers that wait look
// after kReplicaFirstPause, then twice as long each time, up to
// kReplicaMaxPause.
inline constexpr std::string_view kReplicaBehind = "replica_behind";
inline constexpr std::chrono::milliseconds kReplicaFirstPause{1};
inline constexpr std::chrono::milliseconds kReplicaMaxPause{50};

struct ScanResult {
  uint64_t rows = 0;        // rows passed to the visitor
  bool stopped = false;     // the visitor returned false
  bool exhausted = false;   // no more rows after the last one visited
  uint64_t snapshot_last_seq = 0;  // domain last_seq in the scan's snapshot
  uint64_t horizon_seq = 0;        // ... and horizon, in the same snapshot
  std::string policy_json;         // ... and visibility policy
};
// Called once per scan, before the first row, with the snapshot's domain
// state (rows, stopped and exhausted not yet set): a reader that must
// interpret rows by the domain's policy learns the policy they were
// written under.
using SnapshotVisitor = std::function<void(const ScanResult& snapshot)>;

// What a store shared by several processes (several galsyncd over one
// PostgreSQL) tells each of them of writes made by any of them.
struct StoreEvent {
  enum class Kind {
    kCommit,  // domain_id's last_seq is now at least last_seq
    kDomain,  // domain_id was created or its policy changed: re-read it
    kKeys,    // API keys were added or revoked: re-read them
    kResync,  // events may have been missed (e.g. a reconnection): re-read
              // every domain and the keys
  };
  Kind kind = Kind::kResync;
  int64_t domain_id = 0;
  uint64_t last_seq = 0;
};
using StoreEventHandler = std::function<void(const StoreEvent&)>;

struct HistoryEntry {
  uint64_t seq = 0;
  int64_t time_us = 0;
  std::string contact_id;
  std::string actor;
  ChangeOp op = ChangeOp::kUpsert;
  std::string before_json;  // empty if the contact did not exist
  std::string after_json;   // empty for deletes
};

struct PurgeResult {
  uint64_t tombstones_removed = 0;
  uint64_t history_removed = 0;
  uint64_t horizon_seq = 0;
};

// An API key as stored (galsync/keys.h); the secret itself is never stored.
struct StoredKey {
  std::string id;          // public part of the key: 16 hex digits
  std::string domain;      // empty: server-wide
  uint32_t scopes = 0;     // ScopeBits
  std::string name;        // what the key is for, chosen by its creator
  std::string secret_sha256;  // 64 hex digits
  int64_t created_us = 0;
  std::string created_by;  // audit actor that made it
  int64_t revoked_us = 0;  // 0: live
};

class Store {
 public:
  virtual ~Store() = default;

  // Random id fixed at store creation; sync tokens are bound to it.
  virtual uint64_t incarnation() const = 0;

  // kConflict if the name is taken, kInvalidArgument if invalid.
  virtual Result<DomainInfo> CreateDomain(std::string_view name,
                                          int64_t now_us) = 0;
  virtual Result<std::vector<DomainInfo>> ListDomains() = 0;
  virtual Result<DomainInfo> GetDomain(std::string_view name) = 0;

  // The contact's latest state, tombstones included; kNotFound if the id was
  // never written (or its tombstone was purged).
  virtual Result<StoredContact> GetContact(int64_t domain_id,
                                           std::string_view id) = 0;
  // GetContact for each of `ids`, all read from one snapshot: element i is
  // ids[i]'s state, or empty if that id was never written. One read
  // transaction instead of one per id (a snapshot import looks up every new
  // id it meets).
  virtual Result<std::vector<std::optional<StoredContact>>> GetContacts(
      int64_t domain_id, std::span<const std::string> ids) = 0;

  // Applies `changes` atomically in one transaction: all or none. Changes that
  // apply take the contiguous seq range [first_seq, last_seq] in request
  // order, all stamped with one commit time >= every earlier time of the
  // domain. Durable when it returns (per the store's durability setting).
  // Fails with kPreconditionFailed (reason "version_mismatch") if any
  // if_match / if_none_match condition fails; nothing is written then.
  virtual Result<WriteResult> Write(int64_t domain_id,
                                    std::span<const ChangeRequest> changes,
                                    std::string_view actor, int64_t now_us) = 0;

  // Visits rows with seq > after_seq in seq order, skipping tombstones with
  // seq <= skip_tombstones_upto, at most max_rows of them, all from one
  // consistent snapshot. The snapshot holds every commit that returned
  // before the scan began, except on a store that reads scans from a
  // replica: there it may be older (snapshot_last_seq tells how old), older
  // even than after_seq.
  // `on_snapshot`, if given, is called before the first row.
  virtual Result<ScanResult> ScanChanges(
      int64_t domain_id, uint64_t after_seq, uint64_t skip_tombstones_upto,
      size_t max_rows, const ChangeVisitor& visit,
      const SnapshotVisitor& on_snapshot = nullptr) = 0;

  // The seq S such that every change committed at or after `time_us` has
  // seq > S: i.e. (first seq with time >= time_us) - 1, or last_seq if none.
  virtual Result<uint64_t> SeqBeforeTime(int64_t domain_id,
                                         int64_t time_us) = 0;

  // Visits, oldest first, the stored JSON of each live version of the
  // contact that was current at some seq <= through_seq (what a reader at
  // that position may hold of it). Returns false if the contact's older
  // history has been purged, so that earlier versions may be missing.
  // The visitor returns false to stop.
  virtual Result<bool> ContactVersions(
      int64_t domain_id, std::string_view id, uint64_t through_seq,
      const std::function<bool(std::string_view json)>& visit) = 0;

  // The contact `source` owns under `source_key` (a tombstone included);
  // kNotFound "contact_not_found" if none. A lookup by the owner index.
  virtual Result<StoredContact> ContactBySource(int64_t domain_id,
                                                std::string_view source,
                                                std::string_view source_key) = 0;

  // Visits every contact (tombstones included) that `source` owns, in no
  // particular order, from one consistent snapshot. The visitor returns
  // false to stop.
  virtual Status SourceContacts(
      int64_t domain_id, std::string_view source,
      const std::function<bool(const SourceRow&)>& visit) = 0;

  // Audit history, oldest first, seq > after_seq. Empty contact_id: all.
  virtual Result<std::vector<HistoryEntry>> History(int64_t domain_id,
                                                    std::string_view contact_id,
                                                    uint64_t after_seq,
                                                    size_t limit) = 0;

  // Replaces the domain's visibility policy with `policy_json` and, in the
  // same transaction, re-stamps each live contact whose stored JSON
  // `affected` accepts: it takes a new seq (in the usual commit order, with
  // an audit entry by `actor`) and keeps its content, so every reader whose
  // view of it changed gets it again as an ordinary change.
  virtual Result<WriteResult> SetPolicy(
      int64_t domain_id, std::string_view policy_json,
      const std::function<bool(std::string_view stored_json)>& affected,
      std::string_view actor, int64_t now_us) = 0;

  // Removes tombstones and history entries committed before cutoff_us and
  // raises the horizon to the highest purged tombstone seq.
  virtual Result<PurgeResult> Purge(int64_t domain_id, int64_t cutoff_us) = 0;

  // A random secret of `bytes` bytes named `name`, the same for every
  // process on this store: created by the first to ask, then kept.
  virtual Result<std::string> SharedSecret(std::string_view name,
                                           size_t bytes) = 0;

  // Whether other processes may write this store too. If so, Follow starts
  // delivering StoreEvents for every write by any process (this one's
  // included), in commit order, on a thread of the store, until the store
  // is destroyed; the first event is a kResync. Single-process stores
  // (SQLite) return false and deliver nothing.
  virtual bool shared() const { return false; }
  virtual Status Follow(StoreEventHandler handler) { return Ok{}; }
  // Stops the events; when it returns, the handler is no longer running.
  virtual void Unfollow() {}

  // API keys. They are few (thousands at most) and the key ring keeps them
  // all in memory, so the store only inserts, lists and revokes.
  // kConflict "key_exists" if the id is taken.
  virtual Status InsertKey(const StoredKey& key) = 0;
  virtual Result<std::vector<StoredKey>> ListKeys() = 0;
  // Sets revoked_us if the key is live; kNotFound "key_not_found" if no such id.
  virtual Status RevokeKey(std::string_view id, int64_t now_us) = 0;
};

}  // namespace galsync
