// RAII wrappers over the SQLite C API; see sqlite.h.
#include "store/sqlite.h"

#include <utility>

namespace galsync::sqlite {

Error DbError(sqlite3* db, std::string_view what) {
  int code = sqlite3_extended_errcode(db);
  ErrorKind kind = ErrorKind::kInternal;
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
    kind = ErrorKind::kUnavailable;
  }
  std::string msg(what);
  msg += ": ";
  msg += sqlite3_errmsg(db);
  return Error{kind, kind == ErrorKind::kUnavailable ? "store_busy" : "store_error",
               std::move(msg)};
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(s_);
    db_ = o.db_;
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() { sqlite3_finalize(s_); }

Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}

Stmt& Stmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Stmt& Stmt::BindStatic(int i, std::string_view v) {
  sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
  return *this;
}

Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

bool Stmt::Step() {
  rc_ = sqlite3_step(s_);
  return rc_ == SQLITE_ROW;
}

Status Stmt::Run() {
  Step();
  Status st = failed() ? Status(error()) : Status(Ok{});
  Reset();
  return st;
}

void Stmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::string_view Stmt::Text(int col) const {
  const auto* p =
      reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  if (p == nullptr) return {};
  return {p, static_cast<size_t>(sqlite3_column_bytes(s_, col))};
}

Error Stmt::error() const { return DbError(db_, sqlite3_sql(s_)); }

Result<std::unique_ptr<Db>> Db::Open(const std::string& path) {
  // SQLite counts every allocation under a global mutex unless told not to
  // before it initializes; nothing here reads those counts. If SQLite was
  // initialized already (another user in the process), this fails harmlessly.
  static const int memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)memstatus_off;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &raw,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    Error e = raw ? DbError(raw, "open " + path)
                  : Error::Internal("open " + path + ": out of memory");
    sqlite3_close(raw);
    return e;
  }
  sqlite3_extended_result_codes(raw, 1);
  // Writers wait for each other rather than failing (only one process
  // writes in practice; this covers checkpoints and external tools).
  sqlite3_busy_timeout(raw, 5000);
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() { sqlite3_close_v2(db_); }

Status Db::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    Error e = DbError(db_, "exec");
    e.message = std::string("exec: ") + msg;
    return e;
  }
  return Ok{};
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
    return DbError(db_, "prepare");
  }
  return Stmt(db_, s);
}

Transaction::Transaction(Db* db, const char* begin)
    : db_(db), begun_(db->Exec(begin)) {
  open_ = begun_.ok();
}

Transaction::~Transaction() {
  if (open_) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  Status st = db_->Exec("COMMIT");
  if (st.ok()) open_ = false;
  return st;
}

}  // namespace galsync::sqlite
