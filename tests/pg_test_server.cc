#include "pg_test_server.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>


namespace galsync::testing {
namespace {

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

bool Answers(const std::string& uri) {
  return !uri.empty() && PQping(uri.c_str()) == PQPING_OK;
}

// Runs SQL on `uri` and returns the first column of the first row ("" if
// none); fails the test on error.
std::string RunSql(const std::string& uri, const std::string& sql) {
  PGconn* c = PQconnectdb(uri.c_str());
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  PGresult* r = PQexec(c, sql.c_str());
  const auto st = PQresultStatus(r);
  EXPECT_TRUE(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
      << sql << ": " << PQerrorMessage(c);
  std::string out;
  if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0) {
    out = PQgetvalue(r, 0, 0);
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

// The server this process started, if it had to; stopped at exit.
ThrowawayPostgres* own_server = nullptr;

std::string StartServer() {
  // The ctest fixture's server.
  std::string uri = ReadLine(std::string(GALSYNC_PG_TEST_STATE) + "/conninfo");
  if (Answers(uri)) return uri;
  // Our own.
  own_server = ThrowawayPostgres::Primary().release();
  if (own_server == nullptr) return "";
  std::atexit([] { delete own_server; });
  return Answers(own_server->uri()) ? own_server->uri() : "";
}

}  // namespace

const std::string& PostgresServerUri() {
  static std::once_flag once;
  static std::string uri;
  std::call_once(once, [] { uri = StartServer(); });
  if (uri.empty()) {
    ADD_FAILURE() << "no PostgreSQL test server: " << GALSYNC_PG_TEST_SCRIPT
                  << " could not start one (is postgresql-15 installed?)";
  }
  return uri;
}

std::string NewPgSchemaUri(std::string* name_out, const std::string& server) {
  static std::atomic<int> counter{0};
  const std::string name =
      "t" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  if (name_out) *name_out = name;
  if (server.empty()) return "";
  RunSql(server, "DROP SCHEMA IF EXISTS " + name + " CASCADE; CREATE SCHEMA " +
                     name);
  return server + "?options=-csearch_path%3D" + name;
}

bool ServersUsePostgres() {
  const char* v = std::getenv("GALSYNC_TEST_STORE");
  return v && std::string_view(v) == "postgresql";
}

PgSchema::PgSchema(const std::string& server) : server_(server) {
  uri_ = NewPgSchemaUri(&name_, server_);
}

PgSchema::~PgSchema() {
  if (!uri_.empty()) RunSql(server_, "DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
}

void PgSchema::Exec(const std::string& sql) const { RunSql(uri_, sql); }

// `command` is the script's: "start", or "replica" with the primary's
// state directory after ours.
std::unique_ptr<ThrowawayPostgres> ThrowawayPostgres::Start(
    const std::string& command, const std::string& primary_state) {
  std::unique_ptr<ThrowawayPostgres> pg(new ThrowawayPostgres);
  char tmpl[] = "/tmp/galsync-pgstate.XXXXXX";
  if (!mkdtemp(tmpl)) {
    ADD_FAILURE() << "mkdtemp failed";
    return nullptr;
  }
  pg->state_ = tmpl;
  std::string cmd = std::string("GALSYNC_PG_FAST=1 ") +
                    GALSYNC_PG_TEST_SCRIPT + " " + command + " '" +
                    pg->state_ + "'";
  if (!primary_state.empty()) cmd += " '" + primary_state + "'";
  cmd += " >/dev/null";
  if (std::system(cmd.c_str()) != 0) {
    ADD_FAILURE() << "could not start a PostgreSQL server: " << cmd;
    return nullptr;
  }
  pg->uri_ = ReadLine(pg->state_ + "/conninfo");
  return pg;
}

std::unique_ptr<ThrowawayPostgres> ThrowawayPostgres::Primary() {
  return Start("start", "");
}

std::unique_ptr<ThrowawayPostgres> ThrowawayPostgres::ReplicaOf(
    const ThrowawayPostgres& primary) {
  return Start("replica", primary.state_);
}

ThrowawayPostgres::~ThrowawayPostgres() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(state_, ec);
}

void ThrowawayPostgres::Stop() {
  const std::string cmd = std::string(GALSYNC_PG_TEST_SCRIPT) + " stop '" +
                          state_ + "' >/dev/null 2>&1";
  (void)std::system(cmd.c_str());
}

std::string ThrowawayPostgres::Query(const std::string& sql) const {
  return RunSql(uri_, sql);
}

}  // namespace galsync::testing
