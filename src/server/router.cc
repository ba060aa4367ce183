// Route matching and dispatch; see router.h.
#include "server/router.h"

#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>
#include <boost/url.hpp>

namespace galsync::server {
namespace {

std::vector<std::string> SplitPattern(std::string_view p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '/') { ++i; continue; }
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    out.emplace_back(p.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsCapture(const std::string& seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

std::string_view AccessName(Access a) {
  switch (a) {
    case Access::kPublic: return "public";
    case Access::kAnyKey: return "any key";
    case Access::kRead: return "read";
    case Access::kWrite: return "write";
    case Access::kAdmin: return "admin";
    case Access::kProvision: return "read,write,private";
  }
  return "?";
}

const std::string& Request::param(std::string_view name) const {
  for (const auto& [k, v] : path_params) {
    if (k == name) return v;
  }
  static const std::string kEmpty;
  return kEmpty;
}

std::optional<std::string_view> Request::query_param(
    std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  auto it = http.find(name);
  if (it == http.end()) return std::nullopt;
  return it->value();
}

Response ErrorResponse(const Error& e) {
  boost::json::object inner;
  inner["code"] = e.reason;
  inner["message"] = e.message;
  boost::json::object outer;
  outer["error"] = std::move(inner);
  Response r = Response::Json(HttpStatus(e.kind), boost::json::serialize(outer));
  if (e.kind == ErrorKind::kUnavailable || e.kind == ErrorKind::kRateLimited) {
    r.headers.emplace_back("Retry-After", "1");
  }
  // RFC 6750 §3: how to authenticate, and why the key given was refused.
  if (e.kind == ErrorKind::kUnauthenticated) {
    r.headers.emplace_back("WWW-Authenticate",
                           e.reason == "missing_key"
                               ? "Bearer realm=\"galsync\""
                               : "Bearer realm=\"galsync\", error=\"invalid_token\"");
  } else if (e.reason == "insufficient_scope") {
    r.headers.emplace_back(
        "WWW-Authenticate",
        "Bearer realm=\"galsync\", error=\"insufficient_scope\"");
  }
  return r;
}

Router::Router(std::vector<Route> routes, const KeyRing& keys,
               RouterLimits limits)
    : keys_(keys),
      limits_(limits),
      rate_(limits.key_rate,
            limits.key_burst > 0 ? limits.key_burst : 2 * limits.key_rate) {
  for (auto& r : routes) {
    auto segs = SplitPattern(r.pattern);
    routes_.push_back(Compiled{std::move(r), std::move(segs)});
  }
}

std::string Router::AllowedMethods(std::string_view path) const {
  std::string allow;
  for (const Compiled& c : routes_) {
    bool exists = false;
    if (Find(c.route.method, path, &exists) && exists &&
        allow.find(http::to_string(c.route.method)) == std::string::npos) {
      if (!allow.empty()) allow += ", ";
      allow += std::string(http::to_string(c.route.method));
      if (c.route.method == http::verb::get) allow += ", HEAD";
    }
  }
  return allow;
}

std::optional<Router::Match> Router::Find(http::verb method,
                                          std::string_view path,
                                          bool* path_exists) const {
  auto url = boost::urls::parse_origin_form(path);
  if (!url) return std::nullopt;
  std::vector<std::string> segs;
  for (auto s : url->segments()) segs.push_back(std::string(s));
  if (path_exists) *path_exists = false;
  for (const Compiled& c : routes_) {
    if (c.segments.size() != segs.size()) continue;
    Match m{&c.route, {}};
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      if (IsCapture(c.segments[i])) {
        ok = !segs[i].empty();  // "/v1/domains/" captures nothing
        std::string_view name(c.segments[i]);
        m.params.emplace_back(name.substr(1, name.size() - 2), segs[i]);
      } else {
        ok = c.segments[i] == segs[i];
      }
    }
    if (!ok) continue;
    if (path_exists) *path_exists = true;
    if (c.route.method == method) return m;
  }
  return std::nullopt;
}

Status Router::Admit(const HttpRequest& req, const Match& m,
                     Principal* out) const {
  const Access access = m.route->access;
  if (access == Access::kPublic) return Ok{};
  auto it = req.find(http::field::authorization);
  if (it == req.end()) {
    return Error{ErrorKind::kUnauthenticated, "missing_key",
                 "this endpoint needs an API key: send the header "
                 "\"Authorization: Bearer <key>\""};
  }
  std::string_view value = it->value();
  constexpr std::string_view kBearer = "Bearer ";
  if (value.size() < kBearer.size() ||
      !boost::beast::iequals(value.substr(0, kBearer.size()), kBearer)) {
    return Error{ErrorKind::kUnauthenticated, "invalid_key",
                 "the Authorization header must be \"Bearer <key>\""};
  }
  auto p = keys_.Authenticate(value.substr(kBearer.size()));
  if (!p) return std::move(p).error();
  *out = std::move(p.value());
  if (auto wait = rate_.Take(out->key_id, RateLimiter::Clock::now())) {
    return Error{ErrorKind::kRateLimited, "rate_limited",
                 "this key made more than " +
                     std::to_string(static_cast<int64_t>(rate_.rate())) +
                     " requests a second; retry in " + std::to_string(*wait) +
                     " s"};
  }
  if (access == Access::kAnyKey) return Ok{};
  uint32_t scope = kScopeAdmin;
  switch (access) {
    case Access::kRead: scope = kScopeRead; break;
    case Access::kWrite: scope = kScopeWrite; break;
    case Access::kProvision:
      scope = kScopeRead | kScopeWrite | kScopePrivate;
      break;
    default: break;
  }
  std::string_view domain;
  for (const auto& [name, v] : m.params) {
    if (name == "domain") domain = v;
  }
  return Authorize(*out, scope, domain);
}

bool Router::StreamsBody(http::verb method, std::string_view target) const {
  if (target.size() > limits_.max_target_bytes) return false;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return false;
  auto m = Find(method, url->encoded_path());
  return m && m->route->streams_body;
}

boost::asio::awaitable<Response> Router::Dispatch(const HttpRequest& req,
                                                  std::string peer,
                                                  BodyStream* body) const {
  std::string_view target = req.target();
  if (target.size() > limits_.max_target_bytes) {
    co_return ErrorResponse(
        {ErrorKind::kUriTooLong, "uri_too_long",
         "request target exceeds " + std::to_string(limits_.max_target_bytes) +
             " bytes"});
  }
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    co_return ErrorResponse(Error::InvalidArgument(
        "bad_request_target", "request target is not a valid origin-form URL"));
  }
  bool path_exists = false;
  // HEAD is GET without a body (the session drops the body).
  const http::verb method =
      req.method() == http::verb::head ? http::verb::get : req.method();
  auto match = Find(method, url->encoded_path(), &path_exists);
  if (!match) {
    if (path_exists) {
      Response res = ErrorResponse({ErrorKind::kMethodNotAllowed,
                                    "method_not_allowed",
                                    std::string(req.method_string()) +
                                        " is not allowed on this resource"});
      res.headers.emplace_back("Allow", AllowedMethods(url->encoded_path()));
      co_return res;
    }
    co_return ErrorResponse(Error::NotFound(
        "no_such_endpoint", "no endpoint at " + std::string(url->path())));
  }
  Principal principal;
  if (auto st = Admit(req, *match, &principal); !st) {
    co_return ErrorResponse(st.error());
  }
  if (match->route->streams_body != (body != nullptr)) {
    co_return ErrorResponse(Error::Internal("streaming route misrouted"));
  }
  Request r{req, std::move(peer), std::move(principal),
            std::move(match->params), {}, body};
  if (url->params().size() > limits_.max_query_params) {
    co_return ErrorResponse(Error::InvalidArgument(
        "too_many_query_params",
        "at most " + std::to_string(limits_.max_query_params) +
            " query parameters are accepted"));
  }
  for (auto p : url->params()) {
    r.query.emplace_back(std::string(p.key), std::string(p.value));
  }
  try {
    co_return co_await match->route->handler(r);
  } catch (const std::exception& e) {
    co_return ErrorResponse(Error::Internal(e.what()));
  }
}

}  // namespace galsync::server
