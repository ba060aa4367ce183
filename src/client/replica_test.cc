// Replica: schema, corrupt files, atomic and idempotent page apply, the
// full-sync swap; and ParseFeedPage against malformed pages.
#include "galsync/replica.h"

#include <gtest/gtest.h>

#include <fstream>

#include "galsync/replica_search.h"
#include "galsync/sync_client.h"
#include "test_util.h"

namespace galsync {
namespace {

using testing::TempDir;

std::string ContactJson(const std::string& id, uint64_t seq,
                        const std::string& given = "Ann") {
  return R"({"id":")" + id + R"(","name":{"full":")" + given +
         R"( Smith","given":")" + given +
         R"(","family":"Smith"},"domain":"example.com","seq":)" +
         std::to_string(seq) +
         R"(,"updated":"2026-11-22T07:00:00.000000Z","version":")" +
         std::to_string(seq) + R"("})";
}

FeedChange Up(const std::string& id, uint64_t seq,
              const std::string& given = "Ann") {
  return {FeedChange::Op::kUpsert, id, seq, 0, ContactJson(id, seq, given)};
}
FeedChange Del(const std::string& id, uint64_t seq) {
  return {FeedChange::Op::kDelete, id, seq, 0, ""};
}

FeedPage Page(std::vector<FeedChange> changes, std::string next, bool more,
              bool full) {
  return {std::move(changes), std::move(next), more, full};
}

std::map<std::string, std::string> Live(Replica& r) {
  std::map<std::string, std::string> out;
  EXPECT_TRUE(r.ForEach([&](std::string_view id, std::string_view json) {
                 out.emplace(id, json);
                 return true;
               }).ok());
  return out;
}

class ReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = Replica::Open(dir_.file("replica.db"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    r_ = std::move(*r);
    ASSERT_TRUE(r_->SetConfig({"http://127.0.0.1:1", "example.com", "", ""}).ok());
  }
  // A completed full sync holding a (seq 1) and b (seq 2), token "T2".
  void FullSync() {
    ASSERT_TRUE(r_->BeginResync().ok());
    ASSERT_TRUE(r_->Apply(Page({Up("a", 1)}, "F1", true, true), "").ok());
    ASSERT_TRUE(r_->Apply(Page({Up("b", 2)}, "T2", false, true), "F1").ok());
  }
  TempDir dir_;
  std::unique_ptr<Replica> r_;
};

TEST_F(ReplicaTest, NewReplicaIsEmptyAndKeepsItsConfig) {
  auto config = r_->Config();
  ASSERT_TRUE(config.ok());
  ASSERT_TRUE(config->has_value());
  EXPECT_EQ((*config)->domain, "example.com");
  auto state = r_->State();
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->token.empty());
  EXPECT_FALSE(state->resync_active);
  r_.reset();
  auto again = Replica::Open(dir_.file("replica.db"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*(*again)->Config())->server_url, "http://127.0.0.1:1");
}

TEST_F(ReplicaTest, FullSyncIsInvisibleUntilItsLastPage) {
  FullSync();
  auto state = r_->State();
  EXPECT_EQ(state->token, "T2");
  EXPECT_EQ(state->generation, 1u);
  EXPECT_EQ(Live(*r_).size(), 2u);

  // A second full sync: the old copy stays searchable until it completes.
  ASSERT_TRUE(r_->BeginResync().ok());
  ASSERT_TRUE(r_->Apply(Page({Up("c", 5)}, "F5", true, true), "").ok());
  EXPECT_EQ(Live(*r_).size(), 2u);
  EXPECT_TRUE(r_->Get("a").ok());
  EXPECT_FALSE(r_->Get("c").ok());
  auto counts = r_->Counts();
  EXPECT_EQ(counts->resync_rows, 1u);
  ASSERT_TRUE(r_->Apply(Page({Up("d", 6)}, "T6", false, true), "F5").ok());
  auto live = Live(*r_);
  ASSERT_EQ(live.size(), 2u);
  EXPECT_TRUE(live.count("c") && live.count("d"));
  EXPECT_EQ(r_->State()->token, "T6");
  EXPECT_EQ(r_->State()->generation, 2u);
  EXPECT_FALSE(r_->State()->resync_active);
}

TEST_F(ReplicaTest, DeltaAppliesUpsertsAndDeletesInOrder) {
  FullSync();
  ASSERT_TRUE(
      r_->Apply(Page({Up("a", 3, "Anna"), Del("b", 4), Up("c", 5)}, "T5",
                     false, false),
                "T2")
          .ok());
  auto live = Live(*r_);
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live["a"], ContactJson("a", 3, "Anna"));
  EXPECT_EQ(live["c"], ContactJson("c", 5));
  auto counts = r_->Counts();
  EXPECT_EQ(counts->live, 2u);
  EXPECT_EQ(counts->tombstones, 1u);
  EXPECT_EQ(counts->max_seq, 5u);
}

TEST_F(ReplicaTest, ApplyingAPageTwiceChangesNothing) {
  FullSync();
  FeedPage p = Page({Up("a", 3, "Anna"), Del("b", 4)}, "T4", false, false);
  ASSERT_TRUE(r_->Apply(p, "T2").ok());
  auto before = Live(*r_);
  // The same page again from its own end position (as a server that
  // re-sends it would): idempotent by (id, seq).
  ASSERT_TRUE(r_->Apply(p, "T4").ok());
  EXPECT_EQ(Live(*r_), before);
  // Older states never overwrite newer ones, and a tombstone keeps an
  // older upsert of the deleted contact from coming back.
  ASSERT_TRUE(
      r_->Apply(Page({Up("a", 1), Up("b", 2)}, "T4", false, false), "T4").ok());
  EXPECT_EQ(Live(*r_), before);
}

TEST_F(ReplicaTest, PageFromAStalePositionIsRefused) {
  FullSync();
  ASSERT_TRUE(r_->Apply(Page({Up("c", 3)}, "T3", false, false), "T2").ok());
  // Another process applied T2 -> T3 meanwhile; a page fetched from T2 must
  // not be applied again.
  auto st = r_->Apply(Page({Up("c", 3)}, "T3", false, false), "T2");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().reason, "concurrent_sync");
}

TEST_F(ReplicaTest, PageOfTheWrongKindIsRefusedAndChangesNothing) {
  FullSync();
  auto st = r_->Apply(Page({Up("c", 3)}, "T3", false, /*full=*/true), "T2");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().reason, "bad_response");
  EXPECT_EQ(r_->State()->token, "T2");
  EXPECT_FALSE(r_->Get("c").ok());
  ASSERT_TRUE(r_->BeginResync().ok());
  st = r_->Apply(Page({Up("c", 3)}, "T3", false, /*full=*/false), "");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().reason, "bad_response");
}

TEST_F(ReplicaTest, AnotherServerOrDomainEmptiesTheReplica) {
  FullSync();
  ASSERT_TRUE(
      r_->SetConfig({"http://127.0.0.1:1", "example.com", "k2", "/ca.pem"}).ok());
  EXPECT_EQ(Live(*r_).size(), 2u);  // same feed, new key: kept
  EXPECT_EQ((*r_->Config())->api_key, "k2");
  EXPECT_EQ((*r_->Config())->ca_file, "/ca.pem");
  ASSERT_TRUE(r_->SetConfig({"http://127.0.0.1:1", "other.org", "", ""}).ok());
  EXPECT_TRUE(Live(*r_).empty());
  EXPECT_TRUE(r_->State()->token.empty());
}

TEST_F(ReplicaTest, ForEachSinceListsChangedRowsWithTombstones) {
  FullSync();
  ASSERT_TRUE(
      r_->Apply(Page({Del("a", 3), Up("c", 4)}, "T4", false, false), "T2").ok());
  std::vector<std::pair<std::string, bool>> rows;
  ASSERT_TRUE(r_->ForEachSince(2, [&](std::string_view id, uint64_t,
                                      std::string_view json) {
                   rows.emplace_back(id, json.empty());
                 }).ok());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], std::make_pair(std::string("a"), true));
  EXPECT_EQ(rows[1], std::make_pair(std::string("c"), false));
}

TEST_F(ReplicaTest, ReplicaIndexFollowsDeltasAndFullSyncs) {
  FullSync();
  ReplicaIndex index;
  ASSERT_TRUE(index.Refresh(*r_).ok());
  auto q = ParseQuery("ann");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(index.Search(*q, 10).size(), 2u);
  ASSERT_TRUE(r_->Apply(Page({Del("a", 3), Up("c", 4, "Zoe")}, "T4", false,
                             false),
                        "T2")
                  .ok());
  ASSERT_TRUE(index.Refresh(*r_).ok());
  auto hits = index.Search(*q, 10);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, "b");
  // The scan gives the same answer.
  auto scanned = ScanSearch(*r_, *q, 10);
  ASSERT_TRUE(scanned.ok());
  ASSERT_EQ(scanned->size(), 1u);
  EXPECT_EQ((*scanned)[0].id, "b");
  // A full sync replaces the copy: the index is rebuilt from it.
  ASSERT_TRUE(r_->BeginResync().ok());
  ASSERT_TRUE(r_->Apply(Page({Up("z", 9, "Ann")}, "T9", false, true), "").ok());
  ASSERT_TRUE(index.Refresh(*r_).ok());
  hits = index.Search(*q, 10);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, "z");
}

// A replica of the full view holds hidden contacts; its search, like the
// server's, never finds them.
TEST_F(ReplicaTest, SearchSkipsHiddenContacts) {
  FullSync();
  ReplicaIndex index;
  ASSERT_TRUE(index.Refresh(*r_).ok());
  auto q = ParseQuery("ann");
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(index.Search(*q, 10).size(), 2u);
  std::string hidden = ContactJson("b", 3);
  hidden.insert(hidden.find(",\"name\""), ",\"hidden\":true");
  ASSERT_TRUE(r_->Apply(Page({{FeedChange::Op::kUpsert, "b", 3, 0, hidden}},
                             "T3", false, false),
                        "T2")
                  .ok());
  ASSERT_TRUE(index.Refresh(*r_).ok());
  auto hits = index.Search(*q, 10);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].id, "a");
  auto scanned = ScanSearch(*r_, *q, 10);
  ASSERT_TRUE(scanned.ok());
  ASSERT_EQ(scanned->size(), 1u);
  EXPECT_EQ((*scanned)[0].id, "a");
}

TEST(ReplicaFileTest, GarbageFileIsAClearError) {
  TempDir dir;
  std::string path = dir.file("replica.db");
  std::ofstream(path) << std::string(8192, 'x');
  auto r = Replica::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "replica_corrupt");
  EXPECT_NE(r.error().message.find(path), std::string::npos);
}

TEST(ReplicaFileTest, OtherSqliteDatabaseIsRefused) {
  TempDir dir;
  std::string path = dir.file("other.db");
  ASSERT_EQ(std::system(("sqlite3 " + path +
                         " 'CREATE TABLE t(x); INSERT INTO t VALUES(1)'")
                            .c_str()),
            0);
  auto r = Replica::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "replica_corrupt");
  EXPECT_NE(r.error().message.find("not a galsync replica"), std::string::npos);
}

TEST(ReplicaFileTest, DamagedPagesAreAClearErrorNotACrash) {
  TempDir dir;
  std::string path = dir.file("replica.db");
  {
    auto r = Replica::Open(path);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE((*r)->SetConfig({"http://127.0.0.1:1", "example.com", "", ""}).ok());
    ASSERT_TRUE((*r)->BeginResync().ok());
    std::vector<FeedChange> many;
    for (int i = 1; i <= 2000; ++i) many.push_back(Up("p" + std::to_string(i), i));
    ASSERT_TRUE((*r)->Apply(Page(many, "T", false, true), "").ok());
  }
  // Checkpointed on close; overwrite the middle of the file.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8192);
    std::string junk(64 * 1024, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto r = Replica::Open(path);
  if (!r.ok()) {
    EXPECT_EQ(r.error().reason, "replica_corrupt");
    return;
  }
  // Opening may succeed (the damage is in data pages): reading must then
  // report an error rather than crash or return garbage silently.
  auto st = (*r)->ForEach([](std::string_view, std::string_view) { return true; });
  auto q = ParseQuery("ann");
  auto hits = ScanSearch(**r, *q, 10);
  EXPECT_TRUE(!st.ok() || !hits.ok());
}

// --- ParseFeedPage ---------------------------------------------------------

TEST(ParseFeedPageTest, AcceptsAServerPage) {
  std::string body =
      R"({"changes":[{"op":"upsert","id":"a","seq":3,"time":"2026-11-22T07:00:00Z","contact":)" +
      ContactJson("a", 3) +
      R"(},{"op":"delete","id":"b","seq":4,"time":"2026-11-22T07:00:01Z"}],"next_token":"T","has_more":true,"full_sync":false})";
  auto p = ParseFeedPage(body);
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->changes.size(), 2u);
  EXPECT_EQ(p->changes[0].op, FeedChange::Op::kUpsert);
  EXPECT_EQ(p->changes[0].contact_json, ContactJson("a", 3));
  EXPECT_EQ(p->changes[1].op, FeedChange::Op::kDelete);
  EXPECT_EQ(p->next_token, "T");
  EXPECT_TRUE(p->has_more);
  EXPECT_FALSE(p->full_sync);
}

TEST(ParseFeedPageTest, RejectsMalformedPages) {
  const std::string tail = R"(],"next_token":"T","has_more":false,"full_sync":false})";
  auto up = [](const std::string& id, int seq, const std::string& contact) {
    return R"({"op":"upsert","id":")" + id + R"(","seq":)" +
           std::to_string(seq) + R"(,"time":"2026-11-22T07:00:00Z","contact":)" +
           contact + "}";
  };
  struct Case {
    const char* what;
    std::string body;
    const char* mentions;
  };
  std::vector<Case> cases = {
      {"not json", "<html>oops</html>", "not JSON"},
      {"truncated", R"({"changes":[)", "not JSON"},
      {"array", "[]", "not a JSON object"},
      {"no changes", R"({"next_token":"T","has_more":false,"full_sync":false})",
       "\"changes\""},
      {"no token", R"({"changes":[],"has_more":false,"full_sync":false})",
       "next_token"},
      {"empty token", R"({"changes":[],"next_token":"","has_more":false,"full_sync":false})",
       "next_token"},
      {"has_more string", R"({"changes":[],"next_token":"T","has_more":"no","full_sync":false})",
       "has_more"},
      {"change not object", R"({"changes":[1)" + tail, "changes[0]"},
      {"unknown op", R"({"changes":[{"op":"merge","id":"a","seq":1,"time":"2026-11-22T07:00:00Z"})" + tail,
       "merge"},
      {"bad id", R"({"changes":[{"op":"delete","id":"a b","seq":1,"time":"2026-11-22T07:00:00Z"})" + tail,
       ".id"},
      {"negative seq", R"({"changes":[{"op":"delete","id":"a","seq":-1,"time":"2026-11-22T07:00:00Z"})" + tail,
       ".seq"},
      {"seq goes back",
       R"({"changes":[{"op":"delete","id":"a","seq":5,"time":"2026-11-22T07:00:00Z"},{"op":"delete","id":"b","seq":5,"time":"2026-11-22T07:00:00Z"})" +
           tail,
       "does not follow"},
      {"bad time", R"({"changes":[{"op":"delete","id":"a","seq":1,"time":"yesterday"})" + tail,
       ".time"},
      {"upsert without contact", R"({"changes":[{"op":"upsert","id":"a","seq":1,"time":"2026-11-22T07:00:00Z"})" + tail,
       ".contact"},
      {"contact of another id", R"({"changes":[)" + up("a", 3, ContactJson("b", 3)) + tail,
       "another id"},
      {"contact of another seq", R"({"changes":[)" + up("a", 3, ContactJson("a", 2)) + tail,
       "another id or seq"},
      {"invalid contact", R"({"changes":[)" + up("a", 1, R"({"id":"a","emails":[{"address":"x@@y"}],"name":{"full":"A"},"seq":1})") + tail,
       "x@@y"},
      {"deep nesting", std::string(100, '[') + std::string(100, ']'), "not JSON"},
  };
  for (const Case& c : cases) {
    auto p = ParseFeedPage(c.body);
    ASSERT_FALSE(p.ok()) << c.what;
    EXPECT_EQ(p.error().reason, "bad_response") << c.what;
    EXPECT_NE(p.error().message.find(c.mentions), std::string::npos)
        << c.what << ": " << p.error().message;
  }
}

}  // namespace
}  // namespace galsync
