// Several galsyncd over one PostgreSQL: one directory, whichever server a
// client reaches. Writers on different servers take seqs in commit order
// (no reader ever skips a change), a write on one server wakes long-polls
// and reaches search on the other, tokens and keys work on every server,
// and domains stay isolated across servers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <random>
#include <thread>

#include "pg_test_server.h"
#include "test_util.h"

namespace galsync::testing {
namespace {

namespace json = boost::json;
using std::chrono::steady_clock;
const std::string kD = "/v1/domains/example.com";

// Two (or more) servers over one fresh schema.
class ScaleOutTest : public ::testing::Test {
 protected:
  ServerProcess& Start() {
    dirs_.push_back(std::make_unique<TempDir>());
    servers_.push_back(std::make_unique<ServerProcess>(
        dirs_.back()->path(), std::vector<std::string>{"--store", pg_.uri()}));
    return *servers_.back();
  }
  // The admin key: the first server made it, and every server knows it.
  const std::string& admin_key() const { return servers_[0]->admin_key(); }

  PgSchema pg_;
  std::vector<std::unique_ptr<TempDir>> dirs_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
};

bool Step(HttpClient& c, PageReplica& r, int limit) {
  return SyncStep(c, r, kD, limit);
}

TEST_F(ScaleOutTest, TwoServersServeOneDirectory) {
  ServerProcess& a = Start();
  ServerProcess& b = Start();
  ASSERT_FALSE(admin_key().empty());
  HttpClient on_a(a.port(), admin_key()), on_b(b.port(), admin_key());

  // A domain made on A is known to B at once; a contact written on B is
  // read on A.
  ASSERT_EQ(on_a.Post("/v1/domains", R"({"name":"example.com"})").status, 201);
  auto put =
      on_b.Put(kD + "/contacts/ada", ContactJson("ada", "Ada", "Lovelace"));
  ASSERT_EQ(put.status, 201) << put.body;
  auto got = on_a.Get(kD + "/contacts/ada");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json().at("name").at("family").as_string(), "Lovelace");

  // A token from A continues on B (the servers share the token secret).
  // B answers a poll from memory, so it may lag A's commit by the time the
  // notification takes; the change is never skipped, only seen a moment
  // later.
  PageReplica r;
  while (Step(on_a, r, 10)) {
  }
  ASSERT_EQ(
      on_a.Put(kD + "/contacts/bob", ContactJson("bob", "Bob", "Byte")).status,
      201);
  EXPECT_TRUE(Eventually([&] {
    auto delta = on_b.Get(kD + "/changes?token=" + r.token);
    EXPECT_EQ(delta.status, 200) << delta.body;
    if (delta.status == 200) r.Apply(delta.body);
    return r.contacts.count("bob") == 1;
  }));
  ASSERT_TRUE(r.ordered);

  // A long-poll on B wakes when A commits (long before its 30 s).
  auto waiting = std::async(std::launch::async, [&] {
    HttpClient c(b.port(), admin_key());
    auto t0 = steady_clock::now();
    auto res = c.Get(kD + "/changes?wait=30&token=" + r.token);
    return std::make_pair(res, steady_clock::now() - t0);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(
      on_a.Put(kD + "/contacts/cy", ContactJson("cy", "Cy", "Cipher")).status,
      201);
  auto [woke, took] = waiting.get();
  ASSERT_EQ(woke.status, 200) << woke.body;
  EXPECT_NE(woke.body.find("\"id\":\"cy\""), std::string::npos) << woke.body;
  EXPECT_LT(took, std::chrono::seconds(10));

  // What A wrote is found by B's search.
  EXPECT_TRUE(
      Eventually([&] { return SearchFinds(on_b, kD, "cy%20ci", "cy"); }));

  // A key made on A works on B; revoked on A, B refuses it.
  std::string key_id;
  const std::string key =
      CreateKey(on_a, "example.com", R"(["read"])", &key_id);
  HttpClient reader_b(b.port(), key);
  EXPECT_TRUE(Eventually([&] { return reader_b.Get(kD).status == 200; }));
  ASSERT_EQ(on_a.Delete("/v1/keys/" + key_id).status, 200);
  EXPECT_TRUE(Eventually([&] { return reader_b.Get(kD).status == 401; }));

  // Domains stay apart across servers: a key and a token of example.com
  // reach nothing of other.example on either server.
  ASSERT_EQ(on_b.Post("/v1/domains", R"({"name":"other.example"})").status,
            201);
  const std::string other_key =
      CreateKey(on_b, "other.example", R"(["read","write"])");
  HttpClient other_a(a.port(), other_key);
  EXPECT_TRUE(Eventually(
      [&] { return other_a.Get("/v1/domains/other.example").status == 200; }));
  EXPECT_EQ(other_a.Get(kD + "/contacts/ada").status, 403);
  EXPECT_EQ(on_a.Get("/v1/domains/other.example/changes?token=" + r.token)
                .error_code(),
            "token_domain_mismatch");
}

// Invariant 1 across servers. Writers on both servers add new contacts
// only, so every seq is a row; tailing readers on both servers, with small
// pages, must then receive seqs exactly one after another. If seqs were
// taken from a plain sequence, a writer could commit seq N+1 before another
// commits N, and a reader would move past N and never see it.
TEST_F(ScaleOutTest, WritersOnTwoServersNeverLeaveAGapForReaders) {
  ServerProcess& a = Start();
  ServerProcess& b = Start();
  HttpClient admin(a.port(), admin_key());
  ASSERT_EQ(admin.Post("/v1/domains", R"({"name":"example.com"})").status, 201);
  const uint16_t ports[] = {a.port(), b.port()};

  std::atomic<bool> writing{true};
  std::atomic<int> written{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      HttpClient c(ports[w % 2], admin_key());
      for (int i = 0; i < 60; ++i) {
        const std::string id =
            "w" + std::to_string(w) + "-" + std::to_string(i);
        if (i % 3 == 0) {  // a batch of 3
          std::string body = R"({"changes":[)";
          for (int k = 0; k < 3; ++k) {
            body += std::string(k ? "," : "") + R"({"op":"upsert","contact":)" +
                    ContactJson(id + "-" + std::to_string(k), "W", "B") + "}";
          }
          auto r = c.Post(kD + "/contacts:batch", body + "]}");
          EXPECT_EQ(r.status, 200) << r.body;
          written += 3;
        } else {
          auto r = c.Put(kD + "/contacts/" + id, ContactJson(id, "W", "S"));
          EXPECT_EQ(r.status, 201) << r.body;
          ++written;
        }
      }
    });
  }
  std::vector<PageReplica> readers(4);
  std::vector<uint64_t> gaps(readers.size(), 0);
  std::vector<std::thread> reader_threads;
  for (size_t k = 0; k < readers.size(); ++k) {
    reader_threads.emplace_back([&, k] {
      HttpClient c(ports[k % 2], admin_key());
      std::mt19937 rng(k);
      PageReplica& r = readers[k];
      auto step = [&] {
        const int64_t before = r.last_seq;
        const size_t had = r.contacts.size();
        const bool more = Step(c, r, 1 + rng() % 4);
        // Only new contacts: the page must hold exactly the seqs after the
        // last one, one per new contact.
        if (r.last_seq - before !=
            static_cast<int64_t>(r.contacts.size() - had)) {
          ++gaps[k];
        }
        return more;
      };
      while (writing) step();
      // Catch up to the last write. A server answers an up-to-date poll
      // from memory, which may lag the other server's last commit by its
      // notification: then the page is empty and the reader polls again.
      const auto until = steady_clock::now() + std::chrono::seconds(10);
      while ((step() || r.last_seq < written.load()) &&
             steady_clock::now() < until) {
      }
    });
  }
  for (auto& t : writers) t.join();
  writing = false;
  for (auto& t : reader_threads) t.join();

  PageReplica truth;
  while (Step(admin, truth, 1000)) {
  }
  EXPECT_EQ(truth.contacts.size(), static_cast<size_t>(written.load()));
  EXPECT_EQ(truth.last_seq, written.load());
  for (size_t k = 0; k < readers.size(); ++k) {
    SCOPED_TRACE("reader " + std::to_string(k));
    EXPECT_TRUE(readers[k].ordered);
    EXPECT_EQ(gaps[k], 0u);
    // (Compared whole, but reported by size: the maps are long.)
    EXPECT_TRUE(readers[k].contacts == truth.contacts)
        << "the replica holds " << readers[k].contacts.size() << " of "
        << truth.contacts.size() << " contacts";
  }
}

}  // namespace
}  // namespace galsync::testing
