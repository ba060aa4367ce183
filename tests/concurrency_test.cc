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

struct Reader {
  std::map<std::string, std::string> replica;
  std::string token;
  int64_t last_seq = 0;
  bool ordered = true;

  // Fetches and applies one page; returns has_more.
  bool Step(HttpClient& c, int limit) {
    std::string t = kD + "/changes?limit=" + std::to_string(limit);
    if (!token.empty()) t += "&token=" + token;
    auto r = c.Get(t);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return false;
    auto v = r.json().as_object();
    for (auto& ch : v.at("changes").as_array()) {
      int64_t seq = ch.at("seq").as_int64();
      if (seq <= last_seq) ordered = false;
      last_seq = seq;
      std::string id(ch.at("id").as_string());
      if (ch.at("op").as_string() == "delete") {
        replica.erase(id);
      } else {
        replica[id] = json::serialize(ch.at("contact"));
      }
    }
    token = std::string(v.at("next_token").as_string());
    return v.at("has_more").as_bool();
  }
};

TEST(ConcurrencyTest, ConcurrentWritersAndPagedReadersConverge) {
  TempDir dir;
  ServerProcess server(dir.path(), {"--durability", "normal"});
  HttpClient admin(server.port());
  ASSERT_EQ(admin.Post("/v1/domains", R"({"name":"example.com"})").status, 201);

  std::atomic<bool> writing{true};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      HttpClient c(server.port());
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
  std::vector<Reader> readers(4);
  std::vector<std::thread> reader_threads;
  for (size_t k = 0; k < readers.size(); ++k) {
    reader_threads.emplace_back([&, k] {
      HttpClient c(server.port());
      std::mt19937 rng(k);
      while (writing) readers[k].Step(c, 1 + rng() % 9);
      // Writers are done: catch up to the end.
      while (readers[k].Step(c, 1 + rng() % 9)) {
      }
    });
  }
  for (auto& t : writers) t.join();
  writing = false;
  for (auto& t : reader_threads) t.join();

  // The server's state: a fresh full download.
  Reader truth;
  while (truth.Step(admin, 1000)) {
  }
  auto dom = admin.Get(kD).json();
  EXPECT_EQ(static_cast<size_t>(dom.at("contacts").as_int64()),
            truth.replica.size());
  for (auto& r : readers) {
    EXPECT_TRUE(r.ordered);
    EXPECT_EQ(r.replica, truth.replica);
  }
  // And each contact as GET returns it.
  for (auto& [id, body] : truth.replica) {
    auto g = admin.Get(kD + "/contacts/" + id);
    ASSERT_EQ(g.status, 200);
    EXPECT_EQ(json::serialize(g.json()), body);
  }
}

}  // namespace
}  // namespace galsync::testing
