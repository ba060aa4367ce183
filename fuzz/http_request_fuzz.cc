// Fuzz target: raw bytes from a network client, through the whole request
// path of galsyncd: Beast's HTTP parser with the server's limits, the
// router (URL and query parsing, key checks) and the API handlers over a
// real store, directory and search index.
//
// The fuzzer cannot guess a key, so "{KEY}" in the input is replaced by a
// valid server-wide admin key: seeds with "Authorization: Bearer {KEY}" let
// it reach every handler. Long-polls are disabled (wait > 0 is refused)
// so that no input waits.
#include <stdlib.h>

#include <boost/asio.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "galsync/directory.h"
#include "galsync/keys.h"
#include "galsync/search.h"
#include "galsync/sqlite_store.h"
#include "server/api.h"
#include "server/http_server.h"
#include "server/router.h"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace galsync;

struct Harness {
  std::string dir;
  std::unique_ptr<Directory> directory;
  std::unique_ptr<KeyRing> keys;
  std::unique_ptr<SearchService> search;
  std::unique_ptr<server::JsonApi> api;
  std::unique_ptr<server::Router> router;
  std::string admin_key;
  server::HttpLimits limits;

  Harness() {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") +
                       "/galsync-fuzz-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) abort();
    dir = tmpl;
    SqliteStoreOptions so;
    so.synchronous_full = false;
    auto store = OpenSqliteStore(dir + "/galsync.db", so);
    if (!store.ok()) abort();
    directory = std::make_unique<Directory>(std::move(store).value(),
                                            std::string(32, 's'),
                                            DirectoryOptions{});
    if (!directory->Open().ok()) abort();
    if (!directory->CreateDomain("example.com").ok()) abort();
    keys = std::make_unique<KeyRing>(directory->store());
    if (!keys->Load().ok()) abort();
    admin_key = keys->Create("", kAllScopes, "fuzz", "fuzz")->bearer;
    search = std::make_unique<SearchService>(*directory);
    if (!search->Start().ok()) abort();
    server::ApiLimits api_limits;
    api_limits.max_wait_seconds = 0;
    api = std::make_unique<server::JsonApi>(*directory, *keys, search.get(),
                                            api_limits);
    router = std::make_unique<server::Router>(api->Routes(), *keys);
  }
};

Harness& TheHarness() {
  static Harness* h = [] {
    auto* made = new Harness;  // lives for the process
    // The store's directory goes when the process exits normally.
    static std::string dir = made->dir;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    });
    return made;
  }();
  return *h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Harness& h = TheHarness();
  std::string bytes(reinterpret_cast<const char*>(data), size);
  for (size_t at; (at = bytes.find("{KEY}")) != std::string::npos;) {
    bytes.replace(at, 5, h.admin_key);
  }
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(h.limits.max_header_bytes));
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(asio::buffer(bytes), ec);
  if (ec || !parser.is_done()) return 0;
  asio::io_context ioc;
  server::Response res;
  asio::co_spawn(ioc, h.router->Dispatch(parser.get(), "127.0.0.1"),
                 [&](std::exception_ptr e, server::Response r) {
                   if (e) abort();  // Dispatch turns every error into a reply
                   res = std::move(r);
                 });
  ioc.run();
  if (res.status < 200 || res.status > 599) abort();
  return 0;
}
