// The vCard source reader (galsync/source_reader.h): vCard 3.0 and 4.0,
// the inverse of galsync's vCard writer (galsync/export.h has the table).
//
// Physical lines are unfolded into content lines (RFC 6350 3.2: a line that
// starts with a space or tab continues the previous one); each content line
// is split into group, name, parameters and value (3.3); a card is the
// content lines from BEGIN:VCARD to END:VCARD.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/contact_object.h"
#include "formats/readers.h"

namespace galsync::formats {
namespace {

struct Param {
  std::string name;                 // upper case
  std::vector<std::string> values;  // quotes removed, RFC 6868 decoded
};

struct Property {
  std::string name;  // upper case, group removed
  std::vector<Param> params;
  std::string_view value;  // raw: escapes still in
};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         EqualsIgnoreAsciiCase(s.substr(0, prefix.size()), prefix);
}

// RFC 6868: ^^ -> ^, ^' -> ", ^n -> newline.
std::string CaretDecode(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '^' && i + 1 < v.size()) {
      const char n = v[i + 1];
      if (n == '^' || n == '\'' || n == 'n' || n == 'N') {
        out.push_back(n == '^' ? '^' : n == '\'' ? '"' : '\n');
        ++i;
        continue;
      }
    }
    out.push_back(v[i]);
  }
  return out;
}

// Parses one unfolded content line; nullopt if it has no ':'.
std::optional<Property> ParseProperty(std::string_view line) {
  Property p;
  size_t i = 0;
  while (i < line.size() && line[i] != ';' && line[i] != ':') ++i;
  std::string_view name = line.substr(0, i);
  if (const size_t dot = name.rfind('.'); dot != std::string_view::npos) {
    name.remove_prefix(dot + 1);  // "item1.EMAIL": the group is not needed
  }
  p.name = Upper(name);
  while (i < line.size() && line[i] == ';') {
    ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != '=' && line[i] != ';' && line[i] != ':') {
      ++i;
    }
    Param param;
    param.name = Upper(line.substr(start, i - start));
    if (i < line.size() && line[i] == '=') {
      ++i;
      for (;;) {
        std::string value;
        if (i < line.size() && line[i] == '"') {
          const size_t close = line.find('"', i + 1);
          if (close == std::string_view::npos) return std::nullopt;
          value = CaretDecode(line.substr(i + 1, close - i - 1));
          i = close + 1;
        } else {
          const size_t vs = i;
          while (i < line.size() && line[i] != ',' && line[i] != ';' &&
                 line[i] != ':') {
            ++i;
          }
          value = CaretDecode(line.substr(vs, i - vs));
        }
        param.values.push_back(std::move(value));
        if (i < line.size() && line[i] == ',') {
          ++i;
          continue;
        }
        break;
      }
    } else {
      // vCard 2.1 style: a bare parameter is a TYPE value ("EMAIL;WORK:").
      param.values.push_back(param.name);
      param.name = "TYPE";
    }
    p.params.push_back(std::move(param));
  }
  if (i >= line.size() || line[i] != ':') return std::nullopt;
  p.value = line.substr(i + 1);
  return p;
}

// Every TYPE value of the property, lower case ("TYPE=work,voice" and
// "TYPE=WORK;TYPE=VOICE" alike).
std::vector<std::string> Types(const Property& p) {
  std::vector<std::string> out;
  for (const Param& param : p.params) {
    if (param.name != "TYPE") continue;
    for (const std::string& v : param.values) out.push_back(AsciiLower(v));
  }
  return out;
}

bool HasType(const std::vector<std::string>& types, std::string_view t) {
  for (const std::string& x : types) {
    if (x == t) return true;
  }
  return false;
}

const Param* FindParam(const Property& p, std::string_view name) {
  for (const Param& param : p.params) {
    if (param.name == name) return &param;
  }
  return nullptr;
}

// TEXT values: \\ \, \; \n \N (RFC 6350 3.4).
std::string UnescapeText(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      const char n = v[++i];
      out.push_back(n == 'n' || n == 'N' ? '\n' : n);
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

// URI values: galsync's writer escapes only "\" and ",".
std::string UnescapeUri(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size() && (v[i + 1] == '\\' || v[i + 1] == ',')) {
      out.push_back(v[++i]);
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

// Structured values (N, ADR, ORG): components at unescaped ';'.
std::vector<std::string> Components(std::string_view v) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= v.size(); ++i) {
    if (i < v.size() && v[i] == '\\') {
      ++i;
      continue;
    }
    if (i == v.size() || v[i] == ';') {
      out.push_back(UnescapeText(v.substr(start, i - start)));
      start = i + 1;
    }
  }
  return out;
}

// A list value (NICKNAME): its first element.
std::string FirstOfList(std::string_view v) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\') {
      ++i;
    } else if (v[i] == ',') {
      return UnescapeText(v.substr(0, i));
    }
  }
  return UnescapeText(v);
}

std::string_view WithoutUrnUuid(std::string_view v) {
  if (StartsWithIgnoreCase(v, "urn:uuid:")) v.remove_prefix(9);
  return v;
}

std::string LinkType(const std::vector<std::string>& types) {
  for (const std::string& t : types) {
    std::string clean;
    for (char c : t) {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
        clean.push_back(c);
      }
    }
    if (!clean.empty() && clean != "pref") return clean;
  }
  return "profile";
}

class VCardReader final : public SourceReader {
 public:
  explicit VCardReader(SourceOptions o) : SourceReader(o.limits) {}

 protected:
  Status Line(std::string_view line, uint64_t number,
              const RecordSink& sink) override {
    if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t') &&
        has_logical_) {
      logical_.append(line.substr(1));
      if (logical_.size() > limits_.max_record_bytes) {
        return RecordTooLarge(logical_line_, limits_.max_record_bytes);
      }
      return Ok{};
    }
    if (auto st = Flush(sink); !st.ok()) return st;
    if (line.empty()) return Ok{};
    logical_.assign(line);
    logical_line_ = number;
    has_logical_ = true;
    return Ok{};
  }

  Status End(const RecordSink& sink) override {
    if (auto st = Flush(sink); !st.ok()) return st;
    if (in_card_) {
      Reject("the card has no END:VCARD before the end of the file");
      EmitCard(sink);
    }
    return Ok{};
  }

 private:
  // Processes the content line collected so far.
  Status Flush(const RecordSink& sink) {
    if (!has_logical_) return Ok{};
    has_logical_ = false;
    const std::string_view line = logical_;
    if (in_card_) {
      card_bytes_ += line.size();
      if (card_bytes_ > limits_.max_record_bytes) {
        return RecordTooLarge(card_line_, limits_.max_record_bytes);
      }
    }
    auto prop = ParseProperty(line);
    if (prop && prop->name == "BEGIN" && Upper(prop->value) == "VCARD") {
      if (in_card_) {
        Reject("a new card begins (line " + std::to_string(logical_line_) +
               ") before this one ends");
        EmitCard(sink);
      }
      StartCard();
      return Ok{};
    }
    if (!in_card_) {
      // Text outside any card: one error per stray run of lines.
      if (!stray_) {
        SourceRecord r;
        r.line = logical_line_;
        r.error = "text outside BEGIN:VCARD ... END:VCARD";
        sink(std::move(r));
      }
      stray_ = true;
      return Ok{};
    }
    if (!prop) {
      Reject("line " + std::to_string(logical_line_) +
             ": a content line needs a ':' after its name and parameters");
      return Ok{};
    }
    if (prop->name == "END" && Upper(prop->value) == "VCARD") {
      EmitCard(sink);
      return Ok{};
    }
    Apply(*prop);
    return Ok{};
  }

  void StartCard() {
    in_card_ = true;
    stray_ = false;
    card_line_ = logical_line_;
    card_bytes_ = 0;
    card_.emplace(storage_);  // not assigned: the storage would stay
    fault_.clear();
    is_group_ = false;
    adr_.clear();
    adr_is_work_ = false;
  }

  void Reject(std::string why) {
    if (fault_.empty()) fault_ = std::move(why);
  }

  void EmitCard(const RecordSink& sink) {
    in_card_ = false;
    if (is_group_ && fault_.empty()) {
      ++ignored_;
      return;
    }
    if (!adr_.empty()) {
      constexpr std::string_view kParts[] = {"", "room", "street", "locality",
                                             "region", "postcode", "country"};
      for (size_t i = 1; i < adr_.size() && i < std::size(kParts); ++i) {
        card_->SetOffice(kParts[i], adr_[i]);
      }
    }
    SourceRecord r = NewRecord(card_line_);
    if (fault_.empty()) {
      r.contact = card_->Take();
    } else {
      r.error = std::move(fault_);
    }
    sink(std::move(r));
  }

  void Apply(const Property& p) {
    const std::string& n = p.name;
    if (n == "UID") {
      card_->Set("id", WithoutUrnUuid(UnescapeText(p.value)));
    } else if (n == "FN") {
      card_->SetName("full", UnescapeText(p.value));
    } else if (n == "N") {
      auto c = Components(p.value);
      constexpr std::string_view kParts[] = {"family", "given", "middle",
                                             "prefix", "suffix"};
      for (size_t i = 0; i < c.size() && i < std::size(kParts); ++i) {
        card_->SetName(kParts[i], c[i]);
      }
    } else if (n == "NICKNAME") {
      card_->SetIfUnset("nickname", FirstOfList(p.value));
    } else if (n == "EMAIL") {
      const auto t = Types(p);
      card_->AddEmail(UnescapeText(p.value), HasType(t, "work")   ? "work"
                                            : HasType(t, "home") ? "home"
                                                                 : "other");
    } else if (n == "TEL") {
      const auto t = Types(p);
      std::string number = UnescapeText(p.value);
      if (StartsWithIgnoreCase(number, "tel:")) number.erase(0, 4);
      card_->AddPhone(number, HasType(t, "fax")     ? "fax"
                             : HasType(t, "pager") ? "pager"
                             : HasType(t, "cell")  ? "mobile"
                             : HasType(t, "home")  ? "home"
                             : HasType(t, "work")  ? "work"
                                                   : "other");
    } else if (n == "TITLE") {
      card_->Set("title", UnescapeText(p.value));
    } else if (n == "ORG") {
      auto c = Components(p.value);
      if (!c.empty()) card_->Set("organization", c[0]);
      if (c.size() > 1) card_->Set("department", c[1]);
    } else if (n == "ADR") {
      // The work address is the office; any other only if there is none.
      const bool work = HasType(Types(p), "work");
      if (adr_.empty() || (work && !adr_is_work_)) {
        adr_ = Components(p.value);
        adr_is_work_ = work;
      }
    } else if (n == "URL") {
      card_->AddLink(UnescapeUri(p.value), LinkType(Types(p)));
    } else if (n == "PHOTO") {
      // Only a link to a photo; inline images (ENCODING=b, data: URIs)
      // are not kept in the directory.
      const std::string uri = UnescapeUri(p.value);
      if (!FindParam(p, "ENCODING") && !StartsWithIgnoreCase(uri, "data:")) {
        card_->Set("photo", uri);
      }
    } else if (n == "RELATED") {
      if (HasType(Types(p), "x-manager")) {
        card_->Set("manager", WithoutUrnUuid(UnescapeText(p.value)));
      }
    } else if (n == "X-GALSYNC-MANAGER") {
      card_->Set("manager", UnescapeText(p.value));
    } else if (n == "X-GALSYNC-EXTRA") {
      const Param* key = FindParam(p, "X-KEY");
      if (key && !key->values.empty()) {
        card_->AddExtra(key->values[0], UnescapeText(p.value));
      }
    } else if (n == "NOTE") {
      card_->AddExtra("note", UnescapeText(p.value));
    } else if (n == "KIND") {
      is_group_ = AsciiLower(p.value) == "group";
    }
  }

  // The content line being unfolded.
  std::string logical_;
  uint64_t logical_line_ = 0;
  bool has_logical_ = false;

  // The card being read.
  bool in_card_ = false;
  bool stray_ = false;
  uint64_t card_line_ = 0;
  size_t card_bytes_ = 0;
  std::optional<ContactObject> card_;
  std::string fault_;
  bool is_group_ = false;
  std::vector<std::string> adr_;
  bool adr_is_work_ = false;
};

}  // namespace

std::unique_ptr<SourceReader> NewVCardReader(SourceOptions options) {
  return std::make_unique<VCardReader>(std::move(options));
}

}  // namespace galsync::formats
