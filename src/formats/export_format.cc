// ExportFormat (galsync/export.h): a whole export file in one of the
// formats the importer reads, one writer per format.
#include <string>
#include <string_view>

#include "galsync/export.h"

namespace galsync {

Result<ExportFormat> ExportFormat::Parse(std::string_view name,
                                         std::string_view vcard_version) {
  auto format = ParseSourceFormat(name);
  if (!format) return std::move(format).error();
  ExportFormat f;
  f.format = *format;
  if (vcard_version.empty()) return f;
  if (f.format != SourceFormat::kVCard) {
    return Error::InvalidArgument(
        "invalid_vcard_version", "a vCard version goes with the vcard format");
  }
  if (vcard_version == "3.0" || vcard_version == "3") {
    f.vcard_version = VCardVersion::k30;
  } else if (vcard_version != "4.0" && vcard_version != "4") {
    return Error::InvalidArgument(
        "invalid_vcard_version",
        "the vCard version is 4.0 or 3.0, not \"" +
            std::string(vcard_version.substr(0, 16)) + "\"");
  }
  return f;
}

std::string_view ExportFormat::MediaType() const {
  switch (format) {
    case SourceFormat::kCsv: return "text/csv; charset=utf-8; header=present";
    case SourceFormat::kVCard: return "text/vcard; charset=utf-8";
    case SourceFormat::kLdif: return "text/x-ldif; charset=utf-8";
    case SourceFormat::kJsonLines: return "application/jsonl";
  }
  return "application/octet-stream";
}

std::string ExportFormat::Begin() const {
  switch (format) {
    case SourceFormat::kCsv: return CsvHeader();
    case SourceFormat::kLdif: return LdifHeader();
    case SourceFormat::kVCard:
    case SourceFormat::kJsonLines: return {};
  }
  return {};
}

std::string_view ExportFormat::FileExtension() const {
  switch (format) {
    case SourceFormat::kCsv: return "csv";
    case SourceFormat::kVCard: return "vcf";
    case SourceFormat::kLdif: return "ldif";
    case SourceFormat::kJsonLines: return "jsonl";
  }
  return "txt";
}

std::string ExportFormat::Entry(const Contact& c) const {
  switch (format) {
    case SourceFormat::kCsv: return ContactToCsvRow(c);
    case SourceFormat::kVCard: return ContactToVCard(c, vcard_version);
    case SourceFormat::kLdif:
      if (c.domain != ldif_domain_) {
        ldif_domain_ = c.domain;
        ldif_base_dn_ = LdifBaseDn(c.domain);
      }
      return ContactToLdif(c, ldif_base_dn_);
    case SourceFormat::kJsonLines: return ContactToJsonLine(c);
  }
  return {};
}

}  // namespace galsync
