// SourceReader's line splitting, the factory, and the JSON lines reader.
#include "galsync/source_reader.h"

#include <boost/json/parser.hpp>
#include <boost/json/monotonic_resource.hpp>

#include "formats/readers.h"
#include "galsync/contact.h"

namespace galsync {
namespace json = boost::json;

Result<SourceFormat> ParseSourceFormat(std::string_view name) {
  if (name == "csv") return SourceFormat::kCsv;
  if (name == "vcard" || name == "vcf") return SourceFormat::kVCard;
  if (name == "ldif") return SourceFormat::kLdif;
  if (name == "jsonl" || name == "json") return SourceFormat::kJsonLines;
  return Error::InvalidArgument(
      "invalid_format", "unknown format \"" + std::string(name) +
                            "\"; use csv, vcard, ldif or jsonl");
}

std::string_view SourceFormatName(SourceFormat f) {
  switch (f) {
    case SourceFormat::kCsv: return "csv";
    case SourceFormat::kVCard: return "vcard";
    case SourceFormat::kLdif: return "ldif";
    case SourceFormat::kJsonLines: return "jsonl";
  }
  return "?";
}

Error RecordTooLarge(uint64_t line, size_t limit) {
  return Error{ErrorKind::kPayloadTooLarge, "record_too_large",
               "line " + std::to_string(line) + ": the record is longer than " +
                   std::to_string(limit) +
                   " bytes; the rest of the file was not read"};
}

Result<std::unique_ptr<SourceReader>> SourceReader::Create(
    SourceFormat format, SourceOptions options) {
  if (format != SourceFormat::kCsv && !options.columns.empty()) {
    return Error::InvalidArgument(
        "invalid_column_mapping", "a column mapping applies to CSV only");
  }
  switch (format) {
    case SourceFormat::kCsv: return formats::NewCsvReader(std::move(options));
    case SourceFormat::kVCard: return formats::NewVCardReader(std::move(options));
    case SourceFormat::kLdif: return formats::NewLdifReader(std::move(options));
    case SourceFormat::kJsonLines:
      return formats::NewJsonLinesReader(std::move(options));
  }
  return Error::Internal("unknown source format");
}

Status SourceReader::Feed(std::string_view bytes, const RecordSink& sink) {
  if (!failed_.ok()) return failed_;
  while (!bytes.empty()) {
    const size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      if (partial_.size() + bytes.size() > limits_.max_line_bytes) {
        failed_ = RecordTooLarge(line_number_ + 1, limits_.max_line_bytes);
        return failed_;
      }
      partial_.append(bytes);
      return Ok{};
    }
    std::string_view line = bytes.substr(0, nl);
    bytes.remove_prefix(nl + 1);
    Status st = Ok{};
    if (partial_.empty()) {
      st = TakeLine(line, sink);
    } else {
      partial_.append(line);
      st = TakeLine(partial_, sink);
      partial_.clear();
    }
    if (!st.ok()) {
      failed_ = std::move(st);
      return failed_;
    }
  }
  return Ok{};
}

Status SourceReader::Finish(const RecordSink& sink) {
  if (!failed_.ok()) return failed_;
  if (finished_) return Ok{};
  finished_ = true;
  if (!partial_.empty()) {
    std::string last = std::move(partial_);
    partial_.clear();
    if (auto st = TakeLine(last, sink); !st.ok()) {
      failed_ = std::move(st);
      return failed_;
    }
  }
  auto st = End(sink);
  if (!st.ok()) failed_ = st;
  return st;
}

Status SourceReader::TakeLine(std::string_view line, const RecordSink& sink) {
  ++line_number_;
  if (line.size() > limits_.max_line_bytes) {
    return RecordTooLarge(line_number_, limits_.max_line_bytes);
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return Line(line, line_number_, sink);
}

namespace formats {
namespace {

// One contact JSON object per line; blank lines are skipped.
class JsonLinesReader final : public SourceReader {
 public:
  explicit JsonLinesReader(SourceOptions o) : SourceReader(o.limits) {}

 protected:
  Status Line(std::string_view line, uint64_t number,
              const RecordSink& sink) override {
    if (line.find_first_not_of(" \t") == std::string_view::npos) return Ok{};
    if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    SourceRecord r = NewRecord(number);
    constexpr int kMaxDepth = 16;  // as for the API's contact bodies
    json::parse_options options;
    options.max_depth = kMaxDepth;
    json::parser parser(json::storage_ptr(), options);
    parser.reset(storage_);  // the value is built in the record's storage
    json::error_code ec;
    const size_t consumed = parser.write(line.data(), line.size(), ec);
    if (ec) {
      r.error = JsonSyntaxError(line, ec, consumed, kMaxDepth).message;
    } else if (json::value v = parser.release(); !v.is_object()) {
      r.error = "a line must hold one JSON object (a contact)";
    } else {
      r.contact = std::move(v.get_object());
    }
    sink(std::move(r));
    return Ok{};
  }
  Status End(const RecordSink&) override { return Ok{}; }
};

}  // namespace

std::unique_ptr<SourceReader> NewJsonLinesReader(SourceOptions options) {
  return std::make_unique<JsonLinesReader>(std::move(options));
}

}  // namespace formats
}  // namespace galsync
