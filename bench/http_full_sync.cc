// Load tool: one full sync of a domain over HTTP with keep-alive, the way a
// client would do it, reporting time, pages, bytes and contacts/s.
//
//   GALSYNC_KEY=KEY http_full_sync HOST PORT DOMAIN [LIMIT]
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: http_full_sync HOST PORT DOMAIN [LIMIT]\n");
    return 2;
  }
  const std::string host = argv[1], port = argv[2], domain = argv[3];
  const std::string limit = argc > 4 ? argv[4] : "1000";
  const char* key = std::getenv("GALSYNC_KEY");
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(asio::ip::tcp::resolver(ioc).resolve(host, port));
  beast::flat_buffer buf;
  std::string token;
  size_t pages = 0, bytes = 0, changes = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    std::string target = "/v1/domains/" + domain + "/changes?limit=" + limit;
    if (!token.empty()) target += "&token=" + token;
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host);
    if (key) req.set(http::field::authorization, std::string("Bearer ") + key);
    http::write(stream, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);
    http::read(stream, buf, parser);
    const std::string& body = parser.get().body();
    if (parser.get().result_int() != 200) {
      std::fprintf(stderr, "HTTP %d: %s\n", parser.get().result_int(),
                   body.c_str());
      return 1;
    }
    bytes += body.size();
    ++pages;
    // The page tail holds next_token and has_more; the client must parse the
    // whole page anyway to apply it, so parse it here too.
    boost::json::value v = boost::json::parse(body);
    changes += v.at("changes").as_array().size();
    token = std::string(v.at("next_token").as_string());
    if (!v.at("has_more").as_bool()) break;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                           t0).count();
  std::printf(
      "full sync: %zu contacts, %zu pages, %zu bytes (%.0f bytes/contact) in "
      "%.2f s = %.0f contacts/s, %.0f MB/s (incl. client JSON parse)\n",
      changes, pages, bytes, double(bytes) / double(changes), s,
      double(changes) / s, double(bytes) / s / 1e6);
  return 0;
}
