// SCIM 2.0 through a real galsyncd: the RFC 7644 flows (create, get,
// filter, page, replace, patch, delete) on the wire, with SCIM's error
// format, ETags, uniqueness of userName, the provisioning scope, and
// provisioned users reaching the change feed and search like any contact.
#include <gtest/gtest.h>

#include "test_util.h"

namespace galsync {
namespace {

namespace json = boost::json;
using testing::HttpClient;
using testing::HttpResult;
using testing::ServerProcess;
using testing::TempDir;

constexpr char kUsers[] = "/v1/domains/a.example/scim/v2/Users";

class ScimHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        dir_.path(), std::vector<std::string>{"--durability", "normal"});
    HttpClient admin(*server_);
    ASSERT_EQ(admin.Post("/v1/domains", R"({"name":"a.example"})").status, 201);
    key_ = testing::CreateKey(admin, "a.example", R"(["read","write","private"])");
    scim_ = std::make_unique<HttpClient>(server_->port(), key_);
  }

  HttpResult Create(const std::string& body) { return scim_->Post(kUsers, body); }

  std::string CreateUser(const std::string& user_name,
                         const std::string& extra = "") {
    auto r = Create(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "userName":")" + user_name + R"(",
                        "name":{"givenName":"G","familyName":")" + user_name +
                    "\"}" + extra + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(r.json().at("id").as_string());
  }

  HttpResult Patch(const std::string& id, const std::string& ops,
                   std::map<std::string, std::string> headers = {}) {
    return scim_->Send("PATCH", std::string(kUsers) + "/" + id,
                       R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                           "Operations":)" + ops + "}",
                       std::move(headers));
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string key_;
  std::unique_ptr<HttpClient> scim_;
};

TEST_F(ScimHttpTest, CreateGetReplacePatchDeleteAsInTheRfc) {
  // RFC 7644 3.3.
  auto made = Create(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName":"bjensen","externalId":"bjensen",
    "name":{"formatted":"Ms. Barbara J Jensen III","familyName":"Jensen",
            "givenName":"Barbara"}})");
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(made.headers["content-type"], "application/scim+json");
  const std::string id(made.json().at("id").as_string());
  EXPECT_EQ(made.headers["location"], std::string(kUsers) + "/" + id);
  const json::value made_json = made.json();
  const auto& meta = made_json.at("meta");
  EXPECT_EQ(meta.at("resourceType"), "User");
  EXPECT_EQ(made.headers["etag"], meta.at("version").as_string());
  EXPECT_EQ(made.json().at("name").at("formatted"), "Ms. Barbara J Jensen III");

  // RFC 7644 3.4.1.
  auto got = scim_->Get(std::string(kUsers) + "/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json().at("userName"), "bjensen");
  EXPECT_EQ(got.json().at("externalId"), "bjensen");

  // RFC 7644 3.5.1: replace, with the version read.
  auto put = scim_->Put(std::string(kUsers) + "/" + id,
                        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
    "id":")" + id + R"(","userName":"bjensen","externalId":"bjensen",
    "name":{"formatted":"Ms. Barbara J Jensen III","familyName":"Jensen",
            "givenName":"Barbara","middleName":"Jane"},
    "roles":[],
    "emails":[{"value":"bjensen@example.com"},{"value":"babs@jensen.org"}]})",
                        {{"If-Match", got.headers["etag"]}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json().at("name").at("middleName"), "Jane");
  EXPECT_EQ(put.json().at("emails").as_array().size(), 2u);
  EXPECT_NE(put.headers["etag"], got.headers["etag"]);

  // A stale version is refused.
  auto stale = scim_->Put(std::string(kUsers) + "/" + id,
                          R"({"userName":"bjensen"})",
                          {{"If-Match", got.headers["etag"]}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_EQ(stale.json().at("schemas").at(0),
            "urn:ietf:params:scim:api:messages:2.0:Error");
  EXPECT_EQ(stale.json().at("status").as_string(), "412");

  // RFC 7644 3.5.2: add, replace, remove.
  auto patched = Patch(id, R"([
    {"op":"add","value":{"emails":[{"value":"babs@jensen.net","type":"home"}],
                         "nickname":"Babs"}},
    {"op":"replace","path":"emails[value eq \"bjensen@example.com\"].type","value":"work"},
    {"op":"remove","path":"emails[value eq \"babs@jensen.org\"]"},
    {"op":"replace","path":"active","value":false}])");
  ASSERT_EQ(patched.status, 200) << patched.body;
  const json::value patched_json = patched.json();
  const auto& emails = patched_json.at("emails").as_array();
  ASSERT_EQ(emails.size(), 2u);
  EXPECT_EQ(emails[0].at("value"), "bjensen@example.com");
  EXPECT_EQ(emails[0].at("type"), "work");
  EXPECT_EQ(emails[1].at("value"), "babs@jensen.net");
  EXPECT_EQ(patched.json().at("nickName"), "Babs");
  EXPECT_EQ(patched.json().at("active"), false);

  // A deactivated user is hidden from readers without the private scope.
  HttpClient admin(*server_);
  auto reader = testing::CreateKey(admin, "a.example", R"(["read"])");
  HttpClient read(server_->port(), reader);
  EXPECT_EQ(read.Get("/v1/domains/a.example/contacts/" + id).status, 404);
  auto reactivated = Patch(id, R"([{"op":"replace","path":"active","value":true}])");
  ASSERT_EQ(reactivated.status, 200) << reactivated.body;
  auto as_contact = read.Get("/v1/domains/a.example/contacts/" + id);
  ASSERT_EQ(as_contact.status, 200);
  EXPECT_EQ(as_contact.json().at("nickname"), "Babs");

  // RFC 7644 3.6.
  auto del = scim_->Delete(std::string(kUsers) + "/" + id);
  EXPECT_EQ(del.status, 204) << del.body;
  auto gone = scim_->Get(std::string(kUsers) + "/" + id);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.json().at("status").as_string(), "404");
  // The userName is free again, for a new user with a new id.
  const std::string again = CreateUser("bjensen");
  EXPECT_NE(again, id);
}

TEST_F(ScimHttpTest, FilterAndPaging) {
  for (int i = 0; i < 25; ++i) {
    CreateUser("user" + std::string(i < 10 ? "0" : "") + std::to_string(i),
               i % 5 == 0 ? R"(,"title":"Lead")" : "");
  }
  auto page = scim_->Get(std::string(kUsers) + "?startIndex=11&count=10");
  ASSERT_EQ(page.status, 200) << page.body;
  const json::value page_json = page.json();
  const auto& p = page_json.as_object();
  EXPECT_EQ(p.at("schemas").at(0),
            "urn:ietf:params:scim:api:messages:2.0:ListResponse");
  EXPECT_EQ(p.at("totalResults").to_number<int>(), 25);
  EXPECT_EQ(p.at("startIndex").to_number<int>(), 11);
  EXPECT_EQ(p.at("itemsPerPage").to_number<int>(), 10);
  EXPECT_EQ(p.at("Resources").at(0).at("userName"), "user10");  // by userName

  auto one = scim_->Get(std::string(kUsers) +
                        "?filter=userName%20eq%20%22USER07%22");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.json().at("totalResults").to_number<int>(), 1);
  EXPECT_EQ(one.json().at("Resources").at(0).at("userName"), "user07");

  auto leads = scim_->Get(std::string(kUsers) +
                          "?filter=title%20eq%20%22lead%22%20and%20"
                          "userName%20sw%20%22user1%22");
  ASSERT_EQ(leads.status, 200) << leads.body;
  EXPECT_EQ(leads.json().at("totalResults").to_number<int>(), 2);  // 10, 15

  auto none = scim_->Get(std::string(kUsers) + "?filter=userName%20eq%20%22x%22");
  EXPECT_EQ(none.json().at("totalResults").to_number<int>(), 0);
  EXPECT_TRUE(none.json().at("Resources").as_array().empty());

  auto count0 = scim_->Get(std::string(kUsers) + "?count=-5");
  EXPECT_EQ(count0.json().at("totalResults").to_number<int>(), 25);
  EXPECT_EQ(count0.json().at("itemsPerPage").to_number<int>(), 0);
}

TEST_F(ScimHttpTest, ErrorsAreScimErrorsWithTheRightStatus) {
  const std::string id = CreateUser("ann");
  CreateUser("bob");
  struct Case {
    std::string method, target, body;
    int status;
    std::string scim_type;  // "" when SCIM defines none
  };
  const std::string u = kUsers;
  const Case cases[] = {
      {"POST", u, R"({"userName":"ANN"})", 409, "uniqueness"},
      {"POST", u, R"({"name":{"givenName":"x"}})", 400, "invalidValue"},
      {"POST", u, R"({"userName":"c","emails":[{"value":"not an address"}]})",
       400, "invalidValue"},
      {"POST", u, "[1]", 400, "invalidSyntax"},
      {"POST", u, "{", 400, ""},
      {"GET", u + "?filter=userName%20zz%20%22a%22", "", 400, "invalidFilter"},
      {"GET", u + "?startIndex=x", "", 400, "invalidValue"},
      {"GET", u + "/nosuch", "", 404, ""},
      {"PUT", u + "/" + id, R"({"userName":"bob"})", 409, "uniqueness"},
      {"PATCH", u + "/" + id,
       R"({"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"a@b.example"}]})",
       400, "noTarget"},
      {"PATCH", u + "/" + id,
       R"({"Operations":[{"op":"replace","path":"id","value":"x"}]})", 400,
       "mutability"},
      {"PATCH", u + "/" + id, R"({"Operations":[{"op":"remove","path":"userName"}]})",
       400, "invalidValue"},
      {"DELETE", u + "/nosuch", "", 404, ""},
  };
  HttpClient admin(*server_);
  auto before = admin.Get("/v1/domains/a.example").json().at("last_seq");
  for (const Case& c : cases) {
    auto r = scim_->Send(c.method, c.target, c.body, {});
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << ": " << r.body;
    auto j = r.json();
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(std::string(j.at("status").as_string()), std::to_string(c.status))
        << r.body;
    if (c.scim_type.empty()) {
      EXPECT_FALSE(j.as_object().contains("scimType")) << r.body;
    } else {
      EXPECT_EQ(std::string(j.at("scimType").as_string()), c.scim_type) << r.body;
    }
  }
  EXPECT_EQ(admin.Get("/v1/domains/a.example").json().at("last_seq"), before);
}

TEST_F(ScimHttpTest, OnlyProvisioningKeysOfTheDomainAndOnlyScimUsers) {
  HttpClient admin(*server_);
  // A contact written through the plain API is no SCIM resource.
  ASSERT_EQ(admin.Put("/v1/domains/a.example/contacts/api-ann",
                      R"({"name":{"given":"Ann"}})").status,
            201);
  EXPECT_EQ(scim_->Get(std::string(kUsers) + "/api-ann").status, 404);
  EXPECT_EQ(scim_->Delete(std::string(kUsers) + "/api-ann").status, 404);
  EXPECT_EQ(scim_->Get(kUsers).json().at("totalResults").to_number<int>(), 0);
  EXPECT_EQ(admin.Get("/v1/domains/a.example/contacts/api-ann").status, 200);

  for (const char* scopes : {R"(["read","write"])", R"(["read","private"])",
                             R"(["admin"])"}) {
    HttpClient c(server_->port(), testing::CreateKey(admin, "a.example", scopes));
    EXPECT_EQ(c.Get(kUsers).status, 403) << scopes;
  }
  ASSERT_EQ(admin.Post("/v1/domains", R"({"name":"b.example"})").status, 201);
  EXPECT_EQ(scim_->Get("/v1/domains/b.example/scim/v2/Users").status, 403);
  HttpClient nokey(server_->port());
  EXPECT_EQ(nokey.Get(kUsers).status, 401);
  auto config = scim_->Get("/v1/domains/a.example/scim/v2/ServiceProviderConfig");
  ASSERT_EQ(config.status, 200);
  EXPECT_EQ(config.json().at("patch").at("supported"), true);
}

TEST_F(ScimHttpTest, ProvisionedUsersAreOrdinaryChangesAndSearchable) {
  HttpClient admin(*server_);
  const std::string id = CreateUser("zoe.quinn", R"(,"emails":[{"value":"zoe@a.example","primary":true}])");
  auto feed = testing::ServerLiveSet(admin, "/v1/domains/a.example");
  ASSERT_EQ(feed.count(id), 1u);
  EXPECT_NE(feed[id].find("zoe@a.example"), std::string::npos);
  // The index follows commits within milliseconds; allow for a slow machine.
  HttpResult hits;
  for (int i = 0; i < 100; ++i) {
    hits = admin.Get("/v1/domains/a.example/search?q=zo+qui");
    if (hits.status == 200 && !hits.json().at("results").as_array().empty()) break;
    usleep(10000);
  }
  ASSERT_EQ(hits.json().at("results").as_array().size(), 1u) << hits.body;
  EXPECT_EQ(std::string(hits.json().at("results").at(0).at("id").as_string()), id);
  // History names the provisioning key.
  auto history = admin.Get("/v1/domains/a.example/contacts/" + id + "/history");
  EXPECT_NE(history.body.find("key:"), std::string::npos);
}

}  // namespace
}  // namespace galsync
