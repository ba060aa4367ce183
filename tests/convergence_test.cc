// The convergence test of the sync client (design invariants 1, 2, 3 and 6
// end to end): a real galsyncd, writer threads doing random adds, updates
// (with bursts on the same contacts), deletes and batches, and several
// `galsync sync` processes per replica with random page sizes, some killed
// with SIGKILL at random moments and restarted; halfway, every tombstone is
// purged so that clients behind the horizon go through a 410 full resync.
// At the end every replica must equal the server's live set exactly.
//
// The same chaos runs against two galsyncd over one PostgreSQL behind a
// round-robin load balancer: writers on both, each client run reaching
// whichever server the balancer picks.
//
// Each runs for ~8 s; GALSYNC_SOAK_SECONDS=N runs the chaos for N seconds.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <random>
#include <thread>

#include "galsync/replica.h"
#include "pg_test_server.h"
#include "test_util.h"

namespace galsync::testing {
namespace {

namespace json = boost::json;
const std::string kD = "/v1/domains/example.com";
constexpr int kIds = 300;

json::object RandomPerson(std::mt19937_64& rng, const std::string& id) {
  static const char* kGiven[] = {"Ann", "José", "Łukasz", "Пётр", "Zoë", "Li"};
  static const char* kFamily[] = {"Smith", "Álvarez", "Øster", "O'Brien"};
  json::object o;
  o["id"] = id;
  o["name"] = {{"given", kGiven[rng() % 6]}, {"family", kFamily[rng() % 4]}};
  o["emails"] = json::array{json::object{
      {"address", id + "." + std::to_string(rng() % 1000) + "@example.com"}}};
  if (rng() % 2) o["title"] = "Title " + std::to_string(rng() % 100);
  return o;
}

void Writer(uint16_t port, std::string key, uint64_t seed,
            const std::atomic<bool>& stop, std::atomic<uint64_t>& writes) {
  HttpClient c(port, key);
  std::mt19937_64 rng(seed);
  auto id_of = [&] { return "p" + std::to_string(rng() % kIds); };
  while (!stop) {
    int dice = static_cast<int>(rng() % 100);
    if (dice < 50) {
      std::string id = id_of();
      c.Put(kD + "/contacts/" + id, json::serialize(RandomPerson(rng, id)));
    } else if (dice < 65) {
      std::string id = id_of();  // a burst on one contact
      for (int i = 0; i < 5; ++i) {
        c.Put(kD + "/contacts/" + id, json::serialize(RandomPerson(rng, id)));
      }
    } else if (dice < 90) {
      c.Delete(kD + "/contacts/" + id_of());
    } else {
      json::array changes;
      for (int i = 0; i < 20; ++i) {
        std::string id = id_of();
        if (rng() % 3 == 0) {
          changes.push_back({{"op", "delete"}, {"id", id}});
        } else {
          changes.push_back({{"op", "upsert"}, {"contact", RandomPerson(rng, id)}});
        }
      }
      c.Post(kD + "/contacts:batch",
             json::serialize(json::object{{"changes", changes}}));
    }
    ++writes;
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
  }
}

// The longest a client's sync run may take before it is killed.
constexpr auto kLongestRun = std::chrono::seconds(1);

struct ClientStats {
  int runs = 0;
  int killed = 0;
  int failed = 0;  // runs that were not killed and did not exit 0
};

// Runs `galsync sync` on `replica` again and again until `stop`, killing a
// share of the runs at a random moment.
void Client(const std::string& replica, uint64_t seed,
            const std::atomic<bool>& stop, ClientStats& stats) {
  std::mt19937_64 rng(seed);
  static const char* kLimits[] = {"1", "3", "17", "100", "1000"};
  while (!stop) {
    pid_t pid = SpawnQuiet(GALSYNC_CLI_PATH,
                           {"--replica", replica, "sync", "--quiet", "--limit",
                            kLimits[rng() % 5]});
    // Four runs in ten are killed at a random moment. A run with a small
    // page size can chase the writers for as long as they write (has_more
    // stays true): the others are killed after kLongestRun, so that every
    // seed gives the chaos many runs.
    const auto give_up =
        std::chrono::steady_clock::now() +
        (rng() % 10 < 4 ? std::chrono::microseconds(rng() % 150000)
                        : std::chrono::microseconds(kLongestRun));
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= give_up) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ++stats.runs;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      ++stats.killed;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++stats.failed;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 20));
  }
}


// The chaos: writers on `write_ports` (in turn), replicas synced through
// `client_port`, administered through `admin`.
void RunChaos(const std::vector<uint16_t>& write_ports, uint16_t client_port,
              HttpClient& admin) {
  int seconds = 8;
  if (const char* soak = std::getenv("GALSYNC_SOAK_SECONDS")) {
    seconds = std::max(1, std::atoi(soak));
  }
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  TempDir client_dir;
  ASSERT_EQ(admin.Post("/v1/domains", R"({"name":"example.com"})").status, 201);
  // Writers and clients use keys of the domain, as in production.
  auto make_key = [&](const char* scopes) {
    auto res = admin.Post("/v1/domains/example.com/keys",
                          std::string(R"({"scopes":)") + scopes + "}");
    EXPECT_EQ(res.status, 201) << res.body;
    return std::string(res.json().at("key").as_string());
  };
  const std::string write_key = make_key(R"(["read","write"])");
  const std::string read_key = make_key(R"(["read"])");

  // kClients replicas synced during the chaos, and a laggard: synced once
  // before it and not again until the end, so its token is older than the
  // purge's horizon and it surely goes through a 410 resync (whether the
  // others do depends on where they stand when the purge lands).
  constexpr int kClients = 4;  // plus the laggard
  std::vector<std::string> replicas;
  for (int i = 0; i <= kClients; ++i) {
    replicas.push_back(client_dir.file("r" + std::to_string(i) + ".db"));
    auto r = RunProgram(GALSYNC_CLI_PATH,
                        {"--replica", replicas.back(), "init", "--server",
                         "http://127.0.0.1:" + std::to_string(client_port),
                         "--domain", "example.com", "--key", read_key});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  const std::string& laggard = replicas[kClients];
  {
    auto r = RunProgram(GALSYNC_CLI_PATH,
                        {"--replica", laggard, "sync", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  std::atomic<bool> stop_writers{false}, stop_clients{false};
  std::atomic<uint64_t> writes{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 3; ++w) {
    threads.emplace_back(Writer, write_ports[w % write_ports.size()],
                         write_key, seed + w,
                         std::cref(stop_writers), std::ref(writes));
  }
  std::vector<ClientStats> stats(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(Client, replicas[i], seed + 100 + i,
                         std::cref(stop_clients), std::ref(stats[i]));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(seconds * 500));
  // Every tombstone so far is purged: replicas whose token is older get
  // 410 token_expired and must resync from scratch.
  auto purge = admin.Post(kD + "/purge?older_than=0", "");
  ASSERT_EQ(purge.status, 200) << purge.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(seconds * 500));
  stop_writers = true;
  for (auto& t : threads) t.join();
  stop_clients = true;
  for (auto& t : clients) t.join();

  const auto expected = ServerLiveSet(admin, kD);
  ASSERT_FALSE(expected.empty());
  int resynced = 0;
  for (int i = 0; i <= kClients; ++i) {
    SCOPED_TRACE(replicas[i]);
    // One last, uninterrupted sync.
    auto r = RunProgram(GALSYNC_CLI_PATH,
                        {"--replica", replicas[i], "sync", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto replica = Replica::Open(replicas[i]);
    ASSERT_TRUE(replica.ok());
    std::map<std::string, std::string> live;
    ASSERT_TRUE((*replica)
                    ->ForEach([&](std::string_view id, std::string_view j) {
                      live.emplace(id, j);
                      return true;
                    })
                    .ok());
    EXPECT_EQ(live.size(), expected.size());
    EXPECT_TRUE(live == expected) << "replica differs from the server";
    const bool went_through_410 = (*replica)->State()->generation >= 2;
    if (went_through_410) ++resynced;
    if (i == kClients) {
      EXPECT_TRUE(went_through_410) << "the laggard was not sent a 410";
      continue;
    }
    EXPECT_EQ(stats[i].failed, 0);
    EXPECT_GE(stats[i].runs, 1);
  }
  int killed = 0, runs = 0;
  for (auto& s : stats) {
    killed += s.killed;
    runs += s.runs;
  }
  EXPECT_GT(runs, 3 * kClients);
  EXPECT_GT(killed, 0);
  ::testing::Test::RecordProperty("writes", static_cast<int>(writes.load()));
  ::testing::Test::RecordProperty("killed", killed);
  std::printf("convergence: %llu writes, %d client runs killed, %d replicas "
              "resynced after 410, %zu live contacts\n",
              static_cast<unsigned long long>(writes.load()), killed, resynced,
              expected.size());
}

TEST(ConvergenceTest, EveryReplicaEqualsTheServerAfterChaos) {
  TempDir server_dir;
  ServerProcess server(server_dir.path(), {"--durability", "normal"});
  HttpClient admin(server);
  RunChaos({server.port()}, server.port(), admin);
}

TEST(ConvergenceTest, EveryReplicaEqualsTheServersBehindALoadBalancer) {
  PgSchema pg;
  TempDir dir_a, dir_b;
  ServerProcess a(dir_a.path(), {"--store", pg.uri()});
  ServerProcess b(dir_b.path(), {"--store", pg.uri()});
  RoundRobinProxy balancer({a.port(), b.port()});
  HttpClient admin(a);
  RunChaos({a.port(), b.port()}, balancer.port(), admin);
}

}  // namespace
}  // namespace galsync::testing
