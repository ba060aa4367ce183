// Sync client benchmark against a running galsyncd (bench/client_bench.sh
// starts one with demo data). Workloads, in order:
//
//   full      a full sync into a fresh replica, end to end (HTTP, parse and
//             validate every contact, apply in one transaction per page):
//             seconds, bytes on the wire, contacts/s
//   noop      a sync of an up-to-date replica (one request, nothing to
//             apply): round trips, p50/p99
//   delta     --delta N contacts updated on the server (batches of 10,000),
//             then one sync: changes/s applied
//   search    offline search of the replica: ScanSearch (the CLI's scan) and
//             a ReplicaIndex (build time, then p50/p99 of each query)
//
//   client_bench --server URL --domain D --replica PATH --key KEY
//                [--limit N] [--delta N] [--noop N] [--search 0|1]
//
// KEY needs the read and write scopes of D (the delta workload writes).
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "galsync/replica.h"
#include "galsync/replica_search.h"
#include "galsync/sync_client.h"

namespace {

using namespace galsync;
using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

[[noreturn]] void Die(const std::string& what, const Error& e) {
  std::fprintf(stderr, "client_bench: %s: %s\n", what.c_str(),
               e.message.c_str());
  std::exit(1);
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

// POSTs `body` to the server (the bench's only write path).
int Post(const std::string& host, const std::string& port,
         const std::string& key,
         const std::string& target, const std::string& body) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(boost::asio::ip::tcp::resolver(ioc).resolve(host, port));
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, host);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::authorization, "Bearer " + key);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return res.result_int();
}

}  // namespace

int main(int argc, char** argv) {
  std::string server, domain, path, key;
  uint32_t limit = 1000;
  size_t delta = 100000, noop = 1000;
  bool search = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--server") server = v;
    else if (a == "--domain") domain = v;
    else if (a == "--replica") path = v;
    else if (a == "--key") key = v;
    else if (a == "--limit") limit = static_cast<uint32_t>(std::stoul(v));
    else if (a == "--delta") delta = std::stoul(v);
    else if (a == "--noop") noop = std::stoul(v);
    else if (a == "--search") search = v != "0";
  }
  if (server.empty() || domain.empty() || path.empty()) {
    std::fprintf(stderr,
                 "usage: client_bench --server URL --domain D --replica PATH "
                 "[--limit N] [--delta N] [--noop N]\n");
    return 2;
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  auto replica = Replica::Open(path);
  if (!replica.ok()) Die("open", replica.error());
  Replica& r = **replica;
  if (auto st = r.SetConfig({server, domain, key, ""}); !st.ok()) Die("config", st.error());
  auto made = SyncClient::Create(r);
  if (!made.ok()) Die("client", made.error());
  SyncClient& client = **made;
  SyncOptions options;
  options.page_limit = limit;

  // full
  auto full = client.SyncOnce(options);
  if (!full.ok()) Die("full sync", full.error());
  std::printf(
      "full sync: %llu contacts, %llu pages of <= %u, %.1f MiB on the wire "
      "(%.0f bytes/contact), %.2f s = %.0f contacts/s\n",
      static_cast<unsigned long long>(full->changes),
      static_cast<unsigned long long>(full->pages), limit,
      static_cast<double>(full->bytes) / (1 << 20),
      static_cast<double>(full->bytes) / static_cast<double>(full->changes),
      full->seconds, static_cast<double>(full->changes) / full->seconds);
  std::printf("replica file: %.1f MiB\n",
              static_cast<double>(std::filesystem::file_size(path)) / (1 << 20));

  // noop
  std::vector<double> us;
  for (size_t i = 0; i < noop; ++i) {
    auto t0 = SteadyClock::now();
    auto s = client.SyncOnce(options);
    if (!s.ok()) Die("no-change sync", s.error());
    us.push_back(Seconds(t0) * 1e6);
  }
  std::printf("no-change sync: %zu round trips, p50 %.0f us, p99 %.0f us\n",
              noop, Percentile(us, 0.5), Percentile(us, 0.99));

  // delta: rewrite the title of the first `delta` contacts of the replica.
  if (delta > 0) {
    auto url_host = server.substr(server.find("//") + 2);
    std::string host = url_host.substr(0, url_host.find(':'));
    std::string port = url_host.substr(url_host.find(':') + 1);
    std::vector<std::string> batch;
    size_t done = 0;
    auto flush = [&] {
      std::string body = "{\"changes\":[";
      for (size_t i = 0; i < batch.size(); ++i) {
        body += (i ? "," : "") + std::string("{\"op\":\"upsert\",\"contact\":") +
                batch[i] + "}";
      }
      body += "]}";
      int status = Post(host, port, key, "/v1/domains/" + domain + "/contacts:batch", body);
      if (status != 200) {
        std::fprintf(stderr, "client_bench: batch answered %d\n", status);
        std::exit(1);
      }
      batch.clear();
    };
    (void)r.ForEach([&](std::string_view, std::string_view json) {
      auto v = boost::json::parse(json).as_object();
      for (const char* k : {"domain", "seq", "updated", "version"}) v.erase(k);
      v["title"] = "Bench " + std::to_string(done);
      batch.push_back(boost::json::serialize(v));
      if (batch.size() == 10000) flush();
      return ++done < delta;
    });
    if (!batch.empty()) flush();
    auto d = client.SyncOnce(options);
    if (!d.ok()) Die("delta sync", d.error());
    std::printf("delta sync: %llu changes in %llu pages, %.2f s = %.0f changes/s\n",
                static_cast<unsigned long long>(d->changes),
                static_cast<unsigned long long>(d->pages), d->seconds,
                static_cast<double>(d->changes) / d->seconds);
  }

  if (!search) return 0;
  // search
  const char* queries[] = {"j", "jo sm", "maria.g", "smith", "zz"};
  for (const char* text : queries) {
    auto q = ParseQuery(text);
    auto t0 = SteadyClock::now();
    auto hits = ScanSearch(r, *q, 10);
    if (!hits.ok()) Die("scan", hits.error());
    std::printf("scan search \"%s\": %zu hits in %.3f s\n", text, hits->size(),
                Seconds(t0));
  }
  ReplicaIndex index;
  auto t0 = SteadyClock::now();
  if (auto st = index.Refresh(r); !st.ok()) Die("index", st.error());
  std::printf("replica index: %zu contacts built in %.2f s\n", index.size(),
              Seconds(t0));
  for (const char* text : queries) {
    auto q = ParseQuery(text);
    std::vector<double> lat;
    size_t n = 0;
    for (int i = 0; i < 2000; ++i) {
      auto s = SteadyClock::now();
      n = index.Search(*q, 10).size();
      lat.push_back(Seconds(s) * 1e6);
    }
    std::printf("index search \"%s\": %zu hits, p50 %.1f us, p99 %.1f us\n", text,
                n, Percentile(lat, 0.5), Percentile(lat, 0.99));
  }
  return 0;
}
