// galsyncd: the galsync server binary. Parses flags, opens the data
// directory (store + token secret + keys), optionally loads demo data, and
// serves the JSON API until SIGINT/SIGTERM. `galsyncd keys ...` manages API
// keys of a data directory while no server runs on it.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl/context.hpp>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "demo/demo_people.h"
#include "galsync/directory.h"
#include "galsync/keys.h"
#include "galsync/search.h"
#include "galsync/postgres_store.h"
#include "galsync/sqlite_store.h"
#include "server/api.h"
#include "server/http_server.h"
#include "util/crypto.h"
#include "util/flag_values.h"

namespace {

using namespace galsync;
namespace asio = boost::asio;
namespace fs = std::filesystem;

constexpr char kUsage[] = R"(usage: galsyncd [flags]
       galsyncd keys list|create|revoke ...   (galsyncd keys --help)

Serves a galsync directory over the JSON HTTP API (docs/api.md). Every
endpoint but /v1/health needs an API key (docs/security.md). On its first
start galsyncd creates a server-wide admin key and prints it once, as
"galsyncd admin key: gsk_...", or writes it to --admin-key-file.

Flags:
  --data-dir DIR         where the store (galsync.db) and the token secret
                         (token.key) live; created if missing; one galsyncd
                         at a time [default: ./galsync-data]
  --store SPEC           sqlite: the embedded store in --data-dir; or a
                         postgresql://USER@HOST:PORT/DB URI: the PostgreSQL
                         store (docs/scale-out.md), shared with other
                         galsyncd, token secret included [default: sqlite]
  --read-replica URI     with a PostgreSQL --store: a streaming replica of
                         it that serves change pages, full syncs, exports
                         and the search index's tailing; writes and the
                         rest go to --store (docs/scale-out.md)
  --replica-wait DUR     how long a page request waits for a replica behind
                         the reader's position; beyond, 503 replica_behind
                         with Retry-After [default: 5s]
  --listen HOST:PORT     address to serve on; port 0 picks a free port
                         [default: 127.0.0.1:8080]
  --tls-cert FILE        serve HTTPS with this PEM certificate chain ...
  --tls-key FILE         ... and this PEM private key (both or neither)
  --allow-plain-http     serve plain HTTP on an address other than loopback
                         (refused otherwise: keys would cross the network in
                         clear; use TLS, or a TLS-terminating proxy)
  --threads N            network threads [default: number of cores]
  --durability MODE      full: fsync every commit (survives power loss);
                         normal: survives kill -9 but maybe not power loss
                         (on PostgreSQL: synchronous_commit off for
                         galsyncd's sessions) [default: full]
  --retention DURATION   keep tombstones and audit history this long, e.g.
                         30d, 12h, 90m, 3600s [default: 30d]
  --purge-interval DUR   how often the purge job runs [default: 1h]
  --page-max N           most changes in one sync page [default: 5000]
  --page-bytes N         byte budget of one sync page [default: 4194304]
  --max-connections N    concurrent connections [default: 10000]
  --max-connections-per-client N
                         concurrent connections from one client address
                         [default: 1000]
  --max-exports N        exports streaming at once (each holds a read
                         snapshot); beyond, 503 with Retry-After [default: 2]
  --max-imports N        imports running at once (each uses a thread per
                         core); beyond, 503 with Retry-After [default: 2]
  --key-rate N           requests per second per API key, in bursts of up
                         to 2N; beyond, 429 with Retry-After [default: 0,
                         no limit: keys are often shared by many clients]
  --idle-timeout DUR     close a connection whose next request's headers
                         have not all arrived within DUR [default: 75s]
  --read-timeout DUR     ... or whose body has not arrived within DUR once
                         its headers are in [default: 30s]
  --admin-key-file FILE  on first start, write the server admin key to FILE
                         (mode 0600) instead of printing it
  --new-incarnation      give the store a new incarnation id, invalidating
                         every sync token (do this after restoring a backup)
  --demo N               create the domain "demo.example" (or --demo-domain)
                         with N generated people, if it is empty, and print a
                         fresh read+write key for it (replacing the last one)
  --demo-domain NAME     domain for --demo [default: demo.example]
  --help                 print this help and exit
  --version              print the version and exit

On start galsyncd prints "galsyncd listening on http(s)://HOST:PORT" on stdout.
Exit status: 0 after a clean shutdown, 1 on a startup error, 2 on bad flags.
)";

struct Flags {
  std::string data_dir = "galsync-data";
  std::string store = "sqlite";
  std::string read_replica;
  int64_t replica_wait_us = int64_t{5} * 1000000;
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  bool durability_full = true;
  int64_t retention_us = int64_t{30} * 86400 * 1000000;
  int64_t purge_interval_us = int64_t{3600} * 1000000;
  size_t page_max = 5000;
  size_t page_bytes = 4 << 20;
  size_t max_connections = 10000;
  size_t max_connections_per_client = 1000;
  size_t key_rate = 0;
  size_t max_exports = 2;
  size_t max_imports = 2;
  int64_t idle_timeout_us = int64_t{75} * 1000000;
  int64_t read_timeout_us = int64_t{30} * 1000000;
  bool new_incarnation = false;
  std::string admin_key_file;
  std::string tls_cert, tls_key;
  bool allow_plain_http = false;
  size_t demo = 0;
  std::string demo_domain = "demo.example";
};

[[noreturn]] void BadFlag(const std::string& msg) {
  std::cerr << "galsyncd: " << msg << "\n(see galsyncd --help)\n";
  std::exit(2);
}

uint64_t Count(const std::string& flag, const std::string& v, uint64_t min,
               uint64_t max) {
  auto n = ParseCount(flag, v, min, max);
  if (!n.ok()) BadFlag(n.error().message);
  return *n;
}

// In µs. At most 100 years, so that every duration fits the clocks' types.
int64_t Duration(const std::string& flag, const std::string& v) {
  auto s = ParseDurationSeconds(flag, v, 0, uint64_t{100} * 365 * 86400);
  if (!s.ok()) BadFlag(s.error().message);
  return static_cast<int64_t>(*s) * 1000000;
}

// The arguments with every "--flag=value" split into "--flag", "value".
std::vector<std::string> SplitArgs(char** begin, char** end) {
  std::vector<std::string> out;
  for (char** p = begin; p != end; ++p) {
    std::string a = *p;
    if (auto eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
      out.push_back(a.substr(0, eq));
      out.push_back(a.substr(eq + 1));
    } else {
      out.push_back(std::move(a));
    }
  }
  return out;
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  const std::vector<std::string> args = SplitArgs(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= args.size()) BadFlag(a + " needs a value");
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--version") {
      std::cout << "galsyncd 0.1.0\n";
      std::exit(0);
    } else if (a == "--data-dir") {
      f.data_dir = next();
    } else if (a == "--store") {
      f.store = next();
      if (f.store != "sqlite" && !IsPostgresUri(f.store)) {
        BadFlag("--store wants sqlite or a postgresql:// URI");
      }
    } else if (a == "--read-replica") {
      f.read_replica = next();
      if (!IsPostgresUri(f.read_replica)) {
        BadFlag("--read-replica wants a postgresql:// URI");
      }
    } else if (a == "--replica-wait") {
      f.replica_wait_us = Duration(a, next());
    } else if (a == "--listen") {
      std::string v = next();
      auto colon = v.rfind(':');
      if (colon == std::string::npos) BadFlag("--listen wants HOST:PORT");
      f.host = v.substr(0, colon);
      if (f.host.size() > 2 && f.host.front() == '[') {
        f.host = f.host.substr(1, f.host.size() - 2);
      }
      f.port = static_cast<uint16_t>(
          Count("--listen port", v.substr(colon + 1), 0, 65535));
    } else if (a == "--threads") {
      f.threads = static_cast<unsigned>(Count(a, next(), 1, 256));
    } else if (a == "--durability") {
      std::string v = next();
      if (v != "full" && v != "normal") {
        BadFlag("--durability wants full or normal");
      }
      f.durability_full = v == "full";
    } else if (a == "--retention") {
      f.retention_us = Duration(a, next());
    } else if (a == "--purge-interval") {
      f.purge_interval_us = Duration(a, next());
      if (f.purge_interval_us == 0) BadFlag("--purge-interval must be > 0");
    } else if (a == "--page-max") {
      f.page_max = Count(a, next(), 1, 100000);
    } else if (a == "--page-bytes") {
      f.page_bytes = Count(a, next(), 4096, 256 << 20);
    } else if (a == "--max-connections") {
      f.max_connections = Count(a, next(), 1, 1000000);
    } else if (a == "--max-connections-per-client") {
      f.max_connections_per_client = Count(a, next(), 1, 1000000);
    } else if (a == "--max-exports") {
      f.max_exports = Count(a, next(), 1, 1000);
    } else if (a == "--max-imports") {
      f.max_imports = Count(a, next(), 1, 1000);
    } else if (a == "--key-rate") {
      f.key_rate = Count(a, next(), 0, 10000000);
    } else if (a == "--idle-timeout" || a == "--read-timeout") {
      int64_t& t = a == "--idle-timeout" ? f.idle_timeout_us : f.read_timeout_us;
      t = Duration(a, next());
      if (t < 1000000) BadFlag(a + " must be at least 1s");
    } else if (a == "--tls-cert") {
      f.tls_cert = next();
    } else if (a == "--tls-key") {
      f.tls_key = next();
    } else if (a == "--allow-plain-http") {
      f.allow_plain_http = true;
    } else if (a == "--admin-key-file") {
      f.admin_key_file = next();
    } else if (a == "--new-incarnation") {
      f.new_incarnation = true;
    } else if (a == "--demo") {
      f.demo = Count(a, next(), 0, 100000000);
    } else if (a == "--demo-domain") {
      f.demo_domain = next();
      if (!IsValidDomainName(f.demo_domain)) {
        BadFlag("--demo-domain: not a valid domain name");
      }
    } else {
      BadFlag("unknown flag \"" + a + "\"");
    }
  }
  if (!f.read_replica.empty() && !IsPostgresUri(f.store)) {
    BadFlag("--read-replica needs a PostgreSQL --store (the replica's primary)");
  }
  if (f.tls_cert.empty() != f.tls_key.empty()) {
    BadFlag("--tls-cert and --tls-key go together");
  }
  if (f.tls_cert.empty() && !f.allow_plain_http) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(f.host, ec);
    if (!ec && !addr.is_loopback()) {
      BadFlag("refusing plain HTTP on " + f.host +
              ", which is not a loopback address: API keys would cross the "
              "network in clear. Give --tls-cert and --tls-key, or "
              "--allow-plain-http behind a TLS-terminating proxy");
    }
  }
  return f;
}

// Takes an exclusive lock on DIR/lock for the life of the process: two
// servers on one store would each trust their own in-memory view of it.
Status LockDataDir(const fs::path& dir) {
  fs::path path = dir / "lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Internal("cannot open " + path.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Error{ErrorKind::kConflict, "data_dir_locked",
                 "another galsyncd is using " + dir.string() +
                     " (only one server may use a data directory)"};
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::write(fd, pid.data(), pid.size());
  return Ok{};  // the descriptor stays open: the lock lasts until exit
}

// Writes `text` to a new file at `path` with mode 0600: to a temporary
// file, fsynced, renamed, and the directory fsynced, so that after a crash
// the file is either whole or absent.
Status WritePrivateFile(const fs::path& path, std::string_view text) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Internal("cannot create " + tmp.string());
  bool ok = ::write(fd, text.data(), text.size()) ==
                static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (ok) fs::rename(tmp, path, ec);
  if (!ok || ec) return Error::Internal("cannot write " + path.string());
  fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Ok{};
}

// Reads the token secret, creating it (mode 0600) on first start.
Result<std::string> LoadSecret(const fs::path& path) {
  std::string secret;
  if (std::ifstream in(path, std::ios::binary); in) {
    secret.assign(std::istreambuf_iterator<char>(in), {});
    if (secret.size() < TokenCodec::kSecretBytes) {
      return Error::Internal(path.string() + " is shorter than " +
                             std::to_string(TokenCodec::kSecretBytes) +
                             " bytes; remove it to make a new secret (this "
                             "invalidates every sync token)");
    }
    return secret;
  }
  secret.resize(TokenCodec::kSecretBytes);
  crypto::RandomBytes(secret.data(), secret.size());
  if (auto st = WritePrivateFile(path, secret); !st) return std::move(st).error();
  return secret;
}

// Creates the data directory if needed, locks it and opens the store:
// `store_spec` "sqlite" is the embedded store in the directory; a
// postgresql:// URI, the PostgreSQL store.
Result<std::unique_ptr<Store>> OpenDataDir(const std::string& data_dir,
                                           const std::string& store_spec,
                                           const SqliteStoreOptions& so,
                                           const std::string& read_replica = "") {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) {
    return Error::Internal("cannot create data dir " + data_dir + ": " +
                           ec.message());
  }
  if (auto st = LockDataDir(data_dir); !st) return std::move(st).error();
  auto store =
      IsPostgresUri(store_spec)
          ? OpenPostgresStore(store_spec,
                              {.new_incarnation = so.new_incarnation,
                               .synchronous_commit = so.synchronous_full,
                               .read_replica = read_replica})
          : OpenSqliteStore((fs::path(data_dir) / "galsync.db").string(), so);
  if (!store) {
    return Error::Internal("cannot open store: " + store.error().message);
  }
  return std::move(store).value();
}

// On the first start (no live key at all) makes the server-wide admin key
// and shows it once: on stdout, or in `key_file`.
Status CreateFirstAdminKey(KeyRing& keys, const std::string& key_file) {
  if (keys.LiveCount() > 0) return Ok{};
  auto k = keys.Create("", kAllScopes, "server admin (first start)", "galsyncd");
  if (!k) return std::move(k).error();
  if (!key_file.empty()) {
    if (auto st = WritePrivateFile(key_file, k->bearer + "\n"); !st) {
      (void)keys.Revoke(k->key.id, std::nullopt);  // minted again next start
      return st;
    }
    std::fprintf(stderr, "galsyncd: wrote the server admin key to %s\n",
                 key_file.c_str());
    return Ok{};
  }
  std::fprintf(stderr,
               "galsyncd: created the server admin key; it is shown only this "
               "once, keep it safe (docs/security.md):\n");
  std::printf("galsyncd admin key: %s\n", k->bearer.c_str());
  std::fflush(stdout);
  return Ok{};
}

constexpr std::string_view kDemoKeyName = "demo";

// A new read+write key for the demo domain; the previous one is revoked.
Result<std::string> FreshDemoKey(KeyRing& keys, const std::string& domain) {
  for (const StoredKey& k : keys.List(domain)) {
    if (k.name == kDemoKeyName && k.revoked_us == 0) {
      if (auto r = keys.Revoke(k.id, domain); !r) return std::move(r).error();
    }
  }
  auto k = keys.Create(domain, kScopeRead | kScopeWrite, kDemoKeyName,
                       "galsyncd --demo");
  if (!k) return std::move(k).error();
  return k->bearer;
}

Status LoadDemo(Directory& dir, const std::string& domain, size_t n) {
  auto d = dir.GetDomain(domain);
  if (!d) {
    auto created = dir.CreateDomain(domain);
    if (!created) return std::move(created).error();
    d = std::move(created);
  }
  if (d->live_count > 0 || d->last_seq > 0) return Ok{};
  auto start = std::chrono::steady_clock::now();
  std::vector<ChangeRequest> batch;
  const size_t kBatch = dir.options().max_batch_changes;
  for (size_t i = 0; i < n; ++i) {
    Contact c = demo::GeneratePerson(i, 42, domain);
    batch.push_back({.id = c.id, .content_json = CanonicalContentJson(c)});
    if (batch.size() == kBatch || i + 1 == n) {
      auto w = dir.Write(domain, batch, "demo");
      if (!w) return std::move(w).error();
      batch.clear();
    }
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                           start).count();
  std::fprintf(stderr, "galsyncd: loaded %zu demo people into %s in %.2f s\n",
               n, domain.c_str(), s);
  return Ok{};
}

void RaiseFdLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

void PrintDemoHelp(const std::string& base, const std::string& domain,
                   const std::string& key) {
  const std::string d = base + "/v1/domains/" + domain;
  const char* token_of =
      "sed -n 's/.*\"next_token\":\"\\([^\"]*\\)\".*/\\1/p'";
  std::printf(
      "\nTry it (copy and paste into a shell):\n\n"
      "  # A read+write key of the demo domain (a new one at every start).\n"
      "  D=%s\n"
      "  K=%s\n"
      "  c() { curl -s -H \"Authorization: Bearer $K\" \"$@\"; echo; }\n\n"
      "  # A first sync is a full download, in pages: here 2 contacts a page.\n"
      "  c \"$D/changes?limit=2\"\n\n"
      "  # Page through it all, as a client does, keeping the last token.\n"
      "  T=; while :; do P=$(c \"$D/changes?limit=5000${T:+&token=$T}\");"
      " T=$(echo \"$P\" | %s);\n"
      "    echo \"$P\" | grep -q '\"has_more\":true' || break; done; echo \"$T\"\n\n"
      "  # A write.\n"
      "  c -X PUT \"$D/contacts/ada\" -d '{\"name\":{\"given\":\"Ada\","
      "\"family\":\"Lovelace\"},\"emails\":[{\"address\":\"ada@%s\"}]}'\n\n"
      "  # A delta sync: only what changed since the token (Ada).\n"
      "  P=$(c \"$D/changes?token=$T\"); echo \"$P\"; T=$(echo \"$P\" | %s)\n\n"
      "  # Typeahead search: every term a prefix of a different word.\n"
      "  c \"$D/search?q=jo+sm\"\n\n"
      "  # The whole domain as one file: vCard, CSV, LDIF or JSON lines.\n"
      "  c \"$D/export?format=vcard\" | head -12\n\n"
      "  # Without the key: 401.\n"
      "  curl -si \"$D/search?q=jo+sm\" | head -1\n\n"
      "  # Now up to date, a long-poll waits until the next change commits (or\n"
      "  # 30 s): run it, then repeat the write above with another name from a\n"
      "  # second shell.\n"
      "  c \"$D/changes?token=$T&wait=30\"\n\n"
      "  # Or keep a local replica with the sync client, galsync (built next\n"
      "  # to galsyncd; docs/client.md), and search it offline:\n"
      "  G=\"build/release/galsync --replica galsync-demo-replica.db\"\n"
      "  $G init --server %s --domain %s --key $K && $G sync && $G search jo sm\n"
      "  $G sync --follow     # applies each change as it commits; Ctrl-C stops\n\n",
      d.c_str(), key.c_str(), token_of, domain.c_str(), token_of, base.c_str(),
      domain.c_str());
  std::fflush(stdout);
}

// Runs Directory::PurgeAll every `interval_us` on its own thread, so a long
// purge never holds up the network threads. Stops when destroyed.
class PurgeJob {
 public:
  PurgeJob(Directory& dir, int64_t interval_us)
      : thread_([this, &dir, interval_us] {
          std::unique_lock lock(mu_);
          while (!cv_.wait_for(lock, std::chrono::microseconds(interval_us),
                               [this] { return done_; })) {
            lock.unlock();
            if (auto st = dir.PurgeAll(); !st) {
              std::fprintf(stderr, "galsyncd: purge failed: %s\n",
                           st.error().message.c_str());
            }
            lock.lock();
          }
        }) {}
  ~PurgeJob() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;  // last: starts after the members above exist
};

// Hands a shared store's events to the directory and the key ring, from
// Start until it is destroyed (before either of them).
class StoreFollower {
 public:
  StoreFollower(Directory& dir, KeyRing& keys) : dir_(dir), keys_(keys) {}
  ~StoreFollower() { dir_.store().Unfollow(); }

  Status Start() {
    return dir_.store().Follow([this](const StoreEvent& e) {
      dir_.OnStoreEvent(e);
      if (e.kind == StoreEvent::Kind::kKeys ||
          e.kind == StoreEvent::Kind::kResync) {
        if (auto st = keys_.Load(); !st) {
          std::fprintf(stderr, "galsyncd: reloading keys: %s\n",
                       st.error().message.c_str());
        }
      }
    });
  }

 private:
  Directory& dir_;
  KeyRing& keys_;
};

int Run(const Flags& f) {
  // TLS files first: a typo there should not wait for a demo load.
  std::unique_ptr<asio::ssl::context> tls;
  if (!f.tls_cert.empty()) {
    auto ctx = server::MakeServerTlsContext(f.tls_cert, f.tls_key);
    if (!ctx) {
      std::cerr << "galsyncd: " << ctx.error().message << "\n";
      return 1;
    }
    tls = std::move(ctx).value();
  }
  SqliteStoreOptions so;
  so.synchronous_full = f.durability_full;
  so.new_incarnation = f.new_incarnation;
  auto store = OpenDataDir(f.data_dir, f.store, so, f.read_replica);
  if (!store) {
    std::cerr << "galsyncd: " << store.error().message << "\n";
    return 1;
  }
  // Servers sharing a store must share the secret too, so that a token
  // issued by one is accepted by the others: it is kept in the store.
  auto secret =
      (*store)->shared()
          ? (*store)->SharedSecret("token", TokenCodec::kSecretBytes)
          : LoadSecret(fs::path(f.data_dir) / "token.key");
  if (!secret) {
    std::cerr << "galsyncd: " << secret.error().message << "\n";
    return 1;
  }
  DirectoryOptions dopts;
  dopts.max_page_changes = f.page_max;
  dopts.default_page_changes = std::min(dopts.default_page_changes, f.page_max);
  dopts.max_page_bytes = f.page_bytes;
  dopts.retention_us = f.retention_us;
  Directory dir(std::move(store.value()), std::move(secret.value()), dopts);
  if (auto st = dir.Open(); !st) {
    std::cerr << "galsyncd: " << st.error().message << "\n";
    return 1;
  }
  KeyRing keys(dir.store());
  if (auto st = keys.Load(); !st) {
    std::cerr << "galsyncd: keys: " << st.error().message << "\n";
    return 1;
  }
  if (auto st = CreateFirstAdminKey(keys, f.admin_key_file); !st) {
    std::cerr << "galsyncd: " << st.error().message << "\n";
    return 1;
  }
  std::string demo_key;
  if (f.demo > 0) {
    if (auto st = LoadDemo(dir, f.demo_domain, f.demo); !st) {
      std::cerr << "galsyncd: demo: " << st.error().message << "\n";
      return 1;
    }
    auto k = FreshDemoKey(keys, f.demo_domain);
    if (!k) {
      std::cerr << "galsyncd: demo key: " << k.error().message << "\n";
      return 1;
    }
    demo_key = std::move(k).value();
  }

  RaiseFdLimit();
  // Destruction order matters: the io_context goes first (below), while
  // the server, router and API its pending sessions refer to still exist.
  auto start = std::chrono::steady_clock::now();
  SearchService search(dir);
  if (auto st = search.Start(); !st) {
    std::cerr << "galsyncd: search index: " << st.error().message << "\n";
    return 1;
  }
  std::fprintf(stderr, "galsyncd: search index built in %.2f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             start).count());
  auto ioc = std::make_unique<asio::io_context>(static_cast<int>(f.threads));
  server::ApiLimits api_limits;
  api_limits.max_exports = static_cast<int>(f.max_exports);
  api_limits.max_imports = static_cast<int>(f.max_imports);
  api_limits.replica_wait = std::chrono::microseconds(f.replica_wait_us);
  server::JsonApi api(dir, keys, &search, api_limits);
  server::RouterLimits router_limits;
  router_limits.key_rate = static_cast<double>(f.key_rate);
  server::Router router(api.Routes(), keys, router_limits);
  // On a shared store, what the other servers write reaches this one's
  // sync engine, long-polls and search index, and their keys its key ring.
  StoreFollower follower(dir, keys);
  if (auto st = follower.Start(); !st) {
    std::cerr << "galsyncd: " << st.error().message << "\n";
    return 1;
  }
  server::HttpLimits limits;
  limits.max_connections = f.max_connections;
  limits.max_connections_per_client = f.max_connections_per_client;
  limits.idle_timeout = std::chrono::seconds(f.idle_timeout_us / 1000000);
  limits.read_timeout = std::chrono::seconds(f.read_timeout_us / 1000000);
  server::HttpServer http(*ioc, router, limits, tls.get());
  if (auto st = http.Listen(f.host, f.port); !st) {
    std::cerr << "galsyncd: " << st.error().message << "\n";
    return 1;
  }
  std::string host = f.host.find(':') != std::string::npos
                         ? "[" + f.host + "]"
                         : f.host;
  std::string base = (tls ? "https://" : "http://") + host + ":" +
                     std::to_string(http.port());
  std::printf("galsyncd listening on %s\n", base.c_str());
  std::fflush(stdout);
  if (f.demo > 0) PrintDemoHelp(base, f.demo_domain, demo_key);

  {
    PurgeJob purge(dir, f.purge_interval_us);
    asio::signal_set signals(*ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& e, int sig) {
      if (e) return;
      std::fprintf(stderr, "galsyncd: signal %d, shutting down\n", sig);
      http.Stop([&] { api.WakeAll(); });
    });
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < f.threads; ++i) {
      threads.emplace_back([&] { ioc->run(); });
    }
    ioc->run();
    for (auto& t : threads) t.join();
  }
  api.Shutdown();  // no write is left running
  ioc.reset();     // destroys idle sessions
  std::fprintf(stderr, "galsyncd: stopped\n");
  return 0;
}

constexpr char kKeysUsage[] = R"(usage: galsyncd keys list   [--data-dir DIR] [--domain D]
       galsyncd keys create [--data-dir DIR] (--domain D | --server-wide)
                            --scopes SCOPES [--name TEXT]
       galsyncd keys revoke [--data-dir DIR] ID

Manages the API keys of a data directory while no galsyncd runs on it; a
running server manages them through its API (docs/security.md). SCOPES is a
comma-separated list of read, write and admin. `create` prints the new key
once, on stdout; only its hash is stored. `revoke` takes effect at the
server's next start. With the PostgreSQL store, give the server's --store
URI as --store too.

Exit status: 0 on success, 1 on an error, 2 on bad flags.
)";

[[noreturn]] void BadKeysFlag(const std::string& msg) {
  std::cerr << "galsyncd keys: " << msg << "\n(see galsyncd keys --help)\n";
  std::exit(2);
}

int KeysMain(const std::vector<std::string>& args) {
  std::string command, data_dir = "galsync-data", domain, name, scopes_text;
  std::string store_spec = "sqlite";
  std::vector<std::string> positional;
  bool server_wide = false, has_domain = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= args.size()) BadKeysFlag(a + " needs a value");
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << kKeysUsage;
      return 0;
    } else if (a == "--data-dir") {
      data_dir = next();
    } else if (a == "--store") {
      store_spec = next();
      if (store_spec != "sqlite" && !IsPostgresUri(store_spec)) {
        BadKeysFlag("--store wants sqlite or a postgresql:// URI");
      }
    } else if (a == "--domain") {
      domain = next();
      has_domain = true;
    } else if (a == "--server-wide") {
      server_wide = true;
    } else if (a == "--scopes") {
      scopes_text = next();
    } else if (a == "--name") {
      name = next();
    } else if (a.starts_with("-")) {
      BadKeysFlag("unknown flag \"" + a + "\"");
    } else if (command.empty()) {
      command = a;
    } else {
      positional.push_back(a);
    }
  }
  if (command != "list" && command != "create" && command != "revoke") {
    BadKeysFlag(command.empty() ? "give a command: list, create or revoke"
                                : "unknown command \"" + command + "\"");
  }
  if (command == "revoke" ? positional.size() != 1 : !positional.empty()) {
    BadKeysFlag(command == "revoke" ? "revoke takes one key id"
                                    : command + " takes no arguments");
  }
  uint32_t scopes = 0;
  if (command == "create") {
    if (has_domain == server_wide) {
      BadKeysFlag("create needs --domain D or --server-wide (one of them)");
    }
    auto s = ParseScopes(scopes_text);
    if (!s) BadKeysFlag("--scopes: " + s.error().message);
    scopes = *s;
  }
  auto store = OpenDataDir(data_dir, store_spec, SqliteStoreOptions{});
  if (!store) {
    std::cerr << "galsyncd keys: " << store.error().message << "\n";
    return 1;
  }
  KeyRing keys(**store);
  if (auto st = keys.Load(); !st) {
    std::cerr << "galsyncd keys: " << st.error().message << "\n";
    return 1;
  }
  if (command == "create") {
    auto k = keys.Create(domain, scopes, name, "galsyncd keys create");
    if (!k) {
      std::cerr << "galsyncd keys: " << k.error().message << "\n";
      return 1;
    }
    std::printf("%s\n", k->bearer.c_str());
    return 0;
  }
  if (command == "revoke") {
    auto k = keys.Revoke(positional[0], std::nullopt);
    if (!k) {
      std::cerr << "galsyncd keys: " << k.error().message << "\n";
      return 1;
    }
    std::printf("revoked %s\n", k->id.c_str());
    return 0;
  }
  std::optional<std::string_view> filter;
  if (has_domain) filter = domain;
  std::printf("%-16s  %-20s  %-16s  %-20s  %s\n", "ID", "DOMAIN", "SCOPES",
              "REVOKED", "NAME");
  for (const StoredKey& k : keys.List(filter)) {
    std::string revoked = k.revoked_us ? FormatTime(k.revoked_us).substr(0, 19)
                                       : "-";
    std::printf("%-16s  %-20s  %-16s  %-20s  %s\n", k.id.c_str(),
                k.domain.empty() ? "*" : k.domain.c_str(),
                ScopesToString(k.scopes).c_str(), revoked.c_str(),
                k.name.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc >= 2 && std::string_view(argv[1]) == "keys") {
    return KeysMain(SplitArgs(argv + 2, argv + argc));
  }
  return Run(ParseFlags(argc, argv));
}
