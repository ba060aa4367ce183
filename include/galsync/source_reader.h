// Source readers: turn a file that some other system exported (an HR
// system's CSV, an address book's vCards, an LDAP server's LDIF, galsync's
// own JSON lines) into contacts, one record at a time, as its bytes arrive.
//
//   bytes ──Feed──► lines (CRLF or LF; line numbers) ──► format's records
//                                                          └─► sink(SourceRecord)
//
// A reader is a push parser: it never holds more than one record (and one
// unfinished line) in memory, so a file of any size streams through it, as
// an upload does through the import endpoint.
//
// What comes out is the record's contact as a JSON object in the API's
// shape (docs/api.md, "Contact"), not yet validated: the caller validates it
// with ContactFromJson, so a record gets exactly the errors a PUT of the
// same contact would. A record the reader cannot make sense of (a CSV row
// with the wrong number of fields, an LDIF change record, JSON that does not
// parse) comes out with `error` set instead, naming what is wrong; reading
// goes on with the next record. Errors that leave the rest of the file
// unreadable (a header the CSV mapping cannot use, a line longer than
// max_line_bytes) end reading: Feed or Finish returns them.
//
// Formats, and how each maps onto a contact (docs/import.md has the tables):
//   csv    RFC 4180 with a header row; UTF-8 with or without a byte order
//          mark; quoted fields may hold commas, quotes and line breaks.
//          Columns are recognised by name: galsync's own export columns
//          (galsync/export.h), Outlook's and Google's export columns;
//          SourceOptions::columns maps any other header.
//   vcard  vCard 3.0 and 4.0 (RFC 2426, RFC 6350): folded lines, escapes,
//          parameters, group prefixes; several cards in one file. The
//          inverse of galsync's vCard writer.
//   ldif   RFC 2849 content records of person entries (inetOrgPerson and
//          its ancestors): continuation lines, base64 ("::") values,
//          comments. Entries that are not people (an organizationalUnit)
//          are counted in ignored(); change records are errors.
//   jsonl  one contact JSON object per line, as `galsync export --format
//          json` and the server's export write them.
//
// Thread-safety: a reader is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "galsync/status.h"

namespace galsync {

enum class SourceFormat { kCsv, kVCard, kLdif, kJsonLines };

// "csv", "vcard", "ldif", "jsonl" (also "json"); kInvalidArgument
// "invalid_format" otherwise.
Result<SourceFormat> ParseSourceFormat(std::string_view name);
std::string_view SourceFormatName(SourceFormat f);

struct SourceLimits {
  // A physical line, and a whole record (a CSV row with its quoted line
  // breaks, a vCard, an LDIF entry). Beyond either, reading stops with
  // "record_too_large": no real directory entry comes near 1 MiB.
  size_t max_line_bytes = 1 << 20;
  size_t max_record_bytes = 1 << 20;
};

struct SourceOptions {
  SourceLimits limits;
  // CSV only: header name -> field, overriding the recognised names. Fields
  // are galsync's CSV column names (id, full_name, given_name, emails, ...)
  // and single typed values: "email" or "email.<work|home|other>",
  // "phone" or "phone.<work|home|mobile|fax|pager|other>", "link" or
  // "link.<type>", "extra.<key>", and "ignore". Header names compare
  // without regard to ASCII case and surrounding spaces.
  std::vector<std::pair<std::string, std::string>> columns;
};

struct SourceRecord {
  uint64_t line = 0;            // the record's first line, 1-based
  boost::json::object contact;  // API shape; empty when error is set
  std::string error;            // why the record could not be read
};
using RecordSink = std::function<void(SourceRecord&&)>;

class SourceReader {
 public:
  // kInvalidArgument "invalid_column_mapping" for a mapping to no field.
  static Result<std::unique_ptr<SourceReader>> Create(SourceFormat format,
                                                      SourceOptions options);
  virtual ~SourceReader() = default;

  // Reads the next bytes of the file, passing each complete record to
  // `sink`. After an error, the reader stays failed.
  Status Feed(std::string_view bytes, const RecordSink& sink);
  // The file has ended: passes the last record, or says it is cut short.
  Status Finish(const RecordSink& sink);

  // Builds the records begun after this call in `storage` (by default, on
  // the heap). Whoever passes it keeps its memory resource alive as long as
  // those records. A snapshot import gives each chunk of records an arena,
  // so that reading allocates by bumping a pointer and a spent chunk is
  // freed at once.
  void UseStorage(boost::json::storage_ptr storage) {
    storage_ = std::move(storage);
  }

  // Entries read and skipped because they describe no person.
  uint64_t ignored() const { return ignored_; }
  // Things worth telling whoever imports the file, e.g. the CSV columns
  // that were not used.
  const std::vector<std::string>& warnings() const { return warnings_; }

 protected:
  explicit SourceReader(SourceLimits limits) : limits_(limits) {}
  // One physical line, without its line break; `number` is 1-based.
  virtual Status Line(std::string_view line, uint64_t number,
                      const RecordSink& sink) = 0;
  // After the last line.
  virtual Status End(const RecordSink& sink) = 0;

  // A record of line `line` whose contact is an empty object in the
  // reader's storage; build its contact in the same storage
  // (ContactObject(storage_)), or assigning it copies.
  SourceRecord NewRecord(uint64_t line) const {
    return SourceRecord{line, boost::json::object(storage_), {}};
  }

  const SourceLimits limits_;
  boost::json::storage_ptr storage_;
  uint64_t ignored_ = 0;
  std::vector<std::string> warnings_;

 private:
  Status TakeLine(std::string_view line, const RecordSink& sink);

  std::string partial_;  // an unfinished line from the previous Feed
  uint64_t line_number_ = 0;
  Status failed_ = Ok{};
  bool finished_ = false;
};

// The error a reader gives for a record over the limits, for line `line`.
Error RecordTooLarge(uint64_t line, size_t limit);

}  // namespace galsync
