// Tests of the stores, each run against SQLite and against a real
// PostgreSQL: seq order and contiguity, compaction by key, preconditions,
// atomic batches, history, purge, persistence, migrations, and readers
// racing writers (brief invariants 1, 2 and 7).
#include "galsync/postgres_store.h"
#include "galsync/sqlite_store.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <sqlite3.h>

#include <atomic>
#include <set>
#include <thread>

#include "galsync/contact.h"
#include "pg_test_server.h"
#include "test_util.h"

namespace galsync {
namespace {

using testing::TempDir;

std::string Content(const std::string& id, const std::string& given = "Ann") {
  Contact c;
  c.id = id;
  c.name.given = given;
  c.name.family = "Smith";
  c.emails.push_back({id + "@example.com", "work"});
  return CanonicalContentJson(c);
}

ChangeRequest Upsert(const std::string& id, const std::string& given = "Ann") {
  return {.id = id, .content_json = Content(id, given)};
}
ChangeRequest Delete(const std::string& id) {
  return {.op = ChangeOp::kDelete, .id = id};
}

struct Row {
  uint64_t seq;
  int64_t time;
  bool deleted;
  std::string id, json;
};

std::vector<Row> ScanAll(Store& s, int64_t dom, uint64_t after = 0,
                         uint64_t skip = 0, size_t max = 1000000,
                         ScanResult* res = nullptr) {
  std::vector<Row> rows;
  auto r = s.ScanChanges(dom, after, skip, max, [&](const ChangeRow& row) {
    rows.push_back({row.seq, row.time_us, row.deleted, std::string(row.id),
                    std::string(row.json)});
    return true;
  });
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (res && r.ok()) *res = *r;
  return rows;
}

// History as "seq:id:before>after" lines, each state shown by its given
// name ("-" for none).
std::vector<std::string> HistoryLines(Store& s, int64_t dom,
                                      const std::string& id,
                                      uint64_t after = 0, size_t limit = 100) {
  std::vector<std::string> out;
  auto h = s.History(dom, id, after, limit);
  EXPECT_TRUE(h.ok()) << h.error().message;
  if (!h.ok()) return out;
  auto given = [](const std::string& json) -> std::string {
    if (json.empty()) return "-";
    size_t at = json.find("\"given\":\"");
    return json.substr(at + 9, json.find('"', at + 9) - at - 9);
  };
  for (const auto& e : *h) {
    out.push_back(std::to_string(e.seq) + ":" + e.contact_id + ":" +
                  given(e.before_json) + ">" + given(e.after_json));
  }
  return out;
}

using testing::StoreBackend;

struct OpenOptions {
  bool new_incarnation = false;
  bool fast = false;  // no fsync (synchronous_commit off), where only
                      // ordering is tested
};

class StoreTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (GetParam() == StoreBackend::kPostgres) pg_.emplace();
    Reopen();
  }
  void Reopen(OpenOptions o = {}) {
    store_.reset();
    auto s = Open(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s.value());
  }
  Result<std::unique_ptr<Store>> Open(OpenOptions o = {}) {
    if (GetParam() == StoreBackend::kPostgres) {
      return OpenPostgresStore(pg_->uri(),
                               {.new_incarnation = o.new_incarnation,
                                .synchronous_commit = !o.fast});
    }
    return OpenSqliteStore(dir_.file("g.db"),
                           {.synchronous_full = !o.fast,
                            .new_incarnation = o.new_incarnation});
  }
  int64_t Domain(const std::string& name = "example.com") {
    auto d = store_->GetDomain(name);
    if (d) return d->id;
    auto c = store_->CreateDomain(name, 1000);
    EXPECT_TRUE(c.ok());
    return c->id;
  }
  WriteResult MustWrite(int64_t dom, std::vector<ChangeRequest> ch,
                        int64_t now = 2000) {
    auto w = store_->Write(dom, ch, "tester", now);
    EXPECT_TRUE(w.ok()) << w.error().message;
    return w.ok() ? *w : WriteResult{};
  }

  TempDir dir_;
  std::optional<testing::PgSchema> pg_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, DomainsAreCreatedListedAndUnique) {
  auto a = store_->CreateDomain("b.example", 5);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(store_->CreateDomain("a.example", 6).ok());
  auto dup = store_->CreateDomain("b.example", 7);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(store_->CreateDomain("Bad Name", 1).error().reason,
            "invalid_domain");
  EXPECT_EQ(store_->CreateDomain("", 1).error().reason, "invalid_domain");
  auto list = store_->ListDomains();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "a.example");
  EXPECT_NE((*list)[0].uid, (*list)[1].uid);
  EXPECT_EQ(store_->GetDomain("nope").error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreTest, SeqsAreContiguousAndBatchesTakeARange) {
  int64_t d = Domain();
  auto w1 = MustWrite(d, {Upsert("a")});
  EXPECT_EQ(w1.first_seq, 1u);
  EXPECT_EQ(w1.last_seq, 1u);
  auto w2 = MustWrite(d, {Upsert("b"), Upsert("c"), Delete("a"), Upsert("d")});
  EXPECT_EQ(w2.first_seq, 2u);
  EXPECT_EQ(w2.last_seq, 5u);
  EXPECT_EQ(w2.domain_last_seq, 5u);
  EXPECT_EQ(w2.live_count, 3u);
  ASSERT_EQ(w2.outcomes.size(), 4u);
  EXPECT_EQ(w2.outcomes[0].seq, 2u);
  EXPECT_TRUE(w2.outcomes[0].created);
  auto rows = ScanAll(*store_, d);
  std::vector<uint64_t> seqs;
  for (auto& r : rows) seqs.push_back(r.seq);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{2, 3, 4, 5}));
  EXPECT_TRUE(rows[2].deleted);
  EXPECT_EQ(rows[2].id, "a");
}

TEST_P(StoreTest, CommitTimesNeverGoBackwards) {
  int64_t d = Domain();
  auto w1 = MustWrite(d, {Upsert("a")}, 5000);
  auto w2 = MustWrite(d, {Upsert("b")}, 3000);  // the clock stepped back
  EXPECT_EQ(w1.time_us, 5000);
  EXPECT_EQ(w2.time_us, 5000);
  auto w3 = MustWrite(d, {Upsert("c")}, 9000);
  EXPECT_EQ(w3.time_us, 9000);
}

TEST_P(StoreTest, IdenticalUpsertTakesNoSeq) {
  int64_t d = Domain();
  MustWrite(d, {Upsert("a")});
  auto w = MustWrite(d, {Upsert("a")});
  EXPECT_EQ(w.first_seq, 0u);
  EXPECT_EQ(w.domain_last_seq, 1u);
  EXPECT_EQ(w.outcomes[0].result, ChangeResult::kUnchanged);
  EXPECT_EQ(w.outcomes[0].seq, 1u);
  auto h = store_->History(d, "", 0, 100);
  EXPECT_EQ(h->size(), 1u);
  auto w2 = MustWrite(d, {Upsert("a", "Bob")});
  EXPECT_EQ(w2.first_seq, 2u);
}

TEST_P(StoreTest, LogIsCompactedByKey) {
  int64_t d = Domain();
  MustWrite(d, {Upsert("x"), Upsert("y")});
  for (int i = 0; i < 100; ++i) MustWrite(d, {Upsert("x", "V" + std::to_string(i))});
  auto rows = ScanAll(*store_, d);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, "y");
  EXPECT_EQ(rows[1].id, "x");
  EXPECT_EQ(rows[1].seq, 102u);
  EXPECT_NE(rows[1].json.find("\"V99\""), std::string::npos);
  EXPECT_NE(rows[1].json.find("\"seq\":102"), std::string::npos);
  EXPECT_NE(rows[1].json.find("\"domain\":\"example.com\""), std::string::npos);
  // Scans after a position see only later rows.
  EXPECT_EQ(ScanAll(*store_, d, 101).size(), 1u);
  EXPECT_EQ(ScanAll(*store_, d, 102).size(), 0u);
  // The audit history keeps every change.
  EXPECT_EQ(store_->History(d, "x", 0, 1000)->size(), 101u);
}

TEST_P(StoreTest, DeletedContactsAreTombstonesThatCanBeSkipped) {
  int64_t d = Domain();
  MustWrite(d, {Upsert("a"), Upsert("b"), Delete("a")});
  auto all = ScanAll(*store_, d);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[1].deleted);
  EXPECT_TRUE(all[1].json.empty());
  auto live = ScanAll(*store_, d, 0, 3);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].id, "b");
  // A delete of something not live takes no seq.
  auto w = MustWrite(d, {Delete("a"), Delete("never")});
  EXPECT_EQ(w.first_seq, 0u);
  EXPECT_EQ(w.outcomes[0].result, ChangeResult::kNotFound);
  // Re-creating a deleted contact revives it at a new seq.
  auto w2 = MustWrite(d, {Upsert("a")});
  EXPECT_TRUE(w2.outcomes[0].created);
  EXPECT_EQ(w2.live_count, 2u);
  auto c = store_->GetContact(d, "a");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->deleted);
  EXPECT_EQ(c->seq, 4u);
}

TEST_P(StoreTest, GetContactsReadsEachIdAsGetContactDoes) {
  int64_t d = Domain();
  int64_t other = store_->CreateDomain("other.example", 1)->id;
  MustWrite(d, {Upsert("a"), Upsert("b")});
  MustWrite(d, {Delete("b")});
  ASSERT_TRUE(store_->Write(other, std::vector{Upsert("c")}, "t", 1).ok());
  const std::vector<std::string> ids = {"b", "never", "a", "c", "a"};
  auto got = store_->GetContacts(d, ids);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(ids[i]);
    auto one = store_->GetContact(d, ids[i]);
    ASSERT_EQ((*got)[i].has_value(), one.ok());
    if (!one.ok()) continue;
    EXPECT_EQ((*got)[i]->id, one->id);
    EXPECT_EQ((*got)[i]->seq, one->seq);
    EXPECT_EQ((*got)[i]->deleted, one->deleted);
    EXPECT_EQ((*got)[i]->json, one->json);
  }
  EXPECT_TRUE((*got)[0]->deleted);  // a tombstone is a state too
  EXPECT_FALSE((*got)[3].has_value());  // "c" is another domain's
  EXPECT_TRUE(store_->GetContacts(d, {})->empty());
}

// A batch that mixes new ids with live, unchanged, tombstoned and repeated
// ones: each change gets the outcome it would get alone, in order (the
// SQLite store tries new contacts' inserts before reading, and switches
// back and forth between the two along such a batch).
TEST_P(StoreTest, BatchMixingNewAndExistingIdsAppliesEachInOrder) {
  int64_t d = Domain();
  MustWrite(d, {Upsert("live"), Upsert("same"), Upsert("gone")});
  MustWrite(d, {Delete("gone")});  // seq 4
  auto w = MustWrite(d, {Upsert("n1"), Upsert("live", "Changed"),
                         Upsert("same"), Upsert("n2"), Upsert("gone", "Back"),
                         Upsert("n2", "Twice"), Upsert("n3"), Delete("n1")});
  ASSERT_EQ(w.outcomes.size(), 8u);
  const std::vector<std::pair<ChangeResult, uint64_t>> want = {
      {ChangeResult::kApplied, 5},   {ChangeResult::kApplied, 6},
      {ChangeResult::kUnchanged, 2}, {ChangeResult::kApplied, 7},
      {ChangeResult::kApplied, 8},   {ChangeResult::kApplied, 9},
      {ChangeResult::kApplied, 10},  {ChangeResult::kApplied, 11}};
  const std::vector<bool> created = {true,  false, false, true,
                                     true,  false, true,  false};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(w.outcomes[i].result, want[i].first) << i;
    EXPECT_EQ(w.outcomes[i].seq, want[i].second) << i;
    EXPECT_EQ(w.outcomes[i].created, created[i]) << i;
  }
  EXPECT_EQ(w.first_seq, 5u);
  EXPECT_EQ(w.last_seq, 11u);
  // live, same, gone (revived), n2, n3.
  EXPECT_EQ(w.live_count, 5u);
  EXPECT_EQ(store_->GetDomain("example.com")->live_count, 5u);

  auto n2 = store_->GetContact(d, "n2");
  ASSERT_TRUE(n2.ok());
  EXPECT_EQ(n2->seq, 9u);
  EXPECT_NE(n2->json.find("\"Twice\""), std::string::npos);
  EXPECT_NE(n2->json.find("\"seq\":9"), std::string::npos);
  EXPECT_NE(store_->GetContact(d, "gone")->json.find("\"Back\""),
            std::string::npos);
  EXPECT_TRUE(store_->GetContact(d, "n1")->deleted);

  // Each applied change logged once, with the state it replaced.
  auto h = store_->History(d, "", 4, 100);
  ASSERT_TRUE(h.ok());
  std::vector<std::string> ids;
  for (const auto& e : *h) ids.push_back(e.contact_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"n1", "live", "n2", "gone", "n2",
                                           "n3", "n1"}));
  EXPECT_TRUE((*h)[0].before_json.empty());
  EXPECT_NE((*h)[1].before_json.find("\"Ann\""), std::string::npos);
  EXPECT_TRUE((*h)[3].before_json.empty());  // revived from a tombstone
  EXPECT_NE((*h)[4].after_json.find("\"Twice\""), std::string::npos);
  EXPECT_NE((*h)[6].before_json.find("\"seq\":5"), std::string::npos);

  // A precondition that fails on an existing id fails the whole batch,
  // the new contacts written before it in the batch included.
  ChangeRequest exists = Upsert("n3", "Again");
  exists.if_none_match = true;
  auto bad = store_->Write(d, std::vector{Upsert("n4"), exists}, "t", 3000);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kPreconditionFailed);
  EXPECT_EQ(store_->GetContact(d, "n4").error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetDomain("example.com")->last_seq, 11u);
}

TEST_P(StoreTest, IfMatchMismatchFailsTheWholeBatch) {
  int64_t d = Domain();
  MustWrite(d, {Upsert("a")});
  ChangeRequest ok = Upsert("b");
  ChangeRequest bad = Upsert("a", "Zed");
  bad.if_match = "7";
  auto w = store_->Write(d, std::vector{ok, bad}, "t", 1);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, ErrorKind::kPreconditionFailed);
  EXPECT_EQ(w.error().reason, "version_mismatch");
  EXPECT_EQ(store_->GetContact(d, "b").error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->GetDomain("example.com")->last_seq, 1u);

  bad.if_match = "1";
  EXPECT_TRUE(store_->Write(d, std::vector{bad}, "t", 1).ok());
  ChangeRequest any = Upsert("a", "Any");
  any.if_match = "*";
  EXPECT_TRUE(store_->Write(d, std::vector{any}, "t", 1).ok());
  ChangeRequest create = Upsert("a", "Again");
  create.if_none_match = true;
  EXPECT_EQ(store_->Write(d, std::vector{create}, "t", 1).error().kind,
            ErrorKind::kPreconditionFailed);
  ChangeRequest del = Delete("a");
  del.if_match = "1";
  EXPECT_EQ(store_->Write(d, std::vector{del}, "t", 1).error().kind,
            ErrorKind::kPreconditionFailed);
}

TEST_P(StoreTest, HistoryRecordsWhoWhenBeforeAndAfter) {
  int64_t d = Domain();
  MustWrite(d, {Upsert("a", "One")}, 10);
  ASSERT_TRUE(store_->Write(d, std::vector{Upsert("a", "Two")}, "alice", 20).ok());
  ASSERT_TRUE(store_->Write(d, std::vector{Delete("a")}, "bob", 30).ok());
  auto h = store_->History(d, "a", 0, 10);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ((*h)[0].actor, "tester");
  EXPECT_TRUE((*h)[0].before_json.empty());
  EXPECT_NE((*h)[0].after_json.find("One"), std::string::npos);
  EXPECT_EQ((*h)[1].actor, "alice");
  EXPECT_NE((*h)[1].before_json.find("One"), std::string::npos);
  EXPECT_NE((*h)[1].after_json.find("Two"), std::string::npos);
  EXPECT_EQ((*h)[2].op, ChangeOp::kDelete);
  EXPECT_EQ((*h)[2].time_us, 30);
  EXPECT_NE((*h)[2].before_json.find("Two"), std::string::npos);
  EXPECT_TRUE((*h)[2].after_json.empty());
  EXPECT_EQ(store_->History(d, "a", 1, 10)->size(), 2u);
  EXPECT_EQ(store_->History(d, "", 0, 2)->size(), 2u);
}

TEST_P(StoreTest, PurgeRemovesOldTombstonesAndAdvancesHorizon) {
  int64_t d = Domain();
  MustWrite(d, {Upsert("a"), Upsert("b"), Upsert("c")}, 100);
  MustWrite(d, {Delete("a")}, 200);   // seq 4
  MustWrite(d, {Delete("b")}, 300);   // seq 5
  auto p = store_->Purge(d, 250);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->tombstones_removed, 1u);
  EXPECT_EQ(p->history_removed, 4u);
  EXPECT_EQ(p->horizon_seq, 4u);
  EXPECT_EQ(store_->GetDomain("example.com")->horizon_seq, 4u);
  auto rows = ScanAll(*store_, d);
  ASSERT_EQ(rows.size(), 2u);  // c (live) and b's tombstone
  EXPECT_EQ(rows[0].id, "c");
  EXPECT_EQ(rows[1].id, "b");
  // The horizon never moves backwards.
  EXPECT_EQ(store_->Purge(d, 0)->horizon_seq, 4u);
}

// Contacts created one after another by one write share a history row in
// the SQLite store; each is still an entry of its own wherever history is
// read, in pages that begin or end inside such a run.
TEST_P(StoreTest, HistoryListsEachCreationOfABatch) {
  int64_t d = Domain();
  MustWrite(d, {Upsert("z", "Z1")}, 50);                       // 1
  MustWrite(d, {Upsert("a", "A1"), Upsert("b", "B1"),          // 2, 3
                Upsert("z", "Z2"),                             // 4
                Upsert("c", "C1"), Upsert("d", "D1"),          // 5, 6
                Delete("nobody")},                             // no seq
            100);
  ASSERT_TRUE(store_->Write(d, std::vector{Upsert("b", "B2"), Delete("c")},
                            "alice", 200)
                  .ok());                                      // 7, 8
  using V = std::vector<std::string>;
  const V all{"1:z:->Z1", "2:a:->A1", "3:b:->B1", "4:z:Z1>Z2",
              "5:c:->C1", "6:d:->D1", "7:b:B1>B2", "8:c:C1>-"};
  EXPECT_EQ(HistoryLines(*store_, d, ""), all);
  // Pages of every size, from every position, agree with the whole.
  for (size_t limit = 1; limit <= 4; ++limit) {
    for (uint64_t after = 0; after <= 8; ++after) {
      const size_t begin = std::min<size_t>(after, all.size());
      const size_t end = std::min(begin + limit, all.size());
      EXPECT_EQ(HistoryLines(*store_, d, "", after, limit),
                V(all.begin() + begin, all.begin() + end))
          << "after " << after << ", limit " << limit;
    }
  }
  EXPECT_EQ(HistoryLines(*store_, d, "b"), (V{"3:b:->B1", "7:b:B1>B2"}));
  EXPECT_EQ(HistoryLines(*store_, d, "b", 3), V{"7:b:B1>B2"});
  EXPECT_EQ(HistoryLines(*store_, d, "b", 0, 1), V{"3:b:->B1"});
  EXPECT_EQ(HistoryLines(*store_, d, "c"), (V{"5:c:->C1", "8:c:C1>-"}));
  EXPECT_EQ(HistoryLines(*store_, d, "d"), V{"6:d:->D1"});
  auto h = store_->History(d, "a", 0, 10);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].actor, "tester");
  EXPECT_EQ((*h)[0].time_us, 100);
  EXPECT_EQ((*h)[0].op, ChangeOp::kUpsert);

  auto versions_of = [&](const std::string& id, bool* complete) {
    std::vector<std::string> out;
    auto r = store_->ContactVersions(d, id, 100, [&](std::string_view j) {
      out.emplace_back(j);
      return true;
    });
    EXPECT_TRUE(r.ok());
    *complete = r.ok() && *r;
    return out;
  };
  bool complete = false;
  EXPECT_EQ(versions_of("b", &complete).size(), 2u);  // B1 and B2
  EXPECT_TRUE(complete);

  // Purging what is older than 150 removes each of the six entries, and b's
  // remaining history no longer reaches its creation.
  auto p = store_->Purge(d, 150);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->history_removed, 6u);
  EXPECT_EQ(HistoryLines(*store_, d, ""), (V{"7:b:B1>B2", "8:c:C1>-"}));
  EXPECT_EQ(HistoryLines(*store_, d, "b"), V{"7:b:B1>B2"});
  EXPECT_EQ(HistoryLines(*store_, d, "a"), V{});
  versions_of("b", &complete);
  EXPECT_FALSE(complete);
}

// A batch as large as a write takes, paged through a few entries at a time.
TEST_P(StoreTest, HistoryPagesThroughALargeBatchOfCreations) {
  int64_t d = Domain();
  std::vector<ChangeRequest> batch;
  for (int i = 0; i < 10000; ++i) batch.push_back(Upsert("p" + std::to_string(i)));
  MustWrite(d, batch, 100);
  uint64_t after = 0;
  size_t pages = 0;
  while (true) {
    auto h = store_->History(d, "", after, 997);
    ASSERT_TRUE(h.ok());
    if (h->empty()) break;
    ++pages;
    for (const auto& e : *h) {
      ASSERT_EQ(e.seq, after + 1);
      ASSERT_EQ(e.contact_id, "p" + std::to_string(e.seq - 1));
      ASSERT_NE(e.after_json.find("\"id\":\"" + e.contact_id + "\""),
                std::string::npos);
      after = e.seq;
    }
  }
  EXPECT_EQ(after, 10000u);
  EXPECT_EQ(pages, 11u);
  EXPECT_EQ(HistoryLines(*store_, d, "p5000"),
            std::vector<std::string>{"5001:p5000:->Ann"});
}

TEST_P(StoreTest, SeqBeforeTimeFindsTheFirstChangeAtOrAfter) {
  int64_t d = Domain();
  MustWrite(d, {Upsert("a")}, 100);             // 1
  MustWrite(d, {Upsert("b"), Upsert("c")}, 200);  // 2, 3
  MustWrite(d, {Upsert("a", "X")}, 300);        // 4 (row at 1 moves)
  MustWrite(d, {Upsert("d")}, 400);             // 5
  // The last row before the first row at or after the time: seq 1 was
  // superseded by seq 4, so nothing precedes b's row at seq 2.
  EXPECT_EQ(*store_->SeqBeforeTime(d, 0), 0u);
  EXPECT_EQ(*store_->SeqBeforeTime(d, 150), 0u);
  EXPECT_EQ(*store_->SeqBeforeTime(d, 200), 0u);
  EXPECT_EQ(*store_->SeqBeforeTime(d, 201), 3u);
  EXPECT_EQ(*store_->SeqBeforeTime(d, 400), 4u);
  EXPECT_EQ(*store_->SeqBeforeTime(d, 401), 5u);
}

TEST_P(StoreTest, DataAndIncarnationSurviveReopen) {
  int64_t d = Domain();
  MustWrite(d, {Upsert("a"), Upsert("b")});
  uint64_t inc = store_->incarnation();
  Reopen();
  EXPECT_EQ(store_->incarnation(), inc);
  EXPECT_EQ(ScanAll(*store_, Domain()).size(), 2u);
  EXPECT_EQ(store_->GetDomain("example.com")->last_seq, 2u);
  Reopen({.new_incarnation = true});
  EXPECT_NE(store_->incarnation(), inc);
}

TEST_P(StoreTest, RefusesASchemaFromTheFuture) {
  store_.reset();
  if (GetParam() == StoreBackend::kPostgres) {
    pg_->Exec("UPDATE galsync_schema SET version = 99");
  } else {
    sqlite3* db;
    ASSERT_EQ(sqlite3_open(dir_.file("g.db").c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  auto s = Open();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().reason, "schema_too_new");
}

TEST_P(StoreTest, DomainsAreIsolated) {
  int64_t a = Domain("a.example"), b = Domain("b.example");
  MustWrite(a, {Upsert("x")});
  MustWrite(b, {Upsert("x", "Other"), Upsert("y")});
  EXPECT_EQ(ScanAll(*store_, a).size(), 1u);
  EXPECT_EQ(ScanAll(*store_, b).size(), 2u);
  EXPECT_EQ(store_->GetDomain("a.example")->last_seq, 1u);
  EXPECT_EQ(store_->GetContact(a, "y").error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(store_->History(a, "", 0, 100)->size(), 1u);
}

// Invariant 1: a reader that sees seq N has seen every change below N.
// Writers insert new contacts only, so every seq stays a row; any snapshot
// must then hold exactly seqs 1..last_seq with no gap, and a tailing reader
// must receive seqs strictly one after another.
TEST_P(StoreTest, ConcurrentReadersNeverSeeAGap) {
  Reopen({.fast = true});  // speed; ordering is what is tested here
  int64_t d = Domain();
  std::atomic<bool> done{false};
  std::atomic<int> next_id{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < 150; ++i) {
        std::vector<ChangeRequest> batch;
        int n = 1 + i % 4;
        for (int k = 0; k < n; ++k) {
          batch.push_back(Upsert("c" + std::to_string(next_id++)));
        }
        ASSERT_TRUE(store_->Write(d, batch, "w", 1).ok());
      }
    });
  }
  std::atomic<uint64_t> checks{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      uint64_t tail = 0;
      while (!done) {
        if (r == 0) {  // whole-snapshot reader
          ScanResult res;
          auto rows = ScanAll(*store_, d, 0, 0, 1000000, &res);
          ASSERT_EQ(rows.size(), res.snapshot_last_seq);
          for (size_t i = 0; i < rows.size(); ++i) {
            ASSERT_EQ(rows[i].seq, i + 1);
          }
        } else {  // tailing reader with small pages
          auto rows = ScanAll(*store_, d, tail, 0, 1 + r * 3);
          for (auto& row : rows) {
            ASSERT_EQ(row.seq, tail + 1);
            tail = row.seq;
          }
        }
        ++checks;
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(checks.load(), 10u);
  ScanResult res;
  auto rows = ScanAll(*store_, d, 0, 0, 1000000, &res);
  EXPECT_EQ(rows.size(), static_cast<size_t>(next_id.load()));
  EXPECT_EQ(res.snapshot_last_seq, rows.size());
}

// Owners (ChangeRequest::source): recorded by upserts that name one, kept
// by writes that do not, listed per source with tombstones, moved without a
// log entry when only the owner changes, and unique per (source, key).
TEST_P(StoreTest, SourceOwnership) {
  const int64_t dom = Domain();
  auto owned = [](ChangeRequest ch, std::string source, std::string key) {
    ch.source = std::move(source);
    ch.source_key = std::move(key);
    return ch;
  };
  MustWrite(dom, {owned(Upsert("a"), "hr", "k-a"), owned(Upsert("b"), "hr", "k-b"),
                  owned(Upsert("c"), "ldap", "k-c"), Upsert("d")});
  MustWrite(dom, {Upsert("a", "Anna"), Delete("b")});  // API writes
  auto list = [&](const std::string& source) {
    std::map<std::string, std::string> out;  // key -> "id seq deleted"
    auto st = store_->SourceContacts(dom, source, [&](const SourceRow& r) {
      out[std::string(r.source_key)] = std::string(r.id) + " " +
                                       std::to_string(r.seq) +
                                       (r.deleted ? " deleted" : "");
      EXPECT_EQ(r.json.empty(), r.deleted);
      return true;
    });
    EXPECT_TRUE(st.ok());
    return out;
  };
  EXPECT_EQ(list("hr"), (std::map<std::string, std::string>{
                            {"k-a", "a 5"}, {"k-b", "b 6 deleted"}}));
  EXPECT_EQ(list("ldap").size(), 1u);
  EXPECT_TRUE(list("none").empty());
  auto a = store_->GetContact(dom, "a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->source, "hr");
  EXPECT_EQ(a->source_key, "k-a");
  EXPECT_EQ(store_->GetContact(dom, "d")->source, "");
  // Looked up by owner, tombstones included.
  auto by_key = store_->ContactBySource(dom, "hr", "k-b");
  ASSERT_TRUE(by_key.ok()) << by_key.error().message;
  EXPECT_EQ(by_key->id, "b");
  EXPECT_TRUE(by_key->deleted);
  EXPECT_EQ(by_key->seq, 6u);
  EXPECT_EQ(store_->ContactBySource(dom, "hr", "k-a")->id, "a");
  EXPECT_EQ(store_->ContactBySource(dom, "ldap", "k-a").error().kind,
            ErrorKind::kNotFound);
  EXPECT_EQ(store_->ContactBySource(dom + 1, "hr", "k-a").error().kind,
            ErrorKind::kNotFound);

  // Same content, new key: the owner moves, no seq is taken.
  auto w = MustWrite(dom, {owned(Upsert("a", "Anna"), "hr", "k-a2")});
  EXPECT_EQ(w.outcomes[0].result, ChangeResult::kUnchanged);
  EXPECT_EQ(w.last_seq, 0u);
  EXPECT_EQ(list("hr").count("k-a2"), 1u);

  // Another contact may not take a (source, key) that is in use.
  auto clash = store_->Write(dom, std::vector{owned(Upsert("e"), "hr", "k-a2")},
                             "t", 3000);
  EXPECT_FALSE(clash.ok());
  EXPECT_EQ(ScanAll(*store_, dom).size(), 4u);  // nothing of it was written
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, testing::kBothStores,
                         testing::StoreBackendName);

// A database as schema version 4 left it (history indexed by contact id)
// opens at version 5 with every contact's history intact: found by origin,
// across a delete and a re-creation, with purged history, and with the same
// id in another domain. Writes after the migration extend it.
// The page size of a database file, read by SQLite itself.
int PageSize(const std::string& path) {
  sqlite3* db;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return -1;
  int size = -1;
  sqlite3_exec(
      db, "PRAGMA page_size",
      [](void* out, int, char** values, char**) {
        *static_cast<int*>(out) = std::atoi(values[0]);
        return 0;
      },
      &size, nullptr);
  sqlite3_close(db);
  return size;
}

TEST(SqliteStoreTest, NewDatabasesHave32KiBPagesAndOldOnesKeepTheirs) {
  TempDir dir;
  const std::string fresh = dir.file("new.db"), old = dir.file("old.db");
  {
    auto s = OpenSqliteStore(fresh, {.synchronous_full = false});
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  EXPECT_EQ(PageSize(fresh), 32768);
  {
    sqlite3* db;
    ASSERT_EQ(sqlite3_open(old.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; "
                           "CREATE TABLE t(x);",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto s = OpenSqliteStore(old, {.synchronous_full = false});
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE((*s)->CreateDomain("example.com", 1).ok());
  s->reset();
  EXPECT_EQ(PageSize(old), 16384);
}

// The first column of the first row `sql` gives in the SQLite database at
// `path` ("" if none, or on an error, which the test reports).
std::string QueryText(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    ADD_FAILURE() << "open " << path;
  } else if (sqlite3_stmt* st = nullptr;
             sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(db);
  } else {
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

// What makes an import fast: the creations of one write, one after
// another, are one history row; other changes keep a row each.
TEST(SqliteHistoryTest, CreationsOneAfterAnotherShareOneRow) {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  {
    auto opened = OpenSqliteStore(path, {.synchronous_full = false});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    Store& s = **opened;
    auto d = s.CreateDomain("example.com", 1);
    ASSERT_TRUE(d.ok());
    std::vector<ChangeRequest> batch;
    for (int i = 0; i < 100; ++i) batch.push_back(Upsert("p" + std::to_string(i)));
    batch.push_back(Upsert("p7", "Changed"));  // breaks the run
    batch.push_back(Upsert("q"));              // a run of one: a plain row
    ASSERT_TRUE(s.Write(d->id, batch, "tester", 100).ok());
  }
  EXPECT_EQ(QueryText(path,
                      "SELECT group_concat((key & 1099511627775) || ':' || "
                      "coalesce(last_key & 1099511627775, '') || ':' || "
                      "contact_id, ' ') FROM (SELECT * FROM history "
                      "ORDER BY key)"),
            "1:100: 101::p7 102::q");
}

TEST(SqliteMigrationTest, Version4HistoryIsFoundByOriginAfterMigrating) {
  TempDir dir;
  const std::string path = dir.file("v4.db");
  auto stored = [](const std::string& id, const std::string& given,
                   const std::string& domain, uint64_t seq) {
    return StoredContactJson(Content(id, given), domain, seq, 1000 + seq);
  };
  {
    sqlite3* db;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const std::string schema = R"sql(
PRAGMA page_size=16384; PRAGMA journal_mode=WAL;
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE domains(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  uid INTEGER NOT NULL, created_us INTEGER NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0, last_time_us INTEGER NOT NULL DEFAULT 0,
  horizon_seq INTEGER NOT NULL DEFAULT 0,
  live_count INTEGER NOT NULL DEFAULT 0, policy TEXT NOT NULL DEFAULT '');
CREATE TABLE contacts(key INTEGER PRIMARY KEY, domain_id INTEGER NOT NULL,
  contact_id TEXT NOT NULL, time_us INTEGER NOT NULL,
  deleted INTEGER NOT NULL, json TEXT, source TEXT, source_key TEXT);
CREATE UNIQUE INDEX contacts_by_id ON contacts(domain_id, contact_id);
CREATE UNIQUE INDEX contacts_by_source ON contacts(domain_id, source, source_key)
  WHERE source IS NOT NULL;
CREATE TABLE history(key INTEGER PRIMARY KEY, contact_id TEXT NOT NULL,
  time_us INTEGER NOT NULL, actor TEXT NOT NULL, op TEXT NOT NULL,
  before_json TEXT);
CREATE INDEX history_by_contact ON history(contact_id, key);
CREATE TABLE api_keys(id TEXT PRIMARY KEY, domain TEXT NOT NULL,
  scopes INTEGER NOT NULL, name TEXT NOT NULL, secret_sha256 TEXT NOT NULL,
  created_us INTEGER NOT NULL, created_by TEXT NOT NULL,
  revoked_us INTEGER NOT NULL DEFAULT 0);
INSERT INTO meta VALUES ('incarnation', '77');
INSERT INTO domains(id, name, uid, created_us, last_seq, last_time_us,
                    live_count)
  VALUES (1, 'example.com', 5, 1, 6, 1006, 3), (2, 'other.example', 6, 1, 1, 1001, 1);
PRAGMA user_version=4;
)sql";
    ASSERT_EQ(sqlite3_exec(db, schema.c_str(), nullptr, nullptr, nullptr),
              SQLITE_OK) << sqlite3_errmsg(db);
    auto exec = [&](const std::string& sql,
                    const std::vector<std::optional<std::string>>& texts) {
      sqlite3_stmt* st;
      ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr),
                SQLITE_OK) << sqlite3_errmsg(db);
      for (size_t i = 0; i < texts.size(); ++i) {
        if (texts[i]) {
          sqlite3_bind_text(st, static_cast<int>(i + 1), texts[i]->c_str(),
                            -1, SQLITE_TRANSIENT);
        }
      }
      ASSERT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db);
      sqlite3_finalize(st);
    };
    const int64_t d1 = int64_t{1} << 40, d2 = int64_t{2} << 40;
    auto contact = [&](int64_t key, const char* id, bool deleted,
                       std::optional<std::string> json) {
      exec("INSERT INTO contacts(key, domain_id, contact_id, time_us, "
           "deleted, json) VALUES (" + std::to_string(key) + ", " +
               std::to_string(key >> 40) + ", '" + id + "', 0, " +
               (deleted ? "1" : "0") + ", ?1)",
           {json});
    };
    auto history = [&](int64_t key, const char* id, const char* op,
                       std::optional<std::string> before) {
      exec("INSERT INTO history VALUES (" + std::to_string(key) + ", '" + id +
               "', " + std::to_string(1000 + (key & 0xffffffffff)) +
               ", 'tester', '" + op + "', ?1)",
           {before});
    };
    // a: created at 1, changed at 3. b: created at 2, deleted at 4,
    // created again at 5. c: created at 6, its history purged. In the
    // other domain, another contact a created at 1.
    history(d1 | 1, "a", "upsert", std::nullopt);
    history(d1 | 2, "b", "upsert", std::nullopt);
    history(d1 | 3, "a", "upsert", stored("a", "A1", "example.com", 1));
    history(d1 | 4, "b", "delete", stored("b", "B1", "example.com", 2));
    history(d1 | 5, "b", "upsert", std::nullopt);
    history(d2 | 1, "a", "upsert", std::nullopt);
    contact(d1 | 3, "a", false, stored("a", "A2", "example.com", 3));
    contact(d1 | 5, "b", false, stored("b", "B2", "example.com", 5));
    contact(d1 | 6, "c", false, stored("c", "C1", "example.com", 6));
    contact(d2 | 1, "a", false, stored("a", "Other", "other.example", 1));
    sqlite3_close(db);
  }

  auto opened = OpenSqliteStore(path, {.synchronous_full = false});
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Store& s = **opened;
  EXPECT_EQ(s.incarnation(), 77u);

  auto history_of = [&](int64_t dom, const std::string& id) {
    return HistoryLines(s, dom, id);
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(history_of(1, "a"), (V{"1:a:->A1", "3:a:A1>A2"}));
  EXPECT_EQ(history_of(1, "b"), (V{"2:b:->B1", "4:b:B1>-", "5:b:->B2"}));
  EXPECT_EQ(history_of(1, "c"), V{});
  EXPECT_EQ(history_of(2, "a"), (V{"1:a:->Other"}));
  EXPECT_EQ(history_of(1, ""), (V{"1:a:->A1", "2:b:->B1", "3:a:A1>A2",
                                  "4:b:B1>-", "5:b:->B2"}));

  // Versions of b: the history from its creation on is whole.
  std::vector<std::string> versions;
  auto complete = s.ContactVersions(1, "b", 100, [&](std::string_view j) {
    versions.emplace_back(j);
    return true;
  });
  ASSERT_TRUE(complete.ok());
  EXPECT_TRUE(*complete);
  EXPECT_EQ(versions.size(), 2u);  // B1 (replaced by the delete) and B2

  // Writes after the migration join each contact's history.
  ASSERT_TRUE(s.Write(1, std::vector{Upsert("a", "A3"), Upsert("c", "C2"),
                                     Upsert("d", "D1")},
                      "tester", 2000)
                  .ok());
  EXPECT_EQ(history_of(1, "a"),
            (V{"1:a:->A1", "3:a:A1>A2", "7:a:A2>A3"}));
  EXPECT_EQ(history_of(1, "c"), (V{"8:c:C1>C2"}));
  EXPECT_EQ(history_of(1, "d"), (V{"9:d:->D1"}));
  EXPECT_EQ(history_of(2, "a"), (V{"1:a:->Other"}));

  EXPECT_EQ(QueryText(path,
                      "SELECT group_concat(name) FROM (SELECT name "
                      "FROM sqlite_master WHERE tbl_name = 'history' "
                      "AND type = 'index' ORDER BY name)"),
            "history_by_origin");
}

}  // namespace
}  // namespace galsync
