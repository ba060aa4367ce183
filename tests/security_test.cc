// Keys, scopes and isolation against a real galsyncd: the first admin key,
// the keys API and `galsyncd keys`, and, for every route of the API, that a
// request without a key, with a key of the wrong scope or with a key of
// another domain is refused and changes nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "galsync/sqlite_store.h"
#include "server/api.h"
#include "test_util.h"

namespace galsync::testing {
namespace {

namespace json = boost::json;
using server::Access;

std::string Person(const std::string& given) {
  return R"({"name":{"given":")" + given + R"(","family":"Smith"}})";
}

// Every route of the API with a concrete target for domain `d`, the access
// it needs, and a body that would succeed. The test below checks that this
// table and JsonApi::Routes() list the same routes, so a new endpoint cannot
// escape the isolation tests.
struct RouteCase {
  std::string method, pattern;
  Access access;
  std::string body;
};

std::vector<RouteCase> RouteCases() {
  const std::string d = "/v1/domains/{domain}";
  return {
      {"GET", "/v1/health", Access::kPublic, ""},
      {"GET", "/v1/key", Access::kAnyKey, ""},
      {"GET", "/v1/keys", Access::kAdmin, ""},
      {"POST", "/v1/keys", Access::kAdmin, R"({"scopes":["read"]})"},
      {"DELETE", "/v1/keys/{key}", Access::kAdmin, ""},
      {"GET", "/v1/domains", Access::kAdmin, ""},
      {"POST", "/v1/domains", Access::kAdmin, R"({"name":"new.example"})"},
      {"GET", d, Access::kRead, ""},
      {"GET", d + "/changes", Access::kRead, ""},
      {"GET", d + "/search", Access::kRead, ""},
      {"POST", d + "/contacts", Access::kWrite, Person("Post")},
      {"POST", d + "/contacts:batch", Access::kWrite,
       R"({"changes":[{"op":"delete","id":"p1"}]})"},
      {"POST", d + "/import", Access::kWrite, "id,given_name\np9,Pat\n"},
      {"GET", d + "/export", Access::kRead, ""},
      {"GET", d + "/contacts/{id}", Access::kRead, ""},
      {"PUT", d + "/contacts/{id}", Access::kWrite, Person("Put")},
      {"DELETE", d + "/contacts/{id}", Access::kWrite, ""},
      {"GET", d + "/contacts/{id}/history", Access::kAdmin, ""},
      {"GET", d + "/history", Access::kAdmin, ""},
      {"POST", d + "/purge", Access::kAdmin, ""},
      {"GET", d + "/policy", Access::kAdmin, ""},
      {"PUT", d + "/policy", Access::kAdmin,
       R"({"private_attributes":["phones.mobile"]})"},
      {"GET", d + "/keys", Access::kAdmin, ""},
      {"POST", d + "/keys", Access::kAdmin, R"({"scopes":["read"]})"},
      {"DELETE", d + "/keys/{key}", Access::kAdmin, ""},
      {"GET", d + "/scim/v2/ServiceProviderConfig", Access::kProvision, ""},
      {"GET", d + "/scim/v2/Users", Access::kProvision, ""},
      {"POST", d + "/scim/v2/Users", Access::kProvision, R"({"userName":"x"})"},
      {"GET", d + "/scim/v2/Users/{id}", Access::kProvision, ""},
      {"PUT", d + "/scim/v2/Users/{id}", Access::kProvision,
       R"({"userName":"x"})"},
      {"PATCH", d + "/scim/v2/Users/{id}", Access::kProvision,
       R"({"Operations":[{"op":"add","path":"title","value":"x"}]})"},
      {"DELETE", d + "/scim/v2/Users/{id}", Access::kProvision, ""},
  };
}

std::string Fill(std::string pattern, const std::string& domain,
                 const std::string& key_id) {
  auto put = [&](const std::string& name, const std::string& v) {
    if (auto at = pattern.find(name); at != std::string::npos) {
      pattern.replace(at, name.size(), v);
    }
  };
  put("{domain}", domain);
  put("{id}", "p1");
  put("{key}", key_id);
  if (pattern.ends_with("/search")) pattern += "?q=sm";
  if (pattern.ends_with("/changes")) pattern += "?wait=30";  // must not wait
  if (pattern.ends_with("/import")) pattern += "?format=csv&source=sec";
  if (pattern.ends_with("/export")) pattern += "?format=jsonl";
  return pattern;
}

TEST(SecurityTest, TheRouteTableIsCovered) {
  TempDir dir;
  auto store = OpenSqliteStore(dir.file("s.db"), {}).value();
  Directory directory(std::move(store), std::string(32, 's'), {});
  ASSERT_TRUE(directory.Open().ok());
  KeyRing keys(directory.store());
  server::JsonApi api(directory, keys, nullptr);
  std::set<std::string> served, tested;
  for (const server::Route& r : api.Routes()) {
    served.insert(std::string(server::http::to_string(r.method)) + " " + r.pattern +
                  " " + std::string(server::AccessName(r.access)));
  }
  for (const RouteCase& c : RouteCases()) {
    tested.insert(c.method + " " + c.pattern + " " +
                  std::string(server::AccessName(c.access)));
  }
  EXPECT_EQ(served, tested);
}

class SecurityServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path(),
                                              std::vector<std::string>{
                                                  "--durability", "normal"});
    ASSERT_FALSE(server_->admin_key().empty());
    admin_ = std::make_unique<HttpClient>(*server_);
    for (const char* d : {"a.example", "b.example"}) {
      ASSERT_EQ(admin_->Post("/v1/domains",
                             std::string(R"({"name":")") + d + "\"}")
                    .status,
                201);
      ASSERT_EQ(admin_->Put(std::string("/v1/domains/") + d + "/contacts/p1",
                            Person("Ann"))
                    .status,
                201);
    }
  }

  // Makes a key; returns its bearer form and (optionally) its id.
  std::string MakeKey(const std::string& domain, const std::string& scopes,
                      std::string* id = nullptr) {
    return testing::CreateKey(*admin_, domain, scopes, id);
  }

  // What a client of domain `d` can observe: the domain object, its live
  // set, and its history.
  std::string Snapshot(const std::string& d) {
    std::string out = admin_->Get("/v1/domains/" + d).body;
    for (const auto& [id, c] : ServerLiveSet(*admin_, "/v1/domains/" + d)) {
      out += "\n" + id + "=" + c;
    }
    return out + "\n" + admin_->Get("/v1/domains/" + d + "/history").body;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> admin_;
};

TEST_F(SecurityServerTest, EveryRouteRefusesMissingWrongScopeAndWrongDomainKeys) {
  std::string spare_id;
  MakeKey("b.example", R"(["read"])", &spare_id);  // a target for DELETE
  const std::string a_all = MakeKey("a.example", R"(["read","write","admin"])");
  const std::string a_read = MakeKey("a.example", R"(["read"])");
  const std::string a_write = MakeKey("a.example", R"(["write"])");
  const std::string a_admin = MakeKey("a.example", R"(["admin"])");
  const std::string before_b = Snapshot("b.example");
  const std::string before_a = Snapshot("a.example");
  const std::string keys_before = admin_->Get("/v1/keys").body;

  for (const RouteCase& rc : RouteCases()) {
    if (rc.access == Access::kPublic) continue;
    const std::string name = rc.method + " " + rc.pattern;
    // Each case on a fresh connection: a refusal must not depend on what
    // the connection did before.
    auto send = [&](const std::string& target, const std::string& key) {
      HttpClient c(server_->port());
      return c.Send(rc.method, target, rc.body,
                    {{"Authorization", key.empty() ? "" : "Bearer " + key}});
    };
    const std::string on_b = Fill(rc.pattern, "b.example", spare_id);
    const std::string on_a = Fill(rc.pattern, "a.example", spare_id);

    auto none = send(on_b, "");
    EXPECT_EQ(none.status, 401) << name;
    EXPECT_EQ(none.error_code(), "missing_key") << name;
    EXPECT_EQ(none.headers["www-authenticate"], "Bearer realm=\"galsync\"")
        << name;

    if (rc.access == Access::kAnyKey) continue;
    // A key of domain A, with every scope, on domain B (or on a server-wide
    // resource): refused whatever the scope, before anything is looked up.
    auto cross = send(on_b, a_all);
    EXPECT_EQ(cross.status, 403) << name << ": " << cross.body;
    EXPECT_EQ(cross.error_code(), "wrong_domain") << name;

    if (rc.pattern.find("{domain}") == std::string::npos) continue;
    // On its own domain, each scope opens exactly its routes.
    for (const auto& [key, access] :
         {std::pair{a_read, Access::kRead}, std::pair{a_write, Access::kWrite},
          std::pair{a_admin, Access::kAdmin}}) {
      if (access == rc.access) continue;
      auto res = send(on_a, key);
      EXPECT_EQ(res.status, 403)
          << name << " with " << server::AccessName(access) << ": " << res.body;
      EXPECT_EQ(res.error_code(), "insufficient_scope") << name;
    }
  }
  EXPECT_EQ(Snapshot("b.example"), before_b);
  EXPECT_EQ(Snapshot("a.example"), before_a);
  EXPECT_EQ(admin_->Get("/v1/keys").body, keys_before);
}

TEST_F(SecurityServerTest, EachScopeOpensItsRoutesOnItsOwnDomain) {
  HttpClient reader(server_->port(), MakeKey("a.example", R"(["read"])"));
  HttpClient writer(server_->port(), MakeKey("a.example", R"(["write"])"));
  std::string admin_id;
  HttpClient admin(server_->port(),
                   MakeKey("a.example", R"(["admin"])", &admin_id));
  const std::string a = "/v1/domains/a.example";
  EXPECT_EQ(reader.Get(a).status, 200);
  EXPECT_EQ(reader.Get(a + "/changes").status, 200);
  EXPECT_EQ(reader.Get(a + "/search?q=ann").status, 200);
  EXPECT_EQ(reader.Get(a + "/contacts/p1").status, 200);
  EXPECT_EQ(writer.Put(a + "/contacts/p2", Person("Bo")).status, 201);
  EXPECT_EQ(writer.Delete(a + "/contacts/p2").status, 200);
  EXPECT_EQ(admin.Get(a + "/history").status, 200);
  EXPECT_EQ(admin.Post(a + "/purge?older_than=0", "").status, 200);

  // A domain admin manages its domain's keys, and only those.
  auto made = admin.Post(a + "/keys", R"({"scopes":["read"],"name":"phone"})");
  ASSERT_EQ(made.status, 201) << made.body;
  const json::value k = made.json();
  EXPECT_EQ(k.at("domain").as_string(), "a.example");
  EXPECT_EQ(k.at("created_by").as_string(),
            "key:" + admin_id + "@127.0.0.1");
  auto listed = admin.Get(a + "/keys").json();
  for (const auto& e : listed.at("keys").as_array()) {
    EXPECT_EQ(e.at("domain").as_string(), "a.example");
    EXPECT_EQ(e.as_object().count("key"), 0u) << "a listing shows no secret";
  }
  std::string b_key_id;
  MakeKey("b.example", R"(["read"])", &b_key_id);
  auto steal = admin.Delete(a + "/keys/" + b_key_id);
  EXPECT_EQ(steal.status, 404);
  EXPECT_EQ(steal.error_code(), "key_not_found");
  // "domain" in the body is for the server-wide route only.
  EXPECT_EQ(admin.Post(a + "/keys", R"({"scopes":["read"],"domain":"b.example"})")
                .error_code(),
            "invalid_key_request");
}

TEST_F(SecurityServerTest, ChangesRecordTheKeyThatMadeThem) {
  std::string id;
  HttpClient writer(server_->port(),
                    MakeKey("a.example", R"(["write"])", &id));
  ASSERT_EQ(writer.Put("/v1/domains/a.example/contacts/p9", Person("Zed")).status,
            201);
  auto h = admin_->Get("/v1/domains/a.example/contacts/p9/history").json();
  ASSERT_EQ(h.at("entries").as_array().size(), 1u);
  EXPECT_EQ(h.at("entries").at(0).at("actor").as_string(),
            "key:" + id + "@127.0.0.1");
}

TEST_F(SecurityServerTest, RevokedKeysStopWorkingAtOnce) {
  std::string id;
  const std::string key = MakeKey("a.example", R"(["read"])", &id);
  HttpClient reader(server_->port(), key);
  ASSERT_EQ(reader.Get("/v1/domains/a.example/changes").status, 200);
  auto me = reader.Get("/v1/key").json();
  EXPECT_EQ(me.at("id").as_string(), id);
  EXPECT_EQ(me.at("scopes"), json::parse(R"(["read"])"));

  auto rev = admin_->Delete("/v1/keys/" + id);
  ASSERT_EQ(rev.status, 200) << rev.body;
  EXPECT_TRUE(rev.json().at("revoked").is_string());
  // Same keep-alive connection: the very next request is refused.
  auto after = reader.Get("/v1/domains/a.example/changes");
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.error_code(), "key_revoked");
  // Revoked stays revoked across a restart, and no new admin key is minted.
  admin_.reset();
  server_.reset();
  server_ = std::make_unique<ServerProcess>(dir_.path());
  HttpClient again(server_->port(), key);
  EXPECT_EQ(again.Get("/v1/domains/a.example").error_code(), "key_revoked");
  HttpClient admin(*server_);
  EXPECT_EQ(admin.Get("/v1/domains").status, 200);
  auto keys = admin.Get("/v1/keys").json();
  size_t server_wide = 0;
  for (const auto& k : keys.at("keys").as_array()) {
    server_wide += k.at("domain").is_null();
  }
  EXPECT_EQ(server_wide, 1u);
}

TEST(SecurityFirstStartTest, TheAdminKeyIsShownOnceAndStoredOnlyAsAHash) {
  TempDir dir;
  std::string key;
  {
    ServerProcess s(dir.path());
    key = s.admin_key();
    ASSERT_EQ(key.size(), 85u) << key;
    EXPECT_TRUE(key.starts_with("gsk_"));
  }
  // Nothing on disk holds the secret part.
  const std::string secret = key.substr(21);
  for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
    std::ifstream in(f.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(bytes.find(secret), std::string::npos) << f.path();
  }
  // A restart prints no new key: stdout has only the listening line.
  auto r = RunGalsyncd({"keys", "list", "--data-dir", dir.path()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(key.substr(4, 16)), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("server admin (first start)"), std::string::npos);
  EXPECT_EQ(r.output.find(secret), std::string::npos);
}

TEST(SecurityFirstStartTest, AdminKeyFileGetsTheKeyWithMode0600) {
  TempDir dir;
  const std::string file = dir.file("admin.key");
  ServerProcess s(dir.file("data"), {"--admin-key-file", file});
  EXPECT_TRUE(s.admin_key().empty()) << "not printed when written to a file";
  std::ifstream in(file);
  std::string key;
  std::getline(in, key);
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  HttpClient c(s.port(), key);
  EXPECT_EQ(c.Get("/v1/domains").status, 200);
}

TEST(SecurityKeysCommandTest, ManagesKeysOfAStoppedServer) {
  TempDir dir;
  std::string admin;
  {
    ServerProcess s(dir.path());
    admin = s.admin_key();
    HttpClient c(s.port(), admin);
    ASSERT_EQ(c.Post("/v1/domains", R"({"name":"a.example"})").status, 201);
    // While the server runs the data directory is locked.
    auto busy = RunGalsyncd({"keys", "list", "--data-dir", dir.path()});
    EXPECT_EQ(busy.exit_code, 1);
    EXPECT_NE(busy.output.find("another galsyncd"), std::string::npos)
        << busy.output;
  }
  auto made = RunGalsyncd({"keys", "create", "--data-dir", dir.path(),
                           "--domain", "a.example", "--scopes", "read,write",
                           "--name", "importer"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const std::string key = made.output.substr(0, made.output.find('\n'));
  ASSERT_EQ(key.size(), 85u) << made.output;
  auto bad = RunGalsyncd({"keys", "create", "--data-dir", dir.path(),
                          "--domain", "a.example", "--scopes", "read,root"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("unknown scope \"root\""), std::string::npos)
      << bad.output;
  auto nodomain = RunGalsyncd({"keys", "create", "--data-dir", dir.path(),
                               "--domain", "zz.example", "--scopes", "read"});
  EXPECT_EQ(nodomain.exit_code, 1);
  EXPECT_NE(nodomain.output.find("zz.example"), std::string::npos);

  {
    ServerProcess s(dir.path());
    HttpClient c(s.port(), key);
    EXPECT_EQ(c.Put("/v1/domains/a.example/contacts/x", Person("X")).status, 201);
    EXPECT_EQ(c.Get("/v1/domains").error_code(), "wrong_domain");
  }
  auto revoked = RunGalsyncd({"keys", "revoke", "--data-dir", dir.path(),
                              key.substr(4, 16)});
  EXPECT_EQ(revoked.exit_code, 0) << revoked.output;
  ServerProcess s(dir.path());
  HttpClient c(s.port(), key);
  EXPECT_EQ(c.Get("/v1/domains/a.example").error_code(), "key_revoked");
  HttpClient root(s.port(), admin);
  EXPECT_EQ(root.Get("/v1/domains/a.example").status, 200);
}

}  // namespace
}  // namespace galsync::testing
