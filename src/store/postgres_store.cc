// The PostgreSQL store. See include/galsync/postgres_store.h.
//
// Schema (galsync_schema.version holds the version; Migrate() applies
// kMigrations[version..] in one transaction, under an advisory lock so that
// instances starting together migrate once):
//
//   meta(key PRIMARY KEY, value)                    -- "incarnation"
//   domains(id identity PRIMARY KEY, name UNIQUE, uid, created_us,
//           last_seq, last_time_us, horizon_seq, live_count, policy)
//   contacts(domain_id, seq, contact_id, time_us, deleted, json,
//            source, source_key)
//       PRIMARY KEY (domain_id, seq)        -- the compacted log, in order
//       UNIQUE (domain_id, contact_id)
//       UNIQUE INDEX contacts_by_source(domain_id, source, source_key)
//           WHERE source IS NOT NULL
//   history(domain_id, seq, contact_id, time_us, actor, op, before_json)
//       PRIMARY KEY (domain_id, seq)
//       INDEX history_by_contact(domain_id, contact_id, seq)
//   api_keys(id PRIMARY KEY, domain, scopes, name, secret_sha256,
//            created_us, created_by, revoked_us)
//
// The model is the SQLite store's (one row per contact at the seq of its
// latest change; history keeps before states only), with (domain_id, seq)
// as a composite key instead of a packed integer. Text keys use the "C"
// collation: byte order, as in SQLite, whatever the database's locale.
//
// Seqs in commit order, across instances: a write transaction begins by
// locking its domain's row (SELECT ... FOR UPDATE) and reads last_seq
// there; it raises last_seq before it commits. A second writer of the
// domain, on this instance or another, waits on that row lock until the
// first has committed, so it reads the first's last_seq and its seqs come
// after the first's in commit order too. A plain sequence would not do this:
// nextval() is not transactional, so a later-committing writer could hold a
// lower seq, and a reader between the two commits would move past it.
//
// Snapshots: a reader that must see the domain row and the contacts
// together (a page: last_seq and the rows) does so in one statement, which
// runs on one snapshot in READ COMMITTED; multi-statement reads (history,
// the owner scan, SeqBeforeTime) run in one REPEATABLE READ READ ONLY
// transaction.
//
// Writes: the batch's current rows are read with one query, every decision
// is made in memory, and the rows are written back with one multi-row
// upsert (unnest of arrays) plus one multi-row history insert, so a batch of
// 10,000 changes is a handful of round trips, not 30,000.
#include "galsync/postgres_store.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "galsync/contact.h"
#include "store/change_rules.h"
#include "store/pg.h"
#include "util/crypto.h"

namespace galsync {
namespace {

using pg::ArrayBuilder;
using pg::Conn;
using pg::Param;
using pg::Rows;
using pg::Statement;
using pg::Transaction;

constexpr const char* kReadSnapshot =
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// Each entry migrates from version i to i + 1.
constexpr const char* kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE meta(key text COLLATE "C" PRIMARY KEY, value text NOT NULL);
CREATE TABLE domains(
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text COLLATE "C" NOT NULL UNIQUE,
  uid bigint NOT NULL,
  created_us bigint NOT NULL,
  last_seq bigint NOT NULL DEFAULT 0,
  last_time_us bigint NOT NULL DEFAULT 0,
  horizon_seq bigint NOT NULL DEFAULT 0,
  live_count bigint NOT NULL DEFAULT 0,
  policy text NOT NULL DEFAULT '');
CREATE TABLE contacts(
  domain_id bigint NOT NULL,
  seq bigint NOT NULL,
  contact_id text COLLATE "C" NOT NULL,
  time_us bigint NOT NULL,
  deleted boolean NOT NULL,
  json text,
  source text COLLATE "C",
  source_key text COLLATE "C",
  PRIMARY KEY (domain_id, seq),
  UNIQUE (domain_id, contact_id));
CREATE UNIQUE INDEX contacts_by_source ON contacts(domain_id, source, source_key)
  WHERE source IS NOT NULL;
CREATE TABLE history(
  domain_id bigint NOT NULL,
  seq bigint NOT NULL,
  contact_id text COLLATE "C" NOT NULL,
  time_us bigint NOT NULL,
  actor text NOT NULL,
  op text NOT NULL,
  before_json text,
  PRIMARY KEY (domain_id, seq));
CREATE INDEX history_by_contact ON history(domain_id, contact_id, seq);
CREATE TABLE api_keys(
  id text COLLATE "C" PRIMARY KEY,
  domain text NOT NULL,
  scopes integer NOT NULL,
  name text NOT NULL,
  secret_sha256 text NOT NULL,
  created_us bigint NOT NULL,
  created_by text NOT NULL,
  revoked_us bigint NOT NULL DEFAULT 0);
)sql",
};
constexpr int kSchemaVersion = std::size(kMigrations);
// pg_advisory_xact_lock key of schema migrations ("galsync" in ASCII).
constexpr int64_t kMigrationLock = 0x67616c73796e63;

#define GALSYNC_DOMAIN_COLUMNS                                             \
  "id, name, uid, created_us, last_seq, last_time_us, horizon_seq, "       \
  "live_count, policy"

// Reads, in the order of the statements that use them.
constexpr Statement kDomainByName{
    "gs_domain_by_name",
    "SELECT " GALSYNC_DOMAIN_COLUMNS " FROM domains WHERE name = $1"};
constexpr Statement kDomainById{
    "gs_domain_by_id",
    "SELECT " GALSYNC_DOMAIN_COLUMNS " FROM domains WHERE id = $1"};
constexpr Statement kDomainsAll{
    "gs_domains_all",
    "SELECT " GALSYNC_DOMAIN_COLUMNS " FROM domains ORDER BY name"};
constexpr Statement kContactById{
    "gs_contact_by_id",
    "SELECT seq, time_us, deleted, json, source, source_key, contact_id "
    "FROM contacts WHERE domain_id = $1 AND contact_id = $2"};
constexpr Statement kContactsByIds{
    "gs_contacts_by_ids",
    "SELECT seq, time_us, deleted, json, source, source_key, contact_id "
    "FROM contacts WHERE domain_id = $1 AND contact_id = ANY($2::text[])"};
constexpr Statement kContactBySource{
    "gs_contact_by_source",
    "SELECT seq, time_us, deleted, json, source, source_key, contact_id "
    "FROM contacts WHERE domain_id = $1 AND source = $2 AND source_key = $3"};
// Keyset pages of the owner index, inside one snapshot.
constexpr Statement kSourcePage{
    "gs_source_page",
    "SELECT seq, deleted, contact_id, source_key, json FROM contacts "
    "WHERE domain_id = $1 AND source = $2 AND source_key > $3 "
    "ORDER BY source_key LIMIT $4"};
// A page of changes and the domain row it was read with, in one statement
// (one snapshot). The domain is the first column of every row; with no
// changes, one row whose change columns are NULL.
constexpr Statement kScan{
    "gs_scan",
    "SELECT d.last_seq, d.horizon_seq, d.policy, c.seq, c.time_us, "
    "c.deleted, c.contact_id, c.json FROM domains d LEFT JOIN LATERAL ("
    "SELECT seq, time_us, deleted, contact_id, json FROM contacts "
    "WHERE domain_id = d.id AND seq > $2 AND (NOT deleted OR seq > $4) "
    "ORDER BY seq LIMIT $3) c ON true WHERE d.id = $1"};
constexpr Statement kSeqAtOrAfter{
    "gs_seq_at_or_after",
    "SELECT seq, time_us FROM contacts WHERE domain_id = $1 AND seq >= $2 "
    "ORDER BY seq LIMIT 1"};
constexpr Statement kSeqBefore{
    "gs_seq_before",
    "SELECT seq FROM contacts WHERE domain_id = $1 AND seq < $2 "
    "ORDER BY seq DESC LIMIT 1"};
constexpr Statement kHistoryAll{
    "gs_history_all",
    "SELECT seq, time_us, contact_id, actor, op, before_json FROM history "
    "WHERE domain_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"};
constexpr Statement kHistoryContact{
    "gs_history_contact",
    "SELECT seq, time_us, contact_id, actor, op, before_json FROM history "
    "WHERE domain_id = $1 AND contact_id = $4 AND seq > $2 "
    "ORDER BY seq LIMIT $3"};
constexpr Statement kHistoryNextBefore{
    "gs_history_next_before",
    "SELECT before_json FROM history WHERE domain_id = $1 AND "
    "contact_id = $2 AND seq > $3 ORDER BY seq LIMIT 1"};
constexpr Statement kContactHistory{
    "gs_contact_history",
    "SELECT seq, before_json FROM history WHERE domain_id = $1 AND "
    "contact_id = $2 ORDER BY seq"};
constexpr Statement kListKeys{
    "gs_list_keys",
    "SELECT id, domain, scopes, name, secret_sha256, created_us, created_by, "
    "revoked_us FROM api_keys ORDER BY created_us, id"};

// Writes.
constexpr Statement kLockDomain{
    "gs_lock_domain",
    "SELECT last_seq, last_time_us, live_count, name FROM domains "
    "WHERE id = $1 FOR UPDATE"};
constexpr Statement kInsertDomain{
    "gs_insert_domain",
    "INSERT INTO domains(name, uid, created_us) VALUES ($1, $2, $3) "
    "ON CONFLICT (name) DO NOTHING RETURNING id"};
// Owners given up before the upsert, so that an owner key moving from one
// contact to another within a batch never collides with itself.
constexpr Statement kReleaseOwners{
    "gs_release_owners",
    "UPDATE contacts SET source = NULL, source_key = NULL "
    "WHERE domain_id = $1 AND contact_id = ANY($2::text[])"};
constexpr Statement kUpsertContacts{
    "gs_upsert_contacts",
    "INSERT INTO contacts(domain_id, seq, contact_id, time_us, deleted, json, "
    "source, source_key) SELECT $1::bigint, * FROM unnest($2::bigint[], $3::text[], "
    "$4::bigint[], $5::boolean[], $6::text[], $7::text[], $8::text[]) "
    "ON CONFLICT (domain_id, contact_id) DO UPDATE SET seq = EXCLUDED.seq, "
    "time_us = EXCLUDED.time_us, deleted = EXCLUDED.deleted, "
    "json = EXCLUDED.json, source = EXCLUDED.source, "
    "source_key = EXCLUDED.source_key"};
constexpr Statement kInsertHistory{
    "gs_insert_history",
    "INSERT INTO history(domain_id, seq, contact_id, time_us, actor, op, "
    "before_json) SELECT $1::bigint, u.seq, u.id, $2::bigint, $3::text, u.op, "
    "u.before FROM "
    "unnest($4::bigint[], $5::text[], $6::text[], $7::text[]) "
    "AS u(seq, id, op, before)"};
constexpr Statement kUpdateDomain{
    "gs_update_domain",
    "UPDATE domains SET last_seq = $2, last_time_us = $3, live_count = $4 "
    "WHERE id = $1"};
constexpr Statement kSetPolicy{
    "gs_set_policy", "UPDATE domains SET policy = $2 WHERE id = $1"};
constexpr Statement kLivePage{
    "gs_live_page",
    "SELECT seq, contact_id, json FROM contacts WHERE domain_id = $1 AND "
    "seq > $2 AND NOT deleted ORDER BY seq LIMIT $3"};
constexpr Statement kPurgeTombstones{
    "gs_purge_tombstones",
    "WITH gone AS (DELETE FROM contacts WHERE domain_id = $1 AND deleted "
    "AND time_us < $2 RETURNING seq) SELECT count(*), max(seq) FROM gone"};
constexpr Statement kPurgeHistory{
    "gs_purge_history",
    "DELETE FROM history WHERE domain_id = $1 AND time_us < $2"};
constexpr Statement kSetHorizon{
    "gs_set_horizon",
    "UPDATE domains SET horizon_seq = GREATEST(horizon_seq, $2) WHERE id = $1 "
    "RETURNING horizon_seq"};
constexpr Statement kInsertKey{
    "gs_insert_key",
    "INSERT INTO api_keys(id, domain, scopes, name, secret_sha256, "
    "created_us, created_by, revoked_us) VALUES ($1, $2, $3, $4, $5, $6, $7, "
    "$8) ON CONFLICT (id) DO NOTHING"};
// Events for the other processes on this database (StoreEvent), sent inside
// the writing transaction, so they are delivered when and only if it
// commits, in commit order. Payloads: "c <domain> <last_seq>" (a commit),
// "d <domain>" (created, or its policy changed), "k" (keys).
constexpr Statement kNotify{"gs_notify", "SELECT pg_notify($1, $2)"};
constexpr Statement kCurrentSchema{"gs_current_schema",
                                   "SELECT current_schema()"};

constexpr Statement kRevokeKey{
    "gs_revoke_key",
    "UPDATE api_keys SET revoked_us = CASE WHEN revoked_us = 0 THEN $2 "
    "ELSE revoked_us END WHERE id = $1"};

// Rows of a keyset page visited per statement by the full scans (the owner
// scan, the re-stamp scan): enough to amortize a round trip, little memory.
constexpr int kScanPage = 4096;

DomainInfo ReadDomain(const Rows& r, int row) {
  DomainInfo d;
  d.id = r.Int(row, 0);
  d.name = std::string(r.Text(row, 1));
  d.uid = static_cast<uint64_t>(r.Int(row, 2));
  d.created_us = r.Int(row, 3);
  d.last_seq = static_cast<uint64_t>(r.Int(row, 4));
  d.last_time_us = r.Int(row, 5);
  d.horizon_seq = static_cast<uint64_t>(r.Int(row, 6));
  d.live_count = static_cast<uint64_t>(r.Int(row, 7));
  d.policy_json = std::string(r.Text(row, 8));
  return d;
}

// A row of the contact queries: seq, time_us, deleted, json, source,
// source_key, contact_id.
StoredContact StoredContactOfRow(const Rows& r, int row) {
  StoredContact sc;
  sc.seq = static_cast<uint64_t>(r.Int(row, 0));
  sc.time_us = r.Int(row, 1);
  sc.deleted = r.Bool(row, 2);
  sc.json = std::string(r.Text(row, 3));
  sc.source = std::string(r.Text(row, 4));
  sc.source_key = std::string(r.Text(row, 5));
  sc.id = std::string(r.Text(row, 6));
  return sc;
}

// `conninfo` with key=value added unless it sets `key` already (in either
// of libpq's forms: a URI, or key=value words).
std::string WithDefault(const std::string& conninfo, std::string_view key,
                        std::string_view value) {
  if (conninfo.find(std::string(key) + "=") != std::string::npos) {
    return conninfo;
  }
  const std::string setting = std::string(key) + "=" + std::string(value);
  if (IsPostgresUri(conninfo)) {
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") +
           setting;
  }
  return conninfo + " " + setting;
}

Error DomainGone() {
  return Error::NotFound("domain_not_found", "domain no longer exists");
}

// Locks the domain's row for the rest of the transaction, as every writer
// of the domain does first (seqs in commit order: see the top of the file);
// its last_seq, last_time_us, live_count and name.
Result<Rows> LockDomain(Conn& c, int64_t domain_id) {
  auto r = c.Run(kLockDomain, {domain_id});
  if (!r) return r;
  if (r->size() == 0) return DomainGone();
  return r;
}

class PostgresStore final : public Store {
 public:
  PostgresStore(std::string conninfo, PostgresStoreOptions opts)
      : opts_(std::move(opts)) {
    primary_.conninfo = std::move(conninfo);
    if (!opts_.read_replica.empty()) {
      // Scans fall back to the primary when the replica fails: let them
      // find out soon, not after TCP's own timeouts.
      replica_.conninfo = WithDefault(
          WithDefault(opts_.read_replica, "connect_timeout", "2"),
          "tcp_user_timeout", "10000");
    }
  }

  Status Init() {
    auto c = Acquire();
    if (!c) return std::move(c).error();
    if (auto st = Migrate(**c); !st) return st;
    // One channel per schema: stores in other schemas of the database
    // (tests run many) do not hear each other.
    auto schema = (*c)->Run(kCurrentSchema, {});
    if (!schema) return std::move(schema).error();
    schema_ = std::string(schema->Text(0, 0));
    channel_ = "galsync:" + schema_;
    if (auto st = LoadIncarnation(**c); !st) return st;
    if (!replica_.conninfo.empty()) return CheckReplica();
    return Ok{};
  }

  ~PostgresStore() override { Unfollow(); }

  bool shared() const override { return true; }
  Status Follow(StoreEventHandler handler) override;
  void Unfollow() override {
    if (!listener_.joinable()) return;
    stop_ = true;
    const uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
    listener_.join();
    ::close(wake_fd_);
    wake_fd_ = -1;
    stop_ = false;
  }

  uint64_t incarnation() const override { return incarnation_; }

  Result<DomainInfo> CreateDomain(std::string_view name,
                                  int64_t now_us) override {
    if (!IsValidDomainName(name)) {
      return Error::InvalidArgument(
          "invalid_domain",
          "domain name must be 1..253 characters of [a-z0-9.-] starting with "
          "a letter or digit");
    }
    auto c = Acquire();
    if (!c) return std::move(c).error();
    const uint64_t uid = crypto::RandomU64() >> 1;  // fits in a bigint
    Transaction tx(&**c, "BEGIN");
    if (!tx.status()) return tx.status().error();
    auto r = (*c)->Run(kInsertDomain, {name, uid, now_us});
    if (!r) return std::move(r).error();
    if (r->size() == 0) {
      return Error{ErrorKind::kConflict, "domain_exists",
                   "domain \"" + std::string(name) + "\" already exists"};
    }
    if (auto st = Notify(**c, "d " + std::string(r->Text(0, 0))); !st) {
      return std::move(st).error();
    }
    if (auto st = tx.Commit(); !st) return std::move(st).error();
    DomainInfo d;
    d.id = r->Int(0, 0);
    d.name = std::string(name);
    d.uid = uid;
    d.created_us = now_us;
    return d;
  }

  Result<std::vector<DomainInfo>> ListDomains() override {
    auto c = Acquire();
    if (!c) return std::move(c).error();
    auto r = (*c)->Run(kDomainsAll, {});
    if (!r) return std::move(r).error();
    std::vector<DomainInfo> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(ReadDomain(*r, i));
    return out;
  }

  Result<DomainInfo> GetDomain(std::string_view name) override {
    auto c = Acquire();
    if (!c) return std::move(c).error();
    auto r = (*c)->Run(kDomainByName, {name});
    if (!r) return std::move(r).error();
    if (r->size() == 0) {
      return Error::NotFound("domain_not_found",
                             "no domain named \"" + std::string(name) + "\"");
    }
    return ReadDomain(*r, 0);
  }

  Result<StoredContact> GetContact(int64_t domain_id,
                                   std::string_view id) override {
    auto c = Acquire();
    if (!c) return std::move(c).error();
    return ReadContact(**c, domain_id, id);
  }

  Result<std::vector<std::optional<StoredContact>>> GetContacts(
      int64_t domain_id, std::span<const std::string> ids) override;

  Result<StoredContact> ContactBySource(int64_t domain_id,
                                        std::string_view source,
                                        std::string_view source_key) override {
    auto c = Acquire();
    if (!c) return std::move(c).error();
    auto r = (*c)->Run(kContactBySource, {domain_id, source, source_key});
    if (!r) return std::move(r).error();
    if (r->size() == 0) {
      return Error::NotFound("contact_not_found",
                             "source \"" + std::string(source) +
                                 "\" has no contact with key \"" +
                                 std::string(source_key) + "\"");
    }
    return StoredContactOfRow(*r, 0);
  }

  Result<WriteResult> Write(int64_t domain_id,
                            std::span<const ChangeRequest> changes,
                            std::string_view actor, int64_t now_us) override;

  Result<WriteResult> SetPolicy(
      int64_t domain_id, std::string_view policy_json,
      const std::function<bool(std::string_view)>& affected,
      std::string_view actor, int64_t now_us) override;

  Result<ScanResult> ScanChanges(int64_t domain_id, uint64_t after_seq,
                                 uint64_t skip_tombstones_upto,
                                 size_t max_rows, const ChangeVisitor& visit,
                                 const SnapshotVisitor& on_snapshot) override;

  Result<uint64_t> SeqBeforeTime(int64_t domain_id, int64_t time_us) override;

  Result<std::vector<HistoryEntry>> History(int64_t domain_id,
                                            std::string_view contact_id,
                                            uint64_t after_seq,
                                            size_t limit) override;

  Result<bool> ContactVersions(
      int64_t domain_id, std::string_view id, uint64_t through_seq,
      const std::function<bool(std::string_view)>& visit) override;

  Status SourceContacts(
      int64_t domain_id, std::string_view source,
      const std::function<bool(const SourceRow&)>& visit) override;

  Result<PurgeResult> Purge(int64_t domain_id, int64_t cutoff_us) override;

  Result<std::string> SharedSecret(std::string_view name,
                                   size_t bytes) override;

  Status InsertKey(const StoredKey& k) override;
  Result<std::vector<StoredKey>> ListKeys() override;
  Status RevokeKey(std::string_view id, int64_t now_us) override;

 private:
  Status Notify(Conn& c, const std::string& payload) {
    auto r = c.Run(kNotify, {channel_, payload});
    if (!r) return std::move(r).error();
    return Ok{};
  }
  // The listener thread: LISTENs on channel_ and hands events to handler_,
  // reconnecting (and sending kResync) whenever its connection is lost.
  void Listen();
  // Waits up to `ms` for the listener's socket `fd` (or -1: none) or the
  // stop signal; false if stopping.
  bool Wait(int fd, int ms);

  // Connections to one server, kept for reuse.
  struct Pool {
    std::string conninfo;
    std::mutex mu;
    std::vector<std::unique_ptr<Conn>> idle;  // GUARDED_BY(mu)
  };

  // A pooled connection, returned to its pool on destruction if it is
  // healthy and outside any transaction.
  class Lease {
   public:
    Lease(PostgresStore* s, Pool* p, std::unique_ptr<Conn> c)
        : s_(s), p_(p), c_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (c_) s_->Release(*p_, std::move(c_));
    }
    Conn& operator*() { return *c_; }
    Conn* operator->() { return c_.get(); }
    bool on_replica() const { return p_ == &s_->replica_; }

   private:
    PostgresStore* s_;
    Pool* p_;
    std::unique_ptr<Conn> c_;
  };

  // A connection to the primary: every write, and every read that must see
  // the latest commit.
  Result<Lease> Acquire() { return Acquire(primary_); }
  // A connection for reads that may come from an older snapshot (change
  // scans): to the read replica if there is one and it can be reached,
  // else to the primary.
  Result<Lease> AcquireForScan();
  Result<Lease> Acquire(Pool& pool);
  // Sends scans to the primary for a while.
  void ReplicaFailed();

  void Release(Pool& pool, std::unique_ptr<Conn> c) {
    if (!c->healthy() || c->in_transaction()) return;
    std::lock_guard lock(pool.mu);
    if (pool.idle.size() < opts_.max_idle_connections) {
      pool.idle.push_back(std::move(c));
    }
  }

  static Result<StoredContact> ReadContact(Conn& c, int64_t domain_id,
                                           std::string_view id) {
    auto r = c.Run(kContactById, {domain_id, id});
    if (!r) return std::move(r).error();
    if (r->size() == 0) {
      return Error::NotFound("contact_not_found",
                             "no contact with id \"" + std::string(id) + "\"");
    }
    return StoredContactOfRow(*r, 0);
  }

  // Write's body, inside the caller's transaction on `c`. With `restamp`
  // each change gives a live contact a new seq and keeps its stored content
  // (see SetPolicy).
  Result<WriteResult> WriteIn(Conn& c, int64_t domain_id,
                              std::span<const ChangeRequest> changes,
                              std::string_view actor, int64_t now_us,
                              bool restamp);

  Status Migrate(Conn& c);
  Status LoadIncarnation(Conn& c);

  // Waits until the read replica has this store's schema and incarnation
  // (replayed from the primary), or fails if it is not a replica of it.
  Status CheckReplica();

  const PostgresStoreOptions opts_;
  uint64_t incarnation_ = 0;

  Pool primary_;
  Pool replica_;  // conninfo empty: no read replica
  std::string schema_;   // the primary's current schema
  // 0: the replica is in use; else scans read the primary until this time
  // (steady clock, ns), and then one of them tries the replica.
  std::atomic<int64_t> replica_down_until_{0};
  std::string channel_;  // NOTIFY channel of this schema
  StoreEventHandler handler_;
  std::atomic<bool> stop_{false};
  int wake_fd_ = -1;  // eventfd: wakes the listener to stop
  std::thread listener_;
};

Result<PostgresStore::Lease> PostgresStore::Acquire(Pool& pool) {
  {
    std::lock_guard lock(pool.mu);
    if (!pool.idle.empty()) {
      auto c = std::move(pool.idle.back());
      pool.idle.pop_back();
      return Lease(this, &pool, std::move(c));
    }
  }
  auto c = Conn::Open(pool.conninfo);
  if (!c) return std::move(c).error();
  if (&pool == &replica_) {
    // The replica is read in the primary's schema, whatever its URI says.
    char* quoted =
        PQescapeIdentifier((*c)->raw(), schema_.data(), schema_.size());
    if (quoted == nullptr) return Error::Internal("cannot quote schema name");
    auto st = (*c)->Exec("SET search_path = " + std::string(quoted));
    PQfreemem(quoted);
    if (!st) return std::move(st).error();
  } else if (!opts_.synchronous_commit) {
    if (auto st = (*c)->Exec("SET synchronous_commit = off"); !st) {
      return std::move(st).error();
    }
  }
  return Lease(this, &pool, std::move(c.value()));
}

Result<PostgresStore::Lease> PostgresStore::AcquireForScan() {
  if (replica_.conninfo.empty()) return Acquire(primary_);
  int64_t down_until = replica_down_until_.load();
  if (down_until != 0) {
    // The replica failed: scans read the primary until the pause is over,
    // then one scan at a time tries the replica while the others go on
    // reading the primary.
    constexpr auto kProbing = std::chrono::seconds(10);
    const auto now = std::chrono::steady_clock::now();
    if (now.time_since_epoch().count() < down_until ||
        !replica_down_until_.compare_exchange_strong(
            down_until, (now + kProbing).time_since_epoch().count())) {
      return Acquire(primary_);
    }
  }
  auto c = Acquire(replica_);
  if (!c) {
    ReplicaFailed();
    return Acquire(primary_);
  }
  if (down_until != 0) replica_down_until_.store(0);
  return c;
}

void PostgresStore::ReplicaFailed() {
  // Scans go to the primary for a second; pooled connections to the
  // replica are likely broken too.
  constexpr auto kRetryAfter = std::chrono::seconds(1);
  replica_down_until_.store(
      (std::chrono::steady_clock::now() + kRetryAfter).time_since_epoch()
          .count());
  std::lock_guard lock(replica_.mu);
  replica_.idle.clear();
}

Status PostgresStore::CheckReplica() {
  // The schema and incarnation are in the primary's WAL up to here, and on
  // the replica once it has replayed as far.
  constexpr Statement kPrimaryLsn{"gs_primary_lsn",
                                  "SELECT pg_current_wal_insert_lsn()::text"};
  constexpr Statement kReplayed{
      "gs_replica_replayed",
      "SELECT pg_is_in_recovery(), "
      "coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)"};
  constexpr Statement kHasStore{"gs_replica_has_store",
                                "SELECT to_regclass('meta') IS NOT NULL"};
  constexpr Statement kIncarnation{
      "gs_replica_incarnation",
      "SELECT value FROM meta WHERE key = 'incarnation'"};
  std::string lsn;
  {
    auto p = Acquire(primary_);
    if (!p) return std::move(p).error();
    auto r = (*p)->Run(kPrimaryLsn, {});
    if (!r) return std::move(r).error();
    lsn = std::string(r->Text(0, 0));
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto c = Acquire(replica_);
    if (!c) {
      return Error{c.error().kind, c.error().reason,
                   "cannot reach the read replica: " + c.error().message};
    }
    auto r = (*c)->Run(kReplayed, {lsn});
    if (!r) return std::move(r).error();
    if (!r->Bool(0, 0)) {
      return Error::InvalidArgument(
          "not_a_replica",
          "the read replica is not a standby server (pg_is_in_recovery() "
          "is false): give the URI of a streaming replica of the primary");
    }
    if (r->Bool(0, 1) || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto c = Acquire(replica_);
  if (!c) return std::move(c).error();
  auto has = (*c)->Run(kHasStore, {});
  if (!has) return std::move(has).error();
  std::optional<std::string> incarnation;
  if (has->Bool(0, 0)) {
    auto r = (*c)->Run(kIncarnation, {});
    if (!r) return std::move(r).error();
    if (r->size() == 1) incarnation = std::string(r->Text(0, 0));
  }
  if (!incarnation) {
    return Error::InvalidArgument(
        "not_a_replica",
        "the read replica has no galsync store in schema \"" + schema_ +
            "\" (after waiting 10 s for it to replay the primary's): is it "
            "a replica of this database?");
  }
  if (*incarnation != std::to_string(incarnation_)) {
    return Error::InvalidArgument(
        "not_a_replica",
        "the read replica holds another galsync store than the primary "
        "(its incarnation differs): it is not a replica of this database");
  }
  return Ok{};
}

Status PostgresStore::Follow(StoreEventHandler handler) {
  if (listener_.joinable()) return Error::Internal("already following");
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) return Error::Internal("eventfd failed");
  handler_ = std::move(handler);
  listener_ = std::thread([this] { Listen(); });
  return Ok{};
}

bool PostgresStore::Wait(int fd, int ms) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
  ::poll(fds, fd >= 0 ? 2 : 1, ms);
  return !stop_;
}

void PostgresStore::Listen() {
  using Clock = std::chrono::steady_clock;
  // A connection that has been silent this long is checked with a query,
  // so a dead one (e.g. the server failed over) is noticed and replaced.
  constexpr auto kHeartbeat = std::chrono::seconds(5);
  constexpr int kRetryMs = 250;
  while (!stop_) {
    auto c = Conn::Open(primary_.conninfo);
    if (!c) {
      if (!Wait(-1, kRetryMs)) return;
      continue;
    }
    Conn& conn = **c;
    char* quoted =
        PQescapeIdentifier(conn.raw(), channel_.data(), channel_.size());
    const bool listening =
        quoted && conn.Exec("LISTEN " + std::string(quoted)).ok();
    PQfreemem(quoted);
    if (!listening) {
      if (!Wait(-1, kRetryMs)) return;
      continue;
    }
    // Whatever happened before LISTEN took effect was not heard.
    handler_(StoreEvent{StoreEvent::Kind::kResync});
    auto last_heard = Clock::now();
    while (Wait(PQsocket(conn.raw()), 1000)) {
      if (!PQconsumeInput(conn.raw())) break;  // connection lost
      while (PGnotify* n = PQnotifies(conn.raw())) {
        const std::string_view payload(n->extra);
        StoreEvent e;
        auto num = [&](size_t from, auto& out) {
          std::from_chars(payload.data() + std::min(from, payload.size()),
                          payload.data() + payload.size(), out);
        };
        if (payload.starts_with("c ")) {
          e.kind = StoreEvent::Kind::kCommit;
          num(2, e.domain_id);
          num(payload.find(' ', 2) + 1, e.last_seq);
        } else if (payload.starts_with("d ")) {
          e.kind = StoreEvent::Kind::kDomain;
          num(2, e.domain_id);
        } else if (payload == "k") {
          e.kind = StoreEvent::Kind::kKeys;
        }  // else: from a newer galsync; re-read everything
        PQfreemem(n);
        handler_(e);
        last_heard = Clock::now();
      }
      if (Clock::now() - last_heard > kHeartbeat) {
        if (!conn.Exec("SELECT 1").ok()) break;
        last_heard = Clock::now();
      }
    }
  }
}


Status PostgresStore::Migrate(Conn& c) {
  Transaction tx(&c, "BEGIN");
  if (!tx.status()) return tx.status();
  constexpr Statement kLock{"gs_migration_lock",
                            "SELECT pg_advisory_xact_lock($1)"};
  if (auto r = c.Run(kLock, {kMigrationLock}); !r) return std::move(r).error();
  if (auto st = c.Exec("CREATE TABLE IF NOT EXISTS galsync_schema("
                       "version integer NOT NULL)");
      !st) {
    return st;
  }
  constexpr Statement kVersion{"gs_schema_version",
                               "SELECT version FROM galsync_schema"};
  auto v = c.Run(kVersion, {});
  if (!v) return std::move(v).error();
  const bool fresh = v->size() == 0;
  const int version = fresh ? 0 : static_cast<int>(v->Int(0, 0));
  if (version > kSchemaVersion) {
    return Error{ErrorKind::kInternal, "schema_too_new",
                 "database schema version " + std::to_string(version) +
                     " is newer than this galsync (" +
                     std::to_string(kSchemaVersion) + "); upgrade galsync"};
  }
  for (int i = version; i < kSchemaVersion; ++i) {
    if (auto st = c.Exec(kMigrations[i]); !st) return st;
  }
  const std::string set =
      fresh ? "INSERT INTO galsync_schema(version) VALUES (" +
                  std::to_string(kSchemaVersion) + ")"
            : "UPDATE galsync_schema SET version = " +
                  std::to_string(kSchemaVersion);
  if (auto st = c.Exec(set); !st) return st;
  return tx.Commit();
}

Status PostgresStore::LoadIncarnation(Conn& c) {
  constexpr Statement kGet{"gs_get_incarnation",
                           "SELECT value FROM meta WHERE key = 'incarnation'"};
  constexpr Statement kPut{
      "gs_put_incarnation",
      "INSERT INTO meta(key, value) VALUES ('incarnation', $1) "
      "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"};
  // Instances starting together: the first one's id wins.
  constexpr Statement kPutNew{
      "gs_put_new_incarnation",
      "INSERT INTO meta(key, value) VALUES ('incarnation', $1) "
      "ON CONFLICT (key) DO NOTHING"};
  if (opts_.new_incarnation) {
    incarnation_ = crypto::RandomU64();
    auto r = c.Run(kPut, {std::to_string(incarnation_)});
    if (!r) return std::move(r).error();
    return Ok{};
  }
  auto put = c.Run(kPutNew, {std::to_string(crypto::RandomU64())});
  if (!put) return std::move(put).error();
  auto r = c.Run(kGet, {});
  if (!r) return std::move(r).error();
  if (r->size() != 1) return Error::Internal("store has no incarnation id");
  incarnation_ = std::stoull(std::string(r->Text(0, 0)));
  return Ok{};
}

Result<WriteResult> PostgresStore::Write(int64_t domain_id,
                                         std::span<const ChangeRequest> changes,
                                         std::string_view actor,
                                         int64_t now_us) {
  auto c = Acquire();
  if (!c) return std::move(c).error();
  Transaction tx(&**c, "BEGIN");
  if (!tx.status()) return tx.status().error();
  auto out = WriteIn(**c, domain_id, changes, actor, now_us, false);
  if (!out) return out;
  if (auto st = tx.Commit(); !st) return std::move(st).error();
  return out;
}

Result<WriteResult> PostgresStore::SetPolicy(
    int64_t domain_id, std::string_view policy_json,
    const std::function<bool(std::string_view)>& affected,
    std::string_view actor, int64_t now_us) {
  auto lease = Acquire();
  if (!lease) return std::move(lease).error();
  Conn& c = **lease;
  Transaction tx(&c, "BEGIN");
  if (!tx.status()) return tx.status().error();
  // The domain's row lock first, as every writer takes it: the scan below
  // then sees every earlier write of the domain and no later one.
  if (auto r = LockDomain(c, domain_id); !r) return std::move(r).error();
  if (auto r = c.Run(kSetPolicy, {domain_id, policy_json}); !r) {
    return std::move(r).error();
  }
  if (auto st = Notify(c, "d " + std::to_string(domain_id)); !st) {
    return std::move(st).error();
  }
  std::vector<ChangeRequest> restamps;
  int64_t after = 0;
  for (;;) {
    auto r = c.Run(kLivePage, {domain_id, after, kScanPage});
    if (!r) return std::move(r).error();
    for (int i = 0; i < r->size(); ++i) {
      if (affected(r->Text(i, 2))) {
        restamps.emplace_back().id = std::string(r->Text(i, 1));
      }
    }
    if (r->size() < kScanPage) break;
    after = r->Int(r->size() - 1, 0);
  }
  auto out = WriteIn(c, domain_id, restamps, actor, now_us, true);
  if (!out) return out;
  if (auto st = tx.Commit(); !st) return std::move(st).error();
  return out;
}

Result<WriteResult> PostgresStore::WriteIn(
    Conn& c, int64_t domain_id, std::span<const ChangeRequest> changes,
    std::string_view actor, int64_t now_us, bool restamp) {
  WriteResult out;
  uint64_t seq;
  uint64_t live;
  std::string domain_name;
  {
    auto r = LockDomain(c, domain_id);
    if (!r) return std::move(r).error();
    seq = static_cast<uint64_t>(r->Int(0, 0));
    // Commit times never go backwards within a domain (invariant 1).
    out.time_us = std::max(now_us, r->Int(0, 1));
    live = static_cast<uint64_t>(r->Int(0, 2));
    domain_name = std::string(r->Text(0, 3));
  }

  // The current state of every contact the batch names, read at once and
  // then kept up to date in memory as the changes apply one by one.
  struct State {
    bool exists = false;
    StoredContact row;
    bool dirty = false;          // to write back
    bool owner_changed = false;  // its owner moves: release it first
  };
  std::unordered_map<std::string_view, State> states;
  states.reserve(changes.size());
  {
    ArrayBuilder ids;
    for (const ChangeRequest& ch : changes) {
      if (states.try_emplace(ch.id).second) ids.Add(ch.id);
    }
    if (!ids.empty()) {
      auto r = c.Run(kContactsByIds, {domain_id, ids.Take()});
      if (!r) return std::move(r).error();
      for (int i = 0; i < r->size(); ++i) {
        auto it = states.find(r->Text(i, 6));
        if (it == states.end()) continue;
        it->second.exists = true;
        it->second.row = StoredContactOfRow(*r, i);
      }
    }
  }

  const uint64_t first = seq + 1;
  out.outcomes.reserve(changes.size());
  // Columns of the history insert and the order contacts are written in.
  ArrayBuilder h_seq, h_id, h_op, h_before;
  std::vector<const ChangeRequest*> written;
  const std::string_view op_upsert = ChangeOpName(ChangeOp::kUpsert);
  const std::string_view op_delete = ChangeOpName(ChangeOp::kDelete);

  for (size_t i = 0; i < changes.size(); ++i) {
    const ChangeRequest& ch = changes[i];
    State& st = states.find(ch.id)->second;
    StoredContact& cur = st.row;
    const bool live_now = st.exists && !cur.deleted;
    if (auto st = CheckPreconditions(ch, i, changes.size(), live_now,
                                     live_now ? cur.seq : 0);
        !st) {
      return std::move(st).error();
    }
    if ((ch.op == ChangeOp::kDelete || restamp) && !live_now) {
      out.outcomes.push_back({ChangeResult::kNotFound, 0, false, {}});
      continue;
    }
    const std::string current =
        restamp ? ContentOfStoredJson(cur.json) : std::string();
    const std::string& content = restamp ? current : ch.content_json;
    const bool new_owner =
        !ch.source.empty() && ch.op == ChangeOp::kUpsert &&
        (cur.source != ch.source || cur.source_key != ch.source_key);
    if (ch.op == ChangeOp::kUpsert && live_now && !restamp &&
        ContentOfStoredJson(cur.json) == content) {
      // Same content, new owner (an import re-keyed it): no change to log.
      if (new_owner) {
        cur.source = ch.source;
        cur.source_key = ch.source_key;
        if (!st.dirty) written.push_back(&ch);
        st.dirty = true;
        st.owner_changed = true;
      }
      out.outcomes.push_back(
          {ChangeResult::kUnchanged, cur.seq, false, cur.json});
      continue;
    }
    ++seq;
    const bool is_delete = ch.op == ChangeOp::kDelete;
    h_seq.Add(static_cast<int64_t>(seq));
    h_id.Add(ch.id);
    h_op.Add(is_delete ? op_delete : op_upsert);
    if (live_now) h_before.Add(cur.json); else h_before.AddNull();

    if (new_owner) {
      if (st.exists) st.owner_changed = true;
      cur.source = ch.source;
      cur.source_key = ch.source_key;
    }
    cur.id = ch.id;
    cur.seq = seq;
    cur.time_us = out.time_us;
    cur.deleted = is_delete;
    // The served form: content plus the server-maintained members.
    cur.json = is_delete
                   ? std::string()
                   : StoredContactJson(content, domain_name, seq, out.time_us);
    st.exists = true;
    if (!st.dirty) written.push_back(&ch);
    st.dirty = true;
    if (is_delete) {
      --live;
    } else if (!live_now) {
      ++live;
    }
    out.outcomes.push_back(
        {ChangeResult::kApplied, seq, !is_delete && !live_now, {}});
  }

  if (!written.empty()) {
    ArrayBuilder release;
    ArrayBuilder c_seq, c_id, c_time, c_deleted, c_json, c_source, c_key;
    for (const ChangeRequest* ch : written) {
      const State& st = states.find(ch->id)->second;
      const StoredContact& row = st.row;
      if (st.owner_changed) release.Add(row.id);
      c_seq.Add(static_cast<int64_t>(row.seq));
      c_id.Add(row.id);
      c_time.Add(row.time_us);
      c_deleted.Add(row.deleted ? std::string_view("t") : "f");
      if (row.deleted) c_json.AddNull(); else c_json.Add(row.json);
      if (row.source.empty()) {
        c_source.AddNull();
        c_key.AddNull();
      } else {
        c_source.Add(row.source);
        c_key.Add(row.source_key);
      }
    }
    if (!release.empty()) {
      auto r = c.Run(kReleaseOwners, {domain_id, release.Take()});
      if (!r) return std::move(r).error();
    }
    auto r = c.Run(kUpsertContacts,
                   {domain_id, c_seq.Take(), c_id.Take(), c_time.Take(),
                    c_deleted.Take(), c_json.Take(), c_source.Take(),
                    c_key.Take()});
    if (!r) return std::move(r).error();
  }
  if (seq >= first) {
    auto h = c.Run(kInsertHistory, {domain_id, out.time_us, actor,
                                    h_seq.Take(), h_id.Take(), h_op.Take(),
                                    h_before.Take()});
    if (!h) return std::move(h).error();
    auto r = c.Run(kUpdateDomain, {domain_id, seq, out.time_us, live});
    if (!r) return std::move(r).error();
    if (auto st = Notify(c, "c " + std::to_string(domain_id) + " " +
                                std::to_string(seq));
        !st) {
      return std::move(st).error();
    }
    out.first_seq = first;
    out.last_seq = seq;
  }
  out.domain_last_seq = seq;
  out.live_count = live;
  return out;
}

Result<std::vector<std::optional<StoredContact>>> PostgresStore::GetContacts(
    int64_t domain_id, std::span<const std::string> ids) {
  std::vector<std::optional<StoredContact>> out(ids.size());
  if (ids.empty()) return out;
  auto c = Acquire();
  if (!c) return std::move(c).error();
  ArrayBuilder arr;
  std::unordered_map<std::string_view, std::vector<size_t>> where;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto& slots = where[ids[i]];
    if (slots.empty()) arr.Add(ids[i]);
    slots.push_back(i);
  }
  // One statement: one snapshot.
  auto r = (*c)->Run(kContactsByIds, {domain_id, arr.Take()});
  if (!r) return std::move(r).error();
  for (int i = 0; i < r->size(); ++i) {
    auto it = where.find(r->Text(i, 6));
    if (it == where.end()) continue;
    StoredContact sc = StoredContactOfRow(*r, i);
    for (size_t slot : it->second) out[slot] = sc;
  }
  return out;
}

Result<ScanResult> PostgresStore::ScanChanges(
    int64_t domain_id, uint64_t after_seq, uint64_t skip_tombstones_upto,
    size_t max_rows, const ChangeVisitor& visit,
    const SnapshotVisitor& on_snapshot) {
  auto c = AcquireForScan();
  if (!c) return std::move(c).error();
  // Tombstones at or below `skip` are left out; 0 keeps them all.
  const uint64_t skip =
      skip_tombstones_upto > after_seq ? skip_tombstones_upto : 0;
  const int64_t limit =
      max_rows == 0 ? 0 : static_cast<int64_t>(std::min<size_t>(
                              max_rows, INT32_MAX)) + 1;
  auto r = (*c)->Run(kScan, {domain_id, after_seq, limit, skip});
  bool on_replica = c->on_replica();
  if (!r && on_replica &&
      (!(*c)->healthy() || r.error().kind == ErrorKind::kUnavailable)) {
    // The replica went away after this connection was pooled, or cancelled
    // the query (a recovery conflict): read the primary (no row has been
    // visited yet).
    if (!(*c)->healthy()) ReplicaFailed();
    auto p = Acquire(primary_);
    if (!p) return std::move(p).error();
    r = (*p)->Run(kScan, {domain_id, after_seq, limit, skip});
    on_replica = false;
  }
  if (!r) return std::move(r).error();
  if (r->size() == 0) {
    if (!on_replica) return DomainGone();
    // Domains are never removed: the replica has not replayed its creation.
    return Error{ErrorKind::kUnavailable, std::string(kReplicaBehind),
                 "the read replica has not yet replayed the creation of this "
                 "domain; retry shortly"};
  }
  ScanResult out;
  out.snapshot_last_seq = static_cast<uint64_t>(r->Int(0, 0));
  out.horizon_seq = static_cast<uint64_t>(r->Int(0, 1));
  out.policy_json = std::string(r->Text(0, 2));
  if (on_snapshot) on_snapshot(out);
  if (after_seq >= out.snapshot_last_seq || max_rows == 0) {
    out.exhausted = after_seq >= out.snapshot_last_seq;
    return out;
  }
  out.exhausted = true;
  for (int i = 0; i < r->size(); ++i) {
    if (r->IsNull(i, 3)) break;  // the domain alone: no rows
    if (out.rows == max_rows) {
      out.exhausted = false;
      break;
    }
    ChangeRow row{static_cast<uint64_t>(r->Int(i, 3)), r->Int(i, 4),
                  r->Bool(i, 5), r->Text(i, 6), r->Text(i, 7)};
    ++out.rows;
    if (!visit(row)) {
      out.stopped = true;
      out.exhausted = false;
      break;
    }
  }
  return out;
}

Result<uint64_t> PostgresStore::SeqBeforeTime(int64_t domain_id,
                                              int64_t time_us) {
  auto lease = Acquire();
  if (!lease) return std::move(lease).error();
  Conn& c = **lease;
  Transaction tx(&c, kReadSnapshot);
  if (!tx.status()) return tx.status().error();
  auto d = c.Run(kDomainById, {domain_id});
  if (!d) return std::move(d).error();
  if (d->size() == 0) return DomainGone();
  const uint64_t last = static_cast<uint64_t>(d->Int(0, 4));
  // Commit times are non-decreasing in seq, so binary-search the rows for
  // the first with time >= time_us, one index probe per step.
  struct Row { bool found; uint64_t seq; int64_t time; };
  auto first_at = [&](uint64_t seq) -> Result<Row> {
    auto r = c.Run(kSeqAtOrAfter, {domain_id, seq});
    if (!r) return std::move(r).error();
    if (r->size() == 0) return Row{false, 0, 0};
    return Row{true, static_cast<uint64_t>(r->Int(0, 0)), r->Int(0, 1)};
  };
  uint64_t lo = 1, hi = last + 1;  // smallest m in [lo, hi] with P(m)
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    auto r = first_at(mid);
    if (!r) return std::move(r).error();
    if (!r->found || r->time >= time_us) {
      hi = mid;
    } else {
      lo = r->seq + 1;
    }
  }
  // The last row *before* that one (or 0), not its seq - 1: tombstones in
  // between may have been purged, and the caller's horizon check must see
  // that they are missing.
  auto r = first_at(lo);
  if (!r) return std::move(r).error();
  const int64_t below = r->found ? static_cast<int64_t>(r->seq) : INT64_MAX;
  auto b = c.Run(kSeqBefore, {domain_id, below});
  if (!b) return std::move(b).error();
  return b->size() ? static_cast<uint64_t>(b->Int(0, 0)) : uint64_t{0};
}

Result<std::vector<HistoryEntry>> PostgresStore::History(
    int64_t domain_id, std::string_view contact_id, uint64_t after_seq,
    size_t limit) {
  auto lease = Acquire();
  if (!lease) return std::move(lease).error();
  Conn& c = **lease;
  Transaction tx(&c, kReadSnapshot);  // one snapshot for the derivation
  if (!tx.status()) return tx.status().error();
  const int64_t lim = static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX));
  auto r = contact_id.empty()
               ? c.Run(kHistoryAll, {domain_id, after_seq, lim})
               : c.Run(kHistoryContact, {domain_id, after_seq, lim, contact_id});
  if (!r) return std::move(r).error();
  std::vector<HistoryEntry> out;
  out.reserve(static_cast<size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) {
    HistoryEntry h;
    h.seq = static_cast<uint64_t>(r->Int(i, 0));
    h.time_us = r->Int(i, 1);
    h.contact_id = std::string(r->Text(i, 2));
    h.actor = std::string(r->Text(i, 3));
    h.op = r->Text(i, 4) == "delete" ? ChangeOp::kDelete : ChangeOp::kUpsert;
    h.before_json = std::string(r->Text(i, 5));
    out.push_back(std::move(h));
  }
  // Derive each upsert's after state (see the schema comment).
  for (HistoryEntry& h : out) {
    if (h.op == ChangeOp::kDelete) continue;
    auto next = c.Run(kHistoryNextBefore, {domain_id, h.contact_id, h.seq});
    if (!next) return std::move(next).error();
    if (next->size()) {
      h.after_json = std::string(next->Text(0, 0));
      continue;
    }
    auto cur = ReadContact(c, domain_id, h.contact_id);
    if (cur && cur->seq == h.seq) h.after_json = std::move(cur->json);
  }
  return out;
}

Result<bool> PostgresStore::ContactVersions(
    int64_t domain_id, std::string_view id, uint64_t through_seq,
    const std::function<bool(std::string_view)>& visit) {
  auto lease = Acquire();
  if (!lease) return std::move(lease).error();
  Conn& c = **lease;
  Transaction tx(&c, kReadSnapshot);  // the row and the history agree
  if (!tx.status()) return tx.status().error();
  // Each history entry holds the version its change replaced, which was
  // current from the entry before it (its creation) up to this one.
  auto r = c.Run(kContactHistory, {domain_id, id});
  if (!r) return std::move(r).error();
  bool complete = true;
  uint64_t created = 0;  // seq of the previous entry: the version's birth
  for (int i = 0; i < r->size(); ++i) {
    if (created > through_seq) return complete;
    const std::string_view before = r->Text(i, 1);
    // The oldest kept entry replaced a version: older ones were purged.
    if (i == 0 && !before.empty()) complete = false;
    if (!before.empty() && !visit(before)) return complete;
    created = static_cast<uint64_t>(r->Int(i, 0));
  }
  auto cur = ReadContact(c, domain_id, id);
  if (!cur) {
    if (cur.error().kind != ErrorKind::kNotFound) return std::move(cur).error();
    return complete;
  }
  if (!cur->deleted && cur->seq <= through_seq) visit(cur->json);
  return complete;
}

Status PostgresStore::SourceContacts(
    int64_t domain_id, std::string_view source,
    const std::function<bool(const SourceRow&)>& visit) {
  auto lease = Acquire();
  if (!lease) return std::move(lease).error();
  Conn& c = **lease;
  // Keyset pages by source_key in one snapshot: memory stays bounded
  // however many contacts the source owns.
  Transaction tx(&c, kReadSnapshot);
  if (!tx.status()) return tx.status();
  std::string after;
  for (;;) {
    auto r = c.Run(kSourcePage, {domain_id, source, after, kScanPage});
    if (!r) return std::move(r).error();
    for (int i = 0; i < r->size(); ++i) {
      SourceRow row{r->Text(i, 3), r->Text(i, 2),
                    static_cast<uint64_t>(r->Int(i, 0)), r->Bool(i, 1),
                    r->Text(i, 4)};
      if (!visit(row)) return Ok{};
    }
    if (r->size() < kScanPage) return Ok{};
    after = std::string(r->Text(r->size() - 1, 3));
  }
}

Result<PurgeResult> PostgresStore::Purge(int64_t domain_id,
                                         int64_t cutoff_us) {
  auto lease = Acquire();
  if (!lease) return std::move(lease).error();
  Conn& c = **lease;
  Transaction tx(&c, "BEGIN");
  if (!tx.status()) return tx.status().error();
  // Writers of the domain wait while it purges, as they wait for each other.
  if (auto r = LockDomain(c, domain_id); !r) return std::move(r).error();
  PurgeResult out;
  auto t = c.Run(kPurgeTombstones, {domain_id, cutoff_us});
  if (!t) return std::move(t).error();
  out.tombstones_removed = static_cast<uint64_t>(t->Int(0, 0));
  const int64_t max_purged = t->Int(0, 1);  // 0 (NULL) if none
  auto h = c.Run(kPurgeHistory, {domain_id, cutoff_us});
  if (!h) return std::move(h).error();
  out.history_removed = static_cast<uint64_t>(h->Affected());
  auto z = c.Run(kSetHorizon, {domain_id, max_purged});
  if (!z) return std::move(z).error();
  out.horizon_seq = static_cast<uint64_t>(z->Int(0, 0));
  if (auto st = tx.Commit(); !st) return std::move(st).error();
  return out;
}

Result<std::string> PostgresStore::SharedSecret(std::string_view name,
                                                size_t bytes) {
  constexpr Statement kPut{
      "gs_put_secret",
      "INSERT INTO meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO "
      "NOTHING"};
  constexpr Statement kGet{"gs_get_secret",
                           "SELECT value FROM meta WHERE key = $1"};
  auto c = Acquire();
  if (!c) return std::move(c).error();
  const std::string key = "secret:" + std::string(name);
  std::string fresh(bytes, '\0');
  crypto::RandomBytes(fresh.data(), fresh.size());
  // The first process to ask creates it; everyone reads the same.
  if (auto r = (*c)->Run(kPut, {key, crypto::Base64UrlEncode(fresh)}); !r) {
    return std::move(r).error();
  }
  auto r = (*c)->Run(kGet, {key});
  if (!r) return std::move(r).error();
  auto secret =
      r->size() ? crypto::Base64UrlDecode(r->Text(0, 0)) : std::nullopt;
  if (!secret || secret->size() < bytes) {
    return Error::Internal("stored secret " + key + " is damaged");
  }
  return *std::move(secret);
}

Status PostgresStore::InsertKey(const StoredKey& k) {
  auto c = Acquire();
  if (!c) return std::move(c).error();
  Transaction tx(&**c, "BEGIN");
  if (!tx.status()) return tx.status();
  auto r = (*c)->Run(kInsertKey,
                     {k.id, k.domain, int64_t{k.scopes}, k.name,
                      k.secret_sha256, k.created_us, k.created_by,
                      k.revoked_us});
  if (!r) return std::move(r).error();
  if (r->Affected() == 0) {
    return Error{ErrorKind::kConflict, "key_exists",
                 "a key with id " + k.id + " already exists"};
  }
  if (auto st = Notify(**c, "k"); !st) return st;
  return tx.Commit();
}

Result<std::vector<StoredKey>> PostgresStore::ListKeys() {
  auto c = Acquire();
  if (!c) return std::move(c).error();
  auto r = (*c)->Run(kListKeys, {});
  if (!r) return std::move(r).error();
  std::vector<StoredKey> out;
  for (int i = 0; i < r->size(); ++i) {
    StoredKey k;
    k.id = std::string(r->Text(i, 0));
    k.domain = std::string(r->Text(i, 1));
    k.scopes = static_cast<uint32_t>(r->Int(i, 2));
    k.name = std::string(r->Text(i, 3));
    k.secret_sha256 = std::string(r->Text(i, 4));
    k.created_us = r->Int(i, 5);
    k.created_by = std::string(r->Text(i, 6));
    k.revoked_us = r->Int(i, 7);
    out.push_back(std::move(k));
  }
  return out;
}

Status PostgresStore::RevokeKey(std::string_view id, int64_t now_us) {
  auto c = Acquire();
  if (!c) return std::move(c).error();
  Transaction tx(&**c, "BEGIN");
  if (!tx.status()) return tx.status();
  auto r = (*c)->Run(kRevokeKey, {id, now_us});
  if (!r) return std::move(r).error();
  if (r->Affected() == 0) {
    return Error::NotFound("key_not_found",
                           "no key with id \"" + std::string(id) + "\"");
  }
  if (auto st = Notify(**c, "k"); !st) return st;
  return tx.Commit();
}

}  // namespace

bool IsPostgresUri(std::string_view spec) {
  return spec.starts_with("postgresql://") || spec.starts_with("postgres://");
}

Result<std::unique_ptr<Store>> OpenPostgresStore(
    const std::string& conninfo, const PostgresStoreOptions& opts) {
  auto store = std::make_unique<PostgresStore>(conninfo, opts);
  if (auto st = store->Init(); !st) return std::move(st).error();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace galsync
