// SnapshotImport (galsync/import.h).
#include "galsync/import.h"

#include <array>
#include <cstring>
#include <unordered_map>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "formats/contact_object.h"
#include "galsync/contact.h"
#include "util/ascii.h"
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

// What the import knows of one key of its source.
struct Entry {
  std::string id;
  Digest digest{};
  uint64_t seq = 0;        // the version the import read (for If-Match)
  bool known = false;      // the source owned a contact with this key
  bool live = false;       // ... and it is not deleted
  uint64_t seen_line = 0;  // the record of this import with the key; 0: none
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

struct SnapshotImport::State {
  Directory& dir;
  std::string domain;
  int64_t domain_id = 0;
  ImportOptions opts;
  std::string actor;
  std::unique_ptr<SourceReader> reader;

  std::unordered_map<std::string, Entry> entries;  // by key
  std::unordered_map<std::string, uint64_t> new_ids;  // id -> line
  uint64_t unkeyed = 0;  // records whose key could not be read

  std::vector<ChangeRequest> batch;
  std::vector<std::pair<uint64_t, Kind>> batch_info;  // line, kind

  ImportReport report;
  Status fatal = Ok{};
  bool finished = false;

  State(Directory& d, std::string dom, ImportOptions o, std::string a)
      : dir(d), domain(std::move(dom)), opts(std::move(o)), actor(std::move(a)) {}

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

  void OnRecord(SourceRecord&& r) {
    if (!fatal.ok()) return;
    ++report.records;
    if (!r.error.empty()) {
      ++unkeyed;
      Reject(r.line, std::move(r.error));
      return;
    }
    std::string key = KeyOf(r.contact);
    if (key.empty()) {
      ++unkeyed;
      Reject(r.line, opts.key == ImportKey::kId
                         ? "the record has no id, and the import is keyed by id"
                         : "the record has no e-mail address, and the import "
                           "is keyed by e-mail");
      return;
    }
    auto [it, inserted] = entries.try_emplace(key);
    Entry& e = it->second;
    if (e.seen_line != 0) {
      Reject(r.line, "duplicate key \"" + key + "\": line " +
                         std::to_string(e.seen_line) + " has it too");
      return;
    }
    e.seen_line = r.line;

    const json::value* given = r.contact.if_contains("id");
    const json::string* given_id = given ? given->if_string() : nullptr;
    std::string id;
    if (e.known) {
      if (given_id && *given_id != e.id) {
        Reject(r.line, "the record's id \"" + std::string(*given_id) +
                           "\" differs from \"" + e.id +
                           "\", the id its key \"" + key +
                           "\" was imported with; a contact's id never changes");
        return;
      }
      id = e.id;
    } else {
      id = given_id ? std::string(*given_id) : DerivedId(key);
    }
    r.contact["id"] = id;
    auto c = ContactFromJson(r.contact);
    if (!c) {
      Reject(r.line, std::move(c).error().message);
      return;
    }
    ChangeRequest ch;
    ch.id = id;
    ch.content_json = CanonicalContentJson(*c);
    ch.source = opts.source;
    ch.source_key = key;
    const Digest digest = DigestOf(ch.content_json);
    if (e.known) {
      if (e.live && e.digest == digest) {
        ++report.unchanged;
        return;
      }
      if (e.live) {
        ch.if_match = std::to_string(e.seq);
      } else {
        ch.if_none_match = true;
      }
      Queue(std::move(ch), r.line, e.live ? Kind::kUpdate : Kind::kAdd);
      return;
    }
    // A key the source never had: its id must be free, or the source's own
    // under an earlier key (the person's e-mail address changed, say).
    if (auto [at, fresh] = new_ids.try_emplace(id, r.line); !fresh) {
      Reject(r.line, "id \"" + id + "\" is also the id of line " +
                         std::to_string(at->second));
      return;
    }
    auto cur = dir.store().GetContact(domain_id, id);
    if (!cur) {
      if (cur.error().kind != ErrorKind::kNotFound) {
        fatal = std::move(cur).error();
        return;
      }
      ch.if_none_match = true;
      Queue(std::move(ch), r.line, Kind::kAdd);
      return;
    }
    if (cur->deleted) {
      ch.if_none_match = true;
      Queue(std::move(ch), r.line, Kind::kAdd);
      return;
    }
    if (cur->source != opts.source) {
      Reject(r.line,
             "contact \"" + id + "\" already exists and belongs to " +
                 (cur->source.empty()
                      ? std::string("no source (it was written through the API)")
                      : "source \"" + cur->source + "\"") +
                 "; an import does not take over other contacts");
      return;
    }
    auto old = entries.find(cur->source_key);
    if (old != entries.end()) {
      if (old->second.seen_line != 0) {
        Reject(r.line, "id \"" + id + "\" is also the id of line " +
                           std::to_string(old->second.seen_line));
        return;
      }
      old->second.seen_line = r.line;  // re-keyed, not missing
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
    for (auto& [key, e] : entries) {
      if (!e.known || !e.live || e.seen_line != 0) continue;
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
  auto scanned = directory.store().SourceContacts(
      info->id, st.opts.source, [&st](const SourceRow& row) {
        Entry& e = st.entries[std::string(row.source_key)];
        e.id = std::string(row.id);
        e.seq = row.seq;
        e.known = true;
        e.live = !row.deleted;
        if (e.live) e.digest = DigestOf(ContentOfStoredJson(row.json));
        return true;
      });
  if (!scanned) return std::move(scanned).error();
  return std::unique_ptr<SnapshotImport>(new SnapshotImport(std::move(s)));
}

Status SnapshotImport::Feed(std::string_view bytes) {
  if (!s_->fatal.ok()) return s_->fatal;
  if (s_->finished) return Error::Internal("import already finished");
  State& st = *s_;
  auto read = st.reader->Feed(bytes, [&st](SourceRecord&& r) {
    st.OnRecord(std::move(r));
  });
  if (!read.ok()) {
    st.Flush();  // the records before the bad one are good
    if (st.fatal.ok()) st.fatal = std::move(read);
  }
  return st.fatal;
}

Result<ImportReport> SnapshotImport::Finish() {
  State& st = *s_;
  if (!st.fatal.ok()) return st.fatal.error();
  if (st.finished) return Error::Internal("import already finished");
  st.finished = true;
  auto read = st.reader->Finish([&st](SourceRecord&& r) {
    st.OnRecord(std::move(r));
  });
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

const ImportReport& SnapshotImport::progress() const { return s_->report; }

}  // namespace galsync
