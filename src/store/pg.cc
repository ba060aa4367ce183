#include "store/pg.h"

#include <array>
#include <charconv>
#include <cstring>

namespace galsync::pg {

Param::Param(int64_t v) : null_(false), terminated_(true) {
  auto [end, ec] = std::to_chars(buf_, buf_ + sizeof buf_ - 1, v);
  *end = '\0';
  data_ = buf_;
  len_ = static_cast<size_t>(end - buf_);
}

Param::Param(const Param& o)
    : len_(o.len_), null_(o.null_), terminated_(o.terminated_) {
  if (o.data_ == o.buf_) {
    std::memcpy(buf_, o.buf_, o.len_ + 1);
    data_ = buf_;
  } else {
    data_ = o.data_;
  }
}

Rows& Rows::operator=(Rows&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

Rows::~Rows() {
  if (r_) PQclear(r_);
}

int64_t Rows::Int(int row, int col) const {
  std::string_view t = Text(row, col);
  int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

int64_t Rows::Affected() const {
  const char* n = r_ ? PQcmdTuples(r_) : "";
  int64_t v = 0;
  std::from_chars(n, n + std::strlen(n), v);
  return v;
}

Error ResultError(PGconn* c, PGresult* r, std::string_view what) {
  std::string state;
  if (r) {
    if (const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE)) state = s;
  }
  std::string msg = r ? PQresultErrorMessage(r) : "";
  if (msg.empty() && c) msg = PQerrorMessage(c);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
    msg.pop_back();
  }
  std::string full = "PostgreSQL: " + std::string(what) + ": " + msg;
  // Lost connections (class 08), serialization failures and deadlocks
  // (40001, 40P01), and a server shutting down (57P01..57P03) are worth a
  // retry; everything else is a bug or a broken database.
  const bool lost = !c || PQstatus(c) != CONNECTION_OK;
  if (lost || state.starts_with("08") || state == "40001" ||
      state == "40P01" || state.starts_with("57P")) {
    return {ErrorKind::kUnavailable, "store_unavailable", std::move(full)};
  }
  return Error::Internal(std::move(full));
}

Result<std::unique_ptr<Conn>> Conn::Open(const std::string& conninfo) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (!c) return Error::Internal("PostgreSQL: out of memory");
  std::unique_ptr<Conn> conn(new Conn(c));
  if (PQstatus(c) != CONNECTION_OK) {
    return Error{ErrorKind::kUnavailable, "store_unavailable",
                 "PostgreSQL: cannot connect: " +
                     std::string(PQerrorMessage(c))};
  }
  // Notices (e.g. "relation already exists, skipping") are not errors.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  return conn;
}

Conn::~Conn() { PQfinish(c_); }

Result<Rows> Conn::Check(PGresult* r, std::string_view what) {
  const ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) return Rows(r);
  Error e = ResultError(c_, r, what);
  if (r) PQclear(r);
  return e;
}

Status Conn::Exec(std::string_view sql) {
  auto r = Check(PQexec(c_, std::string(sql).c_str()), sql);
  if (!r) return std::move(r).error();
  return Ok{};
}

Result<Rows> Conn::Run(const Statement& st,
                       std::initializer_list<Param> params) {
  return Run(st, params.begin(), static_cast<int>(params.size()));
}

Result<Rows> Conn::Run(const Statement& st, const Param* params, int n) {
  if (!prepared_.contains(st.name)) {
    auto r = Check(PQprepare(c_, st.name, st.sql, 0, nullptr), st.name);
    if (!r) return std::move(r).error();
    prepared_.insert(st.name);
  }
  // Statements have a handful of parameters: no allocation per call but
  // for the views that must be copied (libpq reads text parameters up to
  // their NUL; their lengths matter to binary parameters only).
  constexpr int kMaxParams = 16;
  if (n > kMaxParams) return Error::Internal("too many statement parameters");
  std::array<const char*, kMaxParams> values;
  std::array<std::string, kMaxParams> owned;
  for (int i = 0; i < n; ++i) {
    values[i] = params[i].data();
    if (!values[i]) continue;
    const size_t length = static_cast<size_t>(params[i].length());
    // PostgreSQL text cannot hold NUL: refuse rather than truncate.
    if (std::memchr(values[i], 0, length)) {
      return Error::InvalidArgument(
          "invalid_text", "text with a NUL character cannot be stored");
    }
    if (!params[i].terminated()) {
      values[i] = owned[i].assign(values[i], length).c_str();
    }
  }
  return Check(PQexecPrepared(c_, st.name, n, values.data(), nullptr, nullptr,
                              0),
               st.name);
}

void ArrayBuilder::Sep() {
  if (n_++ > 0) s_ += ',';
}

void ArrayBuilder::Add(std::string_view v) {
  Sep();
  s_ += '"';
  size_t run = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '"' || v[i] == '\\') {
      s_.append(v.data() + run, i - run);
      s_ += '\\';
      run = i;
    }
  }
  s_.append(v.data() + run, v.size() - run);
  s_ += '"';
}

void ArrayBuilder::Add(int64_t v) {
  Sep();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  s_.append(buf, end);
}

void ArrayBuilder::AddNull() {
  Sep();
  s_ += "NULL";
}

std::string ArrayBuilder::Take() {
  std::string out = std::move(s_);
  out += '}';
  s_ = "{";
  n_ = 0;
  return out;
}

Transaction::Transaction(Conn* c, const char* begin)
    : c_(c), begun_(c->Exec(begin)) {
  open_ = begun_.ok();
}

Transaction::~Transaction() {
  if (open_ && c_->healthy()) (void)c_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  Status st = c_->Exec("COMMIT");
  if (st.ok()) open_ = false;
  return st;
}

}  // namespace galsync::pg
