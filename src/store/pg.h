// A thin RAII layer over libpq: a connection (Conn), a result (Rows),
// parameters, and the text form of arrays. Errors come back as
// galsync::Error, never exceptions.
//
// Statements are named and prepared on first use on each connection, so a
// hot statement is parsed and planned once per connection. Parameters and
// results use PostgreSQL's text format.
//
// Thread-safety: a Conn belongs to one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "galsync/status.h"

namespace galsync::pg {

// A statement: a name unique in the program and its SQL ($1, $2, ...).
struct Statement {
  const char* name;
  const char* sql;
};

// One parameter in text form. Views must outlive the call that uses them.
class Param {
 public:
  Param(std::nullptr_t) {}  // NULL  NOLINT
  // Text from a view is copied before the call (libpq reads text
  // parameters up to a NUL); from a std::string or C string it is not.
  Param(std::string_view v) : data_(v.data()), len_(v.size()), null_(false) {}  // NOLINT
  Param(const std::string& v)  // NOLINT
      : data_(v.c_str()), len_(v.size()), null_(false), terminated_(true) {}
  Param(const char* v)  // NOLINT
      : data_(v), len_(std::strlen(v)), null_(false), terminated_(true) {}
  Param(int64_t v);  // NOLINT
  // Saturates at INT64_MAX (bigint's largest): seqs such as "all" (~0)
  // must stay above every stored one, not wrap to -1.
  Param(uint64_t v)  // NOLINT
      : Param(static_cast<int64_t>(std::min<uint64_t>(v, INT64_MAX))) {}
  Param(int v) : Param(static_cast<int64_t>(v)) {}  // NOLINT
  Param(bool v)  // NOLINT
      : data_(v ? "t" : "f"), len_(1), null_(false), terminated_(true) {}
  Param(const Param& o);
  Param& operator=(const Param&) = delete;

  const char* data() const { return null_ ? nullptr : data_; }
  int length() const { return static_cast<int>(len_); }
  bool terminated() const { return null_ || terminated_; }

 private:
  char buf_[24];
  const char* data_ = nullptr;
  size_t len_ = 0;
  bool null_ = true;
  bool terminated_ = false;
};

// A query's result. Values are views into it, valid while it lives.
class Rows {
 public:
  Rows() = default;
  explicit Rows(PGresult* r) : r_(r) {}
  Rows(Rows&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Rows& operator=(Rows&& o) noexcept;
  ~Rows();

  int size() const { return r_ ? PQntuples(r_) : 0; }
  bool IsNull(int row, int col) const { return PQgetisnull(r_, row, col); }
  std::string_view Text(int row, int col) const {
    return {PQgetvalue(r_, row, col),
            static_cast<size_t>(PQgetlength(r_, row, col))};
  }
  int64_t Int(int row, int col) const;  // 0 for NULL
  bool Bool(int row, int col) const { return Text(row, col) == "t"; }
  // Rows affected by an INSERT, UPDATE or DELETE.
  int64_t Affected() const;

 private:
  PGresult* r_ = nullptr;
};

class Conn {
 public:
  // `conninfo`: a libpq connection string or postgresql:// URI.
  static Result<std::unique_ptr<Conn>> Open(const std::string& conninfo);
  ~Conn();

  // Runs SQL without parameters (may hold several statements).
  Status Exec(std::string_view sql);
  // Runs a statement, preparing it on this connection on first use.
  Result<Rows> Run(const Statement& st, std::initializer_list<Param> params);
  // The same with parameters in an array.
  Result<Rows> Run(const Statement& st, const Param* params, int n);

  // False once the connection to the server is lost; the connection is then
  // dropped rather than reused.
  bool healthy() const { return PQstatus(c_) == CONNECTION_OK; }
  // Whether a transaction is open (or failed and not yet rolled back).
  bool in_transaction() const {
    return PQtransactionStatus(c_) != PQTRANS_IDLE;
  }
  PGconn* raw() { return c_; }

 private:
  explicit Conn(PGconn* c) : c_(c) {}
  Result<Rows> Check(PGresult* r, std::string_view what);

  PGconn* c_;
  std::unordered_set<const char*> prepared_;  // by Statement::name
};

// An Error from a failed result: kUnavailable (reason "store_unavailable")
// when the server cannot be reached or asks to retry (serialization
// failure, deadlock, shutdown), kInternal otherwise; the message has the
// server's.
Error ResultError(PGconn* c, PGresult* r, std::string_view what);

// Builds the text form of a one-dimensional array ({"a","b",NULL}) for a
// parameter such as $2::text[].
class ArrayBuilder {
 public:
  void Add(std::string_view v);
  void Add(int64_t v);
  void AddNull();
  // The literal; the builder is then empty again.
  std::string Take();
  bool empty() const { return n_ == 0; }

 private:
  void Sep();
  std::string s_ = "{";
  size_t n_ = 0;
};

// Begins a transaction on construction and rolls it back on destruction
// unless Commit() succeeded.
class Transaction {
 public:
  // `begin` is e.g. "BEGIN" or "BEGIN ISOLATION LEVEL REPEATABLE READ".
  Transaction(Conn* c, const char* begin);
  ~Transaction();
  const Status& status() const { return begun_; }
  Status Commit();

 private:
  Conn* c_;
  Status begun_;
  bool open_ = false;
};

}  // namespace galsync::pg
