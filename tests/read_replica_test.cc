// galsyncd reading from a streaming replica (--read-replica): a real
// PostgreSQL primary and hot standby of the test's own. Pages, long-polls
// and search are served from the replica; a replica behind the reader
// never sends it back or leaves it stalled; a replica that goes away is
// replaced by the primary; a URI that is not a replica is refused.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "pg_test_server.h"
#include "test_util.h"

namespace galsync::testing {
namespace {

namespace json = boost::json;
using std::chrono::steady_clock;
const std::string kD = "/v1/domains/example.com";

// Syncs `r` through `c` until the server says there is no more.
void SyncAll(HttpClient& c, PageReplica& r) {
  for (int i = 0; i < 1000 && SyncStep(c, r, kD, 100); ++i) {
  }
}

// Syncs `r` through `c` until it holds contact `id` (a server hears of
// another's commit a moment after it returns), for at most 10 s.
bool SyncUntilItHas(HttpClient& c, PageReplica& r, const std::string& id) {
  return Eventually([&] {
    SyncAll(c, r);
    return r.contacts.count(id) == 1;
  });
}

class ReadReplicaTest : public ::testing::Test {
 protected:
  // One primary and one replica for the suite; a schema per test.
  static void SetUpTestSuite() {
    primary_ = ThrowawayPostgres::Primary().release();
    if (primary_) replica_ = ThrowawayPostgres::ReplicaOf(*primary_).release();
  }
  static void TearDownTestSuite() {
    delete replica_;
    delete primary_;
    replica_ = primary_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(primary_, nullptr);
    ASSERT_NE(replica_, nullptr);
    schema_ = std::make_unique<PgSchema>(primary_->uri());
    store_ = schema_->uri();
  }

  // A server on the primary alone (it makes the admin key).
  ServerProcess& OnPrimary() { return Start({"--store", store_}); }
  // A server whose scans read `replica` (default: the suite's).
  ServerProcess& OnReplica(std::vector<std::string> more = {},
                           const ThrowawayPostgres* replica = nullptr) {
    std::vector<std::string> args{"--store", store_, "--read-replica",
                                  (replica ? replica : replica_)->uri()};
    args.insert(args.end(), more.begin(), more.end());
    return Start(std::move(args));
  }
  ServerProcess& Start(std::vector<std::string> args) {
    dirs_.push_back(std::make_unique<TempDir>());
    servers_.push_back(
        std::make_unique<ServerProcess>(dirs_.back()->path(), std::move(args)));
    return *servers_.back();
  }
  const std::string& admin_key() const { return servers_[0]->admin_key(); }

  static void PauseReplay() {
    replica_->Query("SELECT pg_wal_replay_pause()");
    ASSERT_TRUE(Eventually([] {
      return replica_->Query("SELECT pg_get_wal_replay_pause_state()") ==
             "paused";
    }));
  }
  static void ResumeReplay() {
    replica_->Query("SELECT pg_wal_replay_resume()");
  }
  // A test that failed with replay paused leaves the replica usable.
  void TearDown() override {
    if (replica_) ResumeReplay();
  }

  static ThrowawayPostgres* primary_;
  static ThrowawayPostgres* replica_;
  std::unique_ptr<PgSchema> schema_;  // on the primary
  std::string store_;                 // its URI
  std::vector<std::unique_ptr<TempDir>> dirs_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
};

ThrowawayPostgres* ReadReplicaTest::primary_ = nullptr;
ThrowawayPostgres* ReadReplicaTest::replica_ = nullptr;

TEST_F(ReadReplicaTest, ServesPagesLongPollsAndSearchFromTheReplica) {
  ServerProcess& a = OnPrimary();
  ServerProcess& b = OnReplica();
  HttpClient on_a(a.port(), admin_key()), on_b(b.port(), admin_key());
  ASSERT_EQ(on_a.Post("/v1/domains", R"({"name":"example.com"})").status, 201);
  for (int i = 0; i < 30; ++i) {
    const std::string id = "p" + std::to_string(i);
    ASSERT_EQ(
        on_a.Put(kD + "/contacts/" + id, ContactJson(id, "Pat", "Doe")).status,
        201);
  }
  ASSERT_EQ(on_a.Delete(kD + "/contacts/p3").status, 200);

  // A full sync from B, with small pages, holds what A holds.
  // (B may hear of A's last commit a moment after it returns: sync until
  // then.)
  PageReplica from_b;
  EXPECT_TRUE(Eventually([&] {
    SyncAll(on_b, from_b);
    return from_b.contacts.count("p3") == 0 && from_b.contacts.size() == 29;
  }));
  EXPECT_TRUE(from_b.ordered);
  EXPECT_EQ(from_b.contacts, ServerLiveSet(on_a, kD));
  EXPECT_EQ(from_b.contacts.size(), 29u);

  // A long-poll on B wakes when A commits, and the page it answers has the
  // change: B waits for the replica to replay it rather than answer empty.
  for (int round = 0; round < 5; ++round) {
    const std::string id = "late" + std::to_string(round);
    auto waiting = std::async(std::launch::async, [&] {
      HttpClient c(b.port(), admin_key());
      return c.Get(kD + "/changes?wait=30&token=" + from_b.token);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_EQ(
        on_a.Put(kD + "/contacts/" + id, ContactJson(id, "Lee", "Late")).status,
        201);
    auto woke = waiting.get();
    ASSERT_EQ(woke.status, 200) << woke.body;
    from_b.Apply(woke.body);
    EXPECT_EQ(from_b.contacts.count(id), 1u) << woke.body;
  }

  // What B writes goes to the primary; B's next page, read on the replica,
  // has it (B waits for the replica to replay its own commit).
  ASSERT_EQ(
      on_b.Put(kD + "/contacts/own", ContactJson("own", "Oona", "Own")).status,
      201);
  SyncAll(on_b, from_b);
  EXPECT_EQ(from_b.contacts.count("own"), 1u);
  EXPECT_TRUE(from_b.ordered);
  EXPECT_EQ(from_b.contacts, ServerLiveSet(on_a, kD));

  // B's search index follows the replica.
  ASSERT_EQ(
      on_a.Put(kD + "/contacts/zed", ContactJson("zed", "Zelda", "Zephyr"))
          .status,
      201);
  EXPECT_TRUE(
      Eventually([&] { return SearchFinds(on_b, kD, "zel%20zep", "zed"); }));
}

// With replay paused the replica is behind what B hears from the primary.
// B must then neither send a reader back (a token ahead of the replica
// answered from the replica's older snapshot would move it back) nor answer
// a reader with an empty page while it knows of changes: it waits for the
// replica, and after --replica-wait answers 503 replica_behind. Once replay
// resumes, pages, long-polls and search catch up without another write.
TEST_F(ReadReplicaTest, AReplicaBehindNeverSendsAReaderBack) {
  ServerProcess& a = OnPrimary();
  ServerProcess& b = OnReplica({"--replica-wait", "2s"});
  HttpClient on_a(a.port(), admin_key()), on_b(b.port(), admin_key());
  ASSERT_EQ(on_a.Post("/v1/domains", R"({"name":"example.com"})").status, 201);
  ASSERT_EQ(
      on_a.Put(kD + "/contacts/c1", ContactJson("c1", "Cora", "One")).status,
      201);
  PageReplica at_c1;  // B serves c1: the replica has replayed it
  ASSERT_TRUE(SyncUntilItHas(on_b, at_c1, "c1"));

  PauseReplay();
  ASSERT_EQ(
      on_a.Put(kD + "/contacts/c2", ContactJson("c2", "Cato", "Two")).status,
      201);
  PageReplica at_c2 = at_c1;
  SyncAll(on_a, at_c2);  // a token past c2, from the primary
  ASSERT_EQ(at_c2.contacts.count("c2"), 1u);
  ASSERT_EQ(
      on_a.Put(kD + "/contacts/c3", ContactJson("c3", "Cleo", "Three")).status,
      201);
  ASSERT_EQ(
      on_a.Put(kD + "/contacts/c4", ContactJson("c4", "Cyra", "Four")).status,
      201);
  // A token at c4, from the primary, makes sure B knows of c4: B checks a
  // token ahead of what it has heard against the primary, and then
  // answers it from memory (up to date).
  PageReplica at_c4 = at_c2;
  SyncAll(on_a, at_c4);
  ASSERT_EQ(at_c4.contacts.count("c4"), 1u);
  auto echo = on_b.Get(kD + "/changes?token=" + at_c4.token);
  ASSERT_EQ(echo.status, 200) << echo.body;
  ASSERT_EQ(echo.json().at("changes").as_array().size(), 0u) << echo.body;

  // Behind both readers' positions' next changes: refused, not served.
  for (PageReplica* r : {&at_c1, &at_c2}) {
    auto t0 = steady_clock::now();
    auto page = on_b.Get(kD + "/changes?token=" + r->token);
    EXPECT_EQ(page.status, 503) << page.body;
    EXPECT_EQ(page.error_code(), "replica_behind") << page.body;
    EXPECT_GE(steady_clock::now() - t0, std::chrono::milliseconds(1500));
  }

  // A page asked for while the replica is behind is answered once it
  // catches up, within --replica-wait.
  auto asked = std::async(std::launch::async, [&] {
    HttpClient c(b.port(), admin_key());
    return c.Get(kD + "/changes?wait=30&token=" + at_c2.token);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ResumeReplay();
  auto page = asked.get();
  ASSERT_EQ(page.status, 200) << page.body;
  at_c2.Apply(page.body);
  EXPECT_EQ(at_c2.contacts.count("c3"), 1u) << page.body;

  SyncAll(on_b, at_c1);
  SyncAll(on_b, at_c2);
  for (PageReplica* r : {&at_c1, &at_c2}) {
    EXPECT_TRUE(r->ordered);
    EXPECT_EQ(r->contacts, ServerLiveSet(on_a, kD));
  }
  // B's search index was behind too; it catches up with no further write.
  EXPECT_TRUE(Eventually([&] { return SearchFinds(on_b, kD, "cyra", "c4"); }));
}

// A full sync paged across servers: its first page, from the primary, sets
// the floor below which tombstones are not sent (deletes before that
// snapshot). A later page from an older replica snapshot could send a
// contact deleted below the floor, whose delete no page would then send:
// such a page is refused until the replica has replayed the floor.
TEST_F(ReadReplicaTest, AFullSyncNeverContinuesFromAnOlderSnapshot) {
  ServerProcess& a = OnPrimary();
  ServerProcess& b = OnReplica({"--replica-wait", "1s"});
  HttpClient on_a(a.port(), admin_key()), on_b(b.port(), admin_key());
  ASSERT_EQ(on_a.Post("/v1/domains", R"({"name":"example.com"})").status, 201);
  for (const char* id : {"a", "b", "x"}) {
    ASSERT_EQ(
        on_a.Put(kD + "/contacts/" + id, ContactJson(id, "Al", "Pha")).status,
        201);
  }
  PageReplica seen;  // B serves x: the replica has replayed it
  ASSERT_TRUE(SyncUntilItHas(on_b, seen, "x"));
  PauseReplay();
  ASSERT_EQ(on_a.Delete(kD + "/contacts/x").status, 200);
  ASSERT_EQ(on_a.Put(kD + "/contacts/d", ContactJson("d", "Del", "Ta")).status,
            201);

  PageReplica full;
  ASSERT_TRUE(SyncStep(on_a, full, kD, 1));  // "a", floor past x's delete
  auto page = on_b.Get(kD + "/changes?limit=1&token=" + full.token);
  EXPECT_EQ(page.status, 503) << page.body;
  EXPECT_EQ(page.error_code(), "replica_behind") << page.body;

  ResumeReplay();
  for (int i = 0; i < 100 && SyncStep(on_b, full, kD, 1); ++i) {
  }
  EXPECT_TRUE(full.ordered);
  EXPECT_EQ(full.contacts.count("x"), 0u);
  EXPECT_EQ(full.contacts, ServerLiveSet(on_a, kD));
}

TEST_F(ReadReplicaTest, ScansFallBackToThePrimaryWhenTheReplicaIsGone) {
  auto own_replica = ThrowawayPostgres::ReplicaOf(*primary_);
  ASSERT_NE(own_replica, nullptr);
  ServerProcess& a = OnPrimary();
  HttpClient on_a(a.port(), admin_key());
  ASSERT_EQ(on_a.Post("/v1/domains", R"({"name":"example.com"})").status, 201);
  ServerProcess& b = OnReplica({}, own_replica.get());
  HttpClient on_b(b.port(), admin_key());
  ASSERT_EQ(
      on_a.Put(kD + "/contacts/c1", ContactJson("c1", "Cora", "One")).status,
      201);
  // (B may hear of A's commit a moment after it returns: sync until then.)
  PageReplica r;
  EXPECT_TRUE(SyncUntilItHas(on_b, r, "c1"));

  own_replica->Stop();
  ASSERT_EQ(
      on_a.Put(kD + "/contacts/c2", ContactJson("c2", "Cato", "Two")).status,
      201);
  EXPECT_TRUE(SyncUntilItHas(on_b, r, "c2"));
  EXPECT_TRUE(r.ordered);
  EXPECT_EQ(r.contacts, ServerLiveSet(on_a, kD));
  EXPECT_TRUE(Eventually([&] { return SearchFinds(on_b, kD, "cato", "c2"); }));
}

TEST_F(ReadReplicaTest, RefusesAReplicaThatIsNotOne) {
  TempDir dir;
  // The primary itself is not a standby.
  auto r = RunGalsyncd({"--data-dir", dir.path(), "--listen", "127.0.0.1:0",
                        "--store", store_, "--read-replica", primary_->uri()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("not a standby"), std::string::npos) << r.output;
  // A standby of another primary holds no galsync store in this schema.
  auto other = ThrowawayPostgres::Primary();
  ASSERT_NE(other, nullptr);
  auto other_replica = ThrowawayPostgres::ReplicaOf(*other);
  ASSERT_NE(other_replica, nullptr);
  r = RunGalsyncd({"--data-dir", dir.path(), "--listen", "127.0.0.1:0",
                   "--store", store_, "--read-replica", other_replica->uri()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("is it a replica of this database"),
            std::string::npos)
      << r.output;
  // Only the PostgreSQL store has replicas.
  r = RunGalsyncd(
      {"--data-dir", dir.path(), "--read-replica", replica_->uri()});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--read-replica needs a PostgreSQL --store"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace galsync::testing
