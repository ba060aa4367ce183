// The route table of an HTTP front end and the types handlers speak.
//
// Routes are declared once (method, path pattern, access, handler).
// Dispatch does the cross-cutting work once, before any handler runs: URL
// length, path and method matching (404 / 405), the caller's key (401 / 403),
// and mapping of Errors to JSON error responses. Handlers never see a socket:
// they take a Request and return a Response.
//
// Path patterns are literal segments and {name} captures, e.g.
// "/v1/domains/{domain}/contacts/{id}". Captured segments are
// percent-decoded.
//
// Thread-safety: a Router is immutable once built; Dispatch may run
// concurrently on many threads.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "galsync/keys.h"
#include "galsync/status.h"
#include "server/rate_limiter.h"

namespace galsync::server {

namespace http = boost::beast::http;

// What a route needs from the caller's key (galsync/keys.h). A route with a
// {domain} capture admits keys of that domain and server-wide keys; a route
// without one admits server-wide keys only.
enum class Access {
  kPublic,  // no key
  kAnyKey,  // any valid key, whatever its scopes and domain
  kRead,
  kWrite,
  kAdmin,
  // read, write and private together: an identity provider's provisioning
  // (SCIM) manages every user, deactivated (hidden) ones included.
  kProvision,
};
std::string_view AccessName(Access a);

using HttpRequest = http::request<http::string_body>;

// The body of a request to a streaming route (Route::streams_body), read
// piece by piece as the client sends it, so an upload of any size passes
// through in bounded memory (the session enforces
// HttpLimits::max_stream_body_bytes and the read timeout per piece).
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // The next piece of the body: 1 MiB (less only at its end), and empty
  // once the body has ended. Errors: 413 body_too_large, 400 body_timeout
  // (the client stopped sending), 400 bad_http_request (broken framing or
  // connection).
  virtual boost::asio::awaitable<Result<std::string_view>> Read() = 0;
};

struct Request {
  const HttpRequest& http;  // for a streaming route: headers only
  std::string peer;  // remote address, for logs and audit
  Principal principal;  // the verified key; empty for public routes
  std::vector<std::pair<std::string_view, std::string>> path_params;
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  BodyStream* body = nullptr;  // set for streaming routes only

  // The captured path segment `name` (always present for a matched route).
  const std::string& param(std::string_view name) const;
  // The decoded query parameter `name`, if given.
  std::optional<std::string_view> query_param(std::string_view name) const;
  std::optional<std::string_view> header(std::string_view name) const;
};

// The body of a response made piece by piece as it is sent (an export of a
// whole domain), in bounded memory. The session sends each piece as an
// HTTP/1.1 chunk.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // The next piece of the body; empty once the body is complete. An error
  // ends the response early: the connection closes without the last chunk,
  // so the client sees a body cut short, never a complete-looking one.
  virtual boost::asio::awaitable<Result<std::string>> Next() = 0;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body comes from here instead of `body`.
  std::shared_ptr<ResponseStream> stream;

  static Response Json(int status, std::string body) {
    return Response{status, std::move(body), "application/json", {}};
  }
};

// {"error":{"code":reason,"message":message}} with the kind's HTTP status.
Response ErrorResponse(const Error& e);

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

struct Route {
  http::verb method;
  std::string pattern;
  Access access;
  Handler handler;
  // The handler reads the body itself through Request::body, after the
  // caller's key was admitted; the session does not buffer it.
  bool streams_body = false;
};

struct RouterLimits {
  size_t max_target_bytes = 8 * 1024;  // request-target (URL) length; 414
  size_t max_query_params = 32;        // 400 beyond
  // Requests per second per API key (token bucket; 429 beyond); 0: no limit.
  double key_rate = 0;
  double key_burst = 0;                // bucket size; default: 2 s of rate
};

class Router {
 public:
  // `keys` verifies callers; it must outlive the router.
  Router(std::vector<Route> routes, const KeyRing& keys,
         RouterLimits limits = {});

  // `body` must be given for a request to a streaming route (StreamsBody),
  // and only then.
  boost::asio::awaitable<Response> Dispatch(const HttpRequest& req,
                                            std::string peer,
                                            BodyStream* body = nullptr) const;
  // Whether the request-target names a streaming route for `method`.
  bool StreamsBody(http::verb method, std::string_view target) const;

  // For tests and docs: which route a method+path would hit, and the
  // captured params; nullopt if none.
  struct Match {
    const Route* route;
    std::vector<std::pair<std::string_view, std::string>> params;
  };
  std::optional<Match> Find(http::verb method, std::string_view path,
                            bool* path_exists = nullptr) const;
  // The methods some route accepts at `path`, for a 405's Allow header.
  std::string AllowedMethods(std::string_view path) const;

 private:
  struct Compiled {
    Route route;
    std::vector<std::string> segments;  // "{x}" marks a capture
  };
  // 401 / 403 unless the request's key grants `route`'s access.
  Status Admit(const HttpRequest& req, const Match& m, Principal* out) const;

  std::vector<Compiled> routes_;
  const KeyRing& keys_;
  RouterLimits limits_;
  mutable RateLimiter rate_;
};

}  // namespace galsync::server
