// Tests of route matching and dispatch: captures, percent-decoding, 404 vs
// 405, target length and query limits, keys (401 / 403), and error mapping.
#include "server/router.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include "galsync/sqlite_store.h"
#include "test_util.h"

namespace galsync::server {
namespace {

namespace asio = boost::asio;

// A key ring over a real store, with a server-wide key that may do anything
// and a read-only key of domain "d".
struct Keys {
  testing::TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<KeyRing> ring;
  std::string root, reader_d;

  Keys() {
    store = OpenSqliteStore(dir.file("s.db"), {}).value();
    EXPECT_TRUE(store->CreateDomain("d", 1).ok());
    ring = std::make_unique<KeyRing>(*store);
    EXPECT_TRUE(ring->Load().ok());
    root = ring->Create("", kAllScopes, "root", "test").value().bearer;
    reader_d = ring->Create("d", kScopeRead, "reader", "test").value().bearer;
  }
};

Keys& TestKeys() {
  static Keys* k = new Keys;
  return *k;
}

Router MakeRouter() {
  auto echo = [](std::string what) -> Handler {
    return [what](Request& r) -> asio::awaitable<Response> {
      std::string body = what;
      for (auto& [k, v] : r.path_params) body += "|" + std::string(k) + "=" + v;
      for (auto& [k, v] : r.query) body += "|?" + k + "=" + v;
      co_return Response::Json(200, body);
    };
  };
  auto fail = [](Request&) -> asio::awaitable<Response> {
    throw std::runtime_error("boom");
    co_return Response{};
  };
  return Router(
      {
          {http::verb::get, "/v1/domains/{domain}", Access::kRead, echo("dom")},
          {http::verb::get, "/v1/domains/{domain}/contacts/{id}", Access::kRead,
           echo("get")},
          {http::verb::put, "/v1/domains/{domain}/contacts/{id}",
           Access::kWrite, echo("put")},
          {http::verb::post, "/v1/domains/{domain}/contacts:batch",
           Access::kWrite, echo("batch")},
          {http::verb::get, "/v1/domains", Access::kRead, echo("list")},
          {http::verb::get, "/v1/key", Access::kAnyKey, echo("me")},
          {http::verb::get, "/v1/fail", Access::kPublic, fail},
      },
      *TestKeys().ring);
}

// Dispatches with the server-wide key unless `authorization` says otherwise
// ("" sends no Authorization header).
Response Dispatch(const Router& router, http::verb m, std::string target,
                  std::optional<std::string> authorization = std::nullopt) {
  asio::io_context ioc;
  HttpRequest req{m, target, 11};
  if (!authorization) authorization = "Bearer " + TestKeys().root;
  if (!authorization->empty()) req.set(http::field::authorization, *authorization);
  Response out;
  asio::co_spawn(ioc, router.Dispatch(req, "peer"),
                 [&](std::exception_ptr e, Response r) {
                   if (!e) out = std::move(r);
                 });
  ioc.run();
  return out;
}

std::string Code(const Response& r) {
  auto v = boost::json::parse(r.body);
  return std::string(v.at("error").at("code").as_string());
}

TEST(RouterTest, MatchesCapturesAndDecodes) {
  Router r = MakeRouter();
  auto res = Dispatch(r, http::verb::get, "/v1/domains/ex.com/contacts/a%40b?x=1&y=%C3%A9");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "get|domain=ex.com|id=a@b|?x=1|?y=\xC3\xA9");
  EXPECT_EQ(Dispatch(r, http::verb::put, "/v1/domains/d/contacts/x").body,
            "put|domain=d|id=x");
  EXPECT_EQ(Dispatch(r, http::verb::post, "/v1/domains/d/contacts:batch").body,
            "batch|domain=d");
}

TEST(RouterTest, UnknownPathIs404AndWrongMethodIs405) {
  Router r = MakeRouter();
  auto nf = Dispatch(r, http::verb::get, "/v1/nothing/here");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(Code(nf), "no_such_endpoint");
  // An empty segment never fills a capture.
  EXPECT_EQ(Code(Dispatch(r, http::verb::get, "/v1/domains/")),
            "no_such_endpoint");
  auto na = Dispatch(r, http::verb::delete_, "/v1/domains/d/contacts/x");
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(Code(na), "method_not_allowed");
  ASSERT_EQ(na.headers.size(), 1u);
  EXPECT_EQ(na.headers[0].first, "Allow");
  EXPECT_EQ(na.headers[0].second, "GET, HEAD, PUT");
  // HEAD is answered by the GET route.
  EXPECT_EQ(Dispatch(r, http::verb::head, "/v1/domains/d").status, 200);
}

TEST(RouterTest, EnforcesTargetAndQueryLimits) {
  Router r = MakeRouter();
  auto longr = Dispatch(r, http::verb::get, "/v1/domains/" + std::string(9000, 'a'));
  EXPECT_EQ(longr.status, 414);
  EXPECT_EQ(Code(longr), "uri_too_long");
  std::string q = "/v1/domains/d?";
  for (int i = 0; i < 40; ++i) q += "a" + std::to_string(i) + "=1&";
  auto many = Dispatch(r, http::verb::get, q);
  EXPECT_EQ(Code(many), "too_many_query_params");
  EXPECT_EQ(Code(Dispatch(r, http::verb::get, "not-a-path")), "bad_request_target");
}

TEST(RouterTest, HandlerExceptionsBecome500) {
  Router r = MakeRouter();
  auto res = Dispatch(r, http::verb::get, "/v1/fail");
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(Code(res), "internal");
}

std::string Header(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(RouterTest, RoutesNeedAValidKey) {
  Router r = MakeRouter();
  auto none = Dispatch(r, http::verb::get, "/v1/domains/d", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(Code(none), "missing_key");
  EXPECT_EQ(Header(none, "WWW-Authenticate"), "Bearer realm=\"galsync\"");
  for (const std::string& bad : std::vector<std::string>{
           "Basic dXNlcjpwdw==", "Bearer", "Bearer ", "Bearer gsk_nope",
        "Bearer " + TestKeys().root + "x",
        // Right id, wrong secret.
        "Bearer " + TestKeys().root.substr(0, 21) + std::string(64, '0')}) {
    auto res = Dispatch(r, http::verb::get, "/v1/domains/d", bad);
    EXPECT_EQ(res.status, 401) << bad;
    EXPECT_EQ(Code(res), "invalid_key") << bad;
    EXPECT_EQ(Header(res, "WWW-Authenticate"),
              "Bearer realm=\"galsync\", error=\"invalid_token\"");
  }
  // The scheme is case-insensitive (RFC 9110 §11.1).
  EXPECT_EQ(Dispatch(r, http::verb::get, "/v1/domains/d",
                     "bearer " + TestKeys().root).status, 200);
  // Public routes need none.
  EXPECT_EQ(Dispatch(r, http::verb::get, "/v1/fail", "").status, 500);
}

TEST(RouterTest, KeysAreBoundToTheirDomainAndScopes) {
  Router r = MakeRouter();
  const std::string reader = "Bearer " + TestKeys().reader_d;
  EXPECT_EQ(Dispatch(r, http::verb::get, "/v1/domains/d", reader).status, 200);
  EXPECT_EQ(Dispatch(r, http::verb::get, "/v1/domains/d/contacts/x", reader).status,
            200);
  auto other = Dispatch(r, http::verb::get, "/v1/domains/e", reader);
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(Code(other), "wrong_domain");
  // A route without a domain needs a server-wide key.
  EXPECT_EQ(Code(Dispatch(r, http::verb::get, "/v1/domains", reader)),
            "wrong_domain");
  auto write = Dispatch(r, http::verb::put, "/v1/domains/d/contacts/x", reader);
  EXPECT_EQ(write.status, 403);
  EXPECT_EQ(Code(write), "insufficient_scope");
  EXPECT_EQ(Header(write, "WWW-Authenticate"),
            "Bearer realm=\"galsync\", error=\"insufficient_scope\"");
  // Any valid key, whatever its domain, may ask who it is.
  EXPECT_EQ(Dispatch(r, http::verb::get, "/v1/key", reader).status, 200);
}

TEST(RouterTest, ErrorKindsMapToStatuses) {
  EXPECT_EQ(ErrorResponse({ErrorKind::kGone, "token_expired", "m"}).status, 410);
  EXPECT_EQ(ErrorResponse({ErrorKind::kPreconditionFailed, "x", "m"}).status, 412);
  EXPECT_EQ(ErrorResponse({ErrorKind::kPayloadTooLarge, "x", "m"}).status, 413);
  auto e = ErrorResponse(Error::NotFound("domain_not_found", "no \"x\""));
  auto v = boost::json::parse(e.body);
  EXPECT_EQ(v.at("error").at("message").as_string(), "no \"x\"");
}

}  // namespace
}  // namespace galsync::server
