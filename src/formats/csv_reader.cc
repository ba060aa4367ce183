// The CSV source reader (galsync/source_reader.h; docs/import.md has the
// column names it knows).
//
// Reading is two layers: an RFC 4180 tokenizer that turns physical lines
// into records of fields (a quoted field may span lines), and a header
// mapping that turns each record into a contact: every header name resolves
// once, when the header is read, to a Column that says which contact field
// a cell fills.
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "formats/contact_object.h"
#include "formats/readers.h"

namespace galsync::formats {
namespace {

enum class Target {
  kIgnore,
  kText,        // top-level member `arg`
  kName,        // name.<arg>
  kOffice,      // office.<arg>
  kEmail,       // one address of type `arg`
  kPhone,       // one number of type `arg`
  kLink,        // one URI of type `arg`
  kExtra,       // extra.<arg>
  kEmailFirst,  // galsync's "email": the preferred address, also in "emails"
  kPhoneFirst,  // galsync's "phone"
  kEmailList,   // galsync's "emails": "<type>: <address>" per line
  kPhoneList,
  kLinkList,
  kExtraList,   // galsync's "extra": "<key>: <value>" per line
  kGroupType,   // Google's "E-mail 1 - Type": the type of group `group`
  kGroupValue,  // Google's "E-mail 1 - Value": values (" ::: " between)
};

struct Column {
  Target target = Target::kIgnore;
  std::string arg;
  char kind = 0;   // groups: 'e' e-mail, 'p' phone, 'w' website
  int group = 0;
};

constexpr std::string_view kEmailTypes[] = {"work", "home", "other"};
constexpr std::string_view kPhoneTypes[] = {"work", "home",  "mobile",
                                            "fax",  "pager", "other"};

template <size_t N>
bool OneOf(std::string_view v, const std::string_view (&set)[N]) {
  for (std::string_view s : set) {
    if (s == v) return true;
  }
  return false;
}

// galsync's own columns (galsync/export.h) and the fields an explicit
// mapping may name; both resolve here.
std::optional<Column> FieldColumn(std::string_view f, bool explicit_mapping) {
  static const std::map<std::string_view, Column, std::less<>> kFields = {
      {"id", {Target::kText, "id"}},
      {"full_name", {Target::kName, "full"}},
      {"name_prefix", {Target::kName, "prefix"}},
      {"given_name", {Target::kName, "given"}},
      {"middle_name", {Target::kName, "middle"}},
      {"family_name", {Target::kName, "family"}},
      {"name_suffix", {Target::kName, "suffix"}},
      {"nickname", {Target::kText, "nickname"}},
      {"emails", {Target::kEmailList, ""}},
      {"phones", {Target::kPhoneList, ""}},
      {"title", {Target::kText, "title"}},
      {"department", {Target::kText, "department"}},
      {"organization", {Target::kText, "organization"}},
      {"manager", {Target::kText, "manager"}},
      {"office_room", {Target::kOffice, "room"}},
      {"office_street", {Target::kOffice, "street"}},
      {"office_locality", {Target::kOffice, "locality"}},
      {"office_region", {Target::kOffice, "region"}},
      {"office_postcode", {Target::kOffice, "postcode"}},
      {"office_country", {Target::kOffice, "country"}},
      {"links", {Target::kLinkList, ""}},
      {"photo", {Target::kText, "photo"}},
      {"extra", {Target::kExtraList, ""}},
      {"updated", {Target::kIgnore, ""}},  // server-maintained
      {"ignore", {Target::kIgnore, ""}},
  };
  if (auto it = kFields.find(f); it != kFields.end()) return it->second;
  if (f == "email") {
    return explicit_mapping ? Column{Target::kEmail, "work"}
                            : Column{Target::kEmailFirst, ""};
  }
  if (f == "phone") {
    return explicit_mapping ? Column{Target::kPhone, "work"}
                            : Column{Target::kPhoneFirst, ""};
  }
  if (f == "link") return Column{Target::kLink, "profile"};
  const size_t dot = f.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view head = f.substr(0, dot), arg = f.substr(dot + 1);
  if (head == "email" && OneOf(arg, kEmailTypes)) {
    return Column{Target::kEmail, std::string(arg)};
  }
  if (head == "phone" && OneOf(arg, kPhoneTypes)) {
    return Column{Target::kPhone, std::string(arg)};
  }
  if (head == "link" && !arg.empty()) {
    return Column{Target::kLink, std::string(arg)};
  }
  if (head == "extra" && !arg.empty()) {
    return Column{Target::kExtra, std::string(arg)};
  }
  return std::nullopt;
}

// Column names of other systems' exports (lower case). Outlook's "Title" is
// the name prefix; it is told apart from galsync's "title" in Resolve.
const std::map<std::string_view, std::string_view, std::less<>>& Aliases() {
  static const std::map<std::string_view, std::string_view, std::less<>> k = {
      // Outlook
      {"first name", "given_name"},
      {"middle name", "middle_name"},
      {"last name", "family_name"},
      {"suffix", "name_suffix"},
      {"company", "organization"},
      {"job title", "title"},
      {"business street", "office_street"},
      {"business city", "office_locality"},
      {"business state", "office_region"},
      {"business postal code", "office_postcode"},
      {"business country/region", "office_country"},
      {"business country", "office_country"},
      {"office location", "office_room"},
      {"business phone", "phone.work"},
      {"business phone 2", "phone.work"},
      {"company main phone", "phone.work"},
      {"home phone", "phone.home"},
      {"home phone 2", "phone.home"},
      {"mobile phone", "phone.mobile"},
      {"business fax", "phone.fax"},
      {"home fax", "phone.fax"},
      {"pager", "phone.pager"},
      {"other phone", "phone.other"},
      {"e-mail address", "email.work"},
      {"e-mail 2 address", "email.other"},
      {"e-mail 3 address", "email.other"},
      {"web page", "link.profile"},
      {"manager's name", "ignore"},  // a name, not a contact id
      // Google (older and newer exports)
      {"name", "full_name"},
      {"given name", "given_name"},
      {"additional name", "middle_name"},
      {"name prefix", "name_prefix"},
      {"name suffix", "name_suffix"},
      {"family name", "family_name"},
      {"organization 1 - name", "organization"},
      {"organization 1 - title", "title"},
      {"organization 1 - department", "department"},
      {"organization name", "organization"},
      {"organization title", "title"},
      {"organization department", "department"},
      {"address 1 - street", "office_street"},
      {"address 1 - city", "office_locality"},
      {"address 1 - region", "office_region"},
      {"address 1 - postal code", "office_postcode"},
      {"address 1 - country", "office_country"},
      // Common hand-made headers
      {"display name", "full_name"},
      {"full name", "full_name"},
      {"surname", "family_name"},
      {"e-mail", "email.work"},
      {"mail", "email.work"},
      {"mobile", "phone.mobile"},
      {"telephone", "phone.work"},
      {"work phone", "phone.work"},
      {"city", "office_locality"},
      {"state", "office_region"},
      {"region", "office_region"},
      {"country", "office_country"},
      {"postal code", "office_postcode"},
      {"zip", "office_postcode"},
      {"room", "office_room"},
      {"street", "office_street"},
  };
  return k;
}

// Google's numbered groups: "E-mail 1 - Value", "Phone 2 - Type", ...
std::optional<Column> GroupColumn(std::string_view name) {
  struct Kind { std::string_view prefix; char kind; };
  constexpr Kind kKinds[] = {{"e-mail ", 'e'}, {"phone ", 'p'}, {"website ", 'w'}};
  for (const Kind& k : kKinds) {
    if (!name.starts_with(k.prefix)) continue;
    std::string_view rest = name.substr(k.prefix.size());
    int group = 0;
    size_t i = 0;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9' && group < 1000) {
      group = group * 10 + (rest[i] - '0');
      ++i;
    }
    if (i == 0) return std::nullopt;
    rest.remove_prefix(i);
    Column c;
    c.kind = k.kind;
    c.group = group;
    if (rest == " - type" || rest == " - label") {
      c.target = Target::kGroupType;
    } else if (rest == " - value") {
      c.target = Target::kGroupValue;
    } else {
      return std::nullopt;
    }
    return c;
  }
  return std::nullopt;
}

// Google's type labels ("* Work", "Mobile", "Work Fax", a custom label).
std::string GroupTypeOf(char kind, std::string_view label) {
  const std::string l = AsciiLower(label);
  auto has = [&](std::string_view w) { return l.find(w) != std::string::npos; };
  if (kind == 'w') {
    std::string t;
    for (char c : l) {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
        t.push_back(c);
      }
    }
    return t.empty() ? "profile" : t;
  }
  if (kind == 'p') {
    if (has("fax")) return "fax";
    if (has("pager")) return "pager";
    if (has("mobile") || has("cell")) return "mobile";
  }
  if (has("home")) return "home";
  if (has("work")) return "work";
  return "other";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits a galsync multi-entry cell ("<label>: <value>" per line).
template <typename Fn>
void ForEachEntry(std::string_view cell, Fn fn) {
  while (!cell.empty()) {
    const size_t nl = cell.find('\n');
    std::string_view entry = cell.substr(0, nl);
    cell = nl == std::string_view::npos ? std::string_view() : cell.substr(nl + 1);
    if (!entry.empty() && entry.back() == '\r') entry.remove_suffix(1);
    if (Trim(entry).empty()) continue;
    const size_t sep = entry.find(": ");
    if (sep == std::string_view::npos) {
      fn(std::string_view(), Trim(entry));
    } else {
      fn(Trim(entry.substr(0, sep)), Trim(entry.substr(sep + 2)));
    }
  }
}

class CsvReader final : public SourceReader {
 public:
  explicit CsvReader(SourceOptions o)
      : SourceReader(o.limits), mapping_(std::move(o.columns)) {}

  Status CheckMapping() {
    for (auto& [header, field] : mapping_) {
      if (!FieldColumn(field, true)) {
        return Error::InvalidArgument(
            "invalid_column_mapping",
            "column \"" + header + "\" is mapped to \"" + field +
                "\", which is no field; use a galsync CSV column name "
                "(given_name, emails, office_locality, ...), email.<type>, "
                "phone.<type>, link.<type>, extra.<key> or ignore");
      }
    }
    return Ok{};
  }

 protected:
  Status Line(std::string_view line, uint64_t number,
              const RecordSink& sink) override {
    if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    if (!in_quotes_) {
      if (line.empty()) return Ok{};  // blank line between records
      record_line_ = number;
      record_bytes_ = 0;
      cell_count_ = 0;
      NextCell();
      fault_.clear();
      closed_quote_ = false;
    } else {
      cells_[cell_count_ - 1].push_back('\n');
    }
    record_bytes_ += line.size() + 1;
    if (record_bytes_ > limits_.max_record_bytes) {
      return RecordTooLarge(record_line_, limits_.max_record_bytes);
    }
    std::string* cell = &cells_[cell_count_ - 1];  // the one being read
    size_t i = 0;
    while (i < line.size()) {
      if (in_quotes_) {
        // Up to the next quote: a doubled one is a quote, a single one ends
        // the quoted text.
        const size_t q = line.find('"', i);
        if (q == std::string_view::npos) {
          cell->append(line.substr(i));
          break;
        }
        cell->append(line.substr(i, q - i));
        if (q + 1 < line.size() && line[q + 1] == '"') {
          cell->push_back('"');
          i = q + 2;
        } else {
          in_quotes_ = false;
          closed_quote_ = true;
          i = q + 1;
        }
        continue;
      }
      const char c = line[i];
      if (c == ',') {
        cell = &NextCell();
        closed_quote_ = false;
        ++i;
      } else if (closed_quote_) {
        if (fault_.empty()) {
          fault_ = "field " + std::to_string(cell_count_) +
                   " has text after its closing quote";
        }
        ++i;
      } else if (c == '"' && cell->empty()) {
        in_quotes_ = true;
        ++i;
      } else {
        // Text up to the next comma or quote (a quote inside unquoted text
        // is kept as it is).
        size_t end = line.find_first_of(",\"", i + 1);
        if (end == std::string_view::npos) end = line.size();
        cell->append(line.substr(i, end - i));
        i = end;
      }
    }
    if (in_quotes_) return Ok{};  // the quoted field goes on
    return Record(sink);
  }

  Status End(const RecordSink& sink) override {
    if (in_quotes_) {
      SourceRecord r;
      r.line = record_line_;
      r.error = "a quoted field opened on this line is not closed before the "
                "end of the file";
      sink(std::move(r));
    }
    if (!header_read_) {
      return Error::InvalidArgument("invalid_csv_header",
                                    "the file has no header row");
    }
    return Ok{};
  }

 private:
  // The fields of the record being read.
  std::span<const std::string> fields() const {
    return std::span(cells_).first(cell_count_);
  }

  // Starts the record's next field, reusing a cell's buffer.
  std::string& NextCell() {
    if (cell_count_ == cells_.size()) cells_.emplace_back();
    std::string& cell = cells_[cell_count_++];
    cell.clear();
    return cell;
  }

  Status Record(const RecordSink& sink) {
    if (!header_read_) {
      if (!fault_.empty()) {
        return Error::InvalidArgument(
            "invalid_csv_header", "line " + std::to_string(record_line_) +
                                      ": the header row is malformed: " + fault_);
      }
      header_read_ = true;
      return Resolve();
    }
    SourceRecord r = NewRecord(record_line_);
    if (!fault_.empty()) {
      r.error = fault_;
    } else if (fields().size() != columns_.size()) {
      r.error = "the row has " + std::to_string(fields().size()) +
                " fields; the header has " + std::to_string(columns_.size());
    } else {
      r.contact = Build();
    }
    sink(std::move(r));
    return Ok{};
  }

  // Resolves each header name to a Column.
  Status Resolve() {
    std::vector<std::string> names;
    names.reserve(fields().size());
    for (const std::string& f : fields()) names.push_back(AsciiLower(Trim(f)));
    // Outlook's "Title" is the name prefix; galsync's "title" the job title.
    bool outlook = false;
    for (const std::string& n : names) {
      outlook = outlook || n == "first name" || n == "last name";
    }
    std::vector<std::string> unused;
    bool any = false;
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string& n = names[i];
      std::optional<Column> c;
      for (auto& [header, field] : mapping_) {
        if (AsciiLower(Trim(header)) == n) c = FieldColumn(field, true);
      }
      if (!c && outlook && n == "title") c = FieldColumn("name_prefix", false);
      if (!c) c = FieldColumn(n, false);
      if (!c) {
        if (auto it = Aliases().find(n); it != Aliases().end()) {
          c = FieldColumn(it->second, true);
        }
      }
      if (!c) c = GroupColumn(n);
      if (!c) {
        unused.push_back(Trim(fields()[i]).empty() ? "(column " +
                                                        std::to_string(i + 1) + ")"
                                                  : std::string(Trim(fields()[i])));
        c = Column{};
      }
      if (c->target == Target::kEmailList) has_email_list_ = true;
      if (c->target == Target::kPhoneList) has_phone_list_ = true;
      if (c->target == Target::kGroupType) has_groups_ = true;
      any = any || c->target != Target::kIgnore;
      columns_.push_back(std::move(*c));
    }
    for (auto& [header, field] : mapping_) {
      bool found = false;
      for (const std::string& n : names) found = found || AsciiLower(Trim(header)) == n;
      if (!found) {
        return Error::InvalidArgument(
            "invalid_column_mapping",
            "the mapping names column \"" + header +
                "\", which is not in the header row");
      }
    }
    if (!any) {
      return Error::InvalidArgument(
          "invalid_csv_header",
          "line " + std::to_string(record_line_) +
              ": no column of the header row is known; map the columns to "
              "fields (docs/import.md)");
    }
    if (!unused.empty()) {
      std::string w = "columns not imported:";
      for (size_t i = 0; i < unused.size() && i < 20; ++i) {
        w += (i ? ", \"" : " \"") + unused[i] + "\"";
      }
      if (unused.size() > 20) w += ", ...";
      warnings_.push_back(std::move(w));
    }
    return Ok{};
  }

  boost::json::object Build() {
    ContactObject o(storage_);
    // Google's groups: the type columns first, whatever their order (only
    // for headers that have such groups).
    std::map<std::pair<char, int>, std::string> group_types;
    for (size_t i = 0; has_groups_ && i < columns_.size(); ++i) {
      const Column& c = columns_[i];
      if (c.target == Target::kGroupType) {
        group_types[{c.kind, c.group}] = GroupTypeOf(c.kind, fields()[i]);
      }
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      const Column& c = columns_[i];
      const std::string_view cell = fields()[i];
      if (cell.empty()) continue;
      switch (c.target) {
        case Target::kIgnore:
        case Target::kGroupType:
          break;
        case Target::kText: o.Set(c.arg, cell); break;
        case Target::kName: o.SetName(c.arg, cell); break;
        case Target::kOffice: o.SetOffice(c.arg, cell); break;
        case Target::kEmail: o.AddEmail(cell, c.arg); break;
        case Target::kPhone: o.AddPhone(cell, c.arg); break;
        case Target::kLink: o.AddLink(cell, c.arg); break;
        case Target::kExtra: o.AddExtra(c.arg, cell); break;
        case Target::kEmailFirst:
          if (!has_email_list_) o.AddEmail(cell, "work");
          break;
        case Target::kPhoneFirst:
          if (!has_phone_list_) o.AddPhone(cell, "work");
          break;
        case Target::kEmailList:
          ForEachEntry(cell, [&](std::string_view type, std::string_view v) {
            o.AddEmail(v, OneOf(type, kEmailTypes) ? type : "other");
          });
          break;
        case Target::kPhoneList:
          ForEachEntry(cell, [&](std::string_view type, std::string_view v) {
            o.AddPhone(v, OneOf(type, kPhoneTypes) ? type : "other");
          });
          break;
        case Target::kLinkList:
          ForEachEntry(cell, [&](std::string_view type, std::string_view v) {
            o.AddLink(v, type.empty() ? "profile" : type);
          });
          break;
        case Target::kExtraList:
          ForEachEntry(cell, [&](std::string_view key, std::string_view v) {
            o.AddExtra(key, v);
          });
          break;
        case Target::kGroupValue: {
          auto t = group_types.find({c.kind, c.group});
          const std::string type = t != group_types.end()
                                       ? t->second
                                       : GroupTypeOf(c.kind, "");
          // Google puts several values of one group in a cell, " ::: "
          // between them.
          std::string_view rest = cell;
          while (!rest.empty()) {
            const size_t sep = rest.find(" ::: ");
            std::string_view v = rest.substr(0, sep);
            rest = sep == std::string_view::npos ? std::string_view()
                                                 : rest.substr(sep + 5);
            if (c.kind == 'e') o.AddEmail(v, type);
            if (c.kind == 'p') o.AddPhone(v, type);
            if (c.kind == 'w') o.AddLink(v, type);
          }
          break;
        }
      }
    }
    return o.Take();
  }

  const std::vector<std::pair<std::string, std::string>> mapping_;
  bool header_read_ = false;
  std::vector<Column> columns_;
  bool has_email_list_ = false;
  bool has_phone_list_ = false;
  bool has_groups_ = false;

  // The record being read.
  // The record's fields are the first cell_count_ cells; the cells beyond
  // keep their buffers for the next record.
  std::vector<std::string> cells_;
  size_t cell_count_ = 0;
  std::string fault_;  // why the record is malformed, if it is
  bool in_quotes_ = false;
  bool closed_quote_ = false;
  uint64_t record_line_ = 0;
  size_t record_bytes_ = 0;
};

}  // namespace

Result<std::unique_ptr<SourceReader>> NewCsvReader(SourceOptions options) {
  auto r = std::make_unique<CsvReader>(std::move(options));
  if (auto st = r->CheckMapping(); !st.ok()) return std::move(st).error();
  return std::unique_ptr<SourceReader>(std::move(r));
}

}  // namespace galsync::formats
