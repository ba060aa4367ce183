// galsync benchmarks (Google Benchmark). Figures and the commands that made
// them are in docs/benchmarks.md.
//
// Workloads, all against the SQLite store in a temporary directory:
//   BM_BatchedImport      N generated people (canonical JSON prepared
//                         beforehand) written in batches of 10,000 into an
//                         empty store, fsync on: contacts/s. Second
//                         argument: 0 the demo's ids (p000001, p000002, ...:
//                         in id order), 1 ids in no order (hashes, as an
//                         import derives them from source keys).
//   BM_SingleWrite        one upsert per transaction, fsync on (durability
//                         full) and off (normal): writes/s.
//   BM_ServePage          one 1,000-change page from a random position of a
//                         1,000,000-contact domain: time per page, bytes.
//   BM_ServePageView      BM_ServePage on a 100,000-contact domain in each
//                         view: 0 full; public with 1 no policy, 2 mobile
//                         numbers private (some contacts redacted), 3 titles
//                         private (nearly every contact redacted).
//   BM_SetPolicy          replacing that domain's policy, alternately making
//                         titles private and public (nearly every contact
//                         re-stamped each time): time per change.
//   BM_NoChangePoll       an up-to-date token polled again (in process).
//   BM_FullSync           a whole full sync of 1,000,000 contacts in pages
//                         of 1,000: contacts/s and bytes per contact.
//   BM_CanonicalJson      serializing one contact to its canonical JSON.
//   BM_Authenticate       verifying a bearer key (every request but health
//                         does it) in a ring of 10,000 keys.
//
// The 1,000,000-contact directory is built once per run (in $TMPDIR) and
// shared by the read benchmarks; GALSYNC_BENCH_PEOPLE overrides its size.
//
// GALSYNC_BENCH_STORE=postgresql://... runs the same workloads on the
// PostgreSQL store instead, each database in a schema of its own there
// (bench/scale_out_bench.sh starts a server and does this). Durability
// "normal" is then synchronous_commit=off for the store's sessions.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "demo/demo_people.h"
#include "galsync/contact.h"
#include "galsync/directory.h"
#include "galsync/keys.h"
#include "galsync/postgres_store.h"
#include "galsync/sqlite_store.h"
#include "hashed_id.h"

#include <libpq-fe.h>

namespace galsync {
namespace {

namespace fs = std::filesystem;
const std::string kSecret(32, 'b');
constexpr char kDomain[] = "bench.example";

std::string TempPath(const std::string& name) {
  const char* t = std::getenv("TMPDIR");
  fs::path dir = fs::path(t && *t ? t : "/tmp") / "galsync-bench";
  fs::create_directories(dir);
  return (dir / name).string();
}

// The PostgreSQL server of GALSYNC_BENCH_STORE, or "" for SQLite.
const std::string& PostgresUri() {
  static const std::string uri = [] {
    const char* v = std::getenv("GALSYNC_BENCH_STORE");
    return std::string(v ? v : "");
  }();
  return uri;
}

// The schema that stands for the database file `path` on PostgreSQL.
std::string SchemaOf(const std::string& path) {
  std::string name = "bench_";
  for (char c : fs::path(path).filename().string()) {
    name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return name;
}

void RemoveDb(const std::string& path) {
  if (!PostgresUri().empty()) {
    const std::string schema = SchemaOf(path);
    PGconn* c = PQconnectdb(PostgresUri().c_str());
    PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(c, ("DROP SCHEMA IF EXISTS " + schema +
                             " CASCADE; CREATE SCHEMA " + schema)
                                .c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      std::fprintf(stderr, "schema: %s\n", PQerrorMessage(c));
      std::abort();
    }
    PQclear(r);
    PQfinish(c);
    return;
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    fs::remove(path + suffix, ec);
  }
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& path, bool full) {
  if (!PostgresUri().empty()) {
    return OpenPostgresStore(
        PostgresUri() + "?options=-csearch_path%3D" + SchemaOf(path),
        {.synchronous_commit = full});
  }
  SqliteStoreOptions o;
  o.synchronous_full = full;
  return OpenSqliteStore(path, o);
}

std::unique_ptr<Directory> OpenDirectory(const std::string& path, bool full) {
  auto s = OpenStore(path, full);
  if (!s) {
    std::fprintf(stderr, "open: %s\n", s.error().message.c_str());
    std::abort();
  }
  auto d = std::make_unique<Directory>(std::move(s.value()), kSecret,
                                       DirectoryOptions{});
  if (!d->Open().ok()) std::abort();
  if (!d->GetDomain(kDomain).ok() && !d->CreateDomain(kDomain).ok()) {
    std::abort();
  }
  return d;
}

// The first `n` generated people as ready-to-write upserts (canonical JSON),
// with the demo's ids or (`hashed_ids`) ids in no order.
const std::vector<ChangeRequest>& People(size_t n, bool hashed_ids = false) {
  static std::vector<ChangeRequest> people[2];
  auto& out = people[hashed_ids];
  while (out.size() < n) {
    Contact c = demo::GeneratePerson(out.size(), 42, kDomain);
    if (hashed_ids) c.id = bench::HashedId(out.size());
    out.push_back({.id = c.id, .content_json = CanonicalContentJson(c)});
  }
  return out;
}

// Writes the first `n` people in batches of 10,000; returns seconds.
double Import(Directory& d, size_t n, bool hashed_ids = false) {
  const auto& people = People(n, hashed_ids);
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < n; i += 10000) {
    std::span batch(people.data() + i, std::min<size_t>(10000, n - i));
    if (!d.Write(kDomain, batch, "bench").ok()) std::abort();
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start).count();
}

size_t PeopleCount() {
  const char* n = std::getenv("GALSYNC_BENCH_PEOPLE");
  return n ? std::strtoull(n, nullptr, 10) : 1000000;
}

// The shared large directory, built on first use.
Directory& Large() {
  static std::unique_ptr<Directory> dir = [] {
    size_t n = PeopleCount();
    std::string path = TempPath("large-" + std::to_string(n) + ".db");
    RemoveDb(path);
    auto d = OpenDirectory(path, false);
    double s = Import(*d, n);
    std::fprintf(stderr, "built %zu-contact directory in %.1f s (%.0f/s)\n", n,
                 s, n / s);
    return d;
  }();
  return *dir;
}

void BM_BatchedImport(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const bool hashed_ids = state.range(1) == 1;
  std::string path = TempPath("import.db");
  People(n, hashed_ids);  // generated outside the timed region
  for (auto _ : state) {
    state.PauseTiming();
    RemoveDb(path);
    auto d = OpenDirectory(path, true);
    state.ResumeTiming();
    Import(*d, n, hashed_ids);
    state.PauseTiming();
    d.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n);
  RemoveDb(path);
}
BENCHMARK(BM_BatchedImport)->ArgsProduct({{100000, 1000000}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)->UseRealTime();

void BM_SingleWrite(benchmark::State& state) {
  const bool full = state.range(0) == 1;
  std::string path = TempPath(full ? "single-full.db" : "single-normal.db");
  RemoveDb(path);
  auto d = OpenDirectory(path, full);
  size_t i = 0;
  for (auto _ : state) {
    Contact c = demo::GeneratePerson(i++, 7, kDomain);
    auto r = d->PutContact(kDomain, c, {}, false, "bench");
    if (!r.ok()) state.SkipWithError(r.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(full ? "durability=full (fsync)" : "durability=normal");
  d.reset();
  RemoveDb(path);
}
BENCHMARK(BM_SingleWrite)->Arg(1)->Arg(0)->UseRealTime();

// A token at `seq`, minted with the directory's secret (as a client that
// had synced up to `seq` would hold).
std::string TokenAt(Directory& d, uint64_t seq, View view = View::kFull) {
  auto info = d.GetDomain(kDomain);
  if (!info) std::abort();
  return TokenCodec(kSecret).Encode(
      {d.store().incarnation(), info->uid, seq, 0, view});
}

// Tokens at four positions spread over a domain of `n` contacts.
std::vector<std::string> SpreadTokens(Directory& d, size_t n, View view) {
  std::vector<std::string> tokens;
  for (size_t k = 1; k <= 4; ++k) tokens.push_back(TokenAt(d, n * k / 5, view));
  return tokens;
}

// Serves 1,000-change pages from the positions of `tokens` in turn.
void ServePages(benchmark::State& state, Directory& d,
                const std::vector<std::string>& tokens, View view) {
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    ChangesRequest r;
    r.token = tokens[i++ % tokens.size()];
    r.limit = 1000;
    r.view = view;
    auto p = d.Changes(kDomain, r);
    if (!p || p->count != 1000) state.SkipWithError("short page");
    bytes += p->body.size();
    benchmark::DoNotOptimize(p->body.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(bytes);
}

void BM_ServePage(benchmark::State& state) {
  Directory& d = Large();
  ServePages(state, d, SpreadTokens(d, PeopleCount(), View::kFull),
             View::kFull);
}
BENCHMARK(BM_ServePage)->Unit(benchmark::kMillisecond);

// A 100,000-contact directory of its own, whose policy the view benchmarks
// change without disturbing the large one.
constexpr size_t kViewPeople = 100000;
Directory& ForViews() {
  static std::unique_ptr<Directory> dir = [] {
    std::string path = TempPath("views.db");
    RemoveDb(path);
    auto d = OpenDirectory(path, false);
    Import(*d, kViewPeople);
    return d;
  }();
  return *dir;
}

void BM_ServePageView(benchmark::State& state) {
  Directory& d = ForViews();
  const int variant = static_cast<int>(state.range(0));
  const VisibilityPolicy policies[] = {
      {}, {}, {{"phones.mobile"}}, {{"title"}}};
  if (!d.SetPolicy(kDomain, policies[variant], "bench").ok()) std::abort();
  const View view = variant == 0 ? View::kFull : View::kPublic;
  ServePages(state, d, SpreadTokens(d, kViewPeople, view), view);
}
BENCHMARK(BM_ServePageView)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);

void BM_SetPolicy(benchmark::State& state) {
  Directory& d = ForViews();
  bool title_private = false;
  uint64_t changed = 0;
  for (auto _ : state) {
    title_private = !title_private;
    VisibilityPolicy p;
    if (title_private) p.private_attributes = {"title"};
    auto w = d.SetPolicy(kDomain, p, "bench");
    if (!w) state.SkipWithError("set policy failed");
    if (w && w->last_seq) changed += w->last_seq - w->first_seq + 1;
  }
  state.counters["contacts_changed"] =
      benchmark::Counter(static_cast<double>(changed) / state.iterations());
}
BENCHMARK(BM_SetPolicy)->Iterations(4)->Unit(benchmark::kMillisecond);

void BM_NoChangePoll(benchmark::State& state) {
  Directory& d = Large();
  std::string token = TokenAt(d, *d.LastSeq(kDomain));
  for (auto _ : state) {
    ChangesRequest r;
    r.token = token;
    auto p = d.Changes(kDomain, r);
    if (!p || p->count != 0) state.SkipWithError("not up to date");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NoChangePoll);

void BM_FullSync(benchmark::State& state) {
  Directory& d = Large();
  size_t bytes = 0, contacts = 0;
  for (auto _ : state) {
    std::optional<std::string> token;
    for (;;) {
      ChangesRequest r;
      r.token = token;
      r.limit = 1000;
      auto p = d.Changes(kDomain, r);
      if (!p) {
        state.SkipWithError(p.error().message.c_str());
        return;
      }
      bytes += p->body.size();
      contacts += p->count;
      if (!p->has_more) break;
      const size_t at = p->body.find("\"next_token\":\"") + 14;
      token = p->body.substr(at, p->body.find('"', at) - at);
    }
  }
  state.SetItemsProcessed(contacts);
  state.SetBytesProcessed(bytes);
  state.counters["bytes_per_contact"] =
      static_cast<double>(bytes) / static_cast<double>(contacts);
}
BENCHMARK(BM_FullSync)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

void BM_CanonicalJson(benchmark::State& state) {
  std::vector<Contact> people = demo::GeneratePeople(1000);
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    std::string s = CanonicalContentJson(people[i++ % people.size()]);
    bytes += s.size();
    benchmark::DoNotOptimize(s.data());
  }
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_CanonicalJson);

void BM_Authenticate(benchmark::State& state) {
  const std::string path = TempPath("keys.db");
  RemoveDb(path);
  auto dir = OpenDirectory(path, false);
  KeyRing ring(dir->store());
  std::vector<std::string> keys;
  for (int i = 0; i < 10000; ++i) {
    keys.push_back(ring.Create(kDomain, kScopeRead, "", "bench")->bearer);
  }
  size_t i = 0;
  for (auto _ : state) {
    auto p = ring.Authenticate(keys[i++ % keys.size()]);
    if (!p.ok()) std::abort();
    benchmark::DoNotOptimize(p->scopes);
  }
  dir.reset();
  RemoveDb(path);
}
BENCHMARK(BM_Authenticate);

}  // namespace
}  // namespace galsync

BENCHMARK_MAIN();
