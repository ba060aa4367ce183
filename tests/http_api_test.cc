// Integration tests: a real galsyncd on an ephemeral loopback port, driven
// over HTTP. Covers the endpoints, a catalogue of bad requests (each with its
// exact status and error code, and the store unchanged afterwards), long-poll
// wake-up, durability across kill -9, and graceful shutdown.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "test_util.h"

namespace galsync::testing {
namespace {

namespace json = boost::json;

const std::string kD = "/v1/domains/example.com";

std::string PersonJson(const std::string& id, const std::string& given = "Ann",
                       bool with_id = true) {
  json::object o;
  if (with_id) o["id"] = id;
  o["name"] = {{"given", given}, {"family", "Smith"}};
  o["emails"] = json::array{json::object{{"address", id + "@example.com"}}};
  return json::serialize(o);
}

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void Start(std::vector<std::string> args = {"--durability", "normal"}) {
    client_.reset();
    server_ = std::make_unique<ServerProcess>(dir_.path(), args);
    ASSERT_NE(server_->port(), 0);
    client_ = std::make_unique<HttpClient>(*server_);
    if (client_->Get(kD).status == 404) {
      ASSERT_EQ(client_->Post("/v1/domains", R"({"name":"example.com"})").status,
                201);
    }
  }
  HttpClient& c() { return *client_; }

  // Follows the change feed to its end from `token`; returns the final token
  // and fills `seen` with id -> contact JSON.
  std::string SyncAll(std::map<std::string, std::string>& seen,
                      std::string token = "", int limit = 0) {
    PageReplica r;
    r.contacts = std::move(seen);
    r.token = std::move(token);
    for (int guard = 0; guard < 10000; ++guard) {
      std::string t = kD + "/changes?";
      if (!r.token.empty()) t += "token=" + r.token + "&";
      if (limit) t += "limit=" + std::to_string(limit);
      auto res = c().Get(t);
      EXPECT_EQ(res.status, 200) << res.body;
      if (res.status != 200 || !r.Apply(res.body)) break;
    }
    seen = std::move(r.contacts);
    return r.token;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(HttpApiTest, HealthAndDomains) {
  auto h = c().Get("/v1/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.json().at("status").as_string(), "ok");
  auto list = c().Get("/v1/domains");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json().at("domains").as_array().size(), 1u);
  auto dup = c().Post("/v1/domains", R"({"name":"example.com"})");
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(dup.error_code(), "domain_exists");
  auto d = c().Get(kD);
  EXPECT_EQ(d.json().at("name").as_string(), "example.com");
}

TEST_F(HttpApiTest, PutGetDeleteWithVersions) {
  auto put = c().Put(kD + "/contacts/ann", PersonJson("ann", "Ann", false));
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(put.headers["etag"], "\"1\"");
  EXPECT_EQ(put.json().at("version").as_string(), "1");
  auto get = c().Get(kD + "/contacts/ann");
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(get.body, put.body);
  EXPECT_EQ(c().Get(kD + "/contacts/ann", {{"If-None-Match", "\"1\""}}).status,
            304);

  // Same content again: 200, no new version.
  auto same = c().Put(kD + "/contacts/ann", PersonJson("ann"));
  EXPECT_EQ(same.status, 200);
  EXPECT_EQ(same.headers["etag"], "\"1\"");
  // If-Match with a stale version: 412, nothing changes.
  auto stale = c().Put(kD + "/contacts/ann", PersonJson("ann", "Anne"),
                       {{"If-Match", "\"7\""}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(stale.error_code(), "version_mismatch");
  auto ok = c().Put(kD + "/contacts/ann", PersonJson("ann", "Anne"),
                    {{"If-Match", "\"1\""}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.headers["etag"], "\"2\"");
  // Create-only.
  EXPECT_EQ(c().Put(kD + "/contacts/ann", PersonJson("ann", "X"),
                    {{"If-None-Match", "*"}}).status,
            412);
  auto del = c().Delete(kD + "/contacts/ann", {{"If-Match", "\"2\""}});
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(del.json().at("seq").as_int64(), 3);
  EXPECT_EQ(c().Get(kD + "/contacts/ann").status, 404);
  EXPECT_EQ(c().Delete(kD + "/contacts/ann").status, 404);

  // POST picks an id.
  auto post = c().Post(kD + "/contacts", PersonJson("x", "Gen", false));
  ASSERT_EQ(post.status, 201) << post.body;
  std::string id(post.json().at("id").as_string());
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(post.headers["location"], kD + "/contacts/" + id);
  // POST of an id that exists: 409.
  auto again = c().Post(kD + "/contacts", PersonJson(id, "Gen"));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.error_code(), "contact_exists");
  // HEAD: GET's headers, no body.
  auto head = c().Send("HEAD", kD + "/contacts/" + id, "", {});
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.headers["content-length"],
            std::to_string(c().Get(kD + "/contacts/" + id).body.size()));

  auto hist = c().Get(kD + "/contacts/ann/history");
  ASSERT_EQ(hist.status, 200);
  auto entries = hist.json().at("entries").as_array();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_TRUE(entries[0].at("before").is_null());
  EXPECT_EQ(entries[2].at("op").as_string(), "delete");
  EXPECT_TRUE(entries[2].at("after").is_null());
  // The audit names the key that made the change (its public id, the 16
  // hex digits after "gsk_") and where the request came from.
  EXPECT_EQ(entries[2].at("actor").as_string(),
            "key:" + server_->admin_key().substr(4, 16) + "@127.0.0.1");
}

TEST_F(HttpApiTest, BatchIsAtomicAndTakesContiguousSeqs) {
  std::string body = R"({"changes":[)" +
                     std::string(R"({"op":"upsert","contact":)") +
                     PersonJson("a") + "}," +
                     R"({"op":"upsert","contact":)" + PersonJson("b") + "}," +
                     R"({"op":"delete","id":"a"},{"op":"delete","id":"zz"}]})";
  auto r = c().Post(kD + "/contacts:batch", body);
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = r.json();
  EXPECT_EQ(v.at("first_seq").as_int64(), 1);
  EXPECT_EQ(v.at("last_seq").as_int64(), 3);
  EXPECT_EQ(v.at("applied").as_int64(), 3);
  EXPECT_EQ(v.at("not_found").as_int64(), 1);

  // One bad contact rejects the whole batch.
  std::string bad = R"({"changes":[{"op":"upsert","contact":)" +
                    PersonJson("c") +
                    R"(},{"op":"upsert","contact":{"id":"d","name":{"given":"D"},"emails":[{"address":"nope"}]}}]})";
  auto br = c().Post(kD + "/contacts:batch", bad);
  EXPECT_EQ(br.status, 400);
  EXPECT_EQ(br.error_code(), "invalid_email");
  EXPECT_NE(br.json().at("error").at("message").as_string().find("changes[1]"),
            std::string::npos);
  EXPECT_EQ(c().Get(kD + "/contacts/c").status, 404);
  EXPECT_EQ(c().Get(kD).json().at("last_seq").as_int64(), 3);
}

TEST_F(HttpApiTest, FullThenDeltaSyncOverHttp) {
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(c().Put(kD + "/contacts/p" + std::to_string(i),
                      PersonJson("p" + std::to_string(i))).status,
              201);
  }
  std::map<std::string, std::string> seen;
  std::string token = SyncAll(seen, "", 7);
  EXPECT_EQ(seen.size(), 30u);
  ASSERT_EQ(c().Delete(kD + "/contacts/p3").status, 200);
  ASSERT_EQ(c().Put(kD + "/contacts/p4", PersonJson("p4", "New")).status, 200);
  auto delta = c().Get(kD + "/changes?token=" + token);
  ASSERT_EQ(delta.status, 200);
  auto changes = delta.json().at("changes").as_array();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].at("op").as_string(), "delete");
  EXPECT_EQ(changes[0].at("id").as_string(), "p3");
  EXPECT_EQ(changes[1].at("contact").at("name").at("given").as_string(), "New");
  SyncAll(seen, token);
  EXPECT_EQ(seen.size(), 29u);
  // A '+' offset that was not percent-encoded still parses.
  auto plus = c().Get(kD + "/changes?since=2000-01-01T01:00:00+01:00");
  EXPECT_EQ(plus.status, 200) << plus.body;
  // since= maps a time to a position.
  auto since = c().Get(kD + "/changes?since=2000-01-01T00:00:00Z");
  EXPECT_EQ(since.status, 200);
  // 28 untouched + p4's update + p3's tombstone.
  EXPECT_EQ(since.json().at("changes").as_array().size(), 30u);
}

TEST_F(HttpApiTest, LongPollWakesOnCommit) {
  std::map<std::string, std::string> seen;
  std::string token = SyncAll(seen);
  auto start = std::chrono::steady_clock::now();
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    HttpClient w(*server_);
    EXPECT_EQ(w.Put(kD + "/contacts/late", PersonJson("late")).status, 201);
  });
  auto r = c().Get(kD + "/changes?wait=20&token=" + token);
  auto waited = std::chrono::steady_clock::now() - start;
  writer.join();
  ASSERT_EQ(r.status, 200);
  auto changes = r.json().at("changes").as_array();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].at("id").as_string(), "late");
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, std::chrono::seconds(10));  // woke on commit, not timeout
  // With nothing to wait for, `wait` returns empty when the time is up.
  token = std::string(r.json().at("next_token").as_string());
  auto empty = c().Get(kD + "/changes?wait=1&token=" + token);
  EXPECT_EQ(empty.json().at("changes").as_array().size(), 0u);
}

// The catalogue of bad requests: status, error code, store unchanged.
TEST_F(HttpApiTest, BadRequestsGetPreciseErrorsAndChangeNothing) {
  ASSERT_EQ(c().Put(kD + "/contacts/a", PersonJson("a")).status, 201);
  std::map<std::string, std::string> seen;
  std::string token = SyncAll(seen);
  ASSERT_EQ(c().Post("/v1/domains", R"({"name":"other.example"})").status, 201);
  ASSERT_EQ(c().Put("/v1/domains/other.example/contacts/o", PersonJson("o"))
                .status, 201);
  auto other = c().Get("/v1/domains/other.example/changes");
  std::string other_token(other.json().at("next_token").as_string());
  std::string forged = token;
  forged[20] = forged[20] == 'Q' ? 'R' : 'Q';
  auto make_key = [&](const std::string& domain, const char* scopes) {
    auto res = c().Post("/v1/domains/" + domain + "/keys",
                        std::string(R"({"scopes":)") + scopes + "}");
    EXPECT_EQ(res.status, 201) << res.body;
    return "Bearer " + std::string(res.json().at("key").as_string());
  };
  const std::string reader = make_key("example.com", R"(["read"])");
  const std::string other_writer =
      make_key("other.example", R"(["read","write","admin"])");
  const auto before = c().Get(kD).body;

  struct Case {
    std::string name, method, target, body;
    std::map<std::string, std::string> headers;
    int status;
    std::string code;
  };
  const std::string big(33 * 1024 * 1024, 'x');
  std::vector<Case> cases = {
      {"bad json", "PUT", kD + "/contacts/b", "{\"id\":", {}, 400, "invalid_json"},
      {"empty body", "PUT", kD + "/contacts/b", "", {}, 400, "invalid_json"},
      {"not an object", "PUT", kD + "/contacts/b", "[1]", {}, 400, "invalid_contact"},
      {"unknown field", "PUT", kD + "/contacts/b",
       R"({"name":{"given":"B"},"nmae":1})", {}, 400, "unknown_field"},
      {"no name", "PUT", kD + "/contacts/b", R"({"title":"x"})", {}, 400,
       "missing_name"},
      {"bad email", "PUT", kD + "/contacts/b",
       R"({"name":{"given":"B"},"emails":[{"address":"b@@x"}]})", {}, 400,
       "invalid_email"},
      {"id mismatch", "PUT", kD + "/contacts/b", PersonJson("c"), {}, 400,
       "id_mismatch"},
      {"bad id", "PUT", kD + "/contacts/b%20c", PersonJson("b", "B", false), {},
       400, "invalid_id"},
      {"domain mismatch", "PUT", kD + "/contacts/b",
       R"({"name":{"given":"B"},"domain":"other.example"})", {}, 400,
       "domain_mismatch"},
      {"too deep", "PUT", kD + "/contacts/b",
       std::string(100, '[') + std::string(100, ']'), {}, 400, "invalid_json"},
      {"oversize body", "PUT", kD + "/contacts/b", big, {}, 413, "body_too_large"},
      {"unknown domain", "GET", "/v1/domains/nope.example/changes", "", {}, 404,
       "domain_not_found"},
      {"unknown domain write", "PUT", "/v1/domains/nope.example/contacts/b",
       PersonJson("b"), {}, 404, "domain_not_found"},
      {"forged token", "GET", kD + "/changes?token=" + forged, "", {}, 400,
       "invalid_token"},
      {"truncated token", "GET", kD + "/changes?token=" + token.substr(0, 20),
       "", {}, 400, "invalid_token"},
      {"other domain token", "GET", kD + "/changes?token=" + other_token, "", {},
       400, "token_domain_mismatch"},
      {"token and since", "GET",
       kD + "/changes?token=" + token + "&since=2020-01-01T00:00:00Z", "", {},
       400, "token_and_since"},
      {"bad since", "GET", kD + "/changes?since=yesterday", "", {}, 400,
       "invalid_time"},
      {"limit zero", "GET", kD + "/changes?limit=0", "", {}, 400, "invalid_limit"},
      {"limit negative", "GET", kD + "/changes?limit=-1", "", {}, 400,
       "invalid_limit"},
      {"limit text", "GET", kD + "/changes?limit=ten", "", {}, 400,
       "invalid_limit"},
      {"limit huge", "GET", kD + "/changes?limit=99999999999", "", {}, 400,
       "invalid_limit"},
      {"wait too long", "GET", kD + "/changes?wait=100000", "", {}, 400,
       "invalid_wait"},
      {"if-match stale", "PUT", kD + "/contacts/a", PersonJson("a", "Z"),
       {{"If-Match", "\"99\""}}, 412, "version_mismatch"},
      {"if-match on delete", "DELETE", kD + "/contacts/a", "",
       {{"If-Match", "\"99\""}}, 412, "version_mismatch"},
      {"delete missing", "DELETE", kD + "/contacts/missing", "", {}, 404,
       "contact_not_found"},
      {"get missing", "GET", kD + "/contacts/missing", "", {}, 404,
       "contact_not_found"},
      {"bad domain name", "POST", "/v1/domains", R"({"name":"Not Valid"})", {},
       400, "invalid_domain"},
      {"domain body", "POST", "/v1/domains", R"({"nam":"x"})", {}, 400,
       "invalid_domain"},
      {"batch shape", "POST", kD + "/contacts:batch", R"({"changes":{}})", {},
       400, "invalid_batch"},
      {"batch upsert with id", "POST", kD + "/contacts:batch",
       R"({"changes":[{"op":"upsert","id":"x","contact":{"id":"y","name":{"given":"Y"}}}]})",
       {}, 400, "invalid_batch"},
      {"contact too large", "PUT", kD + "/contacts/b",
       R"({"name":{"given":"B"},"extra":{"k":")" + std::string(70000, 'v') +
           "\"}}",
       {}, 413, "contact_too_large"},
      {"batch op", "POST", kD + "/contacts:batch",
       R"({"changes":[{"op":"merge","id":"a"}]})", {}, 400, "invalid_batch"},
      {"no endpoint", "GET", "/v2/whatever", "", {}, 404, "no_such_endpoint"},
      {"wrong method", "PATCH", kD + "/contacts/a", "{}", {}, 405,
       "method_not_allowed"},
      {"uri too long", "GET", kD + "/changes?token=" + std::string(9000, 'a'),
       "", {}, 414, "uri_too_long"},
      {"header too large", "GET", kD, "", {{"X-Big", std::string(20000, 'h')}},
       431, "headers_too_large"},
      {"purge bad arg", "POST", kD + "/purge?older_than=soon", "", {}, 400,
       "invalid_older_than"},
      {"no key", "PUT", kD + "/contacts/b", PersonJson("b"),
       {{"Authorization", ""}}, 401, "missing_key"},
      {"not a bearer key", "PUT", kD + "/contacts/b", PersonJson("b"),
       {{"Authorization", "Basic YTpi"}}, 401, "invalid_key"},
      {"made-up key", "DELETE", kD + "/contacts/a", "",
       {{"Authorization", "Bearer gsk_0123456789abcdef_" + std::string(64, 'a')}},
       401, "invalid_key"},
      {"read key writes", "PUT", kD + "/contacts/b", PersonJson("b"),
       {{"Authorization", reader}}, 403, "insufficient_scope"},
      {"read key purges", "POST", kD + "/purge?older_than=0", "",
       {{"Authorization", reader}}, 403, "insufficient_scope"},
      {"other domain's key writes", "PUT", kD + "/contacts/b", PersonJson("b"),
       {{"Authorization", other_writer}}, 403, "wrong_domain"},
      {"other domain's key deletes", "DELETE", kD + "/contacts/a", "",
       {{"Authorization", other_writer}}, 403, "wrong_domain"},
      {"domain key makes a domain", "POST", "/v1/domains",
       R"({"name":"x.example"})", {{"Authorization", other_writer}}, 403,
       "wrong_domain"},
      {"key with unknown scope", "POST", kD + "/keys", R"({"scopes":["root"]})",
       {}, 400, "invalid_scopes"},
      {"key without scopes", "POST", kD + "/keys", R"({"name":"x"})", {}, 400,
       "invalid_scopes"},
      {"key for no domain", "POST", "/v1/keys",
       R"({"domain":"nope.example","scopes":["read"]})", {}, 404,
       "domain_not_found"},
      {"revoke unknown key", "DELETE", kD + "/keys/0123456789abcdef", "", {},
       404, "key_not_found"},
  };
  for (const Case& tc : cases) {
    HttpClient fresh(*server_);
    auto r = fresh.Send(tc.method, tc.target, tc.body, tc.headers);
    EXPECT_EQ(r.status, tc.status) << tc.name << ": " << r.body.substr(0, 300);
    EXPECT_EQ(r.error_code(), tc.code) << tc.name << ": " << r.body.substr(0, 300);
    EXPECT_FALSE(r.json().at("error").at("message").as_string().empty())
        << tc.name;
  }
  // The batch over the limit.
  std::string batch = R"({"changes":[)";
  for (int i = 0; i < 10001; ++i) {
    batch += std::string(i ? "," : "") + R"({"op":"delete","id":"x)" +
             std::to_string(i) + "\"}";
  }
  batch += "]}";
  auto tb = c().Post(kD + "/contacts:batch", batch);
  EXPECT_EQ(tb.status, 413);
  EXPECT_EQ(tb.error_code(), "batch_too_large");
  // Malformed HTTP gets a 400 and a closed connection, not a hang.
  std::string raw = c().SendRaw("GARBAGE\r\n\r\n");
  EXPECT_NE(raw.find("400"), std::string::npos) << raw;

  // Nothing changed.
  EXPECT_EQ(c().Get(kD).body, before);
  std::map<std::string, std::string> after;
  SyncAll(after);
  EXPECT_EQ(after, seen);
  // And the server is still healthy.
  EXPECT_EQ(c().Get("/v1/health").status, 200);
}

TEST_F(HttpApiTest, SearchFindsCommittedContactsAndRejectsBadQueries) {
  ASSERT_EQ(c().Put(kD + "/contacts/js",
                    R"({"name":{"given":"John","family":"Smith"},"emails":[{"address":"john.smith@example.com"}]})")
                .status, 201);
  ASSERT_EQ(c().Put(kD + "/contacts/jo",
                    R"({"name":{"given":"José","family":"Smythe"}})").status,
            201);
  ASSERT_EQ(c().Put(kD + "/contacts/pe",
                    R"({"name":{"given":"Пётр","family":"Иванов"},"title":"Sales Lead"})")
                .status, 201);
  // Searchable within moments of the commit (the last one written).
  HttpResult r;
  for (int i = 0; i < 200; ++i) {
    r = c().Get(kD + "/search?q=pyotr");
    if (r.status == 200 && r.json().at("results").as_array().size() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(r.json().at("results").as_array().size(), 1u) << r.body;
  r = c().Get(kD + "/search?q=jo%20sm");
  ASSERT_EQ(r.status, 200) << r.body;
  auto results = r.json().at("results").as_array();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].at("id").as_string(), "js");  // "smith" shorter
  EXPECT_EQ(results[0].at("contact").at("name").at("given").as_string(), "John");
  EXPECT_EQ(c().Get(kD + "/search?q=jose").json().at("results").as_array().size(), 1u);
  EXPECT_EQ(c().Get(kD + "/search?q=pyotr").json().at("results").as_array().size(), 1u);
  EXPECT_EQ(c().Get(kD + "/search?q=john.smith%40ex").json().at("results").as_array().size(), 1u);
  EXPECT_EQ(c().Get(kD + "/search?q=sal").json().at("results").as_array().size(), 1u);
  EXPECT_EQ(c().Get(kD + "/search?q=sal&fields=name,email").json().at("results").as_array().size(), 0u);
  EXPECT_EQ(c().Get(kD + "/search?q=s&limit=1").json().at("results").as_array().size(), 1u);
  // Deleted contacts disappear.
  ASSERT_EQ(c().Delete(kD + "/contacts/jo").status, 200);
  for (int i = 0; i < 200; ++i) {
    r = c().Get(kD + "/search?q=jose");
    if (r.json().at("results").as_array().empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(r.json().at("results").as_array().empty());

  struct Bad { std::string target; int status; std::string code; };
  for (const Bad& b : std::vector<Bad>{
           {kD + "/search", 400, "missing_query"},
           {kD + "/search?q=%FF%FE", 400, "invalid_query"},
           {kD + "/search?q=%F0%9F%98%80", 400, "empty_query"},
           {kD + "/search?q=%20%20", 400, "empty_query"},
           {kD + "/search?q=jo&limit=0", 400, "invalid_limit"},
           {kD + "/search?q=jo&limit=101", 400, "invalid_limit"},
           {kD + "/search?q=jo&fields=phone", 400, "invalid_fields"},
           {kD + "/search?q=jo&fields=", 400, "invalid_fields"},
           {"/v1/domains/nope.example/search?q=jo", 404, "domain_not_found"},
       }) {
    auto res = c().Get(b.target);
    EXPECT_EQ(res.status, b.status) << b.target << " " << res.body;
    EXPECT_EQ(res.error_code(), b.code) << b.target;
  }
}

TEST_F(HttpApiTest, ExpiredTokenIs410AfterPurge) {
  ASSERT_EQ(c().Put(kD + "/contacts/a", PersonJson("a")).status, 201);
  ASSERT_EQ(c().Put(kD + "/contacts/b", PersonJson("b")).status, 201);
  std::map<std::string, std::string> seen;
  std::string token = SyncAll(seen);
  ASSERT_EQ(c().Delete(kD + "/contacts/a").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto p = c().Post(kD + "/purge?older_than=1", "");
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.json().at("tombstones_removed").as_int64(), 1);
  auto r = c().Get(kD + "/changes?token=" + token);
  EXPECT_EQ(r.status, 410);
  EXPECT_EQ(r.error_code(), "token_expired");
}

TEST_F(HttpApiTest, ThePurgeJobRunsByItselfAndExpiresOldTokens) {
  client_.reset();
  server_.reset();
  Start({"--retention", "1s", "--purge-interval", "1s", "--durability",
         "normal"});
  ASSERT_EQ(c().Put(kD + "/contacts/a", PersonJson("a")).status, 201);
  ASSERT_EQ(c().Put(kD + "/contacts/b", PersonJson("b")).status, 201);
  std::map<std::string, std::string> seen;
  std::string token = SyncAll(seen);
  ASSERT_EQ(c().Delete(kD + "/contacts/a").status, 200);
  // Within a few purge intervals the tombstone is gone and the horizon
  // has passed the token.
  int status = 0;
  for (int i = 0; i < 100 && status != 410; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = c().Get(kD + "/changes?token=" + token).status;
  }
  EXPECT_EQ(status, 410);
  EXPECT_EQ(c().Get(kD).json().at("horizon_seq").as_int64(), 3);
}

// Invariant 7: every acknowledged write survives kill -9.
TEST_F(HttpApiTest, AcknowledgedWritesSurviveKill9) {
  client_.reset();
  server_.reset();
  Start({"--durability", "full"});
  std::atomic<bool> stop{false};
  std::vector<std::string> acked;
  std::mutex mu;
  std::thread writer([&] {
    HttpClient w(*server_);
    for (int i = 0; !stop; ++i) {
      std::string id = "k" + std::to_string(i);
      try {
        auto r = w.Put(kD + "/contacts/" + id, PersonJson(id));
        if (r.status != 201) break;
      } catch (...) {
        break;  // the server died mid-request: not acknowledged
      }
      std::lock_guard lock(mu);
      acked.push_back(id);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  int status = server_->Kill(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(status));
  stop = true;
  writer.join();
  ASSERT_GT(acked.size(), 5u);
  Start({"--durability", "full"});
  std::map<std::string, std::string> seen;
  SyncAll(seen);
  for (const auto& id : acked) EXPECT_TRUE(seen.count(id)) << id;
  auto d = c().Get(kD).json();
  EXPECT_GE(d.at("last_seq").as_int64(), static_cast<int64_t>(acked.size()));
  EXPECT_EQ(static_cast<size_t>(d.at("contacts").as_int64()), seen.size());
}

TEST_F(HttpApiTest, GracefulShutdownAnswersWaitingLongPolls) {
  std::map<std::string, std::string> seen;
  std::string token = SyncAll(seen);
  HttpResult r;
  std::thread poller([&] {
    HttpClient p(*server_);
    r = p.Get(kD + "/changes?wait=60&token=" + token);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  int status = server_->Kill(SIGTERM);
  poller.join();
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(r.status, 200);
  server_.reset();
}

TEST_F(HttpApiTest, ConnectionsBeyondTheLimitAreRefused) {
  client_.reset();
  server_.reset();
  Start({"--max-connections", "2", "--durability", "normal"});
  client_.reset();  // frees the fixture's connection
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto a = std::make_unique<HttpClient>(*server_);
  HttpClient b(*server_);
  ASSERT_EQ(a->Get("/v1/health").status, 200);  // two kept-alive connections
  ASSERT_EQ(b.Get("/v1/health").status, 200);
  HttpClient third(*server_);
  EXPECT_THROW(third.Get("/v1/health"), std::exception);
  // A freed slot is usable again.
  a.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  HttpClient fourth(*server_);
  EXPECT_EQ(fourth.Get("/v1/health").status, 200);
}

TEST_F(HttpApiTest, ASecondServerOnTheSameDataDirRefusesToStart) {
  auto r = RunGalsyncd({"--data-dir", dir_.path(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("another galsyncd is using"), std::string::npos)
      << r.output;
  EXPECT_EQ(c().Get("/v1/health").status, 200);  // the first one is fine
}

TEST(GalsyncdFlagsTest, BadFlagsExit2WithAMessage) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--bogus"}, {"--listen", "nohost"},
        {"--page-max", "0"}, {"--retention", "5x"}, {"--durability", "maybe"},
        {"--threads"}}) {
    auto r = RunGalsyncd(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_NE(r.output.find("galsyncd: "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--help"), std::string::npos) << r.output;
  }
  auto help = RunGalsyncd({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--data-dir", "--listen", "--threads", "--durability",
                           "--retention", "--purge-interval", "--page-max",
                           "--page-bytes", "--max-connections",
                           "--new-incarnation", "--demo", "--demo-domain"}) {
    EXPECT_NE(help.output.find(flag), std::string::npos) << flag;
  }
}

TEST_F(HttpApiTest, DemoDataLoadsAndSyncs) {
  client_.reset();
  server_.reset();
  TempDir demo_dir;
  ServerProcess demo(demo_dir.path(), {"--demo", "500", "--durability", "normal"});
  HttpClient h(demo);
  auto d = h.Get("/v1/domains/demo.example");
  ASSERT_EQ(d.status, 200);
  EXPECT_EQ(d.json().at("contacts").as_int64(), 500);
  auto page = h.Get("/v1/domains/demo.example/changes?limit=500");
  EXPECT_EQ(page.json().at("changes").as_array().size(), 500u);
}

}  // namespace
}  // namespace galsync::testing
