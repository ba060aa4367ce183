// Tests against a real PostgreSQL: the throwaway server of
// scripts/pg-test-server.sh, and a fresh schema per test in it.
//
// Under ctest the server is started once for the whole run by the
// PostgresServer.Start fixture (CMakeLists.txt); a test binary run by hand
// starts its own on first use and stops it when it exits.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>

namespace galsync::testing {

// The stores a parameterized test runs over.
enum class StoreBackend { kSqlite, kPostgres };

inline const char* BackendName(StoreBackend b) {
  return b == StoreBackend::kSqlite ? "Sqlite" : "Postgres";
}
inline void PrintTo(StoreBackend b, std::ostream* os) { *os << BackendName(b); }

// INSTANTIATE_TEST_SUITE_P(Backends, Fixture, kBothStores, StoreBackendName)
inline const auto kBothStores =
    ::testing::Values(StoreBackend::kSqlite, StoreBackend::kPostgres);
inline std::string StoreBackendName(
    const ::testing::TestParamInfo<StoreBackend>& info) {
  return BackendName(info.param);
}

// The postgresql:// URI of the test server (no database options). Fails
// the test and returns "" if no server can be started.
const std::string& PostgresServerUri();

// Makes a fresh schema in the test server and returns the server's URI with
// search_path set to it; the schema lives as long as the server.
// In `server` (default: the test server).
std::string NewPgSchemaUri(std::string* name = nullptr,
                           const std::string& server = PostgresServerUri());

// Whether this run tests the servers over PostgreSQL: ctest runs the
// server tests a second time with GALSYNC_TEST_STORE=postgresql, and then
// ServerProcess gives each data directory a schema of its own.
bool ServersUsePostgres();

// A schema of its own in the test server, dropped when this goes. Stores
// opened with uri() create their tables in it, so tests never share data.
class PgSchema {
 public:
  // In `server` (a postgresql:// URI; default: the test server).
  explicit PgSchema(const std::string& server = PostgresServerUri());
  ~PgSchema();
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;

  const std::string& name() const { return name_; }
  // The server's URI with search_path set to this schema.
  const std::string& uri() const { return uri_; }
  // Runs SQL in this schema; fails the test on error.
  void Exec(const std::string& sql) const;

 private:
  std::string server_;
  std::string name_;
  std::string uri_;
};

// A throwaway PostgreSQL of a test's own (not the shared test server), for
// tests that stop, pause or replicate their server: a primary, or a
// streaming replica (hot standby) of one. Stopped and removed when it goes.
class ThrowawayPostgres {
 public:
  // Fails the test and returns null if the server cannot be started.
  static std::unique_ptr<ThrowawayPostgres> Primary();
  static std::unique_ptr<ThrowawayPostgres> ReplicaOf(
      const ThrowawayPostgres& primary);
  ~ThrowawayPostgres();
  ThrowawayPostgres(const ThrowawayPostgres&) = delete;
  ThrowawayPostgres& operator=(const ThrowawayPostgres&) = delete;

  const std::string& uri() const { return uri_; }
  // Runs SQL and returns the first column of the first row ("" if none);
  // fails the test on error.
  std::string Query(const std::string& sql) const;
  // Stops the server now (immediate shutdown) and removes its data.
  void Stop();

 private:
  ThrowawayPostgres() = default;
  static std::unique_ptr<ThrowawayPostgres> Start(
      const std::string& command, const std::string& primary_state);

  std::string state_;  // the script's state directory
  std::string uri_;
};

}  // namespace galsync::testing
