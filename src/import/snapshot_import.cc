// SnapshotImport (galsync/import.h).
#include "galsync/import.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include "formats/contact_object.h"
#include "galsync/contact.h"
#include "util/ascii.h"
#include "util/bounded_queue.h"
#include "util/crypto.h"

namespace galsync {
namespace json = boost::json;

namespace {

using Digest = std::array<uint8_t, 16>;

// A 128-bit digest of a contact's canonical content: two contents with one
// digest are taken as equal (2^-64 odds even at a billion contacts).
Digest DigestOf(std::string_view content) {
  const crypto::Sha256Digest full = crypto::Sha256(content);
  Digest d;
  std::memcpy(d.data(), full.data(), d.size());
  return d;
}

// What the import knows of one key its source owned when the import
// started. The map of these is complete before the pipeline starts and its
// shape never changes after; the converter reads `id`, the applier alone
// writes `seen_line`.
struct Entry {
  std::string id;
  Digest digest{};
  uint64_t seq = 0;        // the version the import read (for If-Match)
  bool live = false;       // ... and it is not deleted
  uint64_t seen_line = 0;  // the record of this import with the key; 0: none
};

// One record after the converter: what the applier needs to decide.
struct Converted {
  uint64_t line = 0;
  std::string key;       // empty: the record has no key (error says why)
  Entry* entry = nullptr;  // the key's entry, if the source had the key
  std::string error;     // why the record is rejected, if it is
  std::string id;
  std::string content;   // canonical content JSON
  Digest digest{};
  std::optional<StoredContact> current;  // a new key's id, as stored
};

// Records travel between the stages in chunks of this many, and each queue
// holds a few chunks: enough to keep both cores busy, little enough to keep
// memory flat (a few MB).
constexpr size_t kChunkRecords = 256;
constexpr size_t kQueuedChunks = 4;  // per queue
constexpr size_t kMaxConverters = 4;

// Records as read, with the arena their JSON objects are built in: the
// reader allocates by bumping a pointer, and emptying the chunk frees
// everything at once. 4 KiB a record is room for a typical one several
// times over; a chunk of larger ones takes more blocks from the heap.
struct RecordChunk {
  static constexpr size_t kArenaBytes = kChunkRecords * 4096;

  std::unique_ptr<unsigned char[]> buffer =
      std::make_unique_for_overwrite<unsigned char[]>(kArenaBytes);
  std::unique_ptr<json::monotonic_resource> arena =
      std::make_unique<json::monotonic_resource>(buffer.get(), kArenaBytes);
  std::vector<SourceRecord> records;  // last, so destroyed before the arena

  // Where the records are built; valid as long as the chunk.
  json::storage_ptr storage() const { return json::storage_ptr(arena.get()); }
  size_t size() const { return records.size(); }
  void clear() {
    records.clear();  // nothing to free: the arena owns their memory
    // A new resource rather than release(): release keeps the size the
    // next overflow block would have had, which doubles with every one.
    arena = std::make_unique<json::monotonic_resource>(buffer.get(),
                                                       kArenaBytes);
  }
};

using ConvertedChunk = std::vector<Converted>;

// A chunk goes back to the stage that filled it, to be emptied and filled
// again there. Memory is then freed by the thread that allocated it (with
// glibc's malloc, a free from another thread takes the allocating arena's
// lock, and at a million records those frees dominated the import), and
// the chunk's own array is reused.
template <typename Chunk>
class ReturnTray {
 public:
  void Put(Chunk chunk) {
    std::lock_guard lock(mu_);
    chunks_.push_back(std::move(chunk));
  }

  // An emptied chunk to fill: a returned one if there is one.
  Chunk Take() {
    Chunk chunk;
    {
      std::lock_guard lock(mu_);
      if (!chunks_.empty()) {
        chunk = std::move(chunks_.back());
        chunks_.pop_back();
      }
    }
    chunk.clear();  // here, on the thread that filled it
    return chunk;
  }

 private:
  std::mutex mu_;
  std::vector<Chunk> chunks_;
};

enum class Kind { kAdd, kUpdate, kDelete };

}  // namespace

Result<ImportKey> ParseImportKey(std::string_view name) {
  if (name == "id") return ImportKey::kId;
  if (name == "email") return ImportKey::kEmail;
  return Error::InvalidArgument(
      "invalid_import_key",
      "unknown import key \"" + std::string(name) + "\"; use id or email");
}

bool IsValidSourceName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

std::string ImportReport::ToJson(std::string_view source) const {
  json::object o;
  o["source"] = source;
  o["dry_run"] = dry_run;
  o["records"] = records;
  o["added"] = added;
  o["updated"] = updated;
  o["deleted"] = deleted;
  o["unchanged"] = unchanged;
  o["rejected"] = rejected;
  o["ignored"] = ignored;
  json::array errs;
  for (const LineError& e : errors) {
    errs.push_back(json::object{{"line", e.line}, {"message", e.message}});
  }
  o["errors"] = std::move(errs);
  json::array warns;
  for (const std::string& w : warnings) warns.push_back(json::string(w));
  o["warnings"] = std::move(warns);
  if (deletes_skipped) o["deletes_skipped"] = deletes_skipped_reason;
  o["first_seq"] = first_seq;
  o["last_seq"] = last_seq;
  return json::serialize(o);
}

// The import runs as a pipeline joined by bounded queues of record chunks:
//
//                      ┌► converter 0 ─┐
//   caller (Feed) ─────┤               ├──► applier
//   read records       └► converter 1 ─┘    duplicates, compare digests,
//   (chunk k goes to      key, id,          look up new ids, batch, write
//    converter k % N)     validate,         (takes chunk k from converter
//                         canonical,         k % N, so in file order)
//                         digest
//
// Converting is the costliest step, so it runs on as many threads as the
// machine has cores (at most kMaxConverters); the reader and the applier
// are one thread each. Chunks reach the applier in file order, so it
// decides exactly as one thread reading record after record would. The
// caller thread owns the reader; the applier owns the report, the batch
// and every decision. Finish (or a reader error) closes the queues and
// joins the threads, after which the caller thread owns everything again.
struct SnapshotImport::State {
  Directory& dir;
  std::string domain;
  int64_t domain_id = 0;
  ImportOptions opts;
  std::string actor;

  // What the source owned at Start: the entries in scan order (a deque, so
  // that they never move) and an open-addressing index of them by key.
  std::deque<Entry> entries;
  boost::unordered_flat_map<std::string, Entry*> by_key;
  boost::unordered_flat_map<std::string, uint64_t> new_keys;  // key -> line
  boost::unordered_flat_map<std::string, uint64_t> new_ids;   // id -> line
  uint64_t unkeyed = 0;  // records whose key could not be read

  std::vector<ChangeRequest> batch;
  std::vector<std::pair<uint64_t, Kind>> batch_info;  // line, kind

  ImportReport report;
  Status fatal = Ok{};  // the applier's, while the pipeline runs
  std::atomic<bool> failed = false;  // fatal is set (read it after a join)
  bool finished = false;

  struct Converter {
    BoundedQueue<RecordChunk> in{kQueuedChunks};
    BoundedQueue<ConvertedChunk> out{kQueuedChunks};
    ReturnTray<ConvertedChunk> spent;  // back from the applier
    std::thread thread;
  };
  RecordChunk filling;  // the caller's chunk being read
  uint64_t chunks_read = 0;
  ReturnTray<RecordChunk> read_chunks;  // back to the caller
  std::vector<std::unique_ptr<Converter>> converters;
  std::thread applier;
  // After the chunks, so destroyed before them: a record it is building
  // lives in the filling chunk's arena.
  std::unique_ptr<SourceReader> reader;

  State(Directory& d, std::string dom, ImportOptions o, std::string a)
      : dir(d), domain(std::move(dom)), opts(std::move(o)), actor(std::move(a)) {}

  ~State() { Stop(/*drain=*/false); }

  // What the source owns, into `entries`. `expected` sizes the index (the
  // domain's live contacts).
  Status ReadSource(size_t expected) {
    by_key.reserve(expected);
    return dir.store().SourceContacts(
        domain_id, opts.source, [&](const SourceRow& row) {
          auto [it, fresh] = by_key.try_emplace(std::string(row.source_key));
          if (!fresh) return true;  // a key belongs to one contact (store.h)
          Entry& e = entries.emplace_back();
          it->second = &e;
          e.id = std::string(row.id);
          e.seq = row.seq;
          e.live = !row.deleted;
          if (e.live) e.digest = DigestOf(ContentOfStoredJson(row.json));
          return true;
        });
  }

  void StartPipeline() {
    reader->UseStorage(filling.storage());
    const size_t n = std::clamp<size_t>(std::thread::hardware_concurrency(), 1,
                                        kMaxConverters);
    for (size_t i = 0; i < n; ++i) {
      Converter& cv = *converters.emplace_back(std::make_unique<Converter>());
      cv.thread = std::thread([this, &cv] {
        while (auto chunk = cv.in.Pop()) {
          ConvertedChunk out = cv.spent.Take();
          Convert(*chunk, out);
          read_chunks.Put(std::move(*chunk));
          if (!cv.out.Push(std::move(out))) break;
        }
        cv.out.Close();
      });
    }
    applier = std::thread([this] {
      for (uint64_t k = 0;; ++k) {
        Converter& cv = *converters[k % converters.size()];
        auto chunk = cv.out.Pop();
        if (!chunk) break;  // chunk k was never read: the file ended
        Apply(*chunk);
        cv.spent.Put(std::move(*chunk));
        if (!fatal.ok()) {
          failed = true;
          CancelQueues();
          break;
        }
      }
    });
  }

  void CancelQueues() {
    for (auto& cv : converters) {
      cv->in.Cancel();
      cv->out.Cancel();
    }
  }

  // Ends the pipeline: with `drain`, after every record read so far has
  // been applied; without, at once, dropping what is queued.
  void Stop(bool drain) {
    if (drain) {
      if (filling.size() != 0) PushFilling();
      for (auto& cv : converters) cv->in.Close();
    } else {
      CancelQueues();
    }
    for (auto& cv : converters) {
      if (cv->thread.joinable()) cv->thread.join();
    }
    if (applier.joinable()) applier.join();
  }

  // The caller's sink: records gather into chunks for the converters.
  void OnRecord(SourceRecord&& r) {
    if (failed.load(std::memory_order_relaxed)) return;
    filling.records.push_back(std::move(r));
    if (filling.size() < kChunkRecords) return;
    PushFilling();
    filling = read_chunks.Take();
    reader->UseStorage(filling.storage());
  }

  void PushFilling() {
    Converter& cv = *converters[chunks_read++ % converters.size()];
    cv.in.Push(std::move(filling));  // false: the applier failed
  }

  void Reject(uint64_t line, std::string message) {
    ++report.rejected;
    if (report.errors.size() < opts.max_reported_errors) {
      report.errors.push_back({line, std::move(message)});
    }
  }

  // The record's key, "" if it has none.
  std::string KeyOf(const json::object& c) const {
    if (opts.key == ImportKey::kId) {
      const json::value* id = c.if_contains("id");
      return id && id->is_string() ? std::string(id->get_string()) : "";
    }
    const json::value* emails = c.if_contains("emails");
    if (!emails || !emails->is_array() || emails->get_array().empty()) return "";
    const json::value& first = emails->get_array()[0];
    if (!first.is_object()) return "";
    const json::value* a = first.get_object().if_contains("address");
    return a && a->is_string() ? AsciiLower(a->get_string()) : "";
  }

  std::string DerivedId(const std::string& key) const {
    if (IsValidContactId(key)) return key;
    std::string data = opts.source;
    data.push_back('\0');
    data += key;
    return opts.source + "-" + crypto::Hex(crypto::Sha256(data)).substr(0, 20);
  }

  // The converter's stage: everything about a record that needs no state
  // but the entries' ids (fixed since Start).
  void Convert(RecordChunk& chunk, ConvertedChunk& out) {
    out.resize(chunk.size());
    for (size_t i = 0; i < chunk.size(); ++i) {
      SourceRecord& r = chunk.records[i];
      Converted& c = out[i];  // may hold an earlier record: reset it
      c.line = r.line;
      c.key.clear();
      c.entry = nullptr;
      c.error.clear();
      c.id.clear();
      c.content.clear();
      c.current.reset();
      if (!r.error.empty()) {
        c.error = std::move(r.error);
        continue;
      }
      c.key = KeyOf(r.contact);
      if (c.key.empty()) {
        c.error = opts.key == ImportKey::kId
                      ? "the record has no id, and the import is keyed by id"
                      : "the record has no e-mail address, and the import is "
                        "keyed by e-mail";
        continue;
      }
      const json::value* given = r.contact.if_contains("id");
      const json::string* given_id = given ? given->if_string() : nullptr;
      if (auto it = by_key.find(c.key); it != by_key.end()) {
        c.entry = it->second;
        c.id = c.entry->id;
        if (given_id && *given_id != c.id) {
          c.error = "the record's id \"" + std::string(*given_id) +
                    "\" differs from \"" + c.id + "\", the id its key \"" +
                    c.key +
                    "\" was imported with; a contact's id never changes";
          continue;
        }
      } else {
        c.id = given_id ? std::string(*given_id) : DerivedId(c.key);
      }
      r.contact["id"] = c.id;
      auto contact = ContactFromJson(r.contact);
      if (!contact) {
        c.error = std::move(contact).error().message;
        continue;
      }
      c.content = CanonicalContentJson(*contact);
      c.digest = DigestOf(c.content);
    }
  }

  // The applier's stage, one chunk: the stored state of the chunk's new ids
  // in one read, then each record in order.
  void Apply(ConvertedChunk& chunk) {
    std::vector<std::string> ids;
    std::vector<Converted*> asking;
    for (Converted& c : chunk) {
      if (!c.key.empty() && c.entry == nullptr && c.error.empty()) {
        ids.push_back(c.id);
        asking.push_back(&c);
      }
    }
    if (!ids.empty()) {
      auto current = dir.store().GetContacts(domain_id, ids);
      if (!current) {
        fatal = std::move(current).error();
        return;
      }
      for (size_t i = 0; i < asking.size(); ++i) {
        asking[i]->current = std::move((*current)[i]);
      }
    }
    for (Converted& c : chunk) {
      ApplyOne(c);
      c.current.reset();  // the applier's, so freed here
      if (!fatal.ok()) return;
    }
  }

  void ApplyOne(Converted& r) {
    ++report.records;
    if (r.key.empty()) {
      ++unkeyed;
      Reject(r.line, r.error);
      return;
    }
    uint64_t& seen = r.entry ? r.entry->seen_line
                             : new_keys.try_emplace(r.key, 0).first->second;
    if (seen != 0) {
      Reject(r.line, "duplicate key \"" + r.key + "\": line " +
                         std::to_string(seen) + " has it too");
      return;
    }
    seen = r.line;
    if (!r.error.empty()) {
      Reject(r.line, r.error);
      return;
    }
    // Copies, not moves: the converter frees the record's strings.
    ChangeRequest ch;
    ch.id = r.id;
    ch.content_json = r.content;
    ch.source = opts.source;
    ch.source_key = r.key;
    if (const Entry* e = r.entry) {
      if (e->live && e->digest == r.digest) {
        ++report.unchanged;
        return;
      }
      if (e->live) {
        ch.if_match = std::to_string(e->seq);
      } else {
        ch.if_none_match = true;
      }
      Queue(std::move(ch), r.line, e->live ? Kind::kUpdate : Kind::kAdd);
      return;
    }
    // A key the source never had: its id must be free, or the source's own
    // under an earlier key (the person's e-mail address changed, say).
    if (auto [at, fresh] = new_ids.try_emplace(ch.id, r.line); !fresh) {
      Reject(r.line, "id \"" + ch.id + "\" is also the id of line " +
                         std::to_string(at->second));
      return;
    }
    const std::optional<StoredContact>& cur = r.current;
    if (!cur || cur->deleted) {
      ch.if_none_match = true;
      Queue(std::move(ch), r.line, Kind::kAdd);
      return;
    }
    if (cur->source != opts.source) {
      Reject(r.line,
             "contact \"" + ch.id + "\" already exists and belongs to " +
                 (cur->source.empty()
                      ? std::string("no source (it was written through the API)")
                      : "source \"" + cur->source + "\"") +
                 "; an import does not take over other contacts");
      return;
    }
    auto old = by_key.find(cur->source_key);
    if (old != by_key.end()) {
      if (old->second->seen_line != 0) {
        Reject(r.line, "id \"" + ch.id + "\" is also the id of line " +
                           std::to_string(old->second->seen_line));
        return;
      }
      old->second->seen_line = r.line;  // re-keyed, not missing
    }
    ch.if_match = std::to_string(cur->seq);
    Queue(std::move(ch), r.line, Kind::kUpdate);
  }

  void Queue(ChangeRequest ch, uint64_t line, Kind kind) {
    batch.push_back(std::move(ch));
    batch_info.emplace_back(line, kind);
    if (batch.size() >= opts.batch_changes) Flush();
  }

  void Count(Kind kind) {
    switch (kind) {
      case Kind::kAdd: ++report.added; break;
      case Kind::kUpdate: ++report.updated; break;
      case Kind::kDelete: ++report.deleted; break;
    }
  }

  void Took(const WriteResult& w) {
    if (w.first_seq == 0) return;
    if (report.first_seq == 0) report.first_seq = w.first_seq;
    report.last_seq = w.last_seq;
  }

  void Tally(const ChangeOutcome& o, Kind kind) {
    if (o.result == ChangeResult::kApplied) {
      Count(kind);
    } else if (o.result == ChangeResult::kUnchanged) {
      ++report.unchanged;
    }
  }

  // Applies the batch in one transaction. If another writer changed one of
  // its contacts since the import read it, the batch is applied change by
  // change and only the raced ones are rejected.
  void Flush() {
    if (batch.empty() || !fatal.ok()) return;
    if (opts.dry_run) {
      for (auto& [line, kind] : batch_info) Count(kind);
    } else if (auto w = dir.Write(domain, batch, actor); w.ok()) {
      Took(*w);
      for (size_t i = 0; i < batch.size(); ++i) {
        Tally(w->outcomes[i], batch_info[i].second);
      }
    } else if (w.error().kind != ErrorKind::kPreconditionFailed) {
      fatal = std::move(w).error();
    } else {
      for (size_t i = 0; i < batch.size() && fatal.ok(); ++i) {
        auto one = dir.Write(domain, std::span(&batch[i], 1), actor);
        if (one.ok()) {
          Took(*one);
          Tally(one->outcomes[0], batch_info[i].second);
        } else if (one.error().kind == ErrorKind::kPreconditionFailed) {
          Reject(batch_info[i].first,
                 "contact \"" + batch[i].id +
                     "\" was changed by another writer during the import; "
                     "import again to apply this record");
        } else {
          fatal = std::move(one).error();
        }
      }
    }
    batch.clear();
    batch_info.clear();
  }

  void DeleteMissing() {
    if (!opts.delete_missing) return;
    report.deletes_skipped = true;
    if (unkeyed > 0) {
      report.deletes_skipped_reason =
          std::to_string(unkeyed) +
          " records could not be read or have no key, so their contacts "
          "would look missing; nothing was deleted";
      return;
    }
    if (report.records == 0) {
      report.deletes_skipped_reason =
          "the file has no records; an empty snapshot deletes nothing";
      return;
    }
    report.deletes_skipped = false;
    for (const Entry& e : entries) {
      if (!e.live || e.seen_line != 0) continue;
      ChangeRequest ch;
      ch.op = ChangeOp::kDelete;
      ch.id = e.id;
      ch.if_match = std::to_string(e.seq);
      Queue(std::move(ch), 0, Kind::kDelete);
      if (!fatal.ok()) return;
    }
  }
};

SnapshotImport::SnapshotImport(std::unique_ptr<State> state)
    : s_(std::move(state)) {}
SnapshotImport::~SnapshotImport() = default;

Result<std::unique_ptr<SnapshotImport>> SnapshotImport::Start(
    Directory& directory, std::string_view domain, SourceFormat format,
    SourceOptions source_options, ImportOptions options, std::string actor) {
  if (!IsValidSourceName(options.source)) {
    return Error::InvalidArgument(
        "invalid_source",
        "source name \"" + options.source +
            "\" must be 1..64 characters of [a-z0-9._-] starting with a "
            "letter or digit");
  }
  if (options.source == "scim") {
    return Error::InvalidArgument(
        "reserved_source",
        "the source name \"scim\" belongs to SCIM provisioning "
        "(docs/scim.md); choose another");
  }
  const size_t max_batch = directory.options().max_batch_changes;
  if (options.batch_changes == 0 || options.batch_changes > max_batch) {
    options.batch_changes = max_batch;
  }
  auto reader = SourceReader::Create(format, std::move(source_options));
  if (!reader) return std::move(reader).error();
  auto info = directory.GetDomain(domain);
  if (!info) return std::move(info).error();

  auto s = std::make_unique<State>(directory, std::string(domain),
                                   std::move(options), std::move(actor));
  s->domain_id = info->id;
  s->reader = std::move(reader.value());
  s->report.dry_run = s->opts.dry_run;
  State& st = *s;
  if (auto read = st.ReadSource(info->live_count); !read.ok()) {
    return std::move(read).error();
  }
  st.StartPipeline();
  return std::unique_ptr<SnapshotImport>(new SnapshotImport(std::move(s)));
}

Status SnapshotImport::Feed(std::string_view bytes) {
  State& st = *s_;
  if (st.finished) return Error::Internal("import already finished");
  if (!st.failed) {
    auto read = st.reader->Feed(bytes, [&st](SourceRecord&& r) {
      st.OnRecord(std::move(r));
    });
    if (!read.ok()) {
      st.Stop(/*drain=*/true);  // the records before the bad one are good
      st.Flush();
      if (st.fatal.ok()) st.fatal = std::move(read);
      st.failed = true;
    }
  }
  if (!st.failed) return Ok{};
  st.Stop(/*drain=*/false);  // the applier failed: fatal is final once joined
  return st.fatal;
}

Result<ImportReport> SnapshotImport::Finish() {
  State& st = *s_;
  if (st.finished) return Error::Internal("import already finished");
  st.finished = true;
  if (st.failed) {
    st.Stop(/*drain=*/false);
    return st.fatal.error();
  }
  auto read = st.reader->Finish([&st](SourceRecord&& r) {
    st.OnRecord(std::move(r));
  });
  st.Stop(/*drain=*/true);
  if (!st.fatal.ok()) return st.fatal.error();
  st.Flush();
  if (!read.ok() && st.fatal.ok()) st.fatal = std::move(read);
  st.report.ignored = st.reader->ignored();
  st.report.warnings = st.reader->warnings();
  if (!st.fatal.ok()) return st.fatal.error();
  st.DeleteMissing();
  st.Flush();
  if (!st.fatal.ok()) return st.fatal.error();
  return st.report;
}

const ImportReport& SnapshotImport::Abandon() {
  s_->finished = true;
  s_->Stop(/*drain=*/false);
  return s_->report;
}

const ImportReport& SnapshotImport::progress() const { return s_->report; }

}  // namespace galsync
