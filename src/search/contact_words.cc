// How a contact becomes index words; the rules are in galsync/search.h.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "galsync/normalize.h"
#include "galsync/search.h"

namespace galsync {
namespace {

// The length of the Unicode space at s[i] (a byte of 0x80 or more), or 0:
// the spaces that FoldForMatch turns into ' ' (no-break, ideographic, the
// U+2000 block, narrow and medium spaces).
size_t WideSpaceAt(std::string_view s, size_t i) {
  auto at = [&](size_t k) {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  const unsigned char c = at(0);
  if (c == 0xC2 && at(1) == 0xA0) return 2;                      // U+00A0
  if (c == 0xE3 && at(1) == 0x80 && at(2) == 0x80) return 3;     // U+3000
  if (c == 0xE2 && at(1) == 0x80 && (at(2) <= 0x8A || at(2) == 0xAF)) {
    return 3;                                            // U+2000-200A, 202F
  }
  if (c == 0xE2 && at(1) == 0x81 && at(2) == 0x9F) return 3;     // U+205F
  return 0;
}

// The length of the space at s[i], or 0: ASCII whitespace and the Unicode
// spaces above, so text splits into the same words as a folded query does.
inline size_t SpaceAt(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return c == ' ' || (c >= '\t' && c <= '\r') ? 1 : 0;
  return WideSpaceAt(s, i);
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

// A contact's words as they are found, their bytes in one buffer that
// keeps its room from one contact to the next.
struct RawWords {
  struct Word {
    uint32_t start, size;
    Field field;
    uint8_t position;
  };
  std::string bytes;
  std::vector<Word> words;
  std::vector<WordRef> refs;

  // Views of the words, made once they are all in (the buffer may move
  // while they come).
  std::vector<WordRef>& Refs() {
    refs.clear();
    for (const Word& w : words) {
      refs.push_back({std::string_view(bytes).substr(w.start, w.size), w.field,
                      w.position});
    }
    return refs;
  }
};

class WordSink {
 public:
  explicit WordSink(RawWords& raw) : raw_(raw) {
    raw_.bytes.clear();
    raw_.words.clear();
  }

  void Add(std::string_view word, Field f, uint8_t pos) {
    if (!word.empty() && HasWordChars(word)) {
      raw_.words.push_back({static_cast<uint32_t>(raw_.bytes.size()),
                            static_cast<uint32_t>(word.size()), f, pos});
      raw_.bytes.append(word);
    }
  }

  // A folded token and, if it has inner punctuation, its pieces and its
  // letters joined.
  void AddToken(std::string_view folded, Field f, uint8_t pos) {
    Add(folded, f, pos);
    bool punct = false;
    for (char c : folded) punct |= IsInnerPunct(c);
    if (!punct) return;
    joined_.clear();
    size_t piece = 0;  // where the current piece starts
    for (size_t i = 0; i < folded.size(); ++i) {
      if (IsInnerPunct(folded[i])) {
        Add(folded.substr(piece, i - piece), f, pos);
        piece = i + 1;
      } else {
        joined_ += folded[i];
      }
    }
    Add(folded.substr(piece), f, pos);
    Add(joined_, f, pos);
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
          AddToken(part, f, pos);
          joined += part;
        });
        Add(joined, f, pos);
      }
      if (pos < 63) ++pos;
    });
    return pos;
  }

 private:
  RawWords& raw_;
  std::string joined_;
};

// The contact's words, not yet canonical, in this thread's buffer: callers
// copy out what they keep.
std::vector<WordRef>& ContactWords(const Contact& c) {
  thread_local RawWords raw;
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
    auto is_digit = [](char ch) { return ch >= '0' && ch <= '9'; };
    size_t piece = 0;  // where the current piece starts
    for (size_t i = 0; i < local.size(); ++i) {
      const char ch = local[i];
      if (ch == '.' || ch == '_' || ch == '-' || ch == '+') {
        sink.Add(local.substr(piece, i - piece), Field::kEmail, epos);
        piece = i + 1;
      } else if (i > piece && is_digit(ch) != is_digit(local[i - 1])) {
        sink.Add(local.substr(piece, i - piece), Field::kEmail, epos);
        piece = i;
      }
    }
    sink.Add(local.substr(piece), Field::kEmail, epos);
    if (epos < 63) ++epos;
  }
  // The organization is left out: in a directory it is mostly the same for
  // everyone, so its words would match everyone and cost a posting each.
  uint8_t opos = sink.AddText(c.title, Field::kOther, 0);
  opos = sink.AddText(c.department, Field::kOther, opos);
  sink.AddText(c.office.locality, Field::kOther, opos);
  return raw.Refs();
}

}  // namespace

IndexDoc IndexDocFromContact(const Contact& c, uint8_t rank) {
  std::vector<WordRef>& words = ContactWords(c);
  CanonicalizeWords(words);
  IndexDoc doc;
  doc.id = c.id;
  doc.rank = rank;
  doc.words.reserve(words.size());
  for (const WordRef& w : words) {
    doc.words.push_back({std::string(w.text), w.field, w.position});
  }
  return doc;
}

void AddContactDoc(const Contact& c, uint8_t rank, IndexDocs& out) {
  out.Add(c.id, rank, ContactWords(c));
}

}  // namespace galsync
