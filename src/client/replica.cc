// The client's local replica: schema, migrations and atomic page apply
// (the format is described in galsync/replica.h).
#include "galsync/replica.h"

#include <string>
#include <unordered_map>

#include "store/sqlite.h"

namespace galsync {
namespace {

constexpr int kSchemaVersion = 1;
// PRAGMA application_id of a replica file: "GALR".
constexpr int64_t kApplicationId = 0x47414C52;

constexpr const char* kCreateContacts =
    "(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, json TEXT)";

Error Corrupt(const std::string& path, std::string_view why) {
  return Error::InvalidArgument(
      "replica_corrupt",
      "the replica " + path + " cannot be used: " + std::string(why) +
          "; move it away and sync again to rebuild it");
}

Error BadResponse(std::string message) {
  return Error::InvalidArgument("bad_response", std::move(message));
}

}  // namespace

struct Replica::StmtCache {
  std::unordered_map<std::string, sqlite::Stmt> by_sql;
};

Replica::Replica(std::string path, std::unique_ptr<sqlite::Db> db)
    : path_(std::move(path)),
      db_(std::move(db)),
      stmts_(std::make_unique<StmtCache>()) {}

Replica::~Replica() = default;

Result<std::unique_ptr<Replica>> Replica::Open(const std::string& path) {
  auto db = sqlite::Db::Open(path);
  if (!db.ok()) return Corrupt(path, db.error().message);
  std::unique_ptr<Replica> r(new Replica(path, std::move(*db)));
  if (auto st = r->Migrate(); !st.ok()) return std::move(st).error();
  return r;
}

Status Replica::Migrate() {
  // The first read of a file that is not SQLite fails here with
  // SQLITE_NOTADB ("file is not a database").
  auto app = db_->Prepare("PRAGMA application_id");
  if (!app.ok()) return Corrupt(path_, app.error().message);
  bool has_row = app->Step();
  if (app->failed()) return Corrupt(path_, app->error().message);
  int64_t app_id = has_row ? app->Int(0) : 0;
  app->Reset();

  auto tables = db_->Prepare("SELECT count(*) FROM sqlite_schema");
  if (!tables.ok()) return Corrupt(path_, tables.error().message);
  tables->Step();
  if (tables->failed()) return Corrupt(path_, tables->error().message);
  int64_t objects = tables->Int(0);
  tables->Reset();

  if (app_id != kApplicationId && objects != 0) {
    return Corrupt(path_, "it is an SQLite database, but not a galsync replica");
  }
  if (auto st = db_->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                          "PRAGMA cache_size=-65536; PRAGMA foreign_keys=OFF;"
                          "PRAGMA wal_autocheckpoint=16384");
      !st.ok()) {
    return Corrupt(path_, st.error().message);
  }
  if (objects == 0) {
    std::string create =
        "BEGIN IMMEDIATE;"
        "PRAGMA application_id=" + std::to_string(kApplicationId) + ";"
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY,"
        " value TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS contacts" + std::string(kCreateContacts) +
        ";CREATE TABLE IF NOT EXISTS contacts_next" + kCreateContacts + ";"
        "INSERT OR IGNORE INTO meta VALUES('schema_version','" +
        std::to_string(kSchemaVersion) + "');"
        "COMMIT;";
    if (auto st = db_->Exec(create.c_str()); !st.ok()) {
      (void)db_->Exec("ROLLBACK");
      return Corrupt(path_, st.error().message);
    }
  }
  auto version = MetaGet("schema_version");
  if (!version.ok()) return Corrupt(path_, version.error().message);
  if (version->empty()) return Corrupt(path_, "it has no schema version");
  int v = std::atoi(version->c_str());
  if (v > kSchemaVersion) {
    return Error::InvalidArgument(
        "replica_too_new",
        "the replica " + path_ + " has schema version " + *version +
            ", newer than this program understands (" +
            std::to_string(kSchemaVersion) + "); upgrade galsync");
  }
  // Forward migrations go here, one step per version, each in its own
  // transaction: if (v < 2) { ... } and so on.
  return Ok{};
}

Result<sqlite::Stmt*> Replica::Cached(const std::string& sql) {
  auto it = stmts_->by_sql.find(sql);
  if (it == stmts_->by_sql.end()) {
    auto st = db_->Prepare(sql);
    if (!st.ok()) return std::move(st).error();
    it = stmts_->by_sql.emplace(sql, std::move(*st)).first;
  }
  return &it->second;
}

Result<std::string> Replica::MetaGet(std::string_view key) {
  auto st = Cached("SELECT value FROM meta WHERE key=?1");
  if (!st.ok()) return std::move(st).error();
  sqlite::Stmt& s = **st;
  s.BindStatic(1, key);
  std::string value;
  if (s.Step()) value = std::string(s.Text(0));
  Status out = s.failed() ? Status(s.error()) : Status(Ok{});
  s.Reset();
  if (!out.ok()) return std::move(out).error();
  return value;
}

Status Replica::MetaSet(std::string_view key, std::string_view value) {
  auto st = Cached(
      "INSERT INTO meta(key,value) VALUES(?1,?2)"
      " ON CONFLICT(key) DO UPDATE SET value=excluded.value");
  if (!st.ok()) return std::move(st).error();
  (*st)->BindStatic(1, key).BindStatic(2, value);
  return (*st)->Run();
}

Result<std::optional<ReplicaConfig>> Replica::Config() {
  ReplicaConfig c;
  for (auto [key, out] : {std::pair{"server_url", &c.server_url},
                          std::pair{"domain", &c.domain},
                          std::pair{"api_key", &c.api_key},
                          std::pair{"ca_file", &c.ca_file}}) {
    auto v = MetaGet(key);
    if (!v.ok()) return std::move(v).error();
    *out = std::move(*v);
  }
  if (c.server_url.empty() || c.domain.empty()) {
    return std::optional<ReplicaConfig>{};
  }
  return std::optional<ReplicaConfig>{std::move(c)};
}

Status Replica::SetConfig(const ReplicaConfig& config) {
  auto old = Config();
  if (!old.ok()) return std::move(old).error();
  sqlite::Transaction tx(db_.get(), "BEGIN IMMEDIATE");
  if (!tx.status().ok()) return tx.status();
  bool same_feed = old->has_value() &&
                   (*old)->server_url == config.server_url &&
                   (*old)->domain == config.domain;
  if (!same_feed) {
    // Another feed: what this replica holds is not a copy of it.
    if (auto st = db_->Exec("DELETE FROM contacts; DELETE FROM contacts_next;"
                            "DELETE FROM meta WHERE key IN ('token',"
                            "'resync_token','resync_active','incarnation',"
                            "'last_success_us','last_attempt_us','last_error')");
        !st.ok()) {
      return st;
    }
  }
  for (auto [key, value] : {std::pair{"server_url", &config.server_url},
                            std::pair{"domain", &config.domain},
                            std::pair{"api_key", &config.api_key},
                            std::pair{"ca_file", &config.ca_file}}) {
    if (auto st = MetaSet(key, *value); !st.ok()) return st;
  }
  return tx.Commit();
}

Result<ReplicaState> Replica::State() {
  ReplicaState s;
  std::string active, success, attempt, generation;
  for (auto [key, out] : {std::pair{"token", &s.token},
                          std::pair{"resync_token", &s.resync_token},
                          std::pair{"resync_active", &active},
                          std::pair{"last_success_us", &success},
                          std::pair{"last_attempt_us", &attempt},
                          std::pair{"last_error", &s.last_error},
                          std::pair{"incarnation", &s.incarnation},
                          std::pair{"generation", &generation}}) {
    auto v = MetaGet(key);
    if (!v.ok()) return std::move(v).error();
    *out = std::move(*v);
  }
  s.resync_active = active == "1";
  s.last_success_us = success.empty() ? 0 : std::stoll(success);
  s.last_attempt_us = attempt.empty() ? 0 : std::stoll(attempt);
  s.generation = generation.empty() ? 0 : std::stoull(generation);
  return s;
}

Result<ReplicaCounts> Replica::Counts() {
  auto st = db_->Prepare(
      "SELECT count(json), count(*) - count(json), coalesce(max(seq), 0),"
      " (SELECT count(*) FROM contacts_next) FROM contacts");
  if (!st.ok()) return std::move(st).error();
  ReplicaCounts c;
  if (st->Step()) {
    c.live = static_cast<uint64_t>(st->Int(0));
    c.tombstones = static_cast<uint64_t>(st->Int(1));
    c.max_seq = static_cast<uint64_t>(st->Int(2));
    c.resync_rows = static_cast<uint64_t>(st->Int(3));
  }
  if (st->failed()) return st->error();
  st->Reset();
  return c;
}

Status Replica::BeginResync() {
  sqlite::Transaction tx(db_.get(), "BEGIN IMMEDIATE");
  if (!tx.status().ok()) return tx.status();
  if (auto st = db_->Exec("DELETE FROM contacts_next"); !st.ok()) return st;
  if (auto st = MetaSet("resync_active", "1"); !st.ok()) return st;
  if (auto st = MetaSet("resync_token", ""); !st.ok()) return st;
  return tx.Commit();
}

Status Replica::Apply(const FeedPage& page, std::string_view from_token) {
  sqlite::Transaction tx(db_.get(), "BEGIN IMMEDIATE");
  if (!tx.status().ok()) return tx.status();
  auto state = State();
  if (!state.ok()) return std::move(state).error();
  const bool resync = state->resync_active;
  const std::string& stored = resync ? state->resync_token : state->token;
  if (stored != from_token) {
    return Error{ErrorKind::kConflict, "concurrent_sync",
                 "another sync of " + path_ +
                     " applied a page meanwhile; this page was dropped"};
  }
  if (resync && !page.full_sync) {
    return BadResponse(
        "the server answered a full-sync request with a delta page");
  }
  if (!resync && page.full_sync) {
    return BadResponse(
        "the server answered a delta request with a full-sync page");
  }
  const char* table = resync ? "contacts_next" : "contacts";
  auto drop_older = Cached(std::string("DELETE FROM ") + table +
                           " WHERE id=?1 AND seq<?2");
  if (!drop_older.ok()) return std::move(drop_older).error();
  auto insert = Cached(std::string("INSERT OR IGNORE INTO ") + table +
                       "(seq,id,json) VALUES(?2,?1,?3)");
  if (!insert.ok()) return std::move(insert).error();
  for (const FeedChange& c : page.changes) {
    const auto seq = static_cast<int64_t>(c.seq);
    (*drop_older)->BindStatic(1, c.id).Bind(2, seq);
    if (auto st = (*drop_older)->Run(); !st.ok()) return st;
    (*insert)->BindStatic(1, c.id).Bind(2, seq);
    if (c.op == FeedChange::Op::kUpsert) {
      (*insert)->BindStatic(3, c.contact_json);
    } else {
      (*insert)->BindNull(3);
    }
    if (auto st = (*insert)->Run(); !st.ok()) return st;
  }
  if (resync && !page.has_more) {
    // The full sync is complete: its copy becomes the searched one.
    if (auto st = db_->Exec(
            (std::string("DROP TABLE contacts;"
                         "ALTER TABLE contacts_next RENAME TO contacts;"
                         "CREATE TABLE contacts_next") +
             kCreateContacts)
                .c_str());
        !st.ok()) {
      return st;
    }
    if (auto st = MetaSet("generation", std::to_string(state->generation + 1));
        !st.ok()) {
      return st;
    }
    if (auto st = MetaSet("resync_active", "0"); !st.ok()) return st;
    if (auto st = MetaSet("resync_token", ""); !st.ok()) return st;
    if (auto st = MetaSet("token", page.next_token); !st.ok()) return st;
  } else {
    if (auto st = MetaSet(resync ? "resync_token" : "token", page.next_token);
        !st.ok()) {
      return st;
    }
  }
  return tx.Commit();
}

Status Replica::RecordAttempt(int64_t now_us, std::string_view error) {
  sqlite::Transaction tx(db_.get(), "BEGIN IMMEDIATE");
  if (!tx.status().ok()) return tx.status();
  if (auto st = MetaSet("last_attempt_us", std::to_string(now_us)); !st.ok()) {
    return st;
  }
  if (error.empty()) {
    if (auto st = MetaSet("last_success_us", std::to_string(now_us));
        !st.ok()) {
      return st;
    }
  }
  if (auto st = MetaSet("last_error", error); !st.ok()) return st;
  return tx.Commit();
}

Status Replica::SetIncarnation(std::string_view incarnation) {
  return MetaSet("incarnation", incarnation);
}

Result<std::string> Replica::Get(std::string_view id) {
  auto st = Cached("SELECT json FROM contacts WHERE id=?1");
  if (!st.ok()) return std::move(st).error();
  sqlite::Stmt& s = **st;
  s.BindStatic(1, id);
  std::string json;
  bool found = s.Step() && !s.IsNull(0);
  if (found) json = std::string(s.Text(0));
  Status out = s.failed() ? Status(s.error()) : Status(Ok{});
  s.Reset();
  if (!out.ok()) return std::move(out).error();
  if (!found) {
    return Error::NotFound("contact_not_found",
                           "no contact with id \"" + std::string(id) +
                               "\" in the replica");
  }
  return json;
}

Status Replica::ForEach(
    const std::function<bool(std::string_view, std::string_view)>& fn) {
  auto st = db_->Prepare(
      "SELECT id, json FROM contacts WHERE json IS NOT NULL ORDER BY seq");
  if (!st.ok()) return std::move(st).error();
  while (st->Step()) {
    if (!fn(st->Text(0), st->Text(1))) break;
  }
  Status out = st->failed() ? Status(st->error()) : Status(Ok{});
  st->Reset();
  return out;
}

Status Replica::ForEachSince(
    uint64_t after_seq,
    const std::function<void(std::string_view, uint64_t, std::string_view)>&
        fn) {
  auto st = db_->Prepare(
      "SELECT id, seq, json FROM contacts WHERE seq > ?1 ORDER BY seq");
  if (!st.ok()) return std::move(st).error();
  st->Bind(1, static_cast<int64_t>(after_seq));
  while (st->Step()) {
    fn(st->Text(0), static_cast<uint64_t>(st->Int(1)), st->Text(2));
  }
  Status out = st->failed() ? Status(st->error()) : Status(Ok{});
  st->Reset();
  return out;
}

}  // namespace galsync
