// The directory service: the one core API the front ends (HTTP, and later
// CardDAV and LDAP) call. It owns the store and the sync engine:
//
//   writes  ─► validate ─► Store::Write (seq assigned in commit order)
//                              └─► in-memory domain state ─► commit listener
//   changes ─► token check ─► Store::ScanChanges ─► page JSON (concatenation
//              of stored contact JSON; nothing is re-serialized)
//
// Each domain's last_seq and horizon are also kept in memory, so a poll with
// an up-to-date token is answered without touching the store. On a store
// shared by several servers (PostgreSQL) that memory follows the others'
// commits through store events, so a poll may lag another server's commit
// by the event's delay; pages are always read from the store.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "galsync/clock.h"
#include "galsync/contact.h"
#include "galsync/status.h"
#include "galsync/store.h"
#include "galsync/sync_token.h"
#include "galsync/visibility.h"

namespace galsync {

struct DirectoryOptions {
  size_t default_page_changes = 1000;  // when the client gives no limit
  size_t max_page_changes = 5000;      // cap on the client's limit
  size_t max_page_bytes = 4 << 20;     // byte budget of one page body
  size_t max_batch_changes = 10000;    // changes in one atomic batch
  size_t max_history_entries = 1000;   // per history request
  // Tombstones and audit history older than this are purged.
  int64_t retention_us = int64_t{30} * 24 * 3600 * 1000000;
};

struct ChangesRequest {
  std::optional<std::string> token;  // absent: full sync
  std::optional<int64_t> since_us;   // alternative to token
  size_t limit = 0;                  // 0: default_page_changes
  // What the caller may see. A token continues only in the view it was
  // issued for (410 view_changed otherwise).
  View view = View::kFull;
};

// One page of the change feed, already serialized:
//   {"changes":[{"op":"upsert","id":..,"seq":..,"time":..,"contact":{..}},
//               {"op":"delete","id":..,"seq":..,"time":..}, ...],
//    "next_token":"..","has_more":bool,"full_sync":bool}
struct ChangesPage {
  std::string body;
  size_t count = 0;
  bool has_more = false;
  bool full_sync = false;
  uint64_t next_seq = 0;  // position the next_token stands for
};

struct PutResult {
  ChangeResult result = ChangeResult::kApplied;
  std::string json;  // the stored contact after the write
  uint64_t seq = 0;
  bool created = false;
};

// Called when a domain's last_seq rises, with the domain and the new
// last_seq: after each local commit that took seqs and, on a shared store,
// when another server's commit is heard (OnStoreEvent). Commits that land
// close together may be heard once, at the highest. Runs on the writer's
// (or the store's event) thread: must be quick and must not call back into
// the Directory's write methods.
using CommitListener =
    std::function<void(const std::string& domain, uint64_t last_seq)>;

class Directory {
 public:
  Directory(std::unique_ptr<Store> store, std::string token_secret,
            DirectoryOptions options, Clock* clock = Clock::System());
  ~Directory();

  // Loads the domains' state from the store. Call once before use.
  Status Open();

  const DirectoryOptions& options() const { return options_; }
  Store& store() { return *store_; }

  // Domains.
  Result<DomainInfo> CreateDomain(std::string_view name);
  Result<std::vector<DomainInfo>> ListDomains();
  Result<DomainInfo> GetDomain(std::string_view name);

  // Visibility policy (galsync/visibility.h). Setting it re-stamps every
  // contact whose public view changes, so public replicas receive the
  // change on their next sync; the result says which seqs that took.
  Result<VisibilityPolicy> GetPolicy(std::string_view domain);
  Result<WriteResult> SetPolicy(std::string_view domain,
                                const VisibilityPolicy& policy,
                                std::string_view actor);

  // Contacts. `contact.id` must be set. The result's json is the stored form
  // (in the public view: without private attributes; a hidden contact is
  // kNotFound there, exactly as if it did not exist).
  Result<StoredContact> GetContact(std::string_view domain,
                                   std::string_view id,
                                   View view = View::kFull);
  // The contact `source` owns under `source_key`, in the full view,
  // tombstones included (Store::ContactBySource).
  Result<StoredContact> ContactBySource(std::string_view domain,
                                        std::string_view source,
                                        std::string_view source_key);
  Result<PutResult> PutContact(std::string_view domain, const Contact& contact,
                               std::optional<std::string> if_match,
                               bool if_none_match, std::string_view actor);
  Result<WriteResult> DeleteContact(std::string_view domain,
                                    std::string_view id,
                                    std::optional<std::string> if_match,
                                    std::string_view actor);
  // Applies up to max_batch_changes changes atomically (contiguous seqs).
  Result<WriteResult> Write(std::string_view domain,
                            std::span<const ChangeRequest> changes,
                            std::string_view actor);

  // The change feed (full sync when no token and no since). On a store that
  // scans a replica, fails with kUnavailable "replica_behind" while the
  // replica's snapshot is behind the reader's position, or has nothing new
  // while this server knows of newer commits; callers retry.
  Result<ChangesPage> Changes(std::string_view domain,
                              const ChangesRequest& req);

  // Like Store::ScanChanges, in `view`: in the public view a hidden
  // contact's row comes as a delete (deleted, empty json) and other rows
  // without private attributes. The policy and the rows are consistent: a
  // policy change waits for scans in progress. A snapshot older than
  // `min_snapshot_seq` (a replica's, see Store::ScanChanges) is refused
  // before any row is visited; the scan is tried again (blocking) for up
  // to `replica_wait`, then fails with kUnavailable kReplicaBehind.
  Result<ScanResult> ScanChanges(
      std::string_view domain, View view, uint64_t after_seq,
      uint64_t skip_tombstones_upto, size_t max_rows,
      const ChangeVisitor& visit, uint64_t min_snapshot_seq = 0,
      std::chrono::milliseconds replica_wait = {});

  // Current last_seq of a domain, from memory; nullopt if unknown domain.
  std::optional<uint64_t> LastSeq(std::string_view domain) const;

  Result<std::vector<HistoryEntry>> History(std::string_view domain,
                                            std::string_view contact_id,
                                            uint64_t after_seq, size_t limit);

  // Purges tombstones and history older than `older_than_us` (default: the
  // configured retention) and advances the horizon.
  Result<PurgeResult> Purge(std::string_view domain,
                            std::optional<int64_t> older_than_us = {});
  // Purges every domain by the configured retention.
  Status PurgeAll();

  // Listeners are called in the order added; returns a handle for Remove.
  uint64_t AddCommitListener(CommitListener listener);
  void RemoveCommitListener(uint64_t handle);

  // What another server on a shared store did (Store::Follow): commits
  // raise the domain's last_seq and reach the commit listeners, as local
  // ones do; new domains and policy changes are read from the store.
  void OnStoreEvent(const StoreEvent& event);

 private:
  struct DomainState;
  // The domain's state; on a shared store, a domain another server has
  // just created is read from the store.
  Result<std::shared_ptr<DomainState>> Find(std::string_view domain);
  // Adds the state of domain `listed`, or brings a known one up to date
  // from the store (policy, horizon, last_seq with its listeners).
  Result<std::shared_ptr<DomainState>> Adopt(const DomainInfo& listed);
  // Raises last_seq and, if it rose, tells the commit listeners.
  void Advanced(DomainState& d, uint64_t last_seq);
  Result<ScanResult> Scan(DomainState& d, View view, uint64_t after_seq,
                          uint64_t skip_tombstones_upto, size_t max_rows,
                          const ChangeVisitor& visit,
                          uint64_t min_snapshot_seq);
  // Whether a public-view reader at `after_seq` may hold the contact of
  // `row` (which is hidden now).
  bool HadPublicly(DomainState& d, const PublicProjection& projection,
                   const ChangeRow& row, uint64_t after_seq,
                   uint64_t skip_tombstones_upto);
  void Committed(DomainState& d, const WriteResult& w);

  std::unique_ptr<Store> store_;
  TokenCodec tokens_;
  const DirectoryOptions options_;
  Clock* const clock_;

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<DomainState>>
      domains_;               // GUARDED_BY(mu_)
  // The same states by store id, for store events (Adopt keeps both).
  std::unordered_map<int64_t, std::shared_ptr<DomainState>>
      by_id_;                 // GUARDED_BY(mu_)
  std::vector<std::pair<uint64_t, CommitListener>>
      listeners_;                 // GUARDED_BY(mu_)
  uint64_t next_listener_ = 1;  // GUARDED_BY(mu_)
};

}  // namespace galsync
