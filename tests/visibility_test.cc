// The visibility policy against a real galsyncd: what a key without the
// private scope receives through sync (full and delta), search and reads,
// and that a policy change reaches its replica as ordinary changes. Private
// data carries marker strings that must never appear in anything such a
// key is sent.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "test_util.h"

namespace galsync::testing {
namespace {

namespace json = boost::json;

constexpr char kDom[] = "/v1/domains/a.example";
// Markers of withheld data: a mobile number, a private free-form value, and
// the id, name and address of a hidden contact.
const std::vector<std::string> kSecrets = {"0199", "BADGE-7731", "svc-q7x",
                                           "Quokka"};

class VisibilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        dir_.path(), std::vector<std::string>{"--durability", "normal"});
    admin_ = std::make_unique<HttpClient>(*server_);
    ASSERT_EQ(admin_->Post("/v1/domains", R"({"name":"a.example"})").status,
              201);
    auto policy = admin_->Put(
        std::string(kDom) + "/policy",
        R"({"private_attributes":["phones.mobile","extra.badge"]})");
    ASSERT_EQ(policy.status, 200) << policy.body;
    Put("ann", R"({"name":{"given":"Ann","family":"Smith"},
        "emails":[{"address":"ann@a.example"}],
        "phones":[{"number":"+1 555 0100"},
                  {"number":"+1 555 0199","type":"mobile"}],
        "title":"Engineer",
        "extra":{"badge":"BADGE-7731","desk":"4.12"}})");
    Put("svc-q7x", R"({"hidden":true,"name":{"full":"Quokka Service"},
        "emails":[{"address":"svc-q7x@a.example"}]})");
    reader_ = std::make_unique<HttpClient>(server_->port(), MakeKey(R"(["read"])"));
    full_ = std::make_unique<HttpClient>(server_->port(),
                                         MakeKey(R"(["read","private"])"));
  }

  void Put(const std::string& id, const std::string& body) {
    auto r = admin_->Put(std::string(kDom) + "/contacts/" + id, body);
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.body;
  }

  // `scopes` is a JSON array of scope names.
  std::string MakeKey(const std::string& scopes) {
    return testing::CreateKey(*admin_, "a.example", scopes);
  }

  // Syncs `r` to the end with `c`, appending every page body to `seen`.
  void Sync(HttpClient& c, PageReplica& r, std::string& seen) {
    for (int guard = 0; guard < 1000; ++guard) {
      std::string t = std::string(kDom) + "/changes?limit=1";
      if (!r.token.empty()) t += "&token=" + r.token;
      auto res = c.Get(t);
      ASSERT_EQ(res.status, 200) << res.body;
      seen += res.body;
      if (!r.Apply(res.body)) return;
    }
    FAIL() << "sync did not finish";
  }

  static void ExpectNoSecrets(const std::string& text) {
    for (const std::string& s : kSecrets) {
      EXPECT_EQ(text.find(s), std::string::npos) << s << " leaked in " << text;
    }
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> admin_, reader_, full_;
};

TEST_F(VisibilityTest, KeysWithoutPrivateScopeNeverReceiveWithheldData) {
  std::string seen;
  PageReplica pub;
  Sync(*reader_, pub, seen);
  ASSERT_EQ(pub.contacts.size(), 1u);
  EXPECT_NE(pub.contacts["ann"].find("0100"), std::string::npos);
  EXPECT_NE(pub.contacts["ann"].find("4.12"), std::string::npos);

  // Deltas: the hidden contact changes, the visible one too.
  Put("svc-q7x", R"({"hidden":true,"name":{"full":"Quokka Service 2"}})");
  Put("ann", R"({"name":{"given":"Ann","family":"Smith"},
      "phones":[{"number":"+1 555 0199","type":"mobile"}],
      "extra":{"badge":"BADGE-7731"}})");
  Sync(*reader_, pub, seen);

  const std::string d = kDom;
  for (const char* q : {"quokka", "svc", "ann", "0199", "badge"}) {
    auto res = reader_->Get(d + "/search?q=" + q);
    EXPECT_EQ(res.status, 200);
    seen += res.body;
  }
  auto ann = reader_->Get(d + "/contacts/ann");
  EXPECT_EQ(ann.status, 200);
  seen += ann.body;
  auto hidden = reader_->Get(d + "/contacts/svc-q7x");
  auto never = reader_->Get(d + "/contacts/no-such-one");
  EXPECT_EQ(hidden.status, 404);
  // Not even the message tells a hidden contact from a missing one.
  EXPECT_EQ(hidden.body.substr(0, hidden.body.find("svc-q7x")),
            never.body.substr(0, never.body.find("no-such-one")));
  EXPECT_EQ(hidden.error_code(), never.error_code());
  ExpectNoSecrets(seen);
  // The search did find Ann, without her private data.
  EXPECT_EQ(reader_->Get(d + "/search?q=ann").json().at("results").as_array().size(),
            1u);
}

TEST_F(VisibilityTest, PrivateScopeSeesEverythingAndSearchStaysPublic) {
  std::string seen;
  PageReplica all;
  Sync(*full_, all, seen);
  ASSERT_EQ(all.contacts.size(), 2u);
  for (const std::string& s : kSecrets) {
    EXPECT_NE(seen.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(full_->Get(std::string(kDom) + "/contacts/svc-q7x").status, 200);
  // The index holds the public view: hidden contacts are found by no one,
  // and results carry what the caller may see.
  auto found = full_->Get(std::string(kDom) + "/search?q=quokka").json();
  EXPECT_EQ(found.at("results").as_array().size(), 0u);
  auto ann = full_->Get(std::string(kDom) + "/search?q=ann").body;
  EXPECT_NE(ann.find("0199"), std::string::npos) << ann;
}

TEST_F(VisibilityTest, PolicyChangesReachReplicasAsOrdinaryChanges) {
  std::string seen;
  PageReplica pub;
  Sync(*reader_, pub, seen);
  ASSERT_EQ(pub.contacts["ann"].find("Engineer") != std::string::npos, true);

  auto set = admin_->Put(std::string(kDom) + "/policy",
                         R"({"private_attributes":["title"]})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.json().at("contacts_changed").as_int64(), 1);
  EXPECT_EQ(admin_->Get(std::string(kDom) + "/policy").body,
            R"({"private_attributes":["title"]})");

  const std::string before = pub.token;
  Sync(*reader_, pub, seen);
  EXPECT_NE(pub.token, before);
  EXPECT_EQ(pub.contacts["ann"].find("Engineer"), std::string::npos)
      << pub.contacts["ann"];
  // Lifted from the mobile number, which the replica now receives.
  EXPECT_NE(pub.contacts["ann"].find("0199"), std::string::npos);

  // Unhiding a contact adds it on the next sync.
  Put("svc-q7x", R"({"name":{"full":"Quokka Service"}})");
  Sync(*reader_, pub, seen);
  EXPECT_EQ(pub.contacts.count("svc-q7x"), 1u);
}

TEST_F(VisibilityTest, BadPoliciesAndViewSwitchesAreRefused) {
  const std::string p = std::string(kDom) + "/policy";
  for (const char* bad :
       {R"({"private_attributes":["name"]})", R"({"private":[]})", "[]",
        R"({"private_attributes":["phones.satellite"]})"}) {
    auto res = admin_->Put(p, bad);
    EXPECT_EQ(res.status, 400) << bad;
    EXPECT_EQ(res.error_code(), "invalid_policy") << res.body;
  }
  EXPECT_EQ(admin_->Get(p).body,
            R"({"private_attributes":["extra.badge","phones.mobile"]})");

  // A token of the public view does not continue in the full view.
  auto page = reader_->Get(std::string(kDom) + "/changes");
  const std::string token(page.json().at("next_token").as_string());
  auto other = full_->Get(std::string(kDom) + "/changes?token=" + token);
  EXPECT_EQ(other.status, 410);
  EXPECT_EQ(other.error_code(), "view_changed");
}

}  // namespace
}  // namespace galsync::testing
