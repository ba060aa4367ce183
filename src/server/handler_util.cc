// Helpers shared by the API handlers (server/handler_util.h).
#include "server/handler_util.h"

#include <boost/json.hpp>

#include "galsync/contact.h"

namespace galsync::server {

namespace json = boost::json;

Result<json::value> ParseBody(const Request& r, int max_depth) {
  const std::string& body = r.http.body();
  if (body.empty()) {
    return Error::InvalidArgument("invalid_json",
                                  "request body is empty; expected JSON");
  }
  json::parse_options opts;
  opts.max_depth = max_depth;
  json::parser parser({}, opts);
  json::error_code ec;
  size_t consumed = parser.write(body.data(), body.size(), ec);
  if (ec) return JsonSyntaxError(body, ec, consumed, max_depth);
  return parser.release();
}

std::string Unquote(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

std::string ActorOf(const Request& r) {
  return r.principal.actor() + "@" +
         (r.peer.empty() ? std::string("unknown") : r.peer);
}

}  // namespace galsync::server
