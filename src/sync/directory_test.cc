// Tests of the sync engine through the Directory: full and delta sync,
// paging and byte budgets, compaction, every token error (forged, other
// domain, other incarnation, expired, ahead), since=, and a randomized
// model check that any interleaving of writes and paged syncs converges.
// Each test runs over the SQLite store and over a real PostgreSQL.
#include "galsync/directory.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "galsync/postgres_store.h"
#include "galsync/sqlite_store.h"
#include "pg_test_server.h"
#include "test_util.h"

namespace galsync {
namespace {

namespace json = boost::json;
using testing::TempDir;

const std::string kSecret(32, 's');
constexpr char kDom[] = "example.com";

Contact Person(const std::string& id, const std::string& given = "Ann") {
  Contact c;
  c.id = id;
  c.name.given = given;
  c.name.family = "Smith";
  c.emails.push_back({id + "@example.com", "work"});
  return c;
}

using Replica = testing::PageReplica;

using testing::StoreBackend;

class DirectoryTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (GetParam() == StoreBackend::kPostgres) pg_.emplace();
    Open();
  }

  void Open(bool new_incarnation = false, DirectoryOptions opts = {}) {
    dir_.reset();
    auto s = GetParam() == StoreBackend::kPostgres
                 ? OpenPostgresStore(pg_->uri(),
                                     {.new_incarnation = new_incarnation})
                 : OpenSqliteStore(tmp_.file("g.db"),
                                   {.synchronous_full = false,
                                    .new_incarnation = new_incarnation});
    ASSERT_TRUE(s.ok()) << s.error().message;
    dir_ = std::make_unique<Directory>(std::move(s.value()), kSecret, opts,
                                       &clock_);
    ASSERT_TRUE(dir_->Open().ok());
    if (!dir_->GetDomain(kDom).ok()) {
      ASSERT_TRUE(dir_->CreateDomain(kDom).ok());
    }
  }

  void Put(const std::string& id, const std::string& given = "Ann") {
    auto r = dir_->PutContact(kDom, Person(id, given), {}, false, "t");
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  void Del(const std::string& id) {
    auto r = dir_->DeleteContact(kDom, id, {}, "t");
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  Result<ChangesPage> Page(const std::string& token, size_t limit = 0,
                           View view = View::kFull) {
    ChangesRequest req;
    if (!token.empty()) req.token = token;
    req.limit = limit;
    req.view = view;
    return dir_->Changes(kDom, req);
  }

  // Syncs `r` to the end, `limit` changes a page.
  void SyncAll(Replica& r, size_t limit = 0, View view = View::kFull) {
    for (int guard = 0; guard < 100000; ++guard) {
      auto p = Page(r.token, limit, view);
      ASSERT_TRUE(p.ok()) << p.error().message;
      if (!r.Apply(p->body)) return;
    }
    FAIL() << "sync did not finish";
  }

  std::map<std::string, std::string> LiveSet(View view = View::kFull) {
    Replica fresh;
    SyncAll(fresh, 0, view);
    return fresh.contacts;
  }

  TempDir tmp_;
  std::optional<testing::PgSchema> pg_;
  ManualClock clock_{1'700'000'000'000'000};
  std::unique_ptr<Directory> dir_;
};

TEST_P(DirectoryTest, FullSyncPagesThroughEveryLiveContactOnce) {
  for (int i = 0; i < 25; ++i) Put("p" + std::to_string(i));
  Del("p3");
  Del("p7");
  Replica r;
  SyncAll(r, 4);
  EXPECT_EQ(r.contacts.size(), 23u);
  EXPECT_EQ(r.pages, 6);  // 23 live contacts, 4 a page
  EXPECT_FALSE(r.contacts.count("p3"));
  // The stored JSON is served verbatim, server members included.
  const std::string& p0 = r.contacts["p0"];
  EXPECT_NE(p0.find("\"seq\":1"), std::string::npos);
  EXPECT_NE(p0.find("\"domain\":\"example.com\""), std::string::npos);
}

TEST_P(DirectoryTest, FullSyncHasNoTombstonesAndIsMarked) {
  Put("a");
  Put("b");
  Del("a");
  auto p = Page("");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->count, 1u);
  EXPECT_TRUE(p->full_sync);
  EXPECT_EQ(p->body.find("\"op\":\"delete\""), std::string::npos);
  EXPECT_EQ(p->next_seq, 3u);
}

TEST_P(DirectoryTest, DeltaCarriesOnlyLatestStateOfEachChangedContact) {
  Put("a");
  Put("b");
  Replica r;
  SyncAll(r);
  for (int i = 0; i < 100; ++i) Put("a", "V" + std::to_string(i));
  Del("b");
  Put("c");
  auto p = Page(r.token);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->count, 3u);
  EXPECT_FALSE(p->full_sync);
  r.Apply(p->body);
  EXPECT_EQ(r.contacts, LiveSet());
  EXPECT_NE(r.contacts["a"].find("V99"), std::string::npos);
}

TEST_P(DirectoryTest, UpToDatePollEchoesTheTokenWithoutChanges) {
  Put("a");
  Replica r;
  SyncAll(r);
  auto p = Page(r.token);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->count, 0u);
  EXPECT_FALSE(p->has_more);
  EXPECT_NE(p->body.find(r.token), std::string::npos);
}

TEST_P(DirectoryTest, DeletesDuringAFullSyncAreNotMissed) {
  for (int i = 0; i < 10; ++i) Put("p" + std::to_string(i));
  Del("p9");  // deleted before the sync: never delivered, not needed
  Replica r;
  auto p = Page("", 3);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(r.Apply(p->body));  // p0..p2
  Del("p1");                      // already delivered: must be deleted
  Del("p5");                      // not yet delivered
  Put("p0", "Changed");
  SyncAll(r, 3);
  EXPECT_EQ(r.contacts, LiveSet());
  EXPECT_FALSE(r.contacts.count("p1"));
  EXPECT_NE(r.contacts["p0"].find("Changed"), std::string::npos);
}

TEST_P(DirectoryTest, PagesRespectTheByteBudget) {
  DirectoryOptions o;
  o.max_page_bytes = 2000;
  Open(false, o);
  for (int i = 0; i < 30; ++i) Put("p" + std::to_string(i));
  auto p = Page("", 1000);
  ASSERT_TRUE(p.ok());
  EXPECT_GT(p->count, 0u);
  EXPECT_LT(p->count, 30u);
  EXPECT_TRUE(p->has_more);
  EXPECT_LE(p->body.size(), 2000u);
  Replica r;
  SyncAll(r, 1000);
  EXPECT_EQ(r.contacts.size(), 30u);
}

TEST_P(DirectoryTest, ClientLimitIsCappedByTheServer) {
  DirectoryOptions o;
  o.max_page_changes = 5;
  Open(false, o);
  for (int i = 0; i < 12; ++i) Put("p" + std::to_string(i));
  auto p = Page("", 1000);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->count, 5u);
  EXPECT_TRUE(p->has_more);
}

TEST_P(DirectoryTest, ForgedOrTruncatedTokensAre400) {
  Put("a");
  Replica r;
  SyncAll(r);
  std::string t = r.token;
  std::string forged = t;
  forged[10] = forged[10] == 'x' ? 'y' : 'x';
  for (const std::string& bad : {forged, t.substr(0, 30), std::string("abc")}) {
    auto p = Page(bad);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().kind, ErrorKind::kInvalidArgument);
    EXPECT_EQ(p.error().reason, "invalid_token");
  }
}

TEST_P(DirectoryTest, TokenOfAnotherDomainIs400) {
  ASSERT_TRUE(dir_->CreateDomain("other.example").ok());
  ASSERT_TRUE(dir_->PutContact("other.example", Person("x"), {}, false, "t").ok());
  ChangesRequest req;
  auto other = dir_->Changes("other.example", req);
  ASSERT_TRUE(other.ok());
  Replica r;
  r.Apply(other->body);
  auto p = Page(r.token);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(p.error().reason, "token_domain_mismatch");
}

TEST_P(DirectoryTest, TokenOfAnotherIncarnationIs410) {
  Put("a");
  Replica r;
  SyncAll(r);
  Open(/*new_incarnation=*/true);
  auto p = Page(r.token);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::kGone);
  EXPECT_EQ(p.error().reason, "store_restored");
}

TEST_P(DirectoryTest, TokenOlderThanTheHorizonIs410) {
  Put("a");
  Put("b");
  Replica r;
  SyncAll(r);  // token at seq 2
  Del("a");    // seq 3
  clock_.Advance(10'000'000);
  auto purge = dir_->Purge(kDom, 5'000'000);
  ASSERT_TRUE(purge.ok());
  EXPECT_EQ(purge->horizon_seq, 3u);
  auto p = Page(r.token);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::kGone);
  EXPECT_EQ(p.error().reason, "token_expired");
  // Starting over works, and the new token is fine.
  Replica fresh;
  SyncAll(fresh);
  EXPECT_EQ(fresh.contacts.size(), 1u);
  EXPECT_TRUE(Page(fresh.token).ok());
}

TEST_P(DirectoryTest, TokenAheadOfTheStoreIs410) {
  Put("a");
  Put("b");
  Replica r;
  SyncAll(r);  // token at seq 2
  // After a restore of an older backup that kept its incarnation, clients
  // hold tokens past the store's last_seq. Make such a token with the
  // server's own secret: it must be refused, not treated as up to date.
  TokenCodec codec(kSecret);
  auto d = dir_->GetDomain(kDom);
  std::string ahead =
      codec.Encode({dir_->store().incarnation(), d->uid, d->last_seq + 5, 0});
  auto p = Page(ahead);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::kGone);
  EXPECT_EQ(p.error().reason, "token_ahead");
}

TEST_P(DirectoryTest, SinceTimeMapsToTheFirstChangeAtOrAfter) {
  Put("a");
  clock_.Advance(1'000'000);
  int64_t mid = clock_.NowMicros();
  Put("b");
  Put("c");
  ChangesRequest req;
  req.since_us = mid;
  auto p = dir_->Changes(kDom, req);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->count, 2u);
  Replica r;
  r.Apply(p->body);
  EXPECT_TRUE(r.contacts.count("b"));
  EXPECT_TRUE(r.contacts.count("c"));
  // After a purge, an old `since` is refused like an old token.
  Del("a");
  clock_.Advance(10'000'000);
  ASSERT_TRUE(dir_->Purge(kDom, 1).ok());
  req.since_us = 0;
  auto old = dir_->Changes(kDom, req);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().reason, "since_too_old");
}

// A `since` after a delete whose tombstone was purged must not be served
// as if nothing had happened since: the gap left by the purge is visible.
TEST_P(DirectoryTest, SinceAcrossAPurgedDeleteIs410) {
  Put("a");
  Put("b");
  clock_.Advance(1'000'000);
  int64_t since = clock_.NowMicros();  // the client synced up to here
  clock_.Advance(1'000'000);
  Del("a");  // seq 3
  clock_.Advance(10'000'000);
  ASSERT_TRUE(dir_->Purge(kDom, 1).ok());
  ChangesRequest req;
  req.since_us = since;
  auto p = dir_->Changes(kDom, req);
  ASSERT_FALSE(p.ok()) << p->body;
  EXPECT_EQ(p.error().kind, ErrorKind::kGone);
  EXPECT_EQ(p.error().reason, "since_too_old");
}

TEST_P(DirectoryTest, UnknownDomainIs404) {
  auto p = dir_->Changes("nope.example", {});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::kNotFound);
  EXPECT_FALSE(dir_->PutContact("nope.example", Person("a"), {}, false, "t").ok());
}

TEST_P(DirectoryTest, BatchesAreBoundedAndIdsChecked) {
  DirectoryOptions o;
  o.max_batch_changes = 3;
  Open(false, o);
  std::vector<ChangeRequest> four(4, {.op = ChangeOp::kDelete, .id = "a"});
  auto w = dir_->Write(kDom, four, "t");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, ErrorKind::kPayloadTooLarge);
  std::vector<ChangeRequest> bad{{.op = ChangeOp::kDelete, .id = "no/slash"}};
  EXPECT_EQ(dir_->Write(kDom, bad, "t").error().reason, "invalid_id");
}

TEST_P(DirectoryTest, CommitListenerHearsEveryCommitThatTookSeqs) {
  std::vector<uint64_t> heard;
  dir_->AddCommitListener(
      [&](const std::string& d, uint64_t seq) { heard.push_back(seq); });
  Put("a");
  Put("a");  // unchanged: no commit of seqs
  Put("b");
  EXPECT_EQ(heard, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(dir_->LastSeq(kDom), 2u);
}

// A commit this server learns of from a token or a scan before the store's
// event for it (another server's commit, an event late under load) is news
// to its listeners too: the event, when it comes, raises nothing and tells
// no one, and a search index or long-poll waiting on them would stay
// behind until the next commit. The SQLite store sends no events for
// another server's commits, so there only the token and the scan tell.
TEST_P(DirectoryTest, ListenersHearOfCommitsLearnedFromATokenOrAScan) {
  std::mutex mu;
  std::vector<uint64_t> heard;
  dir_->AddCommitListener([&](const std::string&, uint64_t seq) {
    std::lock_guard lock(mu);
    heard.push_back(seq);
  });
  auto heard_of = [&](uint64_t seq) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mu);
        if (std::find(heard.begin(), heard.end(), seq) != heard.end()) {
          return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  // Another server on the same store.
  auto s = GetParam() == StoreBackend::kPostgres
               ? OpenPostgresStore(pg_->uri(), {})
               : OpenSqliteStore(tmp_.file("g.db"),
                                 {.synchronous_full = false});
  ASSERT_TRUE(s.ok()) << s.error().message;
  Directory other(std::move(s.value()), kSecret, {}, &clock_);
  ASSERT_TRUE(other.Open().ok());
  ASSERT_TRUE(other.PutContact(kDom, Person("a"), {}, false, "t").ok());
  ChangesRequest full;
  auto first = other.Changes(kDom, full);
  ASSERT_TRUE(first.ok()) << first.error().message;
  Replica r;
  r.Apply(first->body);
  // Its reader brings a token at seq 1 here.
  ASSERT_TRUE(Page(r.token).ok());
  EXPECT_TRUE(heard_of(1));
  // A scan here finds seq 2.
  ASSERT_TRUE(other.PutContact(kDom, Person("b"), {}, false, "t").ok());
  ASSERT_TRUE(Page("").ok());
  EXPECT_TRUE(heard_of(2));
  EXPECT_EQ(dir_->LastSeq(kDom), 2u);
}

// ---------------------------------------------------------------------------
// Visibility: the public view withholds hidden contacts and private
// attributes, and policy changes reach public replicas as ordinary changes.

// The content of a served contact JSON (server members dropped), for
// comparing what a replica holds with what it should.
std::string ContentOf(const std::string& json) {
  auto c = ParseContactJson(json);
  EXPECT_TRUE(c.ok()) << json;
  return c.ok() ? CanonicalContentJson(*c) : "";
}

// What the public view of `full` (a full live set) must be under `policy`.
std::map<std::string, std::string> PublicContents(
    const std::map<std::string, std::string>& full,
    const VisibilityPolicy& policy) {
  std::map<std::string, std::string> out;
  for (const auto& [id, json] : full) {
    auto c = ParseContactJson(json);
    EXPECT_TRUE(c.ok());
    if (!c.ok() || c->hidden) continue;
    RemovePrivateAttributes(policy, *c);
    out[id] = CanonicalContentJson(*c);
  }
  return out;
}

std::map<std::string, std::string> Contents(
    const std::map<std::string, std::string>& contacts) {
  std::map<std::string, std::string> out;
  for (const auto& [id, json] : contacts) out[id] = ContentOf(json);
  return out;
}

VisibilityPolicy MobilePrivate() {
  return VisibilityPolicy{{"phones.mobile"}};
}

TEST_P(DirectoryTest, PublicViewWithholdsHiddenContactsAndPrivateAttributes) {
  ASSERT_TRUE(dir_->SetPolicy(kDom, MobilePrivate(), "t").ok());
  Contact ann = Person("ann");
  ann.phones = {{"+1 555 0100", "work"}, {"+1 555 0199", "mobile"}};
  Contact svc = Person("svc-backup", "Backup");
  svc.hidden = true;
  for (const Contact& c : {ann, svc}) {
    ASSERT_TRUE(dir_->PutContact(kDom, c, {}, false, "t").ok());
  }
  auto pub = LiveSet(View::kPublic);
  ASSERT_EQ(pub.size(), 1u);
  EXPECT_EQ(pub["ann"].find("0199"), std::string::npos) << pub["ann"];
  EXPECT_NE(pub["ann"].find("0100"), std::string::npos) << pub["ann"];
  auto full = LiveSet(View::kFull);
  ASSERT_EQ(full.size(), 2u);
  EXPECT_NE(full["ann"].find("0199"), std::string::npos);
  EXPECT_NE(full["svc-backup"].find("\"hidden\":true"), std::string::npos);

  auto got = dir_->GetContact(kDom, "ann", View::kPublic);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->json.find("0199"), std::string::npos);
  auto hidden = dir_->GetContact(kDom, "svc-backup", View::kPublic);
  ASSERT_FALSE(hidden.ok());
  auto never = dir_->GetContact(kDom, "no-such-id", View::kPublic);
  ASSERT_FALSE(never.ok());
  EXPECT_EQ(hidden.error().reason, never.error().reason);
  EXPECT_EQ(hidden.error().kind, ErrorKind::kNotFound);
  EXPECT_TRUE(dir_->GetContact(kDom, "svc-backup", View::kFull).ok());
}

TEST_P(DirectoryTest, HidingAndShowingReachPublicReplicasAsDeletesAndAdds) {
  Put("ann");
  Put("bob");
  Replica pub;
  SyncAll(pub, 0, View::kPublic);
  ASSERT_EQ(pub.contacts.size(), 2u);

  Contact bob = Person("bob");
  bob.hidden = true;
  ASSERT_TRUE(dir_->PutContact(kDom, bob, {}, false, "t").ok());
  auto p = Page(pub.token, 0, View::kPublic);
  ASSERT_TRUE(p.ok());
  EXPECT_NE(p->body.find("\"op\":\"delete\",\"id\":\"bob\""), std::string::npos)
      << p->body;
  pub.Apply(p->body);
  EXPECT_EQ(pub.contacts.count("bob"), 0u);

  bob.hidden = false;
  ASSERT_TRUE(dir_->PutContact(kDom, bob, {}, false, "t").ok());
  SyncAll(pub, 0, View::kPublic);
  EXPECT_EQ(pub.contacts.count("bob"), 1u);
  EXPECT_EQ(Contents(pub.contacts), PublicContents(LiveSet(), {}));
}

// A contact hidden all along never shows up in the public feed, not even
// as a delete carrying its id.
TEST_P(DirectoryTest, IdsOfAlwaysHiddenContactsNeverReachThePublicView) {
  Put("ann");
  Replica pub;
  SyncAll(pub, 0, View::kPublic);
  Contact svc = Person("svc-secret", "Svc");
  svc.hidden = true;
  std::string bodies;
  for (int i = 0; i < 3; ++i) {
    svc.title = "v" + std::to_string(i);
    ASSERT_TRUE(dir_->PutContact(kDom, svc, {}, false, "t").ok());
    auto p = Page(pub.token, 0, View::kPublic);
    ASSERT_TRUE(p.ok());
    bodies += p->body;
    pub.Apply(p->body);
  }
  ASSERT_TRUE(dir_->DeleteContact(kDom, "svc-secret", {}, "t").ok());
  SyncAll(pub, 0, View::kPublic);
  Replica fresh;
  for (int guard = 0; guard < 100; ++guard) {
    auto p = Page(fresh.token, 1, View::kPublic);
    ASSERT_TRUE(p.ok());
    bodies += p->body;
    if (!fresh.Apply(p->body)) break;
  }
  EXPECT_EQ(bodies.find("svc-secret"), std::string::npos) << bodies;
  EXPECT_EQ(pub.contacts.size(), 1u);
}

TEST_P(DirectoryTest, PolicyChangesReachPublicReplicasAsOrdinaryChanges) {
  for (int i = 0; i < 10; ++i) {
    Contact c = Person("p" + std::to_string(i));
    if (i % 2 == 0) c.phones = {{"+1 555 01" + std::to_string(10 + i), "mobile"}};
    ASSERT_TRUE(dir_->PutContact(kDom, c, {}, false, "t").ok());
  }
  Replica pub, full;
  SyncAll(pub, 3, View::kPublic);
  SyncAll(full, 3, View::kFull);
  const uint64_t before = *dir_->LastSeq(kDom);

  auto w = dir_->SetPolicy(kDom, MobilePrivate(), "key:admin");
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->last_seq - w->first_seq + 1, 5u);  // exactly those with mobiles
  EXPECT_EQ(w->first_seq, before + 1);
  auto h = dir_->History(kDom, "p0", 0, 10);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->back().actor, "key:admin");
  EXPECT_EQ(ContentOf(h->back().before_json), ContentOf(h->back().after_json));

  SyncAll(pub, 3, View::kPublic);
  SyncAll(full, 3, View::kFull);
  EXPECT_EQ(Contents(pub.contacts), PublicContents(LiveSet(), MobilePrivate()));
  EXPECT_EQ(Contents(full.contacts), Contents(LiveSet()));
  EXPECT_EQ(pub.contacts["p0"].find("0110"), std::string::npos);

  // Setting the same policy again changes nothing; lifting it restores.
  auto again = dir_->SetPolicy(kDom, MobilePrivate(), "t");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->last_seq, 0u);
  ASSERT_TRUE(dir_->SetPolicy(kDom, {}, "t").ok());
  SyncAll(pub, 3, View::kPublic);
  EXPECT_NE(pub.contacts["p0"].find("0110"), std::string::npos);

  // The policy survives a restart.
  ASSERT_TRUE(dir_->SetPolicy(kDom, MobilePrivate(), "t").ok());
  Open();
  auto p = dir_->GetPolicy(kDom);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, MobilePrivate());
}

TEST_P(DirectoryTest, TokensContinueOnlyInTheirOwnView) {
  Put("ann");
  Replica pub;
  SyncAll(pub, 0, View::kPublic);
  auto p = Page(pub.token, 0, View::kFull);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::kGone);
  EXPECT_EQ(p.error().reason, "view_changed");
  Replica full;
  SyncAll(full);
  auto q = Page(full.token, 0, View::kPublic);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().reason, "view_changed");
}

// The model check with visibility: random writes that hide and show
// contacts and add and drop mobile numbers, random policy changes, and
// replicas of both views syncing in random pages. Every public page only
// carries what the policy in force allows; after a final sync each replica
// equals its view of the live set.
TEST_P(DirectoryTest, RandomVisibilityChangesConverge) {
  std::mt19937 rng(11);
  const VisibilityPolicy policies[] = {
      {}, MobilePrivate(), {{"phones"}}, {{"emails.home", "title"}}};
  VisibilityPolicy current;
  std::vector<std::pair<Replica, View>> replicas = {
      {{}, View::kPublic}, {{}, View::kPublic}, {{}, View::kFull}};
  for (int step = 0; step < 2000; ++step) {
    int what = rng() % 20;
    std::string id = "c" + std::to_string(rng() % 40);
    if (what < 9) {
      Contact c = Person(id, "G" + std::to_string(rng() % 3));
      c.hidden = rng() % 4 == 0;
      if (rng() % 2) c.phones = {{"+1 555 0" + std::to_string(rng() % 999), "mobile"}};
      if (rng() % 2) c.emails.push_back({id + "@home.example", "home"});
      if (rng() % 2) c.title = "T" + std::to_string(rng() % 3);
      ASSERT_TRUE(dir_->PutContact(kDom, c, {}, false, "t").ok());
    } else if (what < 11) {
      (void)dir_->DeleteContact(kDom, id, {}, "t");
    } else if (what < 12) {
      current = policies[rng() % std::size(policies)];
      ASSERT_TRUE(dir_->SetPolicy(kDom, current, "t").ok());
    } else {
      auto& [r, view] = replicas[rng() % replicas.size()];
      auto p = Page(r.token, 1 + rng() % 7, view);
      ASSERT_TRUE(p.ok()) << p.error().message;
      r.Apply(p->body);
      if (view == View::kPublic) {
        auto page = json::parse(p->body);
        for (const auto& ch : page.at("changes").as_array()) {
          if (ch.at("op").as_string() != "upsert") continue;
          auto c = ParseContactJson(json::serialize(ch.at("contact")));
          ASSERT_TRUE(c.ok());
          EXPECT_FALSE(c->hidden) << p->body;
          Contact redacted = *c;
          RemovePrivateAttributes(current, redacted);
          EXPECT_TRUE(redacted.SameContent(*c)) << p->body;
        }
      }
    }
  }
  const auto live = LiveSet();
  for (auto& [r, view] : replicas) {
    SyncAll(r, 5, view);
    EXPECT_TRUE(r.ordered);
    if (view == View::kPublic) {
      EXPECT_EQ(Contents(r.contacts), PublicContents(live, current));
    } else {
      EXPECT_EQ(r.contacts, live);
    }
  }
}

// A model check: random writes interleaved with several replicas syncing
// with random page sizes; after a final sync every replica equals the live
// set exactly.
TEST_P(DirectoryTest, RandomInterleavingsConverge) {
  std::mt19937 rng(7);
  std::vector<Replica> replicas(4);
  for (int step = 0; step < 3000; ++step) {
    int what = rng() % 10;
    std::string id = "c" + std::to_string(rng() % 60);
    if (what < 5) {
      Put(id, "G" + std::to_string(rng() % 5));
    } else if (what < 7) {
      (void)dir_->DeleteContact(kDom, id, {}, "t");
    } else {
      Replica& r = replicas[rng() % replicas.size()];
      auto p = Page(r.token, 1 + rng() % 7);
      ASSERT_TRUE(p.ok()) << p.error().message;
      r.Apply(p->body);
    }
  }
  auto live = LiveSet();
  for (auto& r : replicas) {
    SyncAll(r, 5);
    EXPECT_EQ(r.contacts, live);
  }
}

// Two servers on one PostgreSQL, as two Directories on one schema. The
// second has not heard of the first's policy change (it follows no events
// here), yet each page it serves is projected by the policy of the page's
// own snapshot: the re-stamped contacts never leave with what the new
// policy makes private.
TEST(SharedStoreDirectoryTest, PagesFollowThePolicyOfTheirSnapshot) {
  testing::PgSchema pg;
  auto open = [&] {
    auto s = OpenPostgresStore(pg.uri(), {});
    EXPECT_TRUE(s.ok()) << s.error().message;
    auto d = std::make_unique<Directory>(std::move(s.value()), kSecret,
                                         DirectoryOptions{});
    EXPECT_TRUE(d->Open().ok());
    return d;
  };
  auto writer = open();
  ASSERT_TRUE(writer->CreateDomain(kDom).ok());
  Contact ann = Person("ann");
  ann.phones = {{"+1 555 0100", "work"}, {"+1 555 0199", "mobile"}};
  ASSERT_TRUE(writer->PutContact(kDom, ann, {}, false, "t").ok());
  auto reader = open();
  auto page = [&](const std::string& token) {
    ChangesRequest req;
    if (!token.empty()) req.token = token;
    req.view = View::kPublic;
    auto p = reader->Changes(kDom, req);
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? p->body : std::string();
  };
  const std::string before = page("");
  EXPECT_NE(before.find("0199"), std::string::npos);
  const std::string token(
      json::parse(before).at("next_token").as_string());

  ASSERT_TRUE(writer->SetPolicy(kDom, VisibilityPolicy{{"phones.mobile"}}, "t")
                  .ok());
  for (const std::string& body : {page(""), page(token)}) {
    EXPECT_NE(body.find("0100"), std::string::npos) << body;
    EXPECT_EQ(body.find("0199"), std::string::npos) << body;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, DirectoryTest, testing::kBothStores,
                         testing::StoreBackendName);

}  // namespace
}  // namespace galsync
