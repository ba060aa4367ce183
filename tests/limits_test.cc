// Abuse limits against a real galsyncd: request rate per key, connections
// per client address, and slow clients (slowloris headers, a trickled body)
// that must be cut off without holding up anyone else.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "test_util.h"

namespace galsync::testing {
namespace {

using std::chrono::steady_clock;

// A raw TCP connection to 127.0.0.1:port.
class RawConn {
 public:
  explicit RawConn(uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawConn() { close(fd_); }
  bool connected() const { return connected_; }
  bool Send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(s.size());
  }
  // True if the server closed the connection (EOF or reset) within
  // `timeout`; whatever it sent first is appended to `got`.
  bool ClosedWithin(std::chrono::milliseconds timeout, std::string* got = nullptr) {
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
      if (got) got->append(buf, n);
    }
  }

 private:
  int fd_;
  bool connected_ = false;
};

TEST(LimitsTest, RequestRatePerKeyIsLimitedWith429AndRetryAfter) {
  TempDir dir;
  ServerProcess server(dir.path(), {"--key-rate", "5"});  // bursts of 10
  HttpClient admin(server);
  ASSERT_EQ(admin.Post("/v1/domains", R"({"name":"a.example"})").status, 201);
  auto key = [&] {
    auto r = admin.Post("/v1/domains/a.example/keys", R"({"scopes":["read"]})");
    return std::string(r.json().at("key").as_string());
  };
  HttpClient a(server.port(), key()), b(server.port(), key());
  int ok = 0, limited = 0;
  for (int i = 0; i < 40; ++i) {
    auto r = a.Get("/v1/domains/a.example");
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      EXPECT_EQ(r.error_code(), "rate_limited");
      EXPECT_EQ(r.headers["retry-after"], "1");
    }
  }
  EXPECT_GE(ok, 10);       // the burst
  EXPECT_LE(ok, 20);       // ... and what refilled meanwhile
  EXPECT_EQ(ok + limited, 40);
  // Each key has its own bucket.
  EXPECT_EQ(b.Get("/v1/domains/a.example").status, 200);
  // Waiting as told lets the key in again.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(a.Get("/v1/domains/a.example").status, 200);
}

TEST(LimitsTest, ConnectionsPerClientAreCapped) {
  TempDir dir;
  ServerProcess server(dir.path(), {"--max-connections-per-client", "3"});
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawConn>(server.port()));
    ASSERT_TRUE(held.back()->connected());
  }
  // The three are open: each is answered (and kept alive).
  for (auto& c : held) {
    ASSERT_TRUE(c->Send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  RawConn fourth(server.port());
  EXPECT_TRUE(fourth.ClosedWithin(std::chrono::seconds(5)))
      << "a fourth connection from the same address is refused";
  held.pop_back();
  // A slot is free again once one closes (the server notices the close).
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    RawConn again(server.port());
    std::string got;
    again.Send("GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    again.ClosedWithin(std::chrono::seconds(2), &got);
    served = got.find("200 OK") != std::string::npos;
  }
  EXPECT_TRUE(served);
}

TEST(LimitsTest, SlowClientsAreCutOffWithoutStallingOthers) {
  TempDir dir;
  ServerProcess server(dir.path(),
                       {"--idle-timeout", "1s", "--read-timeout", "1s"});
  HttpClient fast(server);
  // Slowloris: headers dribbled a byte every 100 ms never complete; the
  // connection is closed at the idle timeout even though bytes keep coming.
  RawConn loris(server.port());
  ASSERT_TRUE(loris.Send("GET /v1/health HTTP/1.1\r\n"));
  const auto start = steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 60 && !closed; ++i) {
    loris.Send("X");
    // Others are served meanwhile, at once.
    if (i % 10 == 0) {
      EXPECT_EQ(fast.Get("/v1/health").status, 200);
    }
    closed = loris.ClosedWithin(std::chrono::milliseconds(100));
  }
  const double took =
      std::chrono::duration<double>(steady_clock::now() - start).count();
  EXPECT_TRUE(closed);
  EXPECT_LT(took, 3.0) << "cut at the 1 s idle timeout";

  // A body trickled after its headers is cut at the read timeout.
  RawConn trickle(server.port());
  ASSERT_TRUE(trickle.Send(
      "PUT /v1/domains/x/contacts/y HTTP/1.1\r\nHost: x\r\n"
      "Content-Length: 1000\r\n\r\n{\"name\":"));
  EXPECT_TRUE(trickle.ClosedWithin(std::chrono::seconds(4)));
  EXPECT_EQ(fast.Get("/v1/health").status, 200);
}

}  // namespace
}  // namespace galsync::testing
