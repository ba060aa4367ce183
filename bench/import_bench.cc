// Snapshot import, measured: writes a CSV of N generated people, or imports
// such a file into a fresh store three times (into an empty domain, again
// unchanged, and with 10 rows changed) and prints the time and the seqs each
// run took.
//
//   import_bench csv N FILE          write the CSV (galsync's columns); ids
//                                    in id order, as the demo makes them
//   import_bench csv-hashed N FILE   the same people with ids in no order
//                                    (hashes, as when ids come from e-mail
//                                    addresses or other source keys)
//   import_bench run FILE DATA_DIR   import it in-process, three times
//
// bench/import_bench.sh runs the same through galsyncd and
// `galsync admin import`; docs/benchmarks.md has the figures of both.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "demo/demo_people.h"
#include "galsync/export.h"
#include "galsync/import.h"
#include "galsync/sqlite_store.h"
#include "hashed_id.h"

namespace galsync {
namespace {

int WriteCsv(size_t n, const std::string& path, bool hashed_ids) {
  std::ofstream out(path, std::ios::binary);
  out << CsvHeader();
  constexpr size_t kChunk = 100000;
  size_t row = 0;
  for (size_t i = 0; i < n; i += kChunk) {
    // GeneratePeople(count, seed) is deterministic: chunk k is people
    // [k, k + kChunk) of one directory when each chunk gets its offset.
    for (Contact& c : demo::GeneratePeople(std::min(kChunk, n - i), 42 + i)) {
      c.id = hashed_ids ? bench::HashedId(row)
                        : "p" + std::to_string(i) + "-" + c.id;
      ++row;
      out << ContactToCsvRow(c);
    }
  }
  return out.good() ? 0 : 1;
}

int Run(const std::string& file, const std::string& data_dir) {
  std::filesystem::create_directories(data_dir);
  SqliteStoreOptions so;
  so.synchronous_full = true;  // as galsyncd runs by default
  auto store = OpenSqliteStore(data_dir + "/import-bench.db", so);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  Directory dir(std::move(store.value()), std::string(32, 'k'), {});
  if (!dir.Open().ok() || !dir.CreateDomain("bench.example").ok()) return 1;

  auto import_once = [&](const std::string& label, const std::string& text) {
    auto t0 = std::chrono::steady_clock::now();
    auto im = SnapshotImport::Start(dir, "bench.example", SourceFormat::kCsv,
                                    {}, {.source = "hr", .delete_missing = true},
                                    "bench");
    if (!im) return false;
    constexpr size_t kPiece = 64 * 1024;  // as the server receives it
    for (size_t i = 0; i < text.size(); i += kPiece) {
      if (!(*im)->Feed(std::string_view(text).substr(i, kPiece)).ok()) return false;
    }
    auto r = (*im)->Finish();
    const double s = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - t0).count();
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      return false;
    }
    std::printf("%-10s %8.2f s  %9.0f records/s  added %llu updated %llu "
                "unchanged %llu rejected %llu  seqs taken %llu\n",
                label.c_str(), s, static_cast<double>(r->records) / s,
                static_cast<unsigned long long>(r->added),
                static_cast<unsigned long long>(r->updated),
                static_cast<unsigned long long>(r->unchanged),
                static_cast<unsigned long long>(r->rejected),
                static_cast<unsigned long long>(
                    r->first_seq ? r->last_seq - r->first_seq + 1 : 0));
    return true;
  };

  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (!import_once("empty", text) || !import_once("unchanged", text)) return 1;
  // Ten rows changed, spread over the file: each gets an "x" in front of
  // its full_name (the cell after the id).
  std::string changed = text;
  for (int k = 0; k < 10; ++k) {
    const size_t row = changed.find("\r\np", changed.size() / 10 * k);
    if (row == std::string::npos) return 1;
    changed.insert(changed.find(',', row + 2) + 1, "x");
  }
  return import_once("10 changed", changed) ? 0 : 1;
}

}  // namespace
}  // namespace galsync

int main(int argc, char** argv) {
  if (argc == 4 && (std::string(argv[1]) == "csv" ||
                    std::string(argv[1]) == "csv-hashed")) {
    return galsync::WriteCsv(std::stoul(argv[2]), argv[3],
                             std::string(argv[1]) == "csv-hashed");
  }
  if (argc == 4 && std::string(argv[1]) == "run") {
    return galsync::Run(argv[2], argv[3]);
  }
  std::fprintf(stderr,
               "usage: import_bench csv|csv-hashed N FILE | "
               "import_bench run FILE DATA_DIR\n");
  return 2;
}
