// Crash durability (design invariant 7) under load: several writers send
// single writes, deletes and batches to a real galsyncd, which is killed
// with SIGKILL at a random moment, restarted, and killed again. Afterwards
// every acknowledged write is present (and nothing a later acknowledged
// write replaced), and the log is consistent: seqs 1..last_seq each have
// exactly one history entry, the compacted feed is in seq order, and the
// domain's counters agree with what the feed holds.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "test_util.h"

namespace galsync::testing {
namespace {

namespace json = boost::json;

const std::string kD = "/v1/domains/example.com";

// What a writer knows of one of its contacts: the state its last
// acknowledged write left, and a write that was in flight when the server
// died (which may or may not have committed).
struct Known {
  std::optional<std::string> acked;    // title of the live contact, or
  bool acked_deleted = false;          //   deleted, or never acknowledged
  std::optional<std::string> pending;  // title (or "" for a delete) in flight
};

std::string Contact(const std::string& id, const std::string& title) {
  json::object o;
  o["id"] = id;
  o["name"] = {{"given", "Crash"}, {"family", id}};
  o["title"] = title;
  return json::serialize(o);
}

// One writer: its own ids, so the last acknowledged state of each is
// well defined. Stops at the first failed request (the server died).
void Writer(uint16_t port, const std::string& key, int w, uint64_t seed,
            std::map<std::string, Known>& known, std::atomic<int>& acked) {
  HttpClient c(port, key);
  std::mt19937_64 rng(seed);
  int next_id = 0, version = 0;
  auto id_of = [&](int i) { return "w" + std::to_string(w) + "-" + std::to_string(i); };
  for (;;) {
    const int kind = static_cast<int>(rng() % 10);
    std::vector<std::pair<std::string, std::string>> writes;  // id, title ("" = delete)
    if (kind < 5 || next_id == 0) {  // a new contact or a batch of them
      const int n = kind == 0 ? 20 : 1;
      for (int i = 0; i < n; ++i) {
        writes.emplace_back(id_of(next_id++), "v" + std::to_string(++version));
      }
    } else if (kind < 8) {  // update an existing one
      writes.emplace_back(id_of(static_cast<int>(rng() % next_id)),
                          "v" + std::to_string(++version));
    } else {  // delete one (maybe already deleted: then a 404, also an answer)
      writes.emplace_back(id_of(static_cast<int>(rng() % next_id)), "");
    }
    for (auto& [id, title] : writes) known[id].pending = title;
    HttpResult res;
    try {
      if (writes.size() > 1) {
        json::array changes;
        for (auto& [id, title] : writes) {
          changes.push_back({{"op", "upsert"},
                             {"contact", json::parse(Contact(id, title))}});
        }
        res = c.Post(kD + "/contacts:batch",
                     json::serialize(json::object{{"changes", changes}}));
      } else if (writes[0].second.empty()) {
        res = c.Delete(kD + "/contacts/" + writes[0].first);
      } else {
        res = c.Put(kD + "/contacts/" + writes[0].first,
                    Contact(writes[0].first, writes[0].second));
      }
    } catch (...) {
      return;  // the connection died mid-request: still pending
    }
    const bool deleted_missing = writes[0].second.empty() && res.status == 404;
    if (res.status / 100 != 2 && !deleted_missing) return;
    for (auto& [id, title] : writes) {
      Known& k = known[id];
      k.pending.reset();
      k.acked_deleted = title.empty();
      k.acked = title.empty() ? std::nullopt : std::optional(title);
    }
    ++acked;
  }
}

TEST(CrashDurabilityTest, KillNineUnderWriteLoadLosesNoAcknowledgedWrite) {
  TempDir dir;
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  constexpr int kWriters = 3;
  std::vector<std::map<std::string, Known>> known(kWriters);
  std::string admin_key;
  for (int round = 0; round < 2; ++round) {
    ServerProcess server(dir.path(), {"--durability", "full"});
    ASSERT_NE(server.port(), 0);
    if (round == 0) {
      admin_key = server.admin_key();
      HttpClient admin(server);
      ASSERT_EQ(admin.Post("/v1/domains", R"({"name":"example.com"})").status,
                201);
    }
    std::atomic<int> acked{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back(Writer, server.port(), admin_key, w,
                           seed + 97 * round + w, std::ref(known[w]),
                           std::ref(acked));
    }
    // Let the load run, then kill at a random moment within it.
    while (acked < 50) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 700));
    const int status = server.Kill(SIGKILL);
    for (auto& t : writers) t.join();
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_GT(acked.load(), 50);
  }

  ServerProcess server(dir.path(), {"--durability", "full"});
  HttpClient c(server);
  const auto live = ServerLiveSet(c, kD);  // fails on out-of-order pages

  // Every acknowledged write is there, unless a later write in flight at a
  // kill committed without its answer getting out.
  size_t checked = 0;
  for (const auto& per_writer : known) {
    for (const auto& [id, k] : per_writer) {
      auto it = live.find(id);
      std::optional<std::string> title;
      if (it != live.end()) {
        title = std::string(json::parse(it->second).at("title").as_string());
      }
      const bool matches_acked = k.acked ? title == k.acked : !title.has_value();
      const bool matches_pending =
          k.pending && (k.pending->empty() ? !title.has_value()
                                           : title == *k.pending);
      EXPECT_TRUE(matches_acked || matches_pending)
          << id << ": acked " << k.acked.value_or(k.acked_deleted ? "(deleted)" : "(none)")
          << ", pending " << k.pending.value_or("(none)") << ", found "
          << title.value_or("(absent)");
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);

  // The log is consistent: one history entry per seq 1..last_seq, in order,
  // and the domain's counters agree with the feed.
  const json::value d = c.Get(kD).json();
  const int64_t last_seq = d.at("last_seq").as_int64();
  EXPECT_EQ(static_cast<size_t>(d.at("contacts").as_int64()), live.size());
  int64_t expect = 1;
  for (;;) {
    const json::value h =
        c.Get(kD + "/history?limit=1000&after=" + std::to_string(expect - 1))
            .json();
    const auto& entries = h.at("entries").as_array();
    if (entries.empty()) break;
    for (const auto& e : entries) {
      ASSERT_EQ(e.at("seq").as_int64(), expect) << "a gap or repeat in the log";
      ++expect;
    }
  }
  EXPECT_EQ(expect - 1, last_seq);
  for (const auto& [id, json_text] : live) {
    EXPECT_LE(json::parse(json_text).at("seq").as_int64(), last_seq) << id;
  }
}

}  // namespace
}  // namespace galsync::testing
