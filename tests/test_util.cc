// Test helpers; see test_util.h.
#include "test_util.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "galsync/sqlite_store.h"
#include "pg_test_server.h"

namespace galsync::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// Starts `program` with `args`, its stdout (and stderr if asked) on a pipe
// whose read end is left in out[0].
pid_t Spawn(const std::string& program, std::vector<std::string> args,
            bool with_stderr, int out[2]) {
  if (pipe(out) != 0) std::abort();
  args.insert(args.begin(), program);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    if (with_stderr) dup2(out[1], STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> cargv;
    for (auto& a : args) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  close(out[1]);
  return pid;
}

pid_t SpawnGalsyncd(std::vector<std::string> args, bool with_stderr,
                    int out[2]) {
  return Spawn(GALSYNCD_PATH, std::move(args), with_stderr, out);
}

}  // namespace

RunResult RunProgram(const std::string& program,
                     const std::vector<std::string>& args) {
  int out[2];
  pid_t pid = Spawn(program, args, /*with_stderr=*/true, out);
  RunResult r;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) r.output.append(buf, n);
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

pid_t SpawnQuiet(const std::string& program,
                 const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    std::vector<std::string> all = args;
    all.insert(all.begin(), program);
    std::vector<char*> cargv;
    for (auto& a : all) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  return pid;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") +
                     "/galsync-test-XXXXXX";
  char* p = mkdtemp(tmpl.data());
  if (p == nullptr) std::abort();
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::unique_ptr<Directory> OpenDirectory(const TempDir& dir,
                                         const std::string& domain) {
  SqliteStoreOptions so;
  so.synchronous_full = false;
  auto store = OpenSqliteStore(dir.file("g.db"), so);
  if (!store.ok()) {
    ADD_FAILURE() << store.error().message;
    return nullptr;
  }
  auto d = std::make_unique<Directory>(std::move(store.value()),
                                       std::string(32, 's'), DirectoryOptions{});
  if (auto st = d->Open(); !st.ok()) {
    ADD_FAILURE() << st.error().message;
    return nullptr;
  }
  if (auto made = d->CreateDomain(domain); !made.ok()) {
    ADD_FAILURE() << made.error().message;
    return nullptr;
  }
  return d;
}

HeldRequest::HeldRequest(uint16_t port, const std::string& request) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  timeval patience{30, 0};  // a server that never answers fails the test
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(send(fd_, request.data(), request.size(), 0),
            static_cast<ssize_t>(request.size()));
  char c;
  while (!head_.ends_with("\r\n\r\n") && recv(fd_, &c, 1, 0) == 1) {
    head_.push_back(c);
  }
}

HeldRequest::~HeldRequest() { close(fd_); }

struct RoundRobinProxy::Impl {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor{ioc};
  std::vector<uint16_t> backends;
  size_t next = 0;
  std::thread thread;

  // Relays from `from` to `to` until `from` ends, then ends `to`'s sending.
  static void Pump(std::shared_ptr<boost::asio::ip::tcp::socket> from,
                   std::shared_ptr<boost::asio::ip::tcp::socket> to,
                   std::shared_ptr<std::array<char, 16384>> buf) {
    from->async_read_some(
        boost::asio::buffer(*buf),
        [from, to, buf](boost::system::error_code ec, size_t n) {
          if (ec) {
            boost::system::error_code ignored;
            to->shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
            return;
          }
          boost::asio::async_write(
              *to, boost::asio::buffer(buf->data(), n),
              [from, to, buf](boost::system::error_code ec, size_t) {
                if (ec) {
                  boost::system::error_code ignored;
                  from->close(ignored);
                  return;
                }
                Pump(from, to, buf);
              });
        });
  }

  void Accept() {
    acceptor.async_accept([this](boost::system::error_code ec,
                                 boost::asio::ip::tcp::socket client) {
      if (ec) return;
      auto c = std::make_shared<boost::asio::ip::tcp::socket>(std::move(client));
      auto b = std::make_shared<boost::asio::ip::tcp::socket>(ioc);
      const uint16_t to = backends[next++ % backends.size()];
      b->async_connect(
          {boost::asio::ip::address_v4::loopback(), to},
          [c, b](boost::system::error_code ec) {
            if (ec) return;  // the client sees its connection close
            Pump(c, b, std::make_shared<std::array<char, 16384>>());
            Pump(b, c, std::make_shared<std::array<char, 16384>>());
          });
      Accept();
    });
  }
};

RoundRobinProxy::RoundRobinProxy(std::vector<uint16_t> backends)
    : impl_(std::make_unique<Impl>()) {
  impl_->backends = std::move(backends);
  boost::asio::ip::tcp::endpoint at(boost::asio::ip::address_v4::loopback(), 0);
  impl_->acceptor.open(at.protocol());
  impl_->acceptor.bind(at);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

RoundRobinProxy::~RoundRobinProxy() {
  impl_->ioc.stop();
  impl_->thread.join();
}

// The PostgreSQL store of a data directory in a ServersUsePostgres() run:
// a schema of its own, named in the directory so that a restart on the
// same directory finds the same data.
std::string PgStoreOfDataDir(const std::string& data_dir) {
  const std::string file = data_dir + "/test-store-uri";
  std::string uri;
  if (std::ifstream in(file); in) std::getline(in, uri);
  if (uri.empty()) {
    uri = NewPgSchemaUri();
    std::filesystem::create_directories(data_dir);
    std::ofstream(file) << uri << "\n";
  }
  return uri;
}

ServerProcess::ServerProcess(const std::string& data_dir,
                             std::vector<std::string> args) {
  int out[2];
  std::vector<std::string> argv = {"--data-dir", data_dir, "--listen",
                                   "127.0.0.1:0"};
  if (ServersUsePostgres() &&
      std::find(args.begin(), args.end(), "--store") == args.end()) {
    argv.push_back("--store");
    argv.push_back(PgStoreOfDataDir(data_dir));
  }
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = SpawnGalsyncd(std::move(argv), /*with_stderr=*/false, out);
  // Read up to "galsyncd listening on http://127.0.0.1:PORT", keeping the
  // admin key a first start prints before it.
  static std::mutex mu;
  static std::map<std::string, std::string> admin_keys;  // by data dir
  constexpr std::string_view kKeyLine = "galsyncd admin key: ";
  std::string line;
  for (;;) {
    line.clear();
    char c;
    bool eof = true;
    while (read(out[0], &c, 1) == 1) {
      eof = false;
      if (c == '\n') break;
      line += c;
    }
    if (line.starts_with(kKeyLine)) {
      std::lock_guard lock(mu);
      admin_keys[data_dir] = line.substr(kKeyLine.size());
      continue;
    }
    if (eof || line.find("listening on") != std::string::npos) break;
  }
  close(out[0]);  // the server ignores SIGPIPE; later output is dropped
  {
    std::lock_guard lock(mu);
    admin_key_ = admin_keys[data_dir];
  }
  auto colon = line.rfind(':');
  if (line.find("listening on") == std::string::npos ||
      colon == std::string::npos) {
    ADD_FAILURE() << "galsyncd did not start: \"" << line << "\"";
    Kill(SIGKILL);
    return;
  }
  port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Kill(SIGTERM);
}

int ServerProcess::Kill(int sig) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

bool PageReplica::Apply(const std::string& page_body) {
  boost::json::value v = boost::json::parse(page_body);
  const boost::json::object& o = v.as_object();
  for (const auto& ch : o.at("changes").as_array()) {
    const boost::json::object& c = ch.as_object();
    int64_t seq = c.at("seq").as_int64();
    if (seq <= last_seq) ordered = false;
    last_seq = seq;
    std::string id(c.at("id").as_string());
    if (c.at("op").as_string() == "delete") {
      contacts.erase(id);
    } else {
      contacts[id] = boost::json::serialize(c.at("contact"));
    }
  }
  token = std::string(o.at("next_token").as_string());
  ++pages;
  return o.at("has_more").as_bool();
}

bool Eventually(const std::function<bool()>& probe) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return probe();
}

std::string ContactJson(const std::string& id, const std::string& given,
                        const std::string& family) {
  boost::json::object o{{"id", id},
                        {"name", {{"given", given}, {"family", family}}}};
  return boost::json::serialize(o);
}

bool SearchFinds(HttpClient& c, const std::string& domain_path,
                 const std::string& query, const std::string& id) {
  auto s = c.Get(domain_path + "/search?q=" + query);
  return s.status == 200 &&
         s.body.find("\"" + id + "\"") != std::string::npos;
}

bool SyncStep(HttpClient& c, PageReplica& r, const std::string& domain_path,
              int limit) {
  std::string t = domain_path + "/changes?limit=" + std::to_string(limit);
  if (!r.token.empty()) t += "&token=" + r.token;
  auto res = c.Get(t);
  EXPECT_EQ(res.status, 200) << res.body;
  return res.status == 200 && r.Apply(res.body);
}

std::map<std::string, std::string> ServerLiveSet(
    HttpClient& c, const std::string& domain_path) {
  PageReplica r;
  for (int guard = 0; guard < 100000; ++guard) {
    std::string t = domain_path + "/changes?limit=5000";
    if (!r.token.empty()) t += "&token=" + r.token;
    auto res = c.Get(t);
    EXPECT_EQ(res.status, 200) << res.body;
    if (res.status != 200 || !r.Apply(res.body)) break;
  }
  EXPECT_TRUE(r.ordered);
  return r.contacts;
}

RunResult RunGalsyncd(const std::vector<std::string>& args) {
  // On a data directory whose server used PostgreSQL (ServersUsePostgres),
  // galsyncd (e.g. `galsyncd keys`) uses that server's store too.
  auto dir = std::find(args.begin(), args.end(), "--data-dir");
  if (ServersUsePostgres() && dir != args.end() && dir + 1 != args.end() &&
      std::filesystem::exists(*(dir + 1) + "/test-store-uri")) {
    std::vector<std::string> with_store = args;
    with_store.push_back("--store");
    with_store.push_back(PgStoreOfDataDir(*(dir + 1)));
    return RunProgram(GALSYNCD_PATH, with_store);
  }
  return RunProgram(GALSYNCD_PATH, args);
}

boost::json::value HttpResult::json() const {
  boost::json::error_code ec;
  auto v = boost::json::parse(body, ec);
  return ec ? boost::json::value() : v;
}

std::string HttpResult::error_code() const {
  auto v = json();
  if (auto* o = v.if_object()) {
    if (auto* e = o->if_contains("error"); e && e->is_object()) {
      if (auto* c = e->get_object().if_contains("code"); c && c->is_string()) {
        return std::string(c->get_string());
      }
    }
  }
  return "";
}

struct HttpClient::Impl {
  uint16_t port;
  std::string key;
  asio::io_context ioc;
  std::unique_ptr<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void Connect() {
    stream = std::make_unique<beast::tcp_stream>(ioc);
    stream->connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    buffer.clear();
  }
};

HttpClient::HttpClient(uint16_t port, std::string key)
    : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->key = std::move(key);
}
HttpClient::~HttpClient() = default;

HttpResult HttpClient::Send(const std::string& method,
                            const std::string& target, const std::string& body,
                            std::map<std::string, std::string> headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (!impl_->stream) impl_->Connect();
      http::request<http::string_body> req{http::string_to_verb(method),
                                           target, 11};
      req.set(http::field::host, "127.0.0.1");
      if (!impl_->key.empty()) {
        req.set(http::field::authorization, "Bearer " + impl_->key);
      }
      for (auto& [k, v] : headers) {
        if (v.empty() && beast::iequals(k, "Authorization")) {
          req.erase(http::field::authorization);
        } else {
          req.set(k, v);
        }
      }
      if (!body.empty() || method == "PUT" || method == "POST") {
        if (!req.count(http::field::content_type)) {
          req.set(http::field::content_type, "application/json");
        }
        req.body() = body;
      }
      req.prepare_payload();
      impl_->stream->expires_after(std::chrono::seconds(150));
      // The server may answer (413, 431) and close before the whole request
      // is sent: keep going and read whatever answer it gave.
      boost::system::error_code wec;
      http::write(*impl_->stream, req, wec);
      http::response_parser<http::string_body> parser;
      parser.body_limit(1ull << 32);
      parser.skip(method == "HEAD");  // a HEAD response has no body
      http::read(*impl_->stream, impl_->buffer, parser);
      auto res = parser.release();
      HttpResult out;
      out.status = res.result_int();
      out.body = std::move(res.body());
      for (auto& f : res) {
        std::string name(f.name_string());
        for (auto& ch : name) ch = static_cast<char>(std::tolower(ch));
        out.headers[name] = std::string(f.value());
      }
      if (!res.keep_alive()) impl_->stream.reset();
      return out;
    } catch (const std::exception&) {
      impl_->stream.reset();  // stale keep-alive connection: retry once
      if (attempt == 1) throw;
    }
  }
  return {};
}

HttpResult HttpClient::Get(const std::string& t,
                           std::map<std::string, std::string> h) {
  return Send("GET", t, "", std::move(h));
}
HttpResult HttpClient::Put(const std::string& t, const std::string& b,
                           std::map<std::string, std::string> h) {
  return Send("PUT", t, b, std::move(h));
}
HttpResult HttpClient::Post(const std::string& t, const std::string& b,
                            std::map<std::string, std::string> h) {
  return Send("POST", t, b, std::move(h));
}
HttpResult HttpClient::Delete(const std::string& t,
                              std::map<std::string, std::string> h) {
  return Send("DELETE", t, "", std::move(h));
}

std::string HttpClient::SendRaw(const std::string& bytes) {
  asio::io_context ioc;
  asio::ip::tcp::socket s(ioc);
  s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                    impl_->port));
  boost::system::error_code ec;
  asio::write(s, asio::buffer(bytes), ec);
  s.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  std::string out;
  char buf[4096];
  for (;;) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

std::string CreateKey(HttpClient& admin, const std::string& domain,
                      const std::string& scopes, std::string* id) {
  auto res = admin.Post("/v1/keys", R"({"domain":")" + domain +
                                        R"(","scopes":)" + scopes +
                                        R"(,"name":"test"})");
  EXPECT_EQ(res.status, 201) << res.body;
  if (res.status != 201) return "";
  const boost::json::value v = res.json();
  if (id) *id = std::string(v.at("id").as_string());
  return std::string(v.at("key").as_string());
}

}  // namespace galsync::testing
