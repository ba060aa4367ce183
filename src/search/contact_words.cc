// How a contact becomes index words; the rules are in galsync/search.h.
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>

#include "galsync/normalize.h"
#include "galsync/search.h"

namespace galsync {
namespace {

// The length of the space at s[i], or 0: ASCII whitespace and the Unicode
// spaces that FoldForMatch turns into ' ' (no-break, ideographic, the
// U+2000 block, narrow and medium spaces), so text splits into the same
// words as a folded query does.
size_t SpaceAt(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
  auto at = [&](size_t k) {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  if (c == 0xC2 && at(1) == 0xA0) return 2;                      // U+00A0
  if (c == 0xE3 && at(1) == 0x80 && at(2) == 0x80) return 3;     // U+3000
  if (c == 0xE2 && at(1) == 0x80 && (at(2) <= 0x8A || at(2) == 0xAF)) {
    return 3;                                            // U+2000-200A, 202F
  }
  if (c == 0xE2 && at(1) == 0x81 && at(2) == 0x9F) return 3;     // U+205F
  return 0;
}

// Calls fn on each piece of `s` between whitespace, ASCII or Unicode.
template <typename Fn>
void ForEachToken(std::string_view s, Fn&& fn) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size()) {
      size_t n = SpaceAt(s, i);
      if (n == 0) break;
      i += n;
    }
    size_t j = i;
    while (j < s.size() && SpaceAt(s, j) == 0) ++j;
    if (j > i) fn(s.substr(i, j - i));
    i = j;
  }
}

bool IsInnerPunct(char c) {
  return c == '-' || c == '.' || c == '\'' || c == '_' || c == '+' ||
         c == ',' || c == '/' || c == '(' || c == ')' || c == '&';
}

// True if `text` is the non-empty ones of `parts` joined by single spaces.
bool IsJoinOf(std::string_view text,
              std::initializer_list<std::string_view> parts) {
  bool first = true;
  for (std::string_view part : parts) {
    if (part.empty()) continue;
    if (!first) {
      if (!text.starts_with(' ')) return false;
      text.remove_prefix(1);
    }
    if (!text.starts_with(part)) return false;
    text.remove_prefix(part.size());
    first = false;
  }
  return !first && text.empty();
}

class WordSink {
 public:
  explicit WordSink(IndexDoc& doc) : doc_(doc) {}

  void Add(std::string word, Field f, uint8_t pos) {
    if (!word.empty() && HasWordChars(word)) {
      doc_.words.push_back({std::move(word), f, pos});
    }
  }

  // A folded token and, if it has inner punctuation, its pieces and its
  // letters joined.
  void AddToken(const std::string& folded, Field f, uint8_t pos) {
    Add(folded, f, pos);
    bool punct = false;
    for (char c : folded) punct |= IsInnerPunct(c);
    if (!punct) return;
    std::string piece, joined;
    for (char c : folded) {
      if (IsInnerPunct(c)) {
        Add(std::move(piece), f, pos);
        piece.clear();
      } else {
        piece += c;
        joined += c;
      }
    }
    Add(std::move(piece), f, pos);
    Add(std::move(joined), f, pos);
  }

  // Each whitespace-separated word of `text`, numbered from `first_pos`;
  // returns the next position.
  uint8_t AddText(std::string_view text, Field f, uint8_t first_pos) {
    uint8_t pos = first_pos;
    ForEachToken(text, [&](std::string_view tok) {
      auto folded = FoldForMatch(tok);
      if (!folded) return;  // the codec only stores valid UTF-8
      AddToken(*folded, f, pos);
      for (const std::string& latin : LatinForms(tok)) {
        // "zhang wei": each syllable word and the whole joined.
        std::string joined;
        ForEachToken(latin, [&](std::string_view part) {
          AddToken(std::string(part), f, pos);
          joined += part;
        });
        Add(std::move(joined), f, pos);
      }
      if (pos < 63) ++pos;
    });
    return pos;
  }

 private:
  IndexDoc& doc_;
};

// The contact's document, in this thread's buffer: it keeps its room from
// one contact to the next, and callers copy out what they keep.
const IndexDoc& ContactDoc(const Contact& c, uint8_t rank) {
  thread_local IndexDoc raw;
  raw.id = c.id;
  raw.rank = rank;
  raw.words.clear();
  WordSink sink(raw);
  // Name words: given first, then middle, family; the display name and
  // nickname number their own words (display names usually repeat the
  // others, which CanonicalizeWords merges keeping the best position).
  uint8_t pos = sink.AddText(c.name.given, Field::kName, 0);
  pos = sink.AddText(c.name.middle, Field::kName, pos);
  sink.AddText(c.name.family, Field::kName, pos);
  // Most display names are the other parts in order: then their words and
  // positions are those above, and nothing need be added.
  if (!IsJoinOf(c.name.full, {c.name.given, c.name.middle, c.name.family})) {
    sink.AddText(c.name.full, Field::kName, 0);
  }
  sink.AddText(c.nickname, Field::kName, 0);
  uint8_t epos = 0;
  for (const Email& e : c.emails) {
    auto folded = FoldForMatch(e.address);
    if (!folded) continue;
    sink.Add(*folded, Field::kEmail, epos);
    std::string_view local(*folded);
    local = local.substr(0, local.find('@'));
    // Pieces end at . _ - + and where letters meet digits ("smith1234" is
    // "smith" and "1234"): numbered addresses then share their words
    // instead of each adding a term of its own.
    std::string piece;
    auto is_digit = [](char ch) { return ch >= '0' && ch <= '9'; };
    for (char ch : local) {
      const bool sep = ch == '.' || ch == '_' || ch == '-' || ch == '+';
      if (sep || (!piece.empty() && is_digit(ch) != is_digit(piece.back()))) {
        sink.Add(std::move(piece), Field::kEmail, epos);
        piece.clear();
      }
      if (!sep) piece += ch;
    }
    sink.Add(std::move(piece), Field::kEmail, epos);
    if (epos < 63) ++epos;
  }
  // The organization is left out: in a directory it is mostly the same for
  // everyone, so its words would match everyone and cost a posting each.
  uint8_t opos = sink.AddText(c.title, Field::kOther, 0);
  opos = sink.AddText(c.department, Field::kOther, opos);
  sink.AddText(c.office.locality, Field::kOther, opos);
  CanonicalizeWords(raw);
  return raw;
}

}  // namespace

IndexDoc IndexDocFromContact(const Contact& c, uint8_t rank) {
  const IndexDoc& raw = ContactDoc(c, rank);
  IndexDoc doc;
  doc.id = raw.id;
  doc.rank = rank;
  doc.words.assign(raw.words.begin(), raw.words.end());
  return doc;
}

void AddContactDoc(const Contact& c, uint8_t rank, IndexDocs& out) {
  out.Add(ContactDoc(c, rank));
}

}  // namespace galsync
