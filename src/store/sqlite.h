// A thin RAII layer over the SQLite C API: a connection (Db) and a prepared
// statement (Stmt). Errors come back as galsync::Error, never exceptions.
//
// Thread-safety: a Db and its Stmts belong to one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "galsync/status.h"

namespace galsync::sqlite {

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  ~Stmt();

  // Binds are 1-based, like SQLite's. Text is copied (SQLITE_TRANSIENT) unless
  // BindStatic is used, whose view must outlive the next Step/Reset.
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, std::string_view v);
  Stmt& BindStatic(int i, std::string_view v);
  Stmt& BindNull(int i);

  // Advances: true when a row is available, false when done; errors are
  // reported through `status` (checked by the caller with Ok()).
  bool Step();
  // Executes a statement that returns no rows.
  Status Run();
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  bool IsNull(int col) const {
    return sqlite3_column_type(s_, col) == SQLITE_NULL;
  }
  std::string_view Text(int col) const;

  // The error of the last Step(), if any.
  bool failed() const { return rc_ != SQLITE_OK && rc_ != SQLITE_ROW &&
                               rc_ != SQLITE_DONE; }
  Error error() const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_OK;
};

class Db {
 public:
  static Result<std::unique_ptr<Db>> Open(const std::string& path);
  ~Db();

  Status Exec(const char* sql);
  // Prepares a statement that is kept for the life of the connection.
  Result<Stmt> Prepare(std::string_view sql);
  int64_t Changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// An Error from the last failure on `db`.
Error DbError(sqlite3* db, std::string_view what);

// Begins a transaction on construction and rolls it back on destruction
// unless Commit() succeeded.
class Transaction {
 public:
  // `begin` is e.g. "BEGIN IMMEDIATE" or "BEGIN".
  Transaction(Db* db, const char* begin);
  ~Transaction();
  const Status& status() const { return begun_; }
  Status Commit();

 private:
  Db* db_;
  Status begun_;
  bool open_ = false;
};

}  // namespace galsync::sqlite
