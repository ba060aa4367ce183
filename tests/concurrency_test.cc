// Several writer threads and several readers syncing with small pages, all
// at once, against a real galsyncd over HTTP. Each reader keeps a replica;
// once the writers stop and the readers catch up, every replica must equal
// the server's state exactly, and each reader must have seen seqs strictly
// increasing within every page and across pages.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "test_util.h"

namespace galsync::testing {
namespace {

namespace json = boost::json;
const std::string kD = "/v1/domains/example.com";

bool Step(HttpClient& c, PageReplica& r, int limit) {
  return SyncStep(c, r, kD, limit);
}

TEST(ConcurrencyTest, ConcurrentWritersAndPagedReadersConverge) {
  TempDir dir;
  ServerProcess server(dir.path(), {"--durability", "normal"});
  HttpClient admin(server);
  ASSERT_EQ(admin.Post("/v1/domains", R"({"name":"example.com"})").status, 201);

  std::atomic<bool> writing{true};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      HttpClient c(server);
      std::mt19937 rng(100 + w);
      for (int i = 0; i < 300; ++i) {
        std::string id = "c" + std::to_string(rng() % 80);  // shared ids
        int op = rng() % 10;
        if (op < 6) {
          json::object o{{"name", {{"given", "W" + std::to_string(w)},
                                   {"family", "N" + std::to_string(i)}}}};
          auto r = c.Put(kD + "/contacts/" + id, json::serialize(o));
          EXPECT_TRUE(r.status == 200 || r.status == 201) << r.body;
        } else if (op < 8) {
          auto r = c.Delete(kD + "/contacts/" + id);
          EXPECT_TRUE(r.status == 200 || r.status == 404) << r.body;
        } else {
          std::string b = R"({"changes":[)";
          for (int k = 0; k < 5; ++k) {
            std::string bid = "c" + std::to_string(rng() % 80);
            b += std::string(k ? "," : "") +
                 (rng() % 3 == 0
                      ? R"({"op":"delete","id":")" + bid + "\"}"
                      : R"({"op":"upsert","contact":{"id":")" + bid +
                            R"(","name":{"given":"B)" + std::to_string(i) +
                            "\"}}}");
          }
          b += "]}";
          auto r = c.Post(kD + "/contacts:batch", b);
          EXPECT_EQ(r.status, 200) << r.body;
        }
      }
    });
  }
  std::vector<PageReplica> readers(4);
  std::vector<std::thread> reader_threads;
  for (size_t k = 0; k < readers.size(); ++k) {
    reader_threads.emplace_back([&, k] {
      HttpClient c(server);
      std::mt19937 rng(k);
      while (writing) Step(c, readers[k], 1 + rng() % 9);
      // Writers are done: catch up to the end.
      while (Step(c, readers[k], 1 + rng() % 9)) {
      }
    });
  }
  for (auto& t : writers) t.join();
  writing = false;
  for (auto& t : reader_threads) t.join();

  // The server's state: a fresh full download.
  PageReplica truth;
  while (Step(admin, truth, 1000)) {
  }
  auto dom = admin.Get(kD).json();
  EXPECT_EQ(static_cast<size_t>(dom.at("contacts").as_int64()),
            truth.contacts.size());
  for (auto& r : readers) {
    EXPECT_TRUE(r.ordered);
    EXPECT_EQ(r.contacts, truth.contacts);
  }
  // And each contact as GET returns it.
  for (auto& [id, body] : truth.contacts) {
    auto g = admin.Get(kD + "/contacts/" + id);
    ASSERT_EQ(g.status, 200);
    EXPECT_EQ(json::serialize(g.json()), body);
  }
}

}  // namespace
}  // namespace galsync::testing
