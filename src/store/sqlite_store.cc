// The SQLite store. See include/galsync/sqlite_store.h.
//
// Schema (version 6; PRAGMA user_version holds the version, and Migrate()
// applies kMigrations[user_version..] in one transaction on open):
//
//   meta(key TEXT PRIMARY KEY, value TEXT)       -- "incarnation"
//   domains(id INTEGER PRIMARY KEY, name TEXT UNIQUE, uid, created_us,
//           last_seq, last_time_us, horizon_seq, live_count,
//           policy)                                 -- policy since version 3
//   contacts(key INTEGER PRIMARY KEY, domain_id, contact_id, time_us,
//            deleted, json,
//            source, source_key,              -- owner, since version 4
//            origin)                          -- since version 5
//       UNIQUE INDEX contacts_by_id(domain_id, contact_id)
//       UNIQUE INDEX contacts_by_source(domain_id, source, source_key)
//           WHERE source IS NOT NULL
//   history(key INTEGER PRIMARY KEY, contact_id, time_us, actor, op,
//           before_json,
//           origin,                           -- since version 5
//           last_key, ids)                    -- since version 6
//       INDEX history_by_origin(origin, key)  -- since version 5
//   api_keys(id TEXT PRIMARY KEY, domain, scopes, name, secret_sha256,
//            created_us, created_by, revoked_us)        -- since version 2
//
// A contact's `origin` is the key of its first change (for a contact that
// schema 4 held: of its oldest change history held then), the same in its
// contacts row and in each of its history rows, and never changed; a
// contact's history is found by origin. Keys
// only grow, so the history rows of new contacts are appended at the end
// of history_by_origin, whatever the order of their ids. (Until version 5
// history was indexed by contact id: an import of ids in no particular
// order then rewrote most of that index's pages in every batch.)
//
// History stores each change's *before* state only. Its after state is the
// before state of the contact's next change, or, for its latest change, the
// contacts row; History() derives it. This halves the bytes a write adds
// (an import of new contacts stores no JSON in history at all).
//
// A run of contacts created one after another by one write (keys k to
// last_key, ids in key order and separated by '\n' in `ids`) is one
// history row, with no contact_id and no origin: its entries share the
// actor, the time and the op, and none has a before state. Such a contact's
// origin is its creation's key, so its creation is found as the run whose
// key is the greatest at or below that origin. An import then writes one
// history row and one index entry a batch instead of a contact, and takes
// about 30 % less time (docs/benchmarks.md, "Batched import").
//
// Key layout: `key` = domain_id << 40 | seq. The contacts table is the
// compacted log: one row per contact, keyed by the seq of its latest change,
// so a sync page is one contiguous range scan of the table B-tree (rows in
// seq order, JSON inline) with no secondary-index lookups. A write moves the
// contact's row to its new key. 2^40 seqs per domain, 2^23 domains.
//
// Writes: one connection, one mutex, BEGIN IMMEDIATE; the next seq is
// domains.last_seq + 1 read inside the transaction, so seqs are assigned in
// commit order. Reads: a pool of connections; WAL gives each read
// transaction a consistent snapshot that runs in parallel with the writer.
#include "galsync/sqlite_store.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include "galsync/contact.h"
#include "store/change_rules.h"
#include "store/sqlite.h"
#include "util/crypto.h"

namespace galsync {
namespace {

using sqlite::Db;
using sqlite::Stmt;
using sqlite::Transaction;

constexpr int kSeqBits = 40;
constexpr uint64_t kMaxSeq = (uint64_t{1} << kSeqBits) - 1;
constexpr int64_t kMaxDomains = (int64_t{1} << 23) - 1;

// Seqs beyond the domain's range are clamped so a key never leaves it.
int64_t Key(int64_t domain_id, uint64_t seq) {
  return (domain_id << kSeqBits) | static_cast<int64_t>(std::min(seq, kMaxSeq));
}
uint64_t SeqOfKey(int64_t key) { return static_cast<uint64_t>(key) & kMaxSeq; }

// Binds a change's owner (source, source_key) at `first` and `first + 1`:
// NULLs, which keep the current owner, unless the change names a source.
void BindOwner(Stmt& s, int first, const ChangeRequest& ch) {
  if (ch.source.empty() || ch.op == ChangeOp::kDelete) {
    s.BindNull(first);
    s.BindNull(first + 1);
  } else {
    s.BindStatic(first, ch.source);
    s.BindStatic(first + 1, ch.source_key);
  }
}

// Each entry migrates from version i to i + 1.
constexpr const char* kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE domains(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  uid INTEGER NOT NULL,
  created_us INTEGER NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0,
  last_time_us INTEGER NOT NULL DEFAULT 0,
  horizon_seq INTEGER NOT NULL DEFAULT 0,
  live_count INTEGER NOT NULL DEFAULT 0);
CREATE TABLE contacts(
  key INTEGER PRIMARY KEY,
  domain_id INTEGER NOT NULL,
  contact_id TEXT NOT NULL,
  time_us INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  json TEXT);
CREATE UNIQUE INDEX contacts_by_id ON contacts(domain_id, contact_id);
CREATE TABLE history(
  key INTEGER PRIMARY KEY,
  contact_id TEXT NOT NULL,
  time_us INTEGER NOT NULL,
  actor TEXT NOT NULL,
  op TEXT NOT NULL,
  before_json TEXT);
CREATE INDEX history_by_contact ON history(contact_id, key);
)sql",
    // 1 -> 2
    R"sql(
CREATE TABLE api_keys(
  id TEXT PRIMARY KEY,
  domain TEXT NOT NULL,
  scopes INTEGER NOT NULL,
  name TEXT NOT NULL,
  secret_sha256 TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoked_us INTEGER NOT NULL DEFAULT 0);
)sql",
    // 2 -> 3
    R"sql(
ALTER TABLE domains ADD COLUMN policy TEXT NOT NULL DEFAULT '';
)sql",
    // 3 -> 4
    R"sql(
ALTER TABLE contacts ADD COLUMN source TEXT;
ALTER TABLE contacts ADD COLUMN source_key TEXT;
CREATE UNIQUE INDEX contacts_by_source ON contacts(domain_id, source, source_key)
  WHERE source IS NOT NULL;
)sql",
    // 4 -> 5: each contact's history found by its origin, not its id.
    R"sql(
ALTER TABLE contacts ADD COLUMN origin INTEGER;
ALTER TABLE history ADD COLUMN origin INTEGER;
UPDATE history SET origin = (
  SELECT min(h.key) FROM history h
  WHERE h.contact_id = history.contact_id AND h.key >> 40 = history.key >> 40);
UPDATE contacts SET origin = coalesce(
  (SELECT min(h.key) FROM history h
   WHERE h.contact_id = contacts.contact_id AND h.key >> 40 = contacts.domain_id),
  key);
CREATE INDEX history_by_origin ON history(origin, key);
DROP INDEX history_by_contact;
)sql",
    // 5 -> 6: a run of contacts created by one write is one history row.
    R"sql(
ALTER TABLE history ADD COLUMN last_key INTEGER;
ALTER TABLE history ADD COLUMN ids TEXT;
)sql",
};
constexpr int kSchemaVersion = std::size(kMigrations);

constexpr char kDomainColumns[] =
    "id, name, uid, created_us, last_seq, last_time_us, horizon_seq, "
    "live_count, policy";

DomainInfo ReadDomain(const Stmt& s) {
  DomainInfo d;
  d.id = s.Int(0);
  d.name = std::string(s.Text(1));
  d.uid = static_cast<uint64_t>(s.Int(2));
  d.created_us = s.Int(3);
  d.last_seq = static_cast<uint64_t>(s.Int(4));
  d.last_time_us = s.Int(5);
  d.horizon_seq = static_cast<uint64_t>(s.Int(6));
  d.live_count = static_cast<uint64_t>(s.Int(7));
  d.policy_json = std::string(s.Text(8));
  return d;
}

// A connection with its prepared statements.
struct Conn {
  std::unique_ptr<Db> db;
  Stmt domain_by_name, domain_by_id, domains_all;
  Stmt contact_by_id, contact_by_source, source_contacts;
  Stmt scan, scan_skip, seq_at_time, seq_before;
  Stmt history_all, history_contact, history_next_before, contact_history,
      history_run;

  static Result<std::unique_ptr<Conn>> Open(const std::string& path,
                                            const SqliteStoreOptions& o);
};

#define GALSYNC_PREPARE(field, sql)          \
  do {                                       \
    auto st = c->db->Prepare(sql);           \
    if (!st) return std::move(st).error();   \
    c->field = std::move(st.value());        \
  } while (0)

Result<std::unique_ptr<Conn>> Conn::Open(const std::string& path,
                                         const SqliteStoreOptions& o) {
  auto db = Db::Open(path);
  if (!db) return std::move(db).error();
  auto c = std::make_unique<Conn>();
  c->db = std::move(db.value());
  // page_size only takes effect on a new database, before WAL is enabled
  // (databases made before 2026-12-07 keep their 16 KiB pages).
  // 32 KiB: an import writes about 10 % faster than at 16 KiB and a full
  // sync reads faster; a single write costs more (docs/benchmarks.md).
  std::string pragmas = "PRAGMA page_size=32768; PRAGMA journal_mode=WAL; ";
  pragmas += o.synchronous_full ? "PRAGMA synchronous=FULL; "
                                : "PRAGMA synchronous=NORMAL; ";
  pragmas += "PRAGMA cache_size=-" + std::to_string(o.cache_mib * 1024) + ";";
  pragmas += "PRAGMA temp_store=MEMORY;";
  if (auto st = c->db->Exec(pragmas.c_str()); !st) return std::move(st).error();
  return c;
}

Status PrepareReader(Conn* c) {
  std::string dom = std::string("SELECT ") + kDomainColumns + " FROM domains";
  GALSYNC_PREPARE(domain_by_name, dom + " WHERE name = ?1");
  GALSYNC_PREPARE(domain_by_id, dom + " WHERE id = ?1");
  GALSYNC_PREPARE(domains_all, dom + " ORDER BY name");
  GALSYNC_PREPARE(contact_by_id,
                  "SELECT key, time_us, deleted, json, source, source_key, "
                  "origin FROM contacts WHERE domain_id = ?1 AND "
                  "contact_id = ?2");
  GALSYNC_PREPARE(contact_by_source,
                  "SELECT key, time_us, deleted, json, source, source_key, "
                  "contact_id FROM contacts "
                  "WHERE domain_id = ?1 AND source = ?2 AND source_key = ?3");
  GALSYNC_PREPARE(source_contacts,
                  "SELECT key, deleted, contact_id, source_key, json "
                  "FROM contacts WHERE domain_id = ?1 AND source = ?2");
  GALSYNC_PREPARE(scan,
                  "SELECT key, time_us, deleted, contact_id, json FROM contacts "
                  "WHERE key > ?1 AND key <= ?2 ORDER BY key LIMIT ?3");
  GALSYNC_PREPARE(scan_skip,
                  "SELECT key, time_us, deleted, contact_id, json FROM contacts "
                  "WHERE key > ?1 AND key <= ?2 AND (deleted = 0 OR key > ?4) "
                  "ORDER BY key LIMIT ?3");
  GALSYNC_PREPARE(seq_before,
                  "SELECT key FROM contacts WHERE key > ?1 AND key < ?2 "
                  "ORDER BY key DESC LIMIT 1");
  GALSYNC_PREPARE(seq_at_time,
                  "SELECT key, time_us FROM contacts WHERE key >= ?1 AND "
                  "key <= ?2 ORDER BY key LIMIT 1");
  const char* hist =
      "SELECT key, time_us, contact_id, actor, op, before_json, origin, "
      "last_key, ids FROM history ";
  GALSYNC_PREPARE(history_all,
                  std::string(hist) +
                      "WHERE key >= ?1 AND key <= ?2 ORDER BY key LIMIT ?3");
  GALSYNC_PREPARE(history_contact,
                  std::string(hist) +
                      "WHERE origin = ?4 AND key >= ?1 AND key <= ?2 "
                      "ORDER BY key LIMIT ?3");
  GALSYNC_PREPARE(history_next_before,
                  "SELECT before_json FROM history WHERE origin = ?1 AND "
                  "key > ?2 AND key <= ?3 ORDER BY key LIMIT 1");
  GALSYNC_PREPARE(contact_history,
                  "SELECT key, before_json FROM history WHERE origin = ?1 "
                  "AND key > ?2 AND key <= ?3 ORDER BY key");
  // The row at or below ?2 in the domain whose keys start after ?1: the run
  // of creations that holds key ?2, if its last_key reaches it.
  GALSYNC_PREPARE(history_run,
                  "SELECT key, last_key, ids, time_us, actor FROM history "
                  "WHERE key > ?1 AND key <= ?2 ORDER BY key DESC LIMIT 1");
  return Ok{};
}

// Statements used only by the writer connection.
struct WriterStmts {
  Stmt get_seq, insert_contact, move_contact, insert_history, update_domain,
      insert_domain, purge_tombstones_max, purge_tombstones, purge_history,
      set_horizon, set_policy, scan_live, set_owner;
};

struct StmtGuard {  // resets a statement when the scope ends
  Stmt& s;
  ~StmtGuard() { s.Reset(); }
};

constexpr char kRunIdSeparator = '\n';  // no contact id holds it

// Calls visit(key, id) for each creation of a run of creations that starts
// at `first_key` and has the ids `ids` (see the schema comment).
template <typename Visit>
void ForEachCreation(int64_t first_key, std::string_view ids, Visit visit) {
  for (int64_t key = first_key;; ++key) {
    const size_t end = ids.find(kRunIdSeparator);
    visit(key, ids.substr(0, end));
    if (end == std::string_view::npos) return;
    ids.remove_prefix(end + 1);
  }
}

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, SqliteStoreOptions opts)
      : path_(std::move(path)), opts_(opts) {}

  Status Init() {
    auto w = Conn::Open(path_, opts_);
    if (!w) return std::move(w).error();
    writer_ = std::move(w.value());
    if (auto st = Migrate(); !st) return st;
    if (auto st = PrepareReader(writer_.get()); !st) return st;
    if (auto st = PrepareWriter(); !st) return st;
    return LoadIncarnation();
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
    std::lock_guard lock(write_mu_);
    Transaction tx(writer_->db.get(), "BEGIN IMMEDIATE");
    if (!tx.status()) return tx.status().error();
    {
      auto& s = writer_->domain_by_name;
      StmtGuard g{s};
      s.Bind(1, name);
      if (s.Step()) {
        return Error{ErrorKind::kConflict, "domain_exists",
                     "domain \"" + std::string(name) + "\" already exists"};
      }
      if (s.failed()) return s.error();
    }
    uint64_t uid = crypto::RandomU64() >> 1;  // fits in SQLite's int64
    auto& ins = w_.insert_domain;
    ins.Bind(1, name).Bind(2, static_cast<int64_t>(uid)).Bind(3, now_us);
    if (auto st = ins.Run(); !st) return std::move(st).error();
    int64_t id = sqlite3_last_insert_rowid(writer_->db->raw());
    if (id > kMaxDomains) return Error::Internal("too many domains");
    if (auto st = tx.Commit(); !st) return std::move(st).error();
    DomainInfo d;
    d.id = id;
    d.name = std::string(name);
    d.uid = uid;
    d.created_us = now_us;
    return d;
  }

  Result<std::vector<DomainInfo>> ListDomains() override {
    auto c = Acquire();
    if (!c) return std::move(c).error();
    auto& s = (*c)->domains_all;
    StmtGuard g{s};
    std::vector<DomainInfo> out;
    while (s.Step()) out.push_back(ReadDomain(s));
    if (s.failed()) return s.error();
    return out;
  }

  Result<DomainInfo> GetDomain(std::string_view name) override {
    auto c = Acquire();
    if (!c) return std::move(c).error();
    auto& s = (*c)->domain_by_name;
    StmtGuard g{s};
    s.Bind(1, name);
    if (s.Step()) return ReadDomain(s);
    if (s.failed()) return s.error();
    return Error::NotFound("domain_not_found",
                           "no domain named \"" + std::string(name) + "\"");
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
    auto lease = Acquire();
    if (!lease) return std::move(lease).error();
    auto& s = lease.value()->contact_by_source;
    StmtGuard g{s};
    s.Bind(1, domain_id).Bind(2, source).Bind(3, source_key);
    if (s.Step()) return StoredContactOfRow(s, s.Text(6));
    if (s.failed()) return s.error();
    return Error::NotFound("contact_not_found",
                           "source \"" + std::string(source) +
                               "\" has no contact with key \"" +
                               std::string(source_key) + "\"");
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
  // A pooled reader connection, returned to the pool on destruction.
  class Lease {
   public:
    Lease(SqliteStore* s, std::unique_ptr<Conn> c) : s_(s), c_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (c_) s_->Release(std::move(c_));
    }
    Conn& operator*() { return *c_; }
    Conn* operator->() { return c_.get(); }

   private:
    SqliteStore* s_;
    std::unique_ptr<Conn> c_;
  };

  Result<Lease> Acquire() {
    {
      std::lock_guard lock(pool_mu_);
      if (!pool_.empty()) {
        auto c = std::move(pool_.back());
        pool_.pop_back();
        return Lease(this, std::move(c));
      }
    }
    auto c = Conn::Open(path_, opts_);
    if (!c) return std::move(c).error();
    if (auto st = PrepareReader(c->get()); !st) return std::move(st).error();
    return Lease(this, std::move(c.value()));
  }

  void Release(std::unique_ptr<Conn> c) {
    std::lock_guard lock(pool_mu_);
    if (pool_.size() < kMaxIdleReaders) pool_.push_back(std::move(c));
  }

  static Result<DomainInfo> ReadDomainById(Conn& c, int64_t domain_id) {
    auto& s = c.domain_by_id;
    StmtGuard g{s};
    s.Bind(1, domain_id);
    if (s.Step()) return ReadDomain(s);
    if (s.failed()) return s.error();
    return Error::NotFound("domain_not_found", "domain no longer exists");
  }

  // A row of contact_by_id or contact_by_source: key, time_us, deleted,
  // json, source, source_key.
  static StoredContact StoredContactOfRow(Stmt& s, std::string_view id) {
    StoredContact sc;
    sc.id = std::string(id);
    sc.seq = SeqOfKey(s.Int(0));
    sc.time_us = s.Int(1);
    sc.deleted = s.Int(2) != 0;
    sc.json = std::string(s.Text(3));
    sc.source = std::string(s.Text(4));
    sc.source_key = std::string(s.Text(5));
    return sc;
  }

  // Reads the contact's row; `origin`, if given, receives its origin.
  static Result<StoredContact> ReadContact(Conn& c, int64_t domain_id,
                                           std::string_view id,
                                           int64_t* origin = nullptr) {
    auto& s = c.contact_by_id;
    StmtGuard g{s};
    s.Bind(1, domain_id).Bind(2, id);
    if (s.Step()) {
      if (origin) *origin = s.Int(6);
      return StoredContactOfRow(s, id);
    }
    if (s.failed()) return s.error();
    return Error::NotFound("contact_not_found",
                           "no contact with id \"" + std::string(id) + "\"");
  }

  // The run of creations (one history row, see the schema comment) that
  // holds `key`, if one does; nullopt if that key's change has a row of its
  // own, or none.
  struct CreationRun {
    int64_t first_key = 0;
    int64_t time_us = 0;
    std::string actor;
  };
  static Result<std::optional<CreationRun>> RunHolding(Conn& c,
                                                       int64_t domain_id,
                                                       int64_t key) {
    auto& s = c.history_run;
    StmtGuard g{s};
    s.Bind(1, Key(domain_id, 0)).Bind(2, key);
    if (s.Step()) {
      if (s.IsNull(1) || s.Int(1) < key) return std::optional<CreationRun>{};
      return std::optional<CreationRun>(
          CreationRun{s.Int(0), s.Int(3), std::string(s.Text(4))});
    }
    if (s.failed()) return s.error();
    return std::optional<CreationRun>{};
  }

  // Write's body, inside the caller's write transaction (write_mu_ held).
  // With `restamp` each change is an upsert that gives a live contact a new
  // seq and keeps its stored content (content_json is not used); see
  // SetPolicy.
  Result<WriteResult> WriteLocked(int64_t domain_id,
                                  std::span<const ChangeRequest> changes,
                                  std::string_view actor, int64_t now_us,
                                  bool restamp = false);

  Status Migrate();
  Status PrepareWriter();
  Status LoadIncarnation();

  static constexpr size_t kMaxIdleReaders = 16;

  const std::string path_;
  const SqliteStoreOptions opts_;
  uint64_t incarnation_ = 0;

  std::mutex write_mu_;
  std::unique_ptr<Conn> writer_;  // GUARDED_BY(write_mu_) after Init
  WriterStmts w_;                 // GUARDED_BY(write_mu_)

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Conn>> pool_;  // GUARDED_BY(pool_mu_)
};

Status SqliteStore::Migrate() {
  Db* db = writer_->db.get();
  Transaction tx(db, "BEGIN IMMEDIATE");
  if (!tx.status()) return tx.status();
  auto v = db->Prepare("PRAGMA user_version");
  if (!v) return std::move(v).error();
  int version = v->Step() ? static_cast<int>(v->Int(0)) : 0;
  v->Reset();  // a statement left running would forbid dropping an index
  if (version > kSchemaVersion) {
    return Error{ErrorKind::kInternal, "schema_too_new",
                 "database schema version " + std::to_string(version) +
                     " is newer than this galsync (" +
                     std::to_string(kSchemaVersion) + "); upgrade galsync"};
  }
  for (int i = version; i < kSchemaVersion; ++i) {
    if (auto st = db->Exec(kMigrations[i]); !st) return st;
  }
  std::string set = "PRAGMA user_version=" + std::to_string(kSchemaVersion);
  if (auto st = db->Exec(set.c_str()); !st) return st;
  return tx.Commit();
}

Status SqliteStore::PrepareWriter() {
  Conn* c = writer_.get();
  auto prep = [&](Stmt& field, const char* sql) -> Status {
    auto st = c->db->Prepare(sql);
    if (!st) return std::move(st).error();
    field = std::move(st.value());
    return Ok{};
  };
  const std::pair<Stmt*, const char*> stmts[] = {
      {&w_.get_seq,
       "SELECT last_seq, last_time_us, live_count, name FROM domains "
       "WHERE id = ?1"},
      // Inserts nothing if the id exists (Changes() tells): an upsert can
      // try the insert before reading, see WriteLocked.
      {&w_.insert_contact,
       "INSERT INTO contacts(key, domain_id, contact_id, time_us, deleted, "
       "json, source, source_key, origin) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?1) "
       "ON CONFLICT(domain_id, contact_id) DO NOTHING"},
      // A NULL source keeps the contact's owner.
      {&w_.move_contact,
       "UPDATE contacts SET key = ?2, time_us = ?3, deleted = ?4, json = ?5, "
       "source = coalesce(?6, source), source_key = coalesce(?7, source_key) "
       "WHERE key = ?1"},
      {&w_.insert_history,
       "INSERT INTO history(key, contact_id, time_us, actor, op, before_json, "
       "origin, last_key, ids) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
      {&w_.update_domain,
       "UPDATE domains SET last_seq = ?2, last_time_us = ?3, live_count = ?4 "
       "WHERE id = ?1"},
      {&w_.set_policy, "UPDATE domains SET policy = ?2 WHERE id = ?1"},
      {&w_.set_owner,
       "UPDATE contacts SET source = ?2, source_key = ?3 WHERE key = ?1"},
      {&w_.scan_live,
       "SELECT contact_id, json FROM contacts WHERE key > ?1 AND key <= ?2 "
       "AND deleted = 0"},
      {&w_.insert_domain,
       "INSERT INTO domains(name, uid, created_us) VALUES (?1, ?2, ?3)"},
      {&w_.purge_tombstones_max,
       "SELECT max(key) FROM contacts WHERE key > ?1 AND key <= ?2 AND "
       "deleted = 1 AND time_us < ?3"},
      {&w_.purge_tombstones,
       "DELETE FROM contacts WHERE key > ?1 AND key <= ?2 AND deleted = 1 AND "
       "time_us < ?3"},
      {&w_.purge_history,  // the entries of each row (a run has several)
       "DELETE FROM history WHERE key > ?1 AND key <= ?2 AND time_us < ?3 "
       "RETURNING coalesce(last_key - key + 1, 1)"},
      {&w_.set_horizon,
       "UPDATE domains SET horizon_seq = max(horizon_seq, ?2) WHERE id = ?1"},
  };
  for (auto [field, sql] : stmts) {
    if (auto st = prep(*field, sql); !st) return st;
  }
  return Ok{};
}

Status SqliteStore::LoadIncarnation() {
  Db* db = writer_->db.get();
  auto get = db->Prepare("SELECT value FROM meta WHERE key = 'incarnation'");
  if (!get) return std::move(get).error();
  if (get->Step() && !opts_.new_incarnation) {
    incarnation_ = std::stoull(std::string(get->Text(0)));
    return Ok{};
  }
  if (get->failed()) return get->error();
  get->Reset();  // end its read before writing
  incarnation_ = crypto::RandomU64();
  auto put = db->Prepare(
      "INSERT OR REPLACE INTO meta(key, value) VALUES ('incarnation', ?1)");
  if (!put) return std::move(put).error();
  put->Bind(1, std::to_string(incarnation_));
  return put->Run();
}

Result<WriteResult> SqliteStore::Write(int64_t domain_id,
                                       std::span<const ChangeRequest> changes,
                                       std::string_view actor,
                                       int64_t now_us) {
  std::lock_guard lock(write_mu_);
  Transaction tx(writer_->db.get(), "BEGIN IMMEDIATE");
  if (!tx.status()) return tx.status().error();
  auto out = WriteLocked(domain_id, changes, actor, now_us);
  if (!out) return out;
  if (auto st = tx.Commit(); !st) return std::move(st).error();
  return out;
}

Result<WriteResult> SqliteStore::SetPolicy(
    int64_t domain_id, std::string_view policy_json,
    const std::function<bool(std::string_view)>& affected,
    std::string_view actor, int64_t now_us) {
  std::lock_guard lock(write_mu_);
  Transaction tx(writer_->db.get(), "BEGIN IMMEDIATE");
  if (!tx.status()) return tx.status().error();
  {
    auto& s = w_.set_policy;
    s.Bind(1, domain_id).BindStatic(2, policy_json);
    if (auto st = s.Run(); !st) return std::move(st).error();
    if (writer_->db->Changes() == 0) {
      return Error::NotFound("domain_not_found", "domain no longer exists");
    }
  }
  // Collect first, write after: a re-stamped row moves to a higher key, so
  // writing during the scan would meet it again.
  std::vector<ChangeRequest> restamps;
  {
    auto& s = w_.scan_live;
    StmtGuard g{s};
    s.Bind(1, Key(domain_id, 0)).Bind(2, Key(domain_id, kMaxSeq));
    while (s.Step()) {
      if (!affected(s.Text(1))) continue;
      restamps.emplace_back().id = std::string(s.Text(0));
    }
    if (s.failed()) return s.error();
  }
  auto out = WriteLocked(domain_id, restamps, actor, now_us, /*restamp=*/true);
  if (!out) return out;
  if (auto st = tx.Commit(); !st) return std::move(st).error();
  return out;
}

Result<WriteResult> SqliteStore::WriteLocked(
    int64_t domain_id, std::span<const ChangeRequest> changes,
    std::string_view actor, int64_t now_us, bool restamp) {
  Conn& c = *writer_;
  WriteResult out;
  uint64_t seq;
  uint64_t live;
  std::string domain_name;
  {
    auto& s = w_.get_seq;
    StmtGuard g{s};
    s.Bind(1, domain_id);
    if (!s.Step()) {
      if (s.failed()) return s.error();
      return Error::NotFound("domain_not_found", "domain no longer exists");
    }
    seq = static_cast<uint64_t>(s.Int(0));
    // Commit times never go backwards within a domain (invariant 1).
    out.time_us = std::max(now_us, s.Int(1));
    live = static_cast<uint64_t>(s.Int(2));
    domain_name = std::string(s.Text(3));
  }
  const uint64_t first = seq + 1;
  out.outcomes.reserve(changes.size());
  const std::string_view op_upsert = ChangeOpName(ChangeOp::kUpsert);
  const std::string_view op_delete = ChangeOpName(ChangeOp::kDelete);

  // History. A creation (an upsert with no contact before it and a new
  // origin) joins the run of creations it follows, which is written as one
  // row when the run ends (see the schema comment); any other change is a
  // row of its own.
  struct {
    int64_t first_key = 0, last_key = -1;  // empty when last < first
    std::string ids;
  } run;
  // A change's row; or, with `many`, the row of the run of creations
  // (no contact id, before state or origin).
  auto insert_history = [&](int64_t key, std::string_view contact_id,
                            bool is_delete, const std::string* before,
                            int64_t origin, bool many = false) -> Status {
    auto& s = w_.insert_history;
    s.Bind(1, key).BindStatic(2, many ? "" : contact_id).Bind(3, out.time_us)
        .BindStatic(4, actor).BindStatic(5, is_delete ? op_delete : op_upsert);
    if (before) s.BindStatic(6, *before); else s.BindNull(6);
    if (many) {
      s.BindNull(7).Bind(8, run.last_key).BindStatic(9, run.ids);
    } else {
      s.Bind(7, origin).BindNull(8).BindNull(9);
    }
    return s.Run();
  };
  auto end_run = [&]() -> Status {
    if (run.last_key < run.first_key) return Ok{};
    // One creation is a plain row.
    Status st = insert_history(run.first_key, run.ids, false, nullptr,
                               run.first_key, run.last_key > run.first_key);
    run.last_key = run.first_key - 1;
    run.ids.clear();
    return st;
  };
  // Logs the change that took `key` (its before state: `before`, or none).
  auto log_change = [&](int64_t key, const ChangeRequest& ch, bool is_delete,
                        const std::string* before, int64_t origin) -> Status {
    const bool creation = !is_delete && !before && origin == key &&
                          ch.id.find(kRunIdSeparator) == std::string::npos;
    if (creation && run.last_key >= run.first_key && key == run.last_key + 1) {
      run.ids += kRunIdSeparator;
      run.ids += ch.id;
      run.last_key = key;
      return Ok{};
    }
    if (auto st = end_run(); !st) return st;
    if (!creation) return insert_history(key, ch.id, is_delete, before, origin);
    run.first_key = run.last_key = key;
    run.ids = ch.id;
    return Ok{};
  };
  // Inserts the contact's row at `key`; false if its id already has one.
  auto insert_row = [&](int64_t key, const ChangeRequest& ch, bool is_delete,
                        const std::string& after) -> Result<bool> {
    auto& s = w_.insert_contact;
    s.Bind(1, key).Bind(2, domain_id).BindStatic(3, ch.id)
        .Bind(4, out.time_us).Bind(5, int64_t{is_delete});
    if (is_delete) s.BindNull(6); else s.BindStatic(6, after);
    BindOwner(s, 7, ch);
    if (auto st = s.Run(); !st) return std::move(st).error();
    return c.db->Changes() == 1;
  };

  // An upsert with nothing to check against the current row tries the
  // insert first and reads only if the id exists: a batch of new contacts
  // (an import) then costs one index probe per contact instead of two.
  // After a miss (the id existed), the batch reads first again until a
  // read finds an id free, so a batch of updates pays no failed inserts.
  bool insert_first = true;
  for (size_t i = 0; i < changes.size(); ++i) {
    const ChangeRequest& ch = changes[i];
    std::string after;
    if (insert_first && ch.op == ChangeOp::kUpsert && !ch.if_match &&
        !restamp && seq < kMaxSeq) {
      after = StoredContactJson(ch.content_json, domain_name, seq + 1,
                                out.time_us);
      auto inserted = insert_row(Key(domain_id, seq + 1), ch, false, after);
      if (!inserted) return std::move(inserted).error();
      if (*inserted) {
        ++seq;
        const int64_t key = Key(domain_id, seq);
        if (auto st = log_change(key, ch, false, nullptr, key); !st) {
          return std::move(st).error();
        }
        ++live;
        out.outcomes.push_back({ChangeResult::kApplied, seq, true, {}});
        continue;
      }
      insert_first = false;
    }

    int64_t origin = 0;
    auto cur = ReadContact(c, domain_id, ch.id, &origin);
    if (!cur && cur.error().kind != ErrorKind::kNotFound) {
      return std::move(cur).error();
    }
    const bool exists = cur.ok();
    if (!exists) insert_first = true;
    const bool live_now = exists && !cur->deleted;
    if (auto st = CheckPreconditions(ch, i, changes.size(), live_now,
                                     live_now ? cur->seq : 0);
        !st) {
      return std::move(st).error();
    }

    if ((ch.op == ChangeOp::kDelete || restamp) && !live_now) {
      out.outcomes.push_back({ChangeResult::kNotFound, 0, false, {}});
      continue;
    }
    const std::string current =
        restamp ? ContentOfStoredJson(cur->json) : std::string();
    const std::string& content = restamp ? current : ch.content_json;
    if (ch.op == ChangeOp::kUpsert && live_now && !restamp &&
        ContentOfStoredJson(cur->json) == content) {
      // Same content, new owner (an import re-keyed it): no change to log.
      if (!ch.source.empty() &&
          (cur->source != ch.source || cur->source_key != ch.source_key)) {
        auto& s = w_.set_owner;
        s.Bind(1, Key(domain_id, cur->seq))
            .BindStatic(2, ch.source)
            .BindStatic(3, ch.source_key);
        if (auto st = s.Run(); !st) return std::move(st).error();
      }
      out.outcomes.push_back(
          {ChangeResult::kUnchanged, cur->seq, false, std::move(cur->json)});
      continue;
    }
    if (seq + 1 > kMaxSeq) return Error::Internal("domain seq space exhausted");
    ++seq;
    const int64_t key = Key(domain_id, seq);
    const bool is_delete = ch.op == ChangeOp::kDelete;
    // The served form: content plus the server-maintained members (made
    // above already if the insert was tried).
    if (is_delete) {
      after.clear();
    } else if (after.empty()) {
      after = StoredContactJson(content, domain_name, seq, out.time_us);
    }
    if (exists) {
      auto& s = w_.move_contact;
      s.Bind(1, Key(domain_id, cur->seq))
          .Bind(2, key)
          .Bind(3, out.time_us)
          .Bind(4, int64_t{is_delete});
      if (is_delete) s.BindNull(5); else s.BindStatic(5, after);
      BindOwner(s, 6, ch);
      if (auto st = s.Run(); !st) return std::move(st).error();
    } else {
      auto inserted = insert_row(key, ch, is_delete, after);
      if (!inserted) return std::move(inserted).error();
      if (!*inserted) return Error::Internal("contact row appeared mid-write");
    }
    if (!exists) origin = key;
    if (auto st = log_change(key, ch, is_delete,
                             live_now ? &cur->json : nullptr, origin);
        !st) {
      return std::move(st).error();
    }
    if (is_delete) {
      --live;
    } else if (!live_now) {
      ++live;
    }
    out.outcomes.push_back(
        {ChangeResult::kApplied, seq, !is_delete && !live_now, {}});
  }

  if (auto st = end_run(); !st) return std::move(st).error();
  if (seq >= first) {
    auto& s = w_.update_domain;
    s.Bind(1, domain_id).Bind(2, static_cast<int64_t>(seq))
        .Bind(3, out.time_us).Bind(4, static_cast<int64_t>(live));
    if (auto st = s.Run(); !st) return std::move(st).error();
    out.first_seq = first;
    out.last_seq = seq;
  }
  out.domain_last_seq = seq;
  out.live_count = live;
  return out;
}

Result<std::vector<std::optional<StoredContact>>> SqliteStore::GetContacts(
    int64_t domain_id, std::span<const std::string> ids) {
  auto lease = Acquire();
  if (!lease) return std::move(lease).error();
  Conn& c = *lease.value();
  Transaction tx(c.db.get(), "BEGIN");
  if (!tx.status()) return tx.status().error();
  std::vector<std::optional<StoredContact>> out(ids.size());
  auto& s = c.contact_by_id;
  for (size_t i = 0; i < ids.size(); ++i) {
    StmtGuard g{s};
    s.Bind(1, domain_id).Bind(2, ids[i]);
    if (s.Step()) {
      out[i] = StoredContactOfRow(s, ids[i]);
    } else if (s.failed()) {
      return s.error();
    }
  }
  return out;
}

Result<ScanResult> SqliteStore::ScanChanges(int64_t domain_id,
                                            uint64_t after_seq,
                                            uint64_t skip_tombstones_upto,
                                            size_t max_rows,
                                            const ChangeVisitor& visit,
                                            const SnapshotVisitor& on_snapshot) {
  auto lease = Acquire();
  if (!lease) return std::move(lease).error();
  Conn& c = *lease.value();
  // One read transaction: the domain row and the rows come from the same
  // WAL snapshot.
  Transaction tx(c.db.get(), "BEGIN");
  if (!tx.status()) return tx.status().error();
  ScanResult out;
  {
    auto d = ReadDomainById(c, domain_id);
    if (!d) return std::move(d).error();
    out.snapshot_last_seq = d->last_seq;
    out.horizon_seq = d->horizon_seq;
    out.policy_json = std::move(d->policy_json);
  }
  if (on_snapshot) on_snapshot(out);
  if (after_seq >= out.snapshot_last_seq || max_rows == 0) {
    out.exhausted = after_seq >= out.snapshot_last_seq;
    return out;
  }
  const bool skip = skip_tombstones_upto > after_seq;
  auto& s = skip ? c.scan_skip : c.scan;
  StmtGuard g{s};
  s.Bind(1, Key(domain_id, after_seq))
      .Bind(2, Key(domain_id, kMaxSeq))
      .Bind(3, static_cast<int64_t>(max_rows) + 1);
  if (skip) s.Bind(4, Key(domain_id, std::min(skip_tombstones_upto, kMaxSeq)));
  out.exhausted = true;
  while (s.Step()) {
    if (out.rows == max_rows) {
      out.exhausted = false;
      break;
    }
    ChangeRow row{SeqOfKey(s.Int(0)), s.Int(1), s.Int(2) != 0, s.Text(3),
                  s.Text(4)};
    ++out.rows;
    if (!visit(row)) {
      out.stopped = true;
      out.exhausted = false;
      break;
    }
  }
  if (s.failed()) return s.error();
  return out;
}

Result<uint64_t> SqliteStore::SeqBeforeTime(int64_t domain_id,
                                            int64_t time_us) {
  auto lease = Acquire();
  if (!lease) return std::move(lease).error();
  Conn& c = *lease.value();
  Transaction tx(c.db.get(), "BEGIN");
  if (!tx.status()) return tx.status().error();
  auto domain = ReadDomainById(c, domain_id);
  if (!domain) return std::move(domain).error();
  const uint64_t last = domain->last_seq;
  // Commit times are non-decreasing in seq, so binary-search the rows for
  // the first with time >= time_us, one point lookup per step.
  auto& s = c.seq_at_time;
  struct Row { bool found; uint64_t seq; int64_t time; };
  auto first_at = [&](uint64_t seq) -> Result<Row> {
    StmtGuard g{s};
    s.Bind(1, Key(domain_id, seq)).Bind(2, Key(domain_id, kMaxSeq));
    if (s.Step()) return Row{true, SeqOfKey(s.Int(0)), s.Int(1)};
    if (s.failed()) return s.error();
    return Row{false, 0, 0};
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
  // The answer is the last row *before* that one (or 0), not its seq - 1:
  // between the two there may have been tombstones that a purge removed,
  // and the caller's horizon check must see that they are missing.
  auto r = first_at(lo);
  if (!r) return std::move(r).error();
  auto& b = c.seq_before;
  StmtGuard g{b};
  b.Bind(1, Key(domain_id, 0))
      .Bind(2, r->found ? Key(domain_id, r->seq) : Key(domain_id, kMaxSeq) + 1);
  if (b.Step()) return SeqOfKey(b.Int(0));
  if (b.failed()) return b.error();
  return uint64_t{0};
}

Result<std::vector<HistoryEntry>> SqliteStore::History(
    int64_t domain_id, std::string_view contact_id, uint64_t after_seq,
    size_t limit) {
  auto lease = Acquire();
  if (!lease) return std::move(lease).error();
  Conn& c = *lease.value();
  Transaction tx(c.db.get(), "BEGIN");  // one snapshot for the derivation
  if (!tx.status()) return tx.status().error();
  std::vector<HistoryEntry> out;
  if (limit == 0 || after_seq >= kMaxSeq) return out;
  std::vector<int64_t> origins;
  const int64_t after_key = Key(domain_id, after_seq);
  // The first key to read: a run of creations that holds after_key + 1
  // begins at or below it.
  int64_t first_key = after_key + 1;
  int64_t contact_origin = 0;
  if (!contact_id.empty()) {
    auto cur = ReadContact(c, domain_id, contact_id, &contact_origin);
    if (!cur) {
      if (cur.error().kind == ErrorKind::kNotFound) return out;
      return std::move(cur).error();
    }
    // A creation in a run has no row with the contact's origin.
    if (contact_origin > after_key) {
      auto run = RunHolding(c, domain_id, contact_origin);
      if (!run) return std::move(run).error();
      if (*run) {
        HistoryEntry& h = out.emplace_back();
        h.seq = SeqOfKey(contact_origin);
        h.time_us = (*run)->time_us;
        h.contact_id = std::string(contact_id);
        h.actor = std::move((*run)->actor);
        origins.push_back(contact_origin);
      }
    }
  } else {
    auto run = RunHolding(c, domain_id, first_key);
    if (!run) return std::move(run).error();
    if (*run) first_key = (*run)->first_key;
  }
  if (out.size() < limit) {
    auto& s = contact_id.empty() ? c.history_all : c.history_contact;
    StmtGuard g{s};
    s.Bind(1, first_key)
        .Bind(2, Key(domain_id, kMaxSeq))
        .Bind(3, static_cast<int64_t>(limit - out.size()));
    if (!contact_id.empty()) s.Bind(4, contact_origin);
    while (out.size() < limit && s.Step()) {
      if (!s.IsNull(7)) {  // a run of creations
        ForEachCreation(s.Int(0), s.Text(8), [&](int64_t key,
                                                 std::string_view id) {
          if (key <= after_key || out.size() == limit) return;
          HistoryEntry& h = out.emplace_back();
          h.seq = SeqOfKey(key);
          h.time_us = s.Int(1);
          h.contact_id = std::string(id);
          h.actor = std::string(s.Text(3));
          origins.push_back(key);
        });
        continue;
      }
      HistoryEntry& h = out.emplace_back();
      h.seq = SeqOfKey(s.Int(0));
      h.time_us = s.Int(1);
      h.contact_id = std::string(s.Text(2));
      h.actor = std::string(s.Text(3));
      h.op = s.Text(4) == "delete" ? ChangeOp::kDelete : ChangeOp::kUpsert;
      h.before_json = std::string(s.Text(5));
      origins.push_back(s.Int(6));
    }
    if (s.failed()) return s.error();
  }
  // Derive each upsert's after state (see the schema comment).
  for (size_t i = 0; i < out.size(); ++i) {
    HistoryEntry& h = out[i];
    if (h.op == ChangeOp::kDelete) continue;
    auto& next = c.history_next_before;
    StmtGuard g{next};
    next.Bind(1, origins[i])
        .Bind(2, Key(domain_id, h.seq))
        .Bind(3, Key(domain_id, kMaxSeq));
    if (next.Step()) {
      h.after_json = std::string(next.Text(0));
      continue;
    }
    if (next.failed()) return next.error();
    auto cur = ReadContact(c, domain_id, h.contact_id);
    if (cur && cur->seq == h.seq) h.after_json = std::move(cur->json);
  }
  return out;
}

Result<bool> SqliteStore::ContactVersions(
    int64_t domain_id, std::string_view id, uint64_t through_seq,
    const std::function<bool(std::string_view)>& visit) {
  auto lease = Acquire();
  if (!lease) return std::move(lease).error();
  Conn& c = *lease.value();
  Transaction tx(c.db.get(), "BEGIN");  // the row and the history agree
  if (!tx.status()) return tx.status().error();
  // Each history entry holds the version its change replaced, which was
  // current from the entry before it (its creation) up to this one.
  bool complete = true;
  int64_t origin = 0;
  auto cur = ReadContact(c, domain_id, id, &origin);
  if (!cur) {
    if (cur.error().kind != ErrorKind::kNotFound) return std::move(cur).error();
    return complete;  // no row: no history either (purged with it)
  }
  uint64_t created = 0;  // seq of the previous entry: the version's birth
  bool first = true;
  {
    // A creation in a run has no row with the contact's origin.
    auto run = RunHolding(c, domain_id, origin);
    if (!run) return std::move(run).error();
    if (*run) {
      created = SeqOfKey(origin);
      first = false;
    }
  }
  {
    auto& s = c.contact_history;
    StmtGuard g{s};
    s.Bind(1, origin).Bind(2, Key(domain_id, 0))
        .Bind(3, Key(domain_id, kMaxSeq));
    while (s.Step()) {
      if (created > through_seq) return complete;
      const std::string_view before = s.Text(1);
      // The oldest kept entry replaced a version: older ones were purged.
      if (first && !before.empty()) complete = false;
      first = false;
      if (!before.empty() && !visit(before)) return complete;
      created = SeqOfKey(s.Int(0));
    }
    if (s.failed()) return s.error();
  }
  if (!cur->deleted && cur->seq <= through_seq) visit(cur->json);
  return complete;
}

Status SqliteStore::SourceContacts(
    int64_t domain_id, std::string_view source,
    const std::function<bool(const SourceRow&)>& visit) {
  auto lease = Acquire();
  if (!lease) return std::move(lease).error();
  Conn& c = *lease.value();
  Transaction tx(c.db.get(), "BEGIN");
  if (!tx.status()) return tx.status();
  auto& s = c.source_contacts;
  StmtGuard g{s};
  s.Bind(1, domain_id).Bind(2, source);
  while (s.Step()) {
    SourceRow row{s.Text(3), s.Text(2), SeqOfKey(s.Int(0)), s.Int(1) != 0,
                  s.Text(4)};
    if (!visit(row)) return Ok{};
  }
  if (s.failed()) return s.error();
  return Ok{};
}

Result<PurgeResult> SqliteStore::Purge(int64_t domain_id, int64_t cutoff_us) {
  std::lock_guard lock(write_mu_);
  Transaction tx(writer_->db.get(), "BEGIN IMMEDIATE");
  if (!tx.status()) return tx.status().error();
  const int64_t lo = Key(domain_id, 0), hi = Key(domain_id, kMaxSeq);
  PurgeResult out;
  uint64_t max_purged = 0;
  {
    auto& s = w_.purge_tombstones_max;
    StmtGuard g{s};
    s.Bind(1, lo).Bind(2, hi).Bind(3, cutoff_us);
    if (s.Step() && !s.IsNull(0)) max_purged = SeqOfKey(s.Int(0));
    if (s.failed()) return s.error();
  }
  {
    auto& s = w_.purge_tombstones;
    s.Bind(1, lo).Bind(2, hi).Bind(3, cutoff_us);
    if (auto st = s.Run(); !st) return std::move(st).error();
    out.tombstones_removed = writer_->db->Changes();
  }
  {
    auto& s = w_.purge_history;
    StmtGuard g{s};
    s.Bind(1, lo).Bind(2, hi).Bind(3, cutoff_us);
    while (s.Step()) out.history_removed += static_cast<uint64_t>(s.Int(0));
    if (s.failed()) return s.error();
  }
  {
    auto& s = w_.set_horizon;
    s.Bind(1, domain_id).Bind(2, static_cast<int64_t>(max_purged));
    if (auto st = s.Run(); !st) return std::move(st).error();
  }
  {
    auto d = ReadDomainById(*writer_, domain_id);
    if (!d) return std::move(d).error();
    out.horizon_seq = d->horizon_seq;
  }
  if (auto st = tx.Commit(); !st) return std::move(st).error();
  return out;
}

Result<std::string> SqliteStore::SharedSecret(std::string_view name,
                                              size_t bytes) {
  std::lock_guard lock(write_mu_);
  Db* db = writer_->db.get();
  const std::string key = "secret:" + std::string(name);
  std::string fresh(bytes, '\0');
  crypto::RandomBytes(fresh.data(), fresh.size());
  auto put = db->Prepare(
      "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO "
      "NOTHING");
  if (!put) return std::move(put).error();
  put->Bind(1, key).Bind(2, crypto::Base64UrlEncode(fresh));
  if (auto st = put->Run(); !st) return std::move(st).error();
  auto get = db->Prepare("SELECT value FROM meta WHERE key = ?1");
  if (!get) return std::move(get).error();
  get->Bind(1, key);
  if (!get->Step()) {
    if (get->failed()) return get->error();
    return Error::Internal("secret " + key + " vanished");
  }
  auto secret = crypto::Base64UrlDecode(get->Text(0));
  if (!secret || secret->size() < bytes) {
    return Error::Internal("stored secret " + key + " is damaged");
  }
  return *std::move(secret);
}

// Keys are written rarely: their statements are prepared per call rather
// than kept on every connection.
Status SqliteStore::InsertKey(const StoredKey& k) {
  std::lock_guard lock(write_mu_);
  Db* db = writer_->db.get();
  auto s = db->Prepare(
      "INSERT INTO api_keys(id, domain, scopes, name, secret_sha256, "
      "created_us, created_by, revoked_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
      "?8) ON CONFLICT(id) DO NOTHING");
  if (!s) return std::move(s).error();
  s->Bind(1, k.id).Bind(2, k.domain).Bind(3, int64_t{k.scopes}).Bind(4, k.name);
  s->Bind(5, k.secret_sha256).Bind(6, k.created_us).Bind(7, k.created_by);
  s->Bind(8, k.revoked_us);
  if (auto st = s->Run(); !st) return st;
  if (db->Changes() == 0) {
    return Error{ErrorKind::kConflict, "key_exists",
                 "a key with id " + k.id + " already exists"};
  }
  return Ok{};
}

Result<std::vector<StoredKey>> SqliteStore::ListKeys() {
  auto c = Acquire();
  if (!c) return std::move(c).error();
  auto s = (*c)->db->Prepare(
      "SELECT id, domain, scopes, name, secret_sha256, created_us, "
      "created_by, revoked_us FROM api_keys ORDER BY created_us, id");
  if (!s) return std::move(s).error();
  std::vector<StoredKey> out;
  while (s->Step()) {
    StoredKey k;
    k.id = std::string(s->Text(0));
    k.domain = std::string(s->Text(1));
    k.scopes = static_cast<uint32_t>(s->Int(2));
    k.name = std::string(s->Text(3));
    k.secret_sha256 = std::string(s->Text(4));
    k.created_us = s->Int(5);
    k.created_by = std::string(s->Text(6));
    k.revoked_us = s->Int(7);
    out.push_back(std::move(k));
  }
  if (s->failed()) return s->error();
  return out;
}

Status SqliteStore::RevokeKey(std::string_view id, int64_t now_us) {
  std::lock_guard lock(write_mu_);
  Db* db = writer_->db.get();
  auto s = db->Prepare(
      "UPDATE api_keys SET revoked_us = CASE WHEN revoked_us = 0 THEN ?2 "
      "ELSE revoked_us END WHERE id = ?1");
  if (!s) return std::move(s).error();
  s->Bind(1, id).Bind(2, now_us);
  if (auto st = s->Run(); !st) return st;
  if (db->Changes() == 0) {
    return Error::NotFound("key_not_found",
                           "no key with id \"" + std::string(id) + "\"");
  }
  return Ok{};
}

}  // namespace

bool IsValidDomainName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front())) return false;
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '-') return false;
  }
  return true;
}

std::string_view ChangeOpName(ChangeOp op) {
  return op == ChangeOp::kDelete ? "delete" : "upsert";
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteStoreOptions& opts) {
  auto store = std::make_unique<SqliteStore>(path, opts);
  if (auto st = store->Init(); !st) return std::move(st).error();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace galsync
