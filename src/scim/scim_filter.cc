// SCIM filters and attribute paths (galsync/scim.h has the grammar): a
// tokenizer, a recursive-descent parser with bounded depth and size, and
// the matcher.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "galsync/scim.h"
#include "scim/scim_schema.h"

namespace galsync::scim {

namespace json = boost::json;

namespace {

struct Token {
  enum Kind { kEnd, kWord, kString, kOpen, kClose, kLBracket, kRBracket };
  Kind kind = kEnd;
  std::string_view text;  // a word, or a string with its quotes
  size_t at = 0;          // byte offset, for messages
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view reason)
      : text_(text), reason_(reason) {}

  Error Fail(const std::string& what, size_t at) const {
    return Error::InvalidArgument(
        std::string(reason_),
        what + " at offset " + std::to_string(at) + " of \"" +
            std::string(text_.substr(0, 200)) + "\"");
  }

  Token Peek() {
    if (!peeked_) {
      next_ = Lex();
      peeked_ = true;
    }
    return next_;
  }
  Token Take() {
    Token t = Peek();
    peeked_ = false;
    return t;
  }

  // or-exp / and-exp / unary, with `element` set inside a value path's
  // brackets (paths then name the element's sub-attributes).
  Result<Filter> Or(const AttrInfo* element, int depth) {
    auto left = And(element, depth);
    if (!left) return left;
    while (IsWord(Peek(), "or")) {
      Take();
      auto right = And(element, depth);
      if (!right) return right;
      left = Combine(Filter::Kind::kOr, std::move(*left), std::move(*right));
    }
    return left;
  }

  Result<AttrPath> Path(const Token& t, const AttrInfo* element,
                        bool* case_exact) {
    if (t.kind != Token::kWord) return Fail("expected an attribute", t.at);
    return ParsePathText(t.text, t.at, element, case_exact);
  }

  Result<AttrPath> ParsePathText(std::string_view word, size_t at,
                                 const AttrInfo* element, bool* case_exact) {
    AttrPath p;
    *case_exact = false;
    if (element != nullptr) {
      std::string_view sub = CanonicalSub(*element, word);
      if (sub.empty()) {
        return Fail("\"" + std::string(word) + "\" is not a sub-attribute of " +
                        std::string(element->name),
                    at);
      }
      p.attr = sub;
      return p;
    }
    if (EqualsIgnoreAsciiCase(word, kEnterpriseSchema)) {
      p.enterprise = true;
      return p;
    }
    std::string_view rest = word;
    if (word.size() > 4 && EqualsIgnoreAsciiCase(word.substr(0, 4), "urn:")) {
      const size_t colon = word.rfind(':');
      const std::string_view urn = word.substr(0, colon);
      if (EqualsIgnoreAsciiCase(urn, kEnterpriseSchema)) {
        p.enterprise = true;
      } else if (!EqualsIgnoreAsciiCase(urn, kUserSchema)) {
        return Fail("unknown schema \"" + std::string(urn) + "\"", at);
      }
      rest = word.substr(colon + 1);
    }
    const size_t dot = rest.find('.');
    const std::string_view name = rest.substr(0, dot);
    const AttrInfo* a = FindAttr(name, p.enterprise);
    if (a == nullptr) {
      return Fail("unknown attribute \"" + std::string(name) + "\"", at);
    }
    p.attr = a->name;
    *case_exact = a->case_exact;
    if (dot != std::string_view::npos) {
      const std::string_view sub = CanonicalSub(*a, rest.substr(dot + 1));
      if (sub.empty()) {
        return Fail("\"" + std::string(rest.substr(dot + 1)) +
                        "\" is not a sub-attribute of " + std::string(a->name),
                    at);
      }
      p.sub = sub;
      if (p.attr == "meta" && p.sub != "version") *case_exact = false;
    }
    return p;
  }

  // The value of a comparison: a JSON string, true, false, null or a
  // number.
  Result<json::value> Value(const Token& t) {
    if (t.kind != Token::kString && t.kind != Token::kWord) {
      return Fail("expected a value", t.at);
    }
    json::error_code ec;
    json::value v = json::parse(t.text, ec);
    if (ec || v.is_object() || v.is_array()) {
      return Fail("expected a \"string\", true, false, null or a number", t.at);
    }
    return v;
  }

  bool AtEnd() { return Peek().kind == Token::kEnd; }

  const AttrInfo* ElementOf(const AttrPath& p) {
    if (!p.sub.empty() || p.attr.empty()) return nullptr;
    const AttrInfo* a = FindAttr(p.attr, p.enterprise);
    return a != nullptr && a->subs != nullptr ? a : nullptr;
  }

  Result<Filter> Bracketed(AttrPath path, int depth) {
    const AttrInfo* element = ElementOf(path);
    if (element == nullptr) {
      return Fail("\"[\" follows an attribute with sub-attributes only",
                  Peek().at);
    }
    Take();  // [
    auto inner = Or(element, depth + 1);
    if (!inner) return inner;
    const Token close = Take();
    if (close.kind != Token::kRBracket) return Fail("expected \"]\"", close.at);
    Filter f;
    f.kind = Filter::Kind::kValuePath;
    f.path = std::move(path);
    f.children.push_back(std::move(*inner));
    return f;
  }

 private:
  static bool IsWord(const Token& t, std::string_view w) {
    return t.kind == Token::kWord && EqualsIgnoreAsciiCase(t.text, w);
  }

  Result<Filter> And(const AttrInfo* element, int depth) {
    auto left = Unary(element, depth);
    if (!left) return left;
    while (IsWord(Peek(), "and")) {
      Take();
      auto right = Unary(element, depth);
      if (!right) return right;
      left = Combine(Filter::Kind::kAnd, std::move(*left), std::move(*right));
    }
    return left;
  }

  static Filter Combine(Filter::Kind kind, Filter a, Filter b) {
    Filter f;
    f.kind = kind;
    f.children.push_back(std::move(a));
    f.children.push_back(std::move(b));
    return f;
  }

  Result<Filter> Unary(const AttrInfo* element, int depth) {
    if (depth > FilterLimits::kMaxDepth) {
      return Fail("the filter nests too deeply", Peek().at);
    }
    if (++terms_ > FilterLimits::kMaxTerms) {
      return Fail("the filter has too many terms", Peek().at);
    }
    Token t = Take();
    if (IsWord(t, "not") && Peek().kind == Token::kOpen) {
      Take();
      auto inner = Or(element, depth + 1);
      if (!inner) return inner;
      const Token close = Take();
      if (close.kind != Token::kClose) return Fail("expected \")\"", close.at);
      Filter f;
      f.kind = Filter::Kind::kNot;
      f.children.push_back(std::move(*inner));
      return f;
    }
    if (t.kind == Token::kOpen) {
      auto inner = Or(element, depth + 1);
      if (!inner) return inner;
      const Token close = Take();
      if (close.kind != Token::kClose) return Fail("expected \")\"", close.at);
      return inner;
    }
    Filter f;
    auto path = Path(t, element, &f.case_exact);
    if (!path) return std::move(path).error();
    if (path->attr.empty()) {
      return Fail("a filter names an attribute of the extension", t.at);
    }
    if (Peek().kind == Token::kLBracket) {
      if (element != nullptr) return Fail("value paths do not nest", t.at);
      return Bracketed(std::move(*path), depth);
    }
    f.path = std::move(*path);
    const Token op = Take();
    if (op.kind != Token::kWord) {
      return Fail("expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)",
                  op.at);
    }
    const std::string o = AsciiLower(op.text);
    if (o == "pr") {
      f.kind = Filter::Kind::kPresent;
      return f;
    }
    static constexpr std::string_view kOps[] = {"eq", "ne", "co", "sw", "ew",
                                                "gt", "ge", "lt", "le"};
    if (std::find(std::begin(kOps), std::end(kOps), o) == std::end(kOps)) {
      return Fail("unknown operator \"" + std::string(op.text) + "\"", op.at);
    }
    f.kind = Filter::Kind::kCompare;
    f.op = o;
    auto v = Value(Take());
    if (!v) return std::move(v).error();
    f.value = std::move(*v);
    return f;
  }

  Token Lex() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
    Token t;
    t.at = pos_;
    if (pos_ >= text_.size()) return t;
    const char c = text_[pos_];
    auto single = [&](Token::Kind k) {
      t.kind = k;
      t.text = text_.substr(pos_++, 1);
      return t;
    };
    if (c == '(') return single(Token::kOpen);
    if (c == ')') return single(Token::kClose);
    if (c == '[') return single(Token::kLBracket);
    if (c == ']') return single(Token::kRBracket);
    if (c == '"') {
      size_t i = pos_ + 1;
      while (i < text_.size() && text_[i] != '"') {
        i += text_[i] == '\\' ? 2 : 1;
      }
      if (i >= text_.size()) {
        t.kind = Token::kWord;  // reported as a bad value by the parser
        t.text = text_.substr(pos_);
        pos_ = text_.size();
        return t;
      }
      t.kind = Token::kString;
      t.text = text_.substr(pos_, i + 1 - pos_);
      pos_ = i + 1;
      return t;
    }
    size_t i = pos_;
    while (i < text_.size() && text_[i] != ' ' && text_[i] != '(' &&
           text_[i] != ')' && text_[i] != '[' && text_[i] != ']' &&
           text_[i] != '"') {
      ++i;
    }
    t.kind = Token::kWord;
    t.text = text_.substr(pos_, i - pos_);
    pos_ = i;
    return t;
  }

  std::string_view text_;
  std::string_view reason_;
  size_t pos_ = 0;
  bool peeked_ = false;
  Token next_;
  size_t terms_ = 0;
};

// The values a path names in `resource`: for a multi-valued complex
// attribute without a sub-attribute, each element's "value".
std::vector<const json::value*> Resolve(const json::object& resource,
                                        const AttrPath& p) {
  std::vector<const json::value*> out;
  const json::object* container = &resource;
  if (p.enterprise) {
    const json::value* ext = resource.if_contains(kEnterpriseSchema);
    if (ext == nullptr || !ext->is_object()) return out;
    container = &ext->get_object();
  }
  const json::value* v = container->if_contains(p.attr);
  if (v == nullptr || v->is_null()) return out;
  const std::string_view sub =
      p.sub.empty() ? std::string_view("value") : std::string_view(p.sub);
  auto take = [&](const json::value& e) {
    if (e.is_object()) {
      if (const json::value* s = e.get_object().if_contains(sub)) {
        out.push_back(s);
      }
    } else if (p.sub.empty()) {
      out.push_back(&e);
    }
  };
  if (v->is_array()) {
    for (const json::value& e : v->get_array()) take(e);
  } else if (v->is_object()) {
    take(*v);
  } else if (p.sub.empty()) {
    out.push_back(v);
  }
  return out;
}

bool Compare(const json::value& have, const std::string& op,
             const json::value& want, bool case_exact) {
  if (want.is_string() && have.is_string()) {
    std::string a(have.get_string()), b(want.get_string());
    if (!case_exact) {
      a = AsciiLower(a);
      b = AsciiLower(b);
    }
    if (op == "eq") return a == b;
    if (op == "co") return a.find(b) != std::string::npos;
    if (op == "sw") return a.starts_with(b);
    if (op == "ew") return a.ends_with(b);
    if (op == "gt") return a > b;
    if (op == "ge") return a >= b;
    if (op == "lt") return a < b;
    if (op == "le") return a <= b;
    return false;
  }
  if (want.is_bool() && have.is_bool()) {
    return op == "eq" && have.get_bool() == want.get_bool();
  }
  if (want.is_number() && have.is_number()) {
    const double a = have.to_number<double>(), b = want.to_number<double>();
    if (op == "eq") return a == b;
    if (op == "gt") return a > b;
    if (op == "ge") return a >= b;
    if (op == "lt") return a < b;
    if (op == "le") return a <= b;
  }
  return false;
}

bool Present(const json::value* v) {
  if (v->is_null()) return false;
  if (v->is_string()) return !v->get_string().empty();
  if (v->is_array()) return !v->get_array().empty();
  if (v->is_object()) return !v->get_object().empty();
  return true;
}

}  // namespace

Result<Filter> ParseFilter(std::string_view text) {
  if (text.size() > FilterLimits::kMaxBytes) {
    return Error::InvalidArgument(
        "invalidFilter", "a filter may be at most " +
                             std::to_string(FilterLimits::kMaxBytes) + " bytes");
  }
  Parser p(text, "invalidFilter");
  if (p.AtEnd()) return p.Fail("the filter is empty", 0);
  auto f = p.Or(nullptr, 0);
  if (!f) return f;
  if (!p.AtEnd()) return p.Fail("unexpected text", p.Peek().at);
  return f;
}

bool Matches(const Filter& f, const json::object& resource) {
  switch (f.kind) {
    case Filter::Kind::kAnd:
      return Matches(f.children[0], resource) && Matches(f.children[1], resource);
    case Filter::Kind::kOr:
      return Matches(f.children[0], resource) || Matches(f.children[1], resource);
    case Filter::Kind::kNot:
      return !Matches(f.children[0], resource);
    case Filter::Kind::kValuePath: {
      const json::object* container = &resource;
      if (f.path.enterprise) {
        const json::value* ext = resource.if_contains(kEnterpriseSchema);
        if (ext == nullptr || !ext->is_object()) return false;
        container = &ext->get_object();
      }
      const json::value* v = container->if_contains(f.path.attr);
      if (v == nullptr) return false;
      if (v->is_object()) return Matches(f.children[0], v->get_object());
      if (!v->is_array()) return false;
      for (const json::value& e : v->get_array()) {
        if (e.is_object() && Matches(f.children[0], e.get_object())) return true;
      }
      return false;
    }
    case Filter::Kind::kPresent: {
      for (const json::value* v : Resolve(resource, f.path)) {
        if (Present(v)) return true;
      }
      return false;
    }
    case Filter::Kind::kCompare: {
      const auto values = Resolve(resource, f.path);
      if (f.value.is_null()) {
        // "eq null": not there; "ne null": there.
        const bool there = std::any_of(values.begin(), values.end(), Present);
        return f.op == "ne" ? there : (f.op == "eq" && !there);
      }
      const std::string& op = f.op == "ne" ? std::string("eq") : f.op;
      // dateTime attributes compare as instants, whatever their precision
      // or offset ("...34Z" equals "...34.000000Z").
      const bool instant = f.path.attr == "meta" &&
                           (f.path.sub == "lastModified" || f.path.sub == "created");
      const bool any = std::any_of(
          values.begin(), values.end(), [&](const json::value* v) {
            if (instant && v->is_string() && f.value.is_string()) {
              auto a = ParseTime(v->get_string());
              auto b = ParseTime(f.value.get_string());
              if (!a || !b) return false;
              return Compare(json::value(*a), op, json::value(*b), true);
            }
            return Compare(*v, op, f.value, f.case_exact);
          });
      return f.op == "ne" ? !any : any;
    }
  }
  return false;
}

std::optional<std::string> UserNameEquals(const Filter& f) {
  if (f.kind == Filter::Kind::kCompare && !f.path.enterprise &&
      f.path.attr == "userName" && f.path.sub.empty() && f.op == "eq" &&
      f.value.is_string()) {
    return std::string(f.value.get_string());
  }
  return std::nullopt;
}

Result<PatchPath> ParsePatchPath(std::string_view text) {
  if (text.size() > FilterLimits::kMaxBytes) {
    return Error::InvalidArgument(
        "invalidPath", "a path may be at most " +
                           std::to_string(FilterLimits::kMaxBytes) + " bytes");
  }
  Parser p(text, "invalidPath");
  const Token first = p.Take();
  if (first.kind != Token::kWord) return p.Fail("expected an attribute", first.at);
  PatchPath out;
  bool case_exact = false;
  auto path = p.ParsePathText(first.text, first.at, nullptr, &case_exact);
  if (!path) return std::move(path).error();
  if (p.Peek().kind == Token::kLBracket) {
    auto f = p.Bracketed(*path, 0);
    if (!f) return std::move(f).error();
    out.filter = std::make_shared<Filter>(std::move(f->children[0]));
    out.path = std::move(f->path);
    const Token after = p.Peek();
    if (after.kind == Token::kWord && after.text.starts_with(".")) {
      p.Take();
      const AttrInfo* a = FindAttr(out.path.attr, out.path.enterprise);
      const std::string_view sub = CanonicalSub(*a, after.text.substr(1));
      if (sub.empty()) {
        return p.Fail("\"" + std::string(after.text.substr(1)) +
                          "\" is not a sub-attribute of " + out.path.attr,
                      after.at);
      }
      out.path.sub = sub;
    }
  } else {
    out.path = std::move(*path);
  }
  if (!p.AtEnd()) return p.Fail("unexpected text", p.Peek().at);
  return out;
}

}  // namespace galsync::scim
