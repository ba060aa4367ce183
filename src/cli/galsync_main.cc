// galsync: the command-line sync client. Keeps a local replica of one
// domain of a galsync server and searches and exports it offline. Each
// command is a short function over the client library (galsync/replica.h,
// galsync/sync_client.h, galsync/replica_search.h, galsync/export.h).
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "galsync/clock.h"
#include "galsync/contact.h"
#include <boost/json.hpp>

#include "client/http_connection.h"
#include "galsync/export.h"
#include "galsync/import.h"
#include "galsync/replica.h"
#include "galsync/replica_search.h"
#include "galsync/sync_client.h"
#include "util/flag_values.h"

namespace galsync {
namespace {

// Exit codes (documented in `galsync help` and docs/client.md).
constexpr int kExitOk = 0;
constexpr int kExitNothingFound = 1;  // search without match, show unknown id
constexpr int kExitUsage = 2;
constexpr int kExitReplica = 3;       // replica missing, corrupt, not set up
constexpr int kExitUnavailable = 4;   // server unreachable, timeout, 5xx, 429
constexpr int kExitRejected = 5;      // server refused, or sent garbage
constexpr int kExitIncomplete = 6;    // import done, some records rejected
constexpr int kExitInterrupted = 130;

constexpr const char* kVersion = "galsync 0.1.0";

constexpr const char* kGeneralHelp = R"(galsync: keep a local copy of a galsync directory and search it offline

Usage: galsync [--replica PATH] COMMAND [OPTIONS]

Commands:
  init      configure the replica: server URL, domain, key
  sync      bring the replica up to date (once, periodically, or following)
  search    search the replica: galsync search jo sm
  show      print one contact
  status    replica and server position, last sync, counts
  export    write the replica as vCard, CSV or JSON lines
  admin     server administration: galsync admin import FILE ...
  help      help on a command: galsync help sync

Global options:
  --replica PATH   the replica file (default: $GALSYNC_REPLICA, else
                   $XDG_DATA_HOME/galsync/replica.db, else
                   ~/.local/share/galsync/replica.db)
  --version, --help

Exit codes:
  0    success
  1    nothing found (search without a match, show of an unknown id)
  2    usage error
  3    the replica cannot be used (missing, corrupt, not initialized)
  4    the server is unreachable or busy (timeout, 5xx, 429): try later
  5    the server refused the request or sent an invalid answer
  6    admin import finished, but some records were rejected
  130  interrupted (SIGINT/SIGTERM during a one-off sync)
)";

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // --name -> value ("" for switches)
};

[[noreturn]] void Usage(const std::string& message) {
  std::fprintf(stderr, "galsync: %s (see galsync help)\n", message.c_str());
  std::exit(kExitUsage);
}

// Parses `--name value`, `--name=value` and switches. `with_value` lists
// the flags that take a value; every other flag is a switch.
Args ParseArgs(const std::vector<std::string>& argv,
               const std::vector<std::string>& with_value,
               const std::vector<std::string>& switches) {
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& s = argv[i];
    if (s == "--") {
      for (++i; i < argv.size(); ++i) a.positional.push_back(argv[i]);
      break;
    }
    if (!s.starts_with("--")) {
      a.positional.push_back(s);
      continue;
    }
    std::string name = s.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    bool takes = std::find(with_value.begin(), with_value.end(), name) !=
                 with_value.end();
    bool is_switch = std::find(switches.begin(), switches.end(), name) !=
                     switches.end();
    if (!takes && !is_switch) Usage("unknown option --" + name);
    if (is_switch && inline_value) Usage("--" + name + " takes no value");
    if (takes && !inline_value) {
      if (i + 1 >= argv.size()) Usage("--" + name + " needs a value");
      value = argv[++i];
    }
    a.flags[name] = value;
  }
  return a;
}

uint64_t ParseNumber(const std::string& flag, const std::string& text,
                     uint64_t lo, uint64_t hi) {
  auto n = ParseCount("--" + flag, text, lo, hi);
  if (!n.ok()) Usage(n.error().message);
  return *n;
}

// "90", "90s", "5m", "2h", "1d": at least a second, at most a year.
std::chrono::seconds ParseDuration(const std::string& flag,
                                   const std::string& text) {
  auto s = ParseDurationSeconds("--" + flag, text, 1, 366 * 86400);
  if (!s.ok()) Usage(s.error().message);
  return std::chrono::seconds(*s);
}

std::string DefaultReplicaPath() {
  if (const char* p = std::getenv("GALSYNC_REPLICA"); p && *p) return p;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) {
    return std::string(x) + "/galsync/replica.db";
  }
  if (const char* h = std::getenv("HOME"); h && *h) {
    return std::string(h) + "/.local/share/galsync/replica.db";
  }
  return "galsync-replica.db";
}

int ExitCodeFor(const Error& e) {
  if (e.reason == "replica_corrupt" || e.reason == "replica_too_new" ||
      e.reason == "not_configured") {
    return kExitReplica;
  }
  if (e.reason == "cancelled") return kExitInterrupted;
  if (e.kind == ErrorKind::kUnavailable || e.kind == ErrorKind::kRateLimited ||
      e.kind == ErrorKind::kConflict) {
    return kExitUnavailable;
  }
  return kExitRejected;
}

int Fail(const Error& e) {
  std::fprintf(stderr, "galsync: %s\n", e.message.c_str());
  return ExitCodeFor(e);
}

// Opens an existing replica (commands other than init never create one).
std::unique_ptr<Replica> OpenReplica(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    std::fprintf(stderr,
                 "galsync: no replica at %s; create one with `galsync init "
                 "--server URL --domain DOMAIN`\n",
                 path.c_str());
    std::exit(kExitReplica);
  }
  auto r = Replica::Open(path);
  if (!r.ok()) std::exit(Fail(r.error()));
  return std::move(*r);
}

std::string Thousands(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) {
    s.insert(static_cast<size_t>(i), ",");
  }
  return s;
}

std::string Ago(int64_t then_us) {
  int64_t now_us = Clock::System()->NowMicros();
  int64_t s = std::max<int64_t>(0, (now_us - then_us) / 1000000);
  if (s < 120) return std::to_string(s) + "s ago";
  if (s < 7200) return std::to_string(s / 60) + "m ago";
  if (s < 172800) return std::to_string(s / 3600) + "h ago";
  return std::to_string(s / 86400) + "d ago";
}

// --- signals --------------------------------------------------------------

// SIGINT and SIGTERM are blocked in every thread and taken by one thread
// with sigwait, which calls `on_signal` (never from a signal handler).
class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void()> on_signal)
      : on_signal_(std::move(on_signal)) {
    sigset_t set = Set();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    thread_ = std::thread([this] {
      sigset_t s = Set();
      int sig = 0;
      while (sigwait(&s, &sig) == 0) {
        if (sig == SIGUSR1) return;  // the destructor's wake-up
        signalled_ = true;
        on_signal_();
      }
    });
  }
  ~SignalWatcher() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }
  bool signalled() const { return signalled_; }

 private:
  static sigset_t Set() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    return set;
  }
  std::function<void()> on_signal_;
  std::atomic<bool> signalled_{false};
  std::thread thread_;
};

// --- init -----------------------------------------------------------------

constexpr const char* kInitHelp = R"(Usage: galsync init --server URL --domain DOMAIN [--key KEY | --key-file FILE]
                    [--ca-file FILE]

Creates the replica file (and its directory) if needed and stores where to
sync from. URL is http://HOST:PORT or https://HOST:PORT. The key (a read key
of the domain) may also come from $GALSYNC_KEY. The replica file is readable
by its owner only, since it holds the key. Running init again with another
server or domain empties the replica (its contents belong to another
directory); with the same ones it only updates the key and CA file.

--ca-file FILE   for https: trust the certificate authorities in this PEM
                 file (e.g. a private CA) instead of the system's
)";

// The API key from --key, --key-file or $GALSYNC_KEY, into `key`; left as
// it is when none of them is given.
void ReadKeyFlags(const Args& a, std::string& key) {
  if (a.flags.count("key") && a.flags.count("key-file")) {
    Usage("give --key or --key-file, not both");
  }
  if (a.flags.count("key")) {
    key = a.flags.at("key");
  } else if (a.flags.count("key-file")) {
    std::ifstream in(a.flags.at("key-file"));
    if (!in) Usage("cannot read --key-file " + a.flags.at("key-file"));
    std::getline(in, key);
  } else if (const char* k = std::getenv("GALSYNC_KEY"); k && *k) {
    key = k;
  }
}

int Init(const std::string& path, const Args& a) {
  if (!a.positional.empty()) Usage("init takes no arguments");
  if (!a.flags.count("server")) Usage("init needs --server URL");
  if (!a.flags.count("domain")) Usage("init needs --domain DOMAIN");
  ReplicaConfig config;
  config.server_url = a.flags.at("server");
  config.domain = a.flags.at("domain");
  if (config.domain.empty()) Usage("--domain is empty");
  ReadKeyFlags(a, config.api_key);
  if (a.flags.count("ca-file")) {
    std::error_code ec;
    config.ca_file = std::filesystem::absolute(a.flags.at("ca-file"), ec).string();
    if (ec || !std::filesystem::is_regular_file(config.ca_file)) {
      Usage("--ca-file " + a.flags.at("ca-file") + " is not a readable file");
    }
  }
  if (auto st = SyncClient::CheckServerUrl(config.server_url); !st.ok()) {
    Usage(st.error().message);
  }
  std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  if (ec) {
    std::fprintf(stderr, "galsync: cannot create %s: %s\n",
                 p.parent_path().c_str(), ec.message().c_str());
    return kExitReplica;
  }
  mode_t old_mask = umask(077);
  auto replica = Replica::Open(path);
  umask(old_mask);
  if (!replica.ok()) return Fail(replica.error());
  if (auto st = (*replica)->SetConfig(config); !st.ok()) return Fail(st.error());
  std::printf("replica %s: domain %s at %s; run `galsync sync`\n",
              path.c_str(), config.domain.c_str(), config.server_url.c_str());
  return kExitOk;
}

// --- sync -----------------------------------------------------------------

constexpr const char* kSyncHelp = R"(Usage: galsync sync [--full] [--limit N] [--every DURATION | --follow] [--quiet]

Brings the replica up to date: the changes since the last sync, oldest
first, a page at a time; each page is applied with its position in one
transaction, so an interrupted sync resumes where it stopped. The first
sync, and a sync the server cannot continue (the token expired or the
server's store was restored), download everything into a fresh copy that
replaces the old one at the end; search keeps using the old copy meanwhile.

  --full            download everything again
  --limit N         changes per page to ask for (1-100000; default 1000)
  --every DURATION  keep syncing, every DURATION (30s, 5m, 1h) with 10%
                    jitter; errors back off exponentially up to 5m
  --follow          keep syncing by long-polling: changes arrive within a
                    second of their commit
  --wait SECONDS    long-poll length in --follow (1-120; default 30)
  --quiet           no progress or summary output

On a terminal a full sync shows a progress bar; otherwise sync prints one
line per sync that changed something. SIGINT/SIGTERM stop --every and
--follow cleanly (exit 0).
)";

// One line of progress on stderr, redrawn in place at most every 100 ms.
class StatusLine {
 public:
  explicit StatusLine(bool enabled) : enabled_(enabled) {}
  ~StatusLine() { Done(); }
  // Whether a redraw is due now (`force`: always, when enabled).
  bool Due(bool force = false) {
    if (!enabled_) return false;
    auto now = std::chrono::steady_clock::now();
    if (shown_ && !force && now - last_ < std::chrono::milliseconds(100)) {
      return false;
    }
    last_ = now;
    return true;
  }
  void Show(const std::string& line) {
    shown_ = true;
    std::fprintf(stderr, "\r%-78s", line.c_str());
    std::fflush(stderr);
  }
  void Done() {
    if (shown_) std::fprintf(stderr, "\n");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_;
};

// "[#####     ]" for a fraction in [0, 1].
std::string Bar(double f) {
  const int filled = static_cast<int>(std::min(1.0, std::max(0.0, f)) * 30);
  return "[" + std::string(static_cast<size_t>(filled), '#') +
         std::string(static_cast<size_t>(30 - filled), ' ') + "]";
}

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : status_(enabled) {}
  void Update(const SyncProgress& p) {
    if (!p.full_sync || !status_.Due()) return;
    double rate = p.seconds > 0 ? static_cast<double>(p.changes) / p.seconds : 0;
    std::string line;
    if (p.expected > 0) {
      double f = std::min(1.0, static_cast<double>(p.changes) /
                                   static_cast<double>(p.expected));
      line = Bar(f) + " " + Thousands(p.changes) + "/" + Thousands(p.expected);
      if (rate > 0 && p.changes < p.expected) {
        line += "  ETA " +
                std::to_string(static_cast<int>(
                    static_cast<double>(p.expected - p.changes) / rate)) +
                "s";
      }
    } else {
      line = Thousands(p.changes) + " contacts";
    }
    line += "  " + Thousands(static_cast<uint64_t>(rate)) + "/s  " +
            std::to_string(p.bytes >> 20) + " MiB";
    status_.Show(line);
  }
  void Done() { status_.Done(); }

 private:
  StatusLine status_;
};

void PrintReport(const SyncReport& r) {
  if (r.full_sync) {
    std::printf("full sync%s: %s contacts in %.1f s (%s/s, %.1f MiB)\n",
                r.resync_reason.empty()
                    ? ""
                    : (" (server: " + r.resync_reason + ")").c_str(),
                Thousands(r.changes).c_str(), r.seconds,
                Thousands(r.seconds > 0 ? static_cast<uint64_t>(
                                              static_cast<double>(r.changes) /
                                              r.seconds)
                                        : r.changes)
                    .c_str(),
                static_cast<double>(r.bytes) / (1 << 20));
  } else {
    std::printf("synced: %s changes (%s upserts, %s deletes) in %.3f s\n",
                Thousands(r.changes).c_str(), Thousands(r.upserts).c_str(),
                Thousands(r.deletes).c_str(), r.seconds);
  }
  std::fflush(stdout);
}

int Sync(const std::string& path, const Args& a) {
  if (!a.positional.empty()) Usage("sync takes no arguments");
  SyncOptions options;
  options.full = a.flags.count("full") > 0;
  if (a.flags.count("limit")) {
    options.page_limit =
        static_cast<uint32_t>(ParseNumber("limit", a.flags.at("limit"), 1, 100000));
  }
  bool quiet = a.flags.count("quiet") > 0;
  bool every = a.flags.count("every") > 0;
  bool follow = a.flags.count("follow") > 0;
  if (every && follow) Usage("give --every or --follow, not both");
  RunOptions run;
  run.follow = follow;
  if (every) run.every = ParseDuration("every", a.flags.at("every"));
  if (a.flags.count("wait")) {
    if (!follow) Usage("--wait goes with --follow");
    run.wait_seconds =
        static_cast<uint32_t>(ParseNumber("wait", a.flags.at("wait"), 1, 120));
  }
  auto replica = OpenReplica(path);
  auto client = SyncClient::Create(*replica);
  if (!client.ok()) return Fail(client.error());
  SyncClient& c = **client;
  SignalWatcher signals([&c] { c.Stop(); });
  ProgressBar bar(!quiet && isatty(STDERR_FILENO));
  auto progress = [&](const SyncProgress& p) { bar.Update(p); };

  if (!every && !follow) {
    auto r = c.SyncOnce(options, progress);
    bar.Done();
    if (!r.ok()) return Fail(r.error());
    if (!quiet) PrintReport(*r);
    return kExitOk;
  }
  auto outcome = [&](const Result<SyncReport>& r,
                     std::chrono::milliseconds next) {
    bar.Done();
    if (!r.ok()) {
      std::fprintf(stderr, "galsync: %s; retrying in %.1f s\n",
                   r.error().message.c_str(),
                   static_cast<double>(next.count()) / 1000);
    } else if (!quiet && r->changes > 0) {
      PrintReport(*r);
    }
  };
  auto st = c.Run(run, options, progress, outcome);
  bar.Done();
  if (!st.ok()) return Fail(st.error());
  return kExitOk;
}

// --- search and show ------------------------------------------------------

constexpr const char* kSearchHelp = R"(Usage: galsync search [--limit K] [--fields name,email,other] [--json] WORDS...

Searches the replica, offline, as the server does: every word is a prefix of
a different word of the contact's names, e-mail addresses, title,
department or office, in any order, ignoring case and accents
(`jo sm`, `jose`, `ali@`). Prints the best K (default 10, at most 100), one
per line: name, first e-mail, title, id; --json prints each contact's JSON.
)";

int Search(const std::string& path, const Args& a) {
  if (a.positional.empty()) Usage("search needs words to search for");
  std::string text;
  for (const auto& w : a.positional) text += (text.empty() ? "" : " ") + w;
  size_t k = 10;
  if (a.flags.count("limit")) {
    k = ParseNumber("limit", a.flags.at("limit"), 1, QueryLimits::kMaxResults);
  }
  uint8_t fields = kAllFields;
  if (a.flags.count("fields")) {
    fields = 0;
    std::string list = a.flags.at("fields") + ",";
    for (size_t pos = 0, comma; (comma = list.find(',', pos)) != std::string::npos;
         pos = comma + 1) {
      std::string f = list.substr(pos, comma - pos);
      if (f == "name") fields |= kFieldName;
      else if (f == "email") fields |= kFieldEmail;
      else if (f == "other") fields |= kFieldOther;
      else Usage("--fields takes name, email and other, not \"" + f + "\"");
    }
  }
  auto q = ParseQuery(text, fields);
  if (!q.ok()) Usage(q.error().message);
  auto replica = OpenReplica(path);
  auto hits = ScanSearch(*replica, *q, k);
  if (!hits.ok()) return Fail(hits.error());
  bool as_json = a.flags.count("json") > 0;
  for (const SearchHit& h : *hits) {
    auto json = replica->Get(h.id);
    if (!json.ok()) continue;  // deleted by a sync that ran meanwhile
    if (as_json) {
      std::printf("%s\n", json->c_str());
      continue;
    }
    auto c = ParseContactJson(*json);
    if (!c.ok()) return Fail(c.error());
    std::string line = c->name.full;
    if (!c->emails.empty()) line += " <" + c->emails[0].address + ">";
    if (!c->title.empty()) line += ", " + c->title;
    std::printf("%s  [%s]\n", line.c_str(), h.id.c_str());
  }
  if (hits->empty()) {
    if (!as_json) std::fprintf(stderr, "galsync: no match for \"%s\"\n", text.c_str());
    return kExitNothingFound;
  }
  return kExitOk;
}

constexpr const char* kShowHelp = R"(Usage: galsync show [--json] ID

Prints the contact with this id from the replica: every field, one per line,
or its JSON with --json. Exit code 1 if the replica has no such contact.
)";

int Show(const std::string& path, const Args& a) {
  if (a.positional.size() != 1) Usage("show needs exactly one contact id");
  auto replica = OpenReplica(path);
  auto json = replica->Get(a.positional[0]);
  if (!json.ok()) {
    if (json.error().kind == ErrorKind::kNotFound) {
      std::fprintf(stderr, "galsync: %s\n", json.error().message.c_str());
      return kExitNothingFound;
    }
    return Fail(json.error());
  }
  if (a.flags.count("json")) {
    std::printf("%s\n", json->c_str());
    return kExitOk;
  }
  auto c = ParseContactJson(*json);
  if (!c.ok()) return Fail(c.error());
  auto line = [](const char* label, const std::string& value) {
    if (!value.empty()) std::printf("%-12s %s\n", label, value.c_str());
  };
  line("id", c->id);
  line("name", c->name.full);
  line("given", c->name.given);
  line("middle", c->name.middle);
  line("family", c->name.family);
  line("nickname", c->nickname);
  for (const auto& e : c->emails) line(("email/" + e.type).c_str(), e.address);
  for (const auto& p : c->phones) line(("phone/" + p.type).c_str(), p.number);
  line("title", c->title);
  line("department", c->department);
  line("organization", c->organization);
  line("manager", c->manager);
  std::string office;
  for (const std::string* part :
       {&c->office.room, &c->office.street, &c->office.locality,
        &c->office.region, &c->office.postcode, &c->office.country}) {
    if (!part->empty()) office += (office.empty() ? "" : ", ") + *part;
  }
  line("office", office);
  for (const auto& l : c->links) line(("link/" + l.type).c_str(), l.uri);
  line("photo", c->photo);
  for (const auto& [k, v] : c->extra) line(k.c_str(), v);
  line("updated", FormatTime(c->updated_us));
  line("version", c->version());
  return kExitOk;
}

// --- status ---------------------------------------------------------------

constexpr const char* kStatusHelp = R"(Usage: galsync status [--offline]

Shows the replica: where it syncs from, how many contacts it holds, when it
last synced (and the last error), and how far behind the server it is (the
server is asked, with a short timeout, unless --offline).
)";

int StatusCmd(const std::string& path, const Args& a) {
  if (!a.positional.empty()) Usage("status takes no arguments");
  auto replica = OpenReplica(path);
  auto config = replica->Config();
  if (!config.ok()) return Fail(config.error());
  auto state = replica->State();
  if (!state.ok()) return Fail(state.error());
  auto counts = replica->Counts();
  if (!counts.ok()) return Fail(counts.error());
  std::printf("replica      %s\n", path.c_str());
  if (!config->has_value()) {
    std::printf("server       not configured (galsync init)\n");
    return kExitReplica;
  }
  std::printf("server       %s  domain %s\n", (*config)->server_url.c_str(),
              (*config)->domain.c_str());
  if (!state->incarnation.empty()) {
    std::printf("store        incarnation %s\n", state->incarnation.c_str());
  }
  std::printf("contacts     %s (and %s tombstones)\n",
              Thousands(counts->live).c_str(),
              Thousands(counts->tombstones).c_str());
  if (state->last_success_us) {
    std::printf("last sync    %s (%s)\n",
                FormatTime(state->last_success_us).c_str(),
                Ago(state->last_success_us).c_str());
  } else {
    std::printf("last sync    never\n");
  }
  if (!state->last_error.empty()) {
    std::printf("last error   %s (%s)\n", state->last_error.c_str(),
                Ago(state->last_attempt_us).c_str());
  }
  if (state->resync_active) {
    std::printf("full sync    in progress: %s contacts received\n",
                Thousands(counts->resync_rows).c_str());
  }
  std::printf("position     seq %s\n", Thousands(counts->max_seq).c_str());
  if (a.flags.count("offline")) return kExitOk;
  auto client = SyncClient::Create(*replica);
  if (!client.ok()) return Fail(client.error());
  auto domain = (*client)->Domain();
  if (!domain.ok()) {
    std::printf("server at    unknown: %s\n", domain.error().message.c_str());
    return ExitCodeFor(domain.error());
  }
  uint64_t behind =
      domain->last_seq > counts->max_seq ? domain->last_seq - counts->max_seq : 0;
  std::printf("server at    seq %s: %s\n", Thousands(domain->last_seq).c_str(),
              behind == 0 ? "up to date"
                          : ("behind by " + Thousands(behind) + " seq").c_str());
  return kExitOk;
}

// --- export ---------------------------------------------------------------

constexpr const char* kExportHelp = R"(Usage: galsync export [--format vcard|csv|ldif|json] [--vcard-version 4.0|3.0] [--output FILE]

Writes every contact of the replica, in sync order:
  vcard  vCard 4.0 (RFC 6350; 3.0, RFC 2426, with --vcard-version 3.0),
         escaped and folded at 75 octets, CRLF line ends (the default)
  csv    RFC 4180, with a header row
  ldif   RFC 2849 inetOrgPerson entries under ou=people,dc=<domain>
  json   JSON lines: one contact per line, as the server serves it
to FILE (replaced atomically when complete) or to standard output.
)";

int Export(const std::string& path, const Args& a) {
  if (!a.positional.empty()) Usage("export takes no arguments");
  std::string name = a.flags.count("format") ? a.flags.at("format") : "vcard";
  std::string version =
      a.flags.count("vcard-version") ? a.flags.at("vcard-version") : "";
  auto format = ExportFormat::Parse(name, version);
  if (!format) Usage(format.error().message);
  auto replica = OpenReplica(path);
  std::string out_path = a.flags.count("output") ? a.flags.at("output") : "";
  std::string tmp_path;
  std::FILE* out = stdout;
  if (!out_path.empty()) {
    tmp_path = out_path + ".tmp";
    out = std::fopen(tmp_path.c_str(), "wb");
    if (!out) {
      std::fprintf(stderr, "galsync: cannot write %s: %s\n", tmp_path.c_str(),
                   std::strerror(errno));
      return kExitUsage;
    }
  }
  std::optional<Error> failure;
  uint64_t n = 0;
  const std::string begin = format->Begin();
  std::fwrite(begin.data(), 1, begin.size(), out);
  auto st = replica->ForEach([&](std::string_view id, std::string_view json) {
    auto c = ParseContactJson(json);
    if (!c.ok()) {
      failure = Error::InvalidArgument(
          "replica_corrupt", "contact \"" + std::string(id) +
                                 "\" in the replica cannot be read: " +
                                 c.error().message);
      return false;
    }
    std::string text = format->Entry(*c);
    std::fwrite(text.data(), 1, text.size(), out);
    ++n;
    return std::ferror(out) == 0;
  });
  bool write_failed = std::ferror(out) != 0;
  if (out != stdout) {
    write_failed |= std::fclose(out) != 0;
  } else {
    write_failed |= std::fflush(stdout) != 0;
    // The reader went away (`galsync export | head`): nothing to report.
    if (write_failed && errno == EPIPE) return kExitOk;
  }
  if (!st.ok() || failure || write_failed) {
    if (!tmp_path.empty()) std::remove(tmp_path.c_str());
    if (!st.ok()) return Fail(st.error());
    if (failure) return Fail(*failure);
    std::fprintf(stderr, "galsync: writing the export failed: %s\n",
                 std::strerror(errno));
    return kExitUsage;
  }
  if (!tmp_path.empty()) {
    if (std::rename(tmp_path.c_str(), out_path.c_str()) != 0) {
      std::fprintf(stderr, "galsync: cannot rename %s to %s: %s\n",
                   tmp_path.c_str(), out_path.c_str(), std::strerror(errno));
      return kExitUsage;
    }
    std::fprintf(stderr, "galsync: %s contacts written to %s\n",
                 Thousands(n).c_str(), out_path.c_str());
  }
  return kExitOk;
}

// --- admin import -----------------------------------------------------------

constexpr const char* kAdminHelp = R"(Usage: galsync admin import FILE --format csv|vcard|ldif|jsonl --source NAME
                            [--key-by id|email] [--map "COLUMN=FIELD,..."]
                            [--delete-missing] [--dry-run] [--json]
                            [--server URL --domain DOMAIN] [--key KEY | --key-file FILE]

Brings the server's directory in line with FILE, a full snapshot of one
source (an HR export, an LDAP dump, an address book): contacts are added,
updated only where a field really differs, and with --delete-missing
deleted when the source had them and FILE no longer does. Contacts of other
sources, or written through the API, are never touched. FILE "-" is stdin.
The file streams to the server, which applies it as it arrives; a progress
bar shows on a terminal.

  --format F        csv, vcard, ldif or jsonl (docs/import.md)
  --source NAME     the source the snapshot comes from, e.g. hr
  --key-by K        what identifies a person in the source: id (default)
                    or email
  --map SPEC        CSV columns to fields, e.g. "Employee ID=id,Surname=
                    family_name" (docs/import.md lists the fields)
  --delete-missing  delete the source's contacts that FILE no longer has
  --dry-run         report what would change; change nothing
  --json            print the server's report as JSON
  --server, --domain, --key, --key-file, --ca-file
                    default to the replica's (galsync init); the key needs
                    the write scope ($GALSYNC_KEY is used if set)

Exit codes: 0 done, 6 done but some records were rejected (listed on
stderr with their line numbers), others as for every command.
)";

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

class UploadBar {
 public:
  UploadBar(bool enabled, uint64_t total) : status_(enabled), total_(total) {}
  void Update(uint64_t sent) {
    if (!status_.Due(sent >= total_)) return;
    const double secs = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start_).count();
    const double rate = secs > 0 ? static_cast<double>(sent) / secs : 0;
    std::string line;
    if (total_ > 0) {
      const double f = static_cast<double>(sent) / static_cast<double>(total_);
      line = Bar(f) + " " + std::to_string(static_cast<int>(f * 100)) + "%";
      if (rate > 0 && sent < total_) {
        line += "  ETA " +
                std::to_string(static_cast<int>(
                    static_cast<double>(total_ - sent) / rate)) + "s";
      }
    }
    line += "  " + std::to_string(sent >> 20) + " MiB  " +
            std::to_string(static_cast<uint64_t>(rate) >> 20) + " MiB/s";
    if (sent >= total_) line += "  (server finishing)";
    status_.Show(line);
  }
  void Done() { status_.Done(); }

 private:
  StatusLine status_;
  uint64_t total_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

int AdminImport(const std::string& replica_path, const Args& a) {
  if (a.positional.size() != 2) Usage("admin import needs exactly one FILE");
  const std::string& file = a.positional[1];
  if (!a.flags.count("format")) Usage("admin import needs --format");
  if (!a.flags.count("source")) Usage("admin import needs --source NAME");
  auto format = ParseSourceFormat(a.flags.at("format"));
  if (!format) Usage(format.error().message);
  const std::string& source = a.flags.at("source");
  if (!IsValidSourceName(source)) {
    Usage("--source must be 1..64 characters of [a-z0-9._-], starting with "
          "a letter or digit");
  }
  const std::string key_by = a.flags.count("key-by") ? a.flags.at("key-by") : "id";
  if (auto k = ParseImportKey(key_by); !k) Usage(k.error().message);

  // Where to: flags first, then the replica's configuration.
  ReplicaConfig config;
  if (!a.flags.count("server") || !a.flags.count("domain")) {
    auto replica = OpenReplica(replica_path);
    auto c = replica->Config();
    if (!c.ok()) return Fail(c.error());
    if (!c->has_value()) {
      Usage("give --server and --domain, or configure a replica with "
            "`galsync init`");
    }
    config = **c;
  }
  if (a.flags.count("server")) config.server_url = a.flags.at("server");
  if (a.flags.count("domain")) config.domain = a.flags.at("domain");
  if (a.flags.count("ca-file")) config.ca_file = a.flags.at("ca-file");
  ReadKeyFlags(a, config.api_key);

  std::string target = "/v1/domains/" + PercentEncode(config.domain) +
                       "/import?format=" + std::string(SourceFormatName(*format)) +
                       "&source=" + PercentEncode(source) + "&key=" + key_by;
  if (a.flags.count("delete-missing")) target += "&delete_missing=true";
  if (a.flags.count("dry-run")) target += "&dry_run=true";
  if (a.flags.count("map")) {
    std::string_view spec = a.flags.at("map");
    while (!spec.empty()) {
      const size_t comma = spec.find(',');
      std::string_view item = spec.substr(0, comma);
      spec = comma == std::string_view::npos ? "" : spec.substr(comma + 1);
      const size_t eq = item.rfind('=');
      if (eq == std::string_view::npos || eq == 0) {
        Usage("--map takes COLUMN=FIELD pairs separated by commas, got \"" +
              std::string(item) + "\"");
      }
      target += "&map." + PercentEncode(item.substr(0, eq)) + "=" +
                PercentEncode(item.substr(eq + 1));
    }
  }

  std::FILE* in = file == "-" ? stdin : std::fopen(file.c_str(), "rb");
  if (!in) {
    std::fprintf(stderr, "galsync: cannot open %s: %s\n", file.c_str(),
                 std::strerror(errno));
    return kExitUsage;
  }
  // The body's length must be known up front (Content-Length); stdin is
  // spooled to a temporary file first.
  std::FILE* body = in;
  if (in == stdin) {
    body = std::tmpfile();
    if (!body) return Fail(Error::Internal("cannot create a temporary file"));
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
      std::fwrite(buf, 1, n, body);
    }
    std::rewind(body);
  }
  std::fseek(body, 0, SEEK_END);
  const long size = std::ftell(body);
  std::rewind(body);

  auto conn = HttpConnection::Create(config.server_url, config.api_key,
                                     config.ca_file);
  if (!conn.ok()) return Fail(conn.error());
  UploadBar bar(!a.flags.count("json") && isatty(STDERR_FILENO),
                static_cast<uint64_t>(size));
  Upload upload;
  upload.content_type = *format == SourceFormat::kCsv ? "text/csv"
                        : *format == SourceFormat::kVCard ? "text/vcard"
                        : *format == SourceFormat::kLdif  ? "text/x-ldif"
                                                          : "application/jsonl";
  upload.size = static_cast<uint64_t>(size);
  uint64_t read_so_far = 0;
  upload.read = [&](char* buf, size_t cap) -> Result<size_t> {
    const size_t want = static_cast<size_t>(
        std::min<uint64_t>(cap, upload.size - read_so_far));
    const size_t n = want ? std::fread(buf, 1, want, body) : 0;
    if (n < want) {
      return Error::InvalidArgument("file_changed",
                                    file + " became shorter while it was read");
    }
    read_so_far += n;
    return n;
  };
  upload.progress = [&](uint64_t sent) { bar.Update(sent); };
  auto res = (*conn)->Post(target, upload, std::chrono::minutes(5));
  bar.Done();
  std::fclose(body);
  if (!res.ok()) return Fail(res.error());

  boost::json::error_code jec;
  auto parsed = boost::json::parse(res->body, jec);
  const boost::json::object* o = jec ? nullptr : parsed.if_object();
  const boost::json::object* report = o;
  if (o && o->contains("report")) report = o->at("report").if_object();
  if (a.flags.count("json")) {
    std::printf("%s\n", res->body.c_str());
  } else if (report && report->contains("records")) {
    auto n = [&](const char* k) {
      const auto* v = report->if_contains(k);
      return v && v->is_int64() ? Thousands(static_cast<uint64_t>(v->as_int64()))
                                : std::string("0");
    };
    std::printf("%s%s: %s records: %s added, %s updated, %s deleted, %s "
                "unchanged, %s rejected",
                a.flags.count("dry-run") ? "dry run, nothing changed: " : "",
                source.c_str(), n("records").c_str(), n("added").c_str(),
                n("updated").c_str(), n("deleted").c_str(),
                n("unchanged").c_str(), n("rejected").c_str());
    if (n("ignored") != "0") std::printf(", %s ignored (not people)", n("ignored").c_str());
    std::printf("\n");
  }
  if (report) {
    if (const auto* errs = report->if_contains("errors"); errs && errs->is_array()) {
      size_t shown = 0;
      for (const auto& e : errs->get_array()) {
        if (++shown > 20) {
          std::fprintf(stderr, "  ... (--json lists them all)\n");
          break;
        }
        std::fprintf(stderr, "  line %lld: %s\n",
                     static_cast<long long>(e.at("line").to_number<int64_t>()),
                     std::string(e.at("message").as_string()).c_str());
      }
    }
    if (const auto* w = report->if_contains("warnings"); w && w->is_array()) {
      for (const auto& x : w->get_array()) {
        std::fprintf(stderr, "  warning: %s\n", std::string(x.as_string()).c_str());
      }
    }
    if (const auto* d = report->if_contains("deletes_skipped")) {
      std::fprintf(stderr, "  no deletes: %s\n", std::string(d->as_string()).c_str());
    }
  }
  if (res->status / 100 != 2) {
    std::string message = "the server answered " + std::to_string(res->status);
    if (o && o->contains("error")) {
      message = std::string(o->at("error").at("message").as_string());
    }
    return Fail({res->status >= 500 || res->status == 429
                     ? ErrorKind::kUnavailable
                     : ErrorKind::kInvalidArgument,
                 "import_failed", message});
  }
  const auto* rejected = report ? report->if_contains("rejected") : nullptr;
  const bool incomplete = (rejected && rejected->is_int64() &&
                           rejected->as_int64() > 0) ||
                          (report && report->contains("deletes_skipped"));
  return incomplete ? kExitIncomplete : kExitOk;
}

int Admin(const std::string& replica_path, const Args& a) {
  if (a.positional.empty() || a.positional[0] != "import") {
    Usage("admin has one subcommand: galsync admin import FILE ...");
  }
  return AdminImport(replica_path, a);
}

// --- dispatch -------------------------------------------------------------

struct Command {
  const char* name;
  const char* help;
  std::vector<std::string> with_value;
  std::vector<std::string> switches;
  int (*run)(const std::string& replica_path, const Args& args);
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"init", kInitHelp, {"server", "domain", "key", "key-file", "ca-file"}, {},
       Init},
      {"sync", kSyncHelp, {"limit", "every", "wait"}, {"full", "follow", "quiet"},
       Sync},
      {"search", kSearchHelp, {"limit", "fields"}, {"json"}, Search},
      {"show", kShowHelp, {}, {"json"}, Show},
      {"status", kStatusHelp, {}, {"offline"}, StatusCmd},
      {"export", kExportHelp, {"format", "vcard-version", "output"}, {}, Export},
      {"admin", kAdminHelp,
       {"format", "source", "key-by", "map", "server", "domain", "key",
        "key-file", "ca-file"},
       {"delete-missing", "dry-run", "json"}, Admin},
  };
  return kCommands;
}

const Command* Find(std::string_view name) {
  for (const Command& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string replica_path;
  // Global options come before the command.
  size_t i = 0;
  for (; i < args.size() && args[i].starts_with("--"); ++i) {
    const std::string& s = args[i];
    if (s == "--help" || s == "-h") {
      std::fputs(kGeneralHelp, stdout);
      return kExitOk;
    } else if (s == "--version") {
      std::puts(kVersion);
      return kExitOk;
    } else if (s == "--replica") {
      if (i + 1 >= args.size()) Usage("--replica needs a path");
      replica_path = args[++i];
    } else if (s.starts_with("--replica=")) {
      replica_path = s.substr(10);
    } else {
      Usage("unknown option " + s + " before the command");
    }
  }
  if (i >= args.size()) {
    std::fputs(kGeneralHelp, stderr);
    return kExitUsage;
  }
  std::string name = args[i++];
  std::vector<std::string> rest(args.begin() + static_cast<long>(i), args.end());
  if (name == "help") {
    if (rest.empty()) {
      std::fputs(kGeneralHelp, stdout);
      return kExitOk;
    }
    const Command* c = Find(rest[0]);
    if (!c) Usage("no command \"" + rest[0] + "\"");
    std::fputs(c->help, stdout);
    return kExitOk;
  }
  const Command* c = Find(name);
  if (!c) Usage("no command \"" + name + "\"");
  for (const auto& r : rest) {
    if (r == "--help" || r == "-h") {
      std::fputs(c->help, stdout);
      return kExitOk;
    }
  }
  std::vector<std::string> with_value = c->with_value;
  with_value.push_back("replica");  // also accepted after the command
  Args parsed = ParseArgs(rest, with_value, c->switches);
  if (parsed.flags.count("replica")) replica_path = parsed.flags.at("replica");
  if (replica_path.empty()) replica_path = DefaultReplicaPath();
  return c->run(replica_path, parsed);
}

}  // namespace
}  // namespace galsync

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  return galsync::Main(argc, argv);
}
