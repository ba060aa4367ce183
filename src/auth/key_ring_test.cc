// Tests of API keys: scope lists, authorization rules, and a key ring's
// verification, revocation and persistence over a real store.
#include "galsync/keys.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "galsync/sqlite_store.h"
#include "test_util.h"

namespace galsync {
namespace {

TEST(ScopesTest, ParseAndPrint) {
  EXPECT_EQ(ParseScopes("read").value(), uint32_t{kScopeRead});
  EXPECT_EQ(ParseScopes("admin,read").value(),
            uint32_t{kScopeRead | kScopeAdmin});
  EXPECT_EQ(ScopesToString(kScopeAdmin | kScopeRead), "read,admin");
  for (const char* bad : {"", ",", "read,", ",read", "READ", "read write",
                          "root", "read,,write"}) {
    auto s = ParseScopes(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().reason, "invalid_scopes") << bad;
  }
}

TEST(AuthorizeTest, DomainAndScopeRules) {
  const Principal root{"r", "", kAllScopes, ""};
  const Principal reader{"k", "a.example", kScopeRead, ""};
  EXPECT_TRUE(Authorize(root, kScopeAdmin, "").ok());
  EXPECT_TRUE(Authorize(root, kScopeWrite, "b.example").ok());
  EXPECT_TRUE(Authorize(reader, kScopeRead, "a.example").ok());
  EXPECT_EQ(Authorize(reader, kScopeRead, "b.example").error().reason,
            "wrong_domain");
  EXPECT_EQ(Authorize(reader, kScopeRead, "").error().reason, "wrong_domain");
  auto w = Authorize(reader, kScopeWrite, "a.example");
  EXPECT_EQ(w.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_EQ(w.error().reason, "insufficient_scope");
  // A name that merely starts like the key's domain is another domain.
  EXPECT_FALSE(Authorize(reader, kScopeRead, "a.example.evil").ok());
}

class KeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    ring_.reset();
    store_.reset();
    store_ = OpenSqliteStore(dir_.file("s.db"), {}).value();
    (void)store_->CreateDomain("a.example", 1);
    ring_ = std::make_unique<KeyRing>(*store_, &clock_);
    ASSERT_TRUE(ring_->Load().ok());
  }
  testing::TempDir dir_;
  ManualClock clock_{1'700'000'000'000'000};
  std::unique_ptr<Store> store_;
  std::unique_ptr<KeyRing> ring_;
};

TEST_F(KeyRingTest, AuthenticatesOnlyTheExactKey) {
  auto k = ring_->Create("a.example", kScopeRead, "phone", "test").value();
  ASSERT_EQ(k.bearer.size(), 85u);
  auto p = ring_->Authenticate(k.bearer);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->key_id, k.key.id);
  EXPECT_EQ(p->domain, "a.example");
  EXPECT_EQ(p->scopes, uint32_t{kScopeRead});
  EXPECT_EQ(p->actor(), "key:" + k.key.id);

  std::string upper = k.bearer;
  upper[30] = upper[30] >= 'a' ? upper[30] - 32 : 'A';
  std::string flipped = k.bearer;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  for (const std::string& bad :
       {std::string(), k.bearer.substr(0, 84), k.bearer + "0", upper, flipped,
        "gsk-" + k.bearer.substr(4), std::string(85, 'a')}) {
    auto r = ring_->Authenticate(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kUnauthenticated);
    EXPECT_EQ(r.error().reason, "invalid_key") << bad;
  }
}

TEST_F(KeyRingTest, RevocationAndPersistence) {
  auto k = ring_->Create("a.example", kScopeRead | kScopeWrite, "sync", "t")
               .value();
  clock_.Advance(1);  // List orders by creation time
  auto root = ring_->Create("", kAllScopes, "root", "t").value();
  EXPECT_EQ(ring_->LiveCount(), 2u);
  // Another domain's filter does not find it.
  EXPECT_EQ(ring_->Revoke(k.key.id, "b.example").error().reason,
            "key_not_found");
  clock_.Advance(5);
  auto r = ring_->Revoke(k.key.id, "a.example");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->revoked_us, 1'700'000'000'000'006);
  clock_.Advance(5);
  EXPECT_EQ(ring_->Revoke(k.key.id, std::nullopt)->revoked_us,
            1'700'000'000'000'006)
      << "revoking twice keeps the first time";
  EXPECT_EQ(ring_->Authenticate(k.bearer).error().reason, "key_revoked");
  EXPECT_EQ(ring_->LiveCount(), 1u);

  Reopen();
  EXPECT_EQ(ring_->Authenticate(k.bearer).error().reason, "key_revoked");
  EXPECT_TRUE(ring_->Authenticate(root.bearer).ok());
  auto list = ring_->List(std::nullopt);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "sync");
  EXPECT_EQ(list[0].secret_sha256.size(), 64u);
  EXPECT_EQ(list[0].secret_sha256.find(k.bearer.substr(21)), std::string::npos);
  EXPECT_EQ(ring_->List("a.example").size(), 1u);
}

// A reload may read the keys before a key made or revoked meanwhile was
// committed (galsyncd reloads when the store says keys changed). Such a
// list must neither forget the new key nor undo the revocation. The store's
// rows are set back by hand to what that older list held.
TEST_F(KeyRingTest, ReloadingAnOlderListKeepsNewerKeysAndRevocations) {
  auto old_key = ring_->Create("a.example", kScopeRead, "old", "t").value();
  clock_.Advance(1);
  auto new_key = ring_->Create("a.example", kScopeRead, "new", "t").value();
  ASSERT_TRUE(ring_->Revoke(old_key.key.id, std::nullopt).ok());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.file("s.db").c_str(), &db), SQLITE_OK);
    const std::string sql =
        "DELETE FROM api_keys WHERE id = '" + new_key.key.id +
        "'; UPDATE api_keys SET revoked_us = 0 WHERE id = '" + old_key.key.id + "';";
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  ASSERT_TRUE(ring_->Load().ok());
  EXPECT_TRUE(ring_->Authenticate(new_key.bearer).ok());
  EXPECT_EQ(ring_->Authenticate(old_key.bearer).error().reason, "key_revoked");
}

TEST_F(KeyRingTest, RefusesBadRequests) {
  EXPECT_EQ(ring_->Create("nope.example", kScopeRead, "", "t").error().reason,
            "domain_not_found");
  EXPECT_EQ(ring_->Create("a.example", 0, "", "t").error().reason,
            "invalid_scopes");
  EXPECT_EQ(ring_->Create("a.example", 64, "", "t").error().reason,
            "invalid_scopes");
  EXPECT_EQ(ring_->Create("a.example", kScopeRead, std::string(201, 'n'), "t")
                .error()
                .reason,
            "invalid_key_name");
  EXPECT_TRUE(ring_->List(std::nullopt).empty());
}

}  // namespace
}  // namespace galsync
