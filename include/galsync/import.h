// Snapshot import: bring a domain in line with a full snapshot of one of its
// sources (an HR system's nightly CSV, an LDAP server's LDIF, ...) with the
// fewest changes, so that a re-import of a 99.9 % unchanged snapshot logs
// only the 0.1 % and clients download only that.
//
//   bytes ─► SourceReader ─► record ─► key ─► id ─► validate ─► canonical
//                                                                content
//     compare with what the source imported before (digest per key) ─┘
//       unchanged: nothing          new or different: upsert into the batch
//   batch full ─► Directory::Write (one transaction, contiguous seqs)
//   end of file ─► with delete_missing: delete what the source owned and
//                  the snapshot no longer has
//
// Ownership. Each contact an import writes records its owner in the store:
// the source's name and the record's key (ChangeRequest::source). Several
// sources can therefore feed one domain: an import compares against, and
// deletes among, only the contacts of its own source. A record whose id is
// a contact of another source, or one written through the API, is rejected
// rather than taken over.
//
// Keys. The admin chooses what identifies a person in the source: the
// record's id (ImportKey::kId: a CSV "id" column, a vCard UID, an LDIF uid)
// or its first e-mail address (kEmail, compared without ASCII case). A
// record without an id gets one derived from its key: the key itself when
// it is a valid contact id (an e-mail address usually is), otherwise
// "<source>-" and 20 hex digits of SHA-256(source, key). Ids never change:
// a record whose id differs from the id its key had is rejected.
//
// Safety. Changes are applied in batches, each atomic, with version checks
// (If-Match) against what the import read, so a writer racing the import
// is never overwritten blindly (its contact is reported as rejected). A
// crash mid-import leaves the batches before it applied and the rest not;
// running the import again finishes the job. Deletes happen only after the
// whole file was read, and not at all when any record could not be keyed
// (its contact would look missing) or the file has no records.
//
// Cost: the source's contacts are read once at Start (one scan, a 16-byte
// digest per contact kept in memory); each record then costs its parse,
// validation and canonical serialization and a hash lookup; only changed
// records reach the store, and the ids of new keys are looked up 256 at a
// time. The work runs as a pipeline on the machine's cores: the thread
// that calls Feed parses; converter threads (one per core, at most four)
// validate, serialize and hash; one applier thread compares, batches and
// writes. Records reach the applier in file order, so the result is that
// of one pass over the file. Memory stays flat: the queues between the
// stages hold a few chunks of 256 records.
//
// Thread-safety: an import is used by one thread at a time (its own
// threads are internal); imports of different sources may run
// concurrently. Destroying an import before Finish abandons it: queued
// records are dropped, batches already written stay (as after a crash).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "galsync/directory.h"
#include "galsync/source_reader.h"
#include "galsync/status.h"

namespace galsync {

enum class ImportKey { kId, kEmail };
// "id" | "email"; kInvalidArgument "invalid_import_key" otherwise.
Result<ImportKey> ParseImportKey(std::string_view name);

// Source names: 1..64 bytes of [a-z0-9._-], starting with a letter or digit.
bool IsValidSourceName(std::string_view name);

struct ImportOptions {
  std::string source;
  ImportKey key = ImportKey::kId;
  bool delete_missing = false;
  bool dry_run = false;            // report what would change; write nothing
  // Changes per transaction; 0 or more than the directory's maximum: that
  // maximum. Larger batches rewrite the id indexes' pages less often (an
  // import of ids in no order: 29 s for 1M in batches of 10,000, 75 s in
  // batches of 1,000); a batch holds the domain's writes while it commits.
  size_t batch_changes = 0;
  size_t max_reported_errors = 1000;
};

struct ImportReport {
  uint64_t records = 0;    // records read (people, valid or not)
  uint64_t added = 0;
  uint64_t updated = 0;
  uint64_t deleted = 0;
  uint64_t unchanged = 0;
  uint64_t rejected = 0;
  uint64_t ignored = 0;    // entries that are not people (SourceReader)
  struct LineError {
    uint64_t line;
    std::string message;
  };
  std::vector<LineError> errors;  // the first max_reported_errors
  std::vector<std::string> warnings;
  bool deletes_skipped = false;   // delete_missing was asked and not done
  std::string deletes_skipped_reason;
  uint64_t first_seq = 0;         // seqs the import took; 0 if none
  uint64_t last_seq = 0;
  bool dry_run = false;

  // {"source":..,"dry_run":..,"records":..,"added":..,"updated":..,
  //  "deleted":..,"unchanged":..,"rejected":..,"ignored":..,
  //  "errors":[{"line":..,"message":..}],"warnings":[..],
  //  "deletes_skipped":".."(only when skipped),"first_seq":..,"last_seq":..}
  std::string ToJson(std::string_view source) const;
};

class SnapshotImport {
 public:
  // Checks the options and reads what `options.source` owns in `domain`.
  // `actor` is recorded in the history of every change.
  static Result<std::unique_ptr<SnapshotImport>> Start(
      Directory& directory, std::string_view domain, SourceFormat format,
      SourceOptions source_options, ImportOptions options, std::string actor);
  ~SnapshotImport();

  // The next bytes of the file. Records are applied behind the reader, so
  // an error may surface at a later Feed or at Finish. An error ends the
  // import: the reader could not go on (every record before the bad one is
  // then applied), or the store failed. Batches applied before stay
  // applied.
  Status Feed(std::string_view bytes);
  // The file is complete: reads the last record, applies the rest and the
  // deletes. On error the report so far is still in progress().
  Result<ImportReport> Finish();

  // Ends the import without finishing it (the upload broke off): queued
  // records are dropped, batches already written stay. Returns the counts
  // of what was applied; Feed and Finish fail from then on.
  const ImportReport& Abandon();

  // The counts of what was applied, once Feed or Finish has returned an
  // error or Abandon was called (while the import runs, its threads update
  // them).
  const ImportReport& progress() const;

 private:
  struct State;
  explicit SnapshotImport(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace galsync
