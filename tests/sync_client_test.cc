// The sync client against a real galsyncd: first sync, deltas, deletes,
// paging, the 410 paths, server down and back, follow mode; against a
// hostile server that answers garbage (the replica stays untouched); and the
// `galsync` CLI end to end with its exit codes.
#include "galsync/sync_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "galsync/replica.h"
#include "test_util.h"

namespace galsync::testing {
namespace {

namespace json = boost::json;
const std::string kD = "/v1/domains/example.com";

std::string Person(const std::string& id, const std::string& given) {
  json::object o;
  o["id"] = id;
  o["name"] = {{"given", given}, {"family", "Smith"}};
  o["emails"] = json::array{json::object{{"address", id + "@example.com"}}};
  return json::serialize(o);
}

std::map<std::string, std::string> ReplicaLive(Replica& r) {
  std::map<std::string, std::string> out;
  EXPECT_TRUE(r.ForEach([&](std::string_view id, std::string_view j) {
                 out.emplace(id, j);
                 return true;
               }).ok());
  return out;
}

// The server's live set, read through a full sync of the feed.

RunResult Cli(const std::vector<std::string>& args) {
  return RunProgram(GALSYNC_CLI_PATH, args);
}

class SyncClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartServer();
    ASSERT_EQ(http_->Post("/v1/domains", R"({"name":"example.com"})").status,
              201);
    OpenReplica();
  }
  void StartServer(std::vector<std::string> args = {}, uint16_t port = 0) {
    http_.reset();
    args.insert(args.begin(), {"--durability", "normal"});
    if (port != 0) {
      args.push_back("--listen");
      args.push_back("127.0.0.1:" + std::to_string(port));
    }
    server_ = std::make_unique<ServerProcess>(server_dir_.path(), args);
    ASSERT_NE(server_->port(), 0);
    http_ = std::make_unique<HttpClient>(*server_);
  }
  // A read-only key of `domain` made by the admin; the admin's own key for
  // a domain that does not exist (which can have no keys).
  std::string ReadKey(const std::string& domain = "example.com") {
    auto res = http_->Post("/v1/domains/" + domain + "/keys",
                           R"({"scopes":["read"],"name":"test client"})");
    if (res.status != 201) return server_->admin_key();
    return std::string(res.json().at("key").as_string());
  }
  void OpenReplica(const std::string& domain = "example.com") {
    client_.reset();
    replica_.reset();
    auto r = Replica::Open(client_dir_.file("replica.db"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    replica_ = std::move(*r);
    ASSERT_TRUE(replica_
                    ->SetConfig({"http://127.0.0.1:" +
                                     std::to_string(server_->port()),
                                 domain, ReadKey(domain), ""})
                    .ok());
    auto c = SyncClient::Create(*replica_);
    ASSERT_TRUE(c.ok()) << c.error().message;
    client_ = std::move(*c);
  }
  void Put(const std::string& id, const std::string& given = "Ann") {
    ASSERT_EQ(http_->Put(kD + "/contacts/" + id, Person(id, given)).status / 100,
              2);
  }
  void Delete(const std::string& id) {
    ASSERT_EQ(http_->Delete(kD + "/contacts/" + id).status, 200);
  }
  SyncReport Sync(uint32_t limit = 1000) {
    SyncOptions o;
    o.page_limit = limit;
    auto r = client_->SyncOnce(o);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : SyncReport{};
  }

  TempDir server_dir_, client_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<Replica> replica_;
  std::unique_ptr<SyncClient> client_;
};

TEST_F(SyncClientTest, FirstSyncThenDeltasWithDeletesAndPaging) {
  for (int i = 0; i < 25; ++i) Put("p" + std::to_string(i));
  SyncReport first = Sync(/*limit=*/7);
  EXPECT_TRUE(first.full_sync);
  EXPECT_EQ(first.changes, 25u);
  EXPECT_EQ(first.pages, 4u);  // 7 + 7 + 7 + 4
  EXPECT_GT(first.bytes, 0u);
  EXPECT_EQ(ReplicaLive(*replica_), ServerLiveSet(*http_, kD));
  EXPECT_FALSE(replica_->State()->incarnation.empty());

  // Nothing changed: one request, nothing applied.
  SyncReport idle = Sync();
  EXPECT_FALSE(idle.full_sync);
  EXPECT_EQ(idle.changes, 0u);
  EXPECT_EQ(idle.pages, 1u);

  Put("p3", "Bea");
  Put("p3", "Cleo");  // compacted: arrives once
  Put("p30");
  Delete("p4");
  Delete("p5");
  SyncReport delta = Sync(/*limit=*/2);
  EXPECT_FALSE(delta.full_sync);
  EXPECT_EQ(delta.upserts, 2u);
  EXPECT_EQ(delta.deletes, 2u);
  EXPECT_EQ(delta.pages, 2u);
  auto live = ReplicaLive(*replica_);
  EXPECT_EQ(live, ServerLiveSet(*http_, kD));
  EXPECT_EQ(live.size(), 24u);
  EXPECT_NE(live["p3"].find("Cleo"), std::string::npos);
  EXPECT_EQ(live.count("p4"), 0u);
  EXPECT_GT(replica_->State()->last_success_us, 0);
}

TEST_F(SyncClientTest, ExpiredTokenMeansAFullResync) {
  for (int i = 0; i < 10; ++i) Put("p" + std::to_string(i));
  Sync();
  Delete("p1");
  Put("p2", "Dora");
  // Purging every tombstone moves the horizon past the replica's token.
  ASSERT_EQ(http_->Post(kD + "/purge?older_than=0", "").status, 200);
  SyncReport r = Sync();
  EXPECT_TRUE(r.full_sync);
  EXPECT_EQ(r.resync_reason, "token_expired");
  EXPECT_EQ(ReplicaLive(*replica_), ServerLiveSet(*http_, kD));
  EXPECT_EQ(replica_->State()->generation, 2u);
}

TEST_F(SyncClientTest, RestoredStoreMeansAFullResync) {
  for (int i = 0; i < 10; ++i) Put("p" + std::to_string(i));
  Sync();
  std::string incarnation = replica_->State()->incarnation;
  uint16_t port = server_->port();
  server_.reset();
  StartServer({"--new-incarnation"}, port);
  Put("p11");
  SyncReport r = Sync();
  EXPECT_TRUE(r.full_sync);
  EXPECT_EQ(r.resync_reason, "store_restored");
  EXPECT_EQ(ReplicaLive(*replica_), ServerLiveSet(*http_, kD));
  EXPECT_NE(replica_->State()->incarnation, incarnation);
}

TEST_F(SyncClientTest, ServerDownAndBack) {
  for (int i = 0; i < 5; ++i) Put("p" + std::to_string(i));
  Sync();
  std::string token = replica_->State()->token;
  uint16_t port = server_->port();
  server_->Kill(SIGKILL);
  auto r = client_->SyncOnce({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(r.error().reason, "unreachable");
  EXPECT_EQ(replica_->State()->token, token);
  EXPECT_FALSE(replica_->State()->last_error.empty());
  EXPECT_EQ(ReplicaLive(*replica_).size(), 5u);

  StartServer({}, port);
  Put("p9");
  SyncReport back = Sync();
  EXPECT_FALSE(back.full_sync);
  EXPECT_EQ(back.changes, 1u);
  EXPECT_EQ(ReplicaLive(*replica_), ServerLiveSet(*http_, kD));
  EXPECT_TRUE(replica_->State()->last_error.empty());
}

TEST_F(SyncClientTest, UnknownDomainIsNotFound) {
  OpenReplica("nowhere.example");
  auto r = client_->SyncOnce({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(r.error().reason, "domain_not_found");
  // Run gives up at once on an error that retrying cannot fix.
  auto st = client_->Run({}, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kNotFound);
}

TEST_F(SyncClientTest, FollowModeAppliesChangesPromptlyAndStopsCleanly) {
  Put("p0");
  RunOptions run;
  run.follow = true;
  run.wait_seconds = 30;
  std::atomic<int> syncs{0};
  Status result = Error::Internal("not finished");
  std::thread runner([&] {
    result = client_->Run(run, {}, {},
                          [&](const Result<SyncReport>&, auto) { ++syncs; });
  });
  // The follower's replica handle is its own; read through a second one.
  auto reader = Replica::Open(client_dir_.file("replica.db"));
  ASSERT_TRUE(reader.ok());
  auto wait_for = [&](const std::string& id) {
    for (int i = 0; i < 500; ++i) {
      if ((*reader)->Get(id).ok()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  ASSERT_TRUE(wait_for("p0"));
  auto t0 = std::chrono::steady_clock::now();
  Put("p1");
  ASSERT_TRUE(wait_for("p1"));
  // Pushed by the long-poll, not found by a later poll.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  // Stop interrupts the long-poll in flight at once.
  auto t1 = std::chrono::steady_clock::now();
  client_->Stop();
  runner.join();
  EXPECT_TRUE(result.ok()) << result.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::seconds(5));
  EXPECT_GE(syncs.load(), 2);
  // Stopping is not a failure.
  EXPECT_EQ(replica_->State()->last_error, "");
}

// --- a hostile server --------------------------------------------------------

// Answers every connection with the next canned response (raw bytes), or
// with nothing at all (it then holds the connection open until stopped).
class FakeServer {
 public:
  FakeServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 16);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  void Answer(std::string raw) {
    std::lock_guard lock(mu_);
    answer_ = std::move(raw);
  }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      std::string answer;
      {
        std::lock_guard lock(mu_);
        answer = answer_;
      }
      if (answer.empty()) {
        while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      } else {
        (void)!write(c, answer.data(), answer.size());
      }
      close(c);
    }
  }
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string answer_;
  std::thread thread_;
};

std::string HttpOk(const std::string& body,
                   const std::string& type = "application/json") {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

TEST(SyncClientGarbageTest, GarbageFromTheServerLeavesTheReplicaUntouched) {
  // A replica synced from a real server first.
  TempDir server_dir, client_dir;
  ServerProcess server(server_dir.path(), {"--durability", "normal"});
  HttpClient http(server);
  ASSERT_EQ(http.Post("/v1/domains", R"({"name":"example.com"})").status, 201);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(http.Put(kD + "/contacts/p" + std::to_string(i),
                       Person("p" + std::to_string(i), "Ann"))
                  .status,
              201);
  }
  auto replica = Replica::Open(client_dir.file("replica.db")).value();
  ASSERT_TRUE(replica
                  ->SetConfig({"http://127.0.0.1:" + std::to_string(server.port()),
                               "example.com", server.admin_key(), ""})
                  .ok());
  {
    auto c = SyncClient::Create(*replica).value();
    ASSERT_TRUE(c->SyncOnce({}).ok());
  }
  const auto before = ReplicaLive(*replica);
  const std::string token = replica->State()->token;
  ASSERT_EQ(before.size(), 5u);

  // Then copies of it pointed at a server that answers garbage (a proxy
  // gone wrong, or not a galsync server at all).
  FakeServer fake;
  struct Case {
    const char* what;
    std::string raw;
    ErrorKind kind;
    const char* reason;
  };
  std::string contact_b =
      R"({"id":"zz","name":{"full":"Z"},"domain":"example.com","seq":99,"updated":"2026-11-22T07:00:00Z","version":"99"})";
  std::vector<Case> cases = {
      {"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n\r\n", ErrorKind::kInvalidArgument,
       "bad_response"},
      {"HTML", HttpOk("<html>proxy error</html>", "text/html"),
       ErrorKind::kInvalidArgument, "bad_response"},
      {"wrong JSON", HttpOk(R"({"contacts":[]})"), ErrorKind::kInvalidArgument,
       "bad_response"},
      {"seq going back",
       HttpOk(R"({"changes":[{"op":"delete","id":"p1","seq":9,"time":"2026-11-22T07:00:00Z"},{"op":"delete","id":"p2","seq":8,"time":"2026-11-22T07:00:00Z"}],"next_token":"X","has_more":false,"full_sync":false})"),
       ErrorKind::kInvalidArgument, "bad_response"},
      {"contact of another id",
       HttpOk(R"({"changes":[{"op":"upsert","id":"p1","seq":99,"time":"2026-11-22T07:00:00Z","contact":)" +
              contact_b + R"(}],"next_token":"X","has_more":false,"full_sync":false})"),
       ErrorKind::kInvalidArgument, "bad_response"},
      {"a full page for a delta",
       HttpOk(R"({"changes":[{"op":"delete","id":"p1","seq":99,"time":"2026-11-22T07:00:00Z"}],"next_token":"X","has_more":false,"full_sync":true})"),
       ErrorKind::kInvalidArgument, "bad_response"},
      {"truncated body",
       "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"changes\":[",
       ErrorKind::kUnavailable, "unreachable"},
      {"500 with HTML",
       "HTTP/1.1 500 Oops\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops",
       ErrorKind::kUnavailable, "server_error"},
      {"429", "HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
       ErrorKind::kRateLimited, "http_429"},
  };
  for (const Case& c : cases) {
    fake.Answer(c.raw);
    // SetConfig with another URL would empty the replica (another feed), so
    // the copy's URL is changed behind its back.
    ReplicaConfig cfg{"http://127.0.0.1:" + std::to_string(fake.port()),
                      "example.com", "", ""};
    std::string copy = client_dir.file("copy.db");
    std::filesystem::remove(copy);
    std::filesystem::remove(copy + "-wal");
    std::filesystem::remove(copy + "-shm");
    ASSERT_EQ(std::system(("sqlite3 " + client_dir.file("replica.db") +
                           " \".backup '" + copy + "'\" && sqlite3 " + copy +
                           " \"UPDATE meta SET value='" + cfg.server_url +
                           "' WHERE key='server_url'\"")
                              .c_str()),
              0);
    auto victim = Replica::Open(copy).value();
    auto client = SyncClient::Create(*victim).value();
    SyncOptions o;
    o.timeout = std::chrono::seconds(5);
    auto r = client->SyncOnce(o);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.error().kind, c.kind) << c.what << ": " << r.error().message;
    EXPECT_EQ(r.error().reason, c.reason) << c.what << ": " << r.error().message;
    EXPECT_EQ(victim->State()->token, token) << c.what;
    EXPECT_EQ(ReplicaLive(*victim), before) << c.what;
    if (c.kind == ErrorKind::kRateLimited) {
      EXPECT_EQ(client->retry_after(), std::chrono::seconds(7));
    }
  }
}

// A fresh replica configured for the server on `port`.
std::unique_ptr<Replica> ReplicaOf(const TempDir& dir, uint16_t port) {
  auto replica = Replica::Open(dir.file("replica.db")).value();
  EXPECT_TRUE(replica
                  ->SetConfig({"http://127.0.0.1:" + std::to_string(port),
                               "example.com", "", ""})
                  .ok());
  return replica;
}

TEST(SyncClientGarbageTest, RunHonoursRetryAfter) {
  FakeServer fake;
  fake.Answer("HTTP/1.1 429 Too Many\r\nRetry-After: 3\r\n"
              "Content-Length: 0\r\nConnection: close\r\n\r\n");
  TempDir dir;
  auto replica = ReplicaOf(dir, fake.port());
  auto client = SyncClient::Create(*replica).value();
  RunOptions run;
  run.backoff_initial = std::chrono::seconds(1);
  std::vector<std::chrono::milliseconds> delays;
  std::vector<std::string> reasons;
  std::thread t([&] {
    (void)client->Run(run, {}, {},
                      [&](const Result<SyncReport>& r,
                          std::chrono::milliseconds next) {
                        reasons.push_back(r.ok() ? "ok" : r.error().reason);
                        delays.push_back(next);
                        client->Stop();
                      });
  });
  t.join();
  ASSERT_EQ(delays.size(), 1u);
  EXPECT_EQ(reasons[0], "http_429");
  // The backoff alone would wait about 1 s; the server asked for 3.
  EXPECT_EQ(delays[0], std::chrono::seconds(3));
}

TEST(SyncClientGarbageTest, SilentServerTimesOut) {
  FakeServer fake;  // accepts and never answers
  TempDir dir;
  auto replica = ReplicaOf(dir, fake.port());
  auto client = SyncClient::Create(*replica).value();
  SyncOptions o;
  o.timeout = std::chrono::milliseconds(300);
  auto r = client->SyncOnce(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(r.error().reason, "timeout");
}

TEST(SyncClientConfigTest, BadServerUrlsAreRefused) {
  for (const char* url : {"ftp://x", "x", "http://", "https://", "http://h/?q=1",
                          "http://u:p@h"}) {
    auto st = SyncClient::CheckServerUrl(url);
    ASSERT_FALSE(st.ok()) << url;
    EXPECT_EQ(st.error().reason, "invalid_server_url") << url;
  }
  EXPECT_TRUE(SyncClient::CheckServerUrl("http://127.0.0.1:8080").ok());
  EXPECT_TRUE(SyncClient::CheckServerUrl("http://[::1]:8080/gal/").ok());
  EXPECT_TRUE(SyncClient::CheckServerUrl("https://gal.example.com/").ok());
}

// --- the CLI -----------------------------------------------------------------


// Offline search answers exactly what the server's search answers: the
// same people in the same order.
TEST(SyncClientSearchTest, OfflineSearchEqualsServerSearch) {
  TempDir server_dir, client_dir;
  ServerProcess server(server_dir.path(),
                       {"--durability", "normal", "--demo", "3000"});
  HttpClient http(server);
  std::string replica = client_dir.file("replica.db");
  ASSERT_EQ(Cli({"--replica", replica, "init", "--server",
                 "http://127.0.0.1:" + std::to_string(server.port()),
                 "--domain", "demo.example", "--key", server.admin_key()})
                .exit_code,
            0);
  ASSERT_EQ(Cli({"--replica", replica, "sync", "--quiet"}).exit_code, 0);
  for (const char* q : {"jo sm", "j", "maria", "pyotr", "smith", "a b",
                        "jose", "ali", "sales", "zzzz"}) {
    std::string encoded = q;
    std::replace(encoded.begin(), encoded.end(), ' ', '+');
    auto res = http.Get("/v1/domains/demo.example/search?limit=20&q=" + encoded);
    ASSERT_EQ(res.status, 200) << res.body;
    std::vector<std::string> server_ids;
    const json::value body = res.json();
    for (const auto& hit : body.at("results").as_array()) {
      server_ids.emplace_back(hit.at("id").as_string());
    }
    auto r = Cli({"--replica", replica, "search", "--limit", "20", "--json", q});
    std::vector<std::string> cli_ids;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      cli_ids.emplace_back(json::parse(line).at("id").as_string());
    }
    EXPECT_EQ(cli_ids, server_ids) << q;
    EXPECT_EQ(r.exit_code, server_ids.empty() ? 1 : 0) << q;
  }
}

TEST_F(SyncClientTest, CliEndToEnd) {
  json::object jose;
  jose["id"] = "jose";
  jose["name"] = {{"given", "José"}, {"family", "Álvarez"}};
  jose["emails"] = json::array{json::object{{"address", "jose@example.com"}}};
  jose["title"] = "Engineer, Platform; \"Core\"";
  ASSERT_EQ(http_->Put(kD + "/contacts/jose", json::serialize(jose)).status, 201);
  Put("ann", "Ann");
  std::string replica = client_dir_.file("cli/replica.db");
  std::string url = "http://127.0.0.1:" + std::to_string(server_->port());

  auto r = Cli({"--replica", replica, "sync"});
  EXPECT_EQ(r.exit_code, 3) << r.output;  // no replica yet
  EXPECT_NE(r.output.find("galsync init"), std::string::npos);

  // Without a key the server refuses, and says why.
  r = Cli({"--replica", replica, "init", "--server", url, "--domain",
           "example.com"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Cli({"--replica", replica, "sync"});
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_NE(r.output.find("API key"), std::string::npos) << r.output;
  // init again with a key: same server and domain, so only the key changes.
  r = Cli({"--replica", replica, "init", "--server", url, "--domain",
           "example.com", "--key", ReadKey()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Cli({"--replica", replica, "sync"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("full sync"), std::string::npos) << r.output;

  r = Cli({"--replica", replica, "search", "JOSE", "alv"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("José Álvarez <jose@example.com>"), std::string::npos)
      << r.output;
  r = Cli({"--replica", replica, "search", "zzz"});
  EXPECT_EQ(r.exit_code, 1) << r.output;

  r = Cli({"--replica", replica, "show", "jose"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("email/work   jose@example.com"), std::string::npos)
      << r.output;
  r = Cli({"--replica", replica, "show", "nobody"});
  EXPECT_EQ(r.exit_code, 1);

  r = Cli({"--replica", replica, "status"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("contacts     2 "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("up to date"), std::string::npos) << r.output;

  std::string vcf = client_dir_.file("all.vcf");
  r = Cli({"--replica", replica, "export", "--output", vcf});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(vcf);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text.find("BEGIN:VCARD\r\nVERSION:4.0\r\n"), 0u) << text;
  EXPECT_NE(text.find("TITLE:Engineer\\, Platform\\; \"Core\"\r\n"),
            std::string::npos)
      << text;
  r = Cli({"--replica", replica, "export", "--format", "csv"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("\"Engineer, Platform; \"\"Core\"\"\""),
            std::string::npos)
      << r.output;
  r = Cli({"--replica", replica, "export", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 2);

  // Usage errors and help.
  EXPECT_EQ(Cli({"--replica", replica, "sync", "--limit", "0"}).exit_code, 2);
  EXPECT_EQ(Cli({"--replica", replica, "sync", "--bogus"}).exit_code, 2);
  EXPECT_EQ(Cli({"--replica", replica, "export", "--format", "xml"}).exit_code, 2);
  EXPECT_EQ(Cli({"frobnicate"}).exit_code, 2);
  for (const char* cmd : {"init", "sync", "search", "show", "status", "export"}) {
    r = Cli({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.output.find("Usage: galsync"), std::string::npos) << cmd;
  }

  // Server gone: exit 4, and the replica still answers.
  server_->Kill(SIGKILL);
  r = Cli({"--replica", replica, "sync"});
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_EQ(Cli({"--replica", replica, "search", "ann"}).exit_code, 0);

  // On a terminal a full sync draws a progress bar (run under `script`,
  // which gives the command a pseudo-terminal).
  StartServer({}, 0);
  std::string tty_replica = client_dir_.file("tty.db");
  std::string tty_url = "http://127.0.0.1:" + std::to_string(server_->port());
  ASSERT_EQ(Cli({"--replica", tty_replica, "init", "--server", tty_url,
                 "--domain", "example.com", "--key", ReadKey()})
                .exit_code,
            0);
  r = RunProgram("/usr/bin/script",
                 {"-qec",
                  std::string(GALSYNC_CLI_PATH) + " --replica " + tty_replica +
                      " sync",
                  "/dev/null"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\r["), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2/2"), std::string::npos) << r.output;

  // `sync --follow` stops cleanly on SIGTERM, at once, with exit 0.
  pid_t follower = SpawnQuiet(GALSYNC_CLI_PATH,
                              {"--replica", tty_replica, "sync", "--follow"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto t_term = std::chrono::steady_clock::now();
  kill(follower, SIGTERM);
  int status = 0;
  waitpid(follower, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_LT(std::chrono::steady_clock::now() - t_term, std::chrono::seconds(3));

  // A corrupt replica: a clear message and exit 3, no crash.
  std::string broken = client_dir_.file("broken.db");
  std::ofstream(broken) << std::string(10000, '#');
  r = Cli({"--replica", broken, "status"});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("cannot be used"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace galsync::testing
