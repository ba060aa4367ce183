// Matching normalization (folding) and romanization of names, on ICU's C API;
// the contract is in galsync/normalize.h.
//
// FoldForMatch has three paths, all giving the same result. Pure ASCII, the
// common case, is lowercased in one pass. Text in the scripts most names are
// written in (Latin, Greek, Cyrillic, kana, CJK ideographs, Hangul) is folded
// code point by code point from a table that ICU fills at first use. Anything
// else goes through ICU on stack buffers: strict UTF-8 validation and
// decoding to UTF-16, NFKD, full case folding, a quick check that the result
// is still NFKD, then one pass that drops combining marks, applies the
// explicit letter mappings and writes UTF-8.
#include "galsync/normalize.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utrans.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace galsync {
namespace {

// Longest text FoldWithIcu accepts (after the ASCII prefix). ICU lengths are
// int32_t and NFKD can expand a code unit up to 18 times; names and queries
// are far shorter.
constexpr size_t kMaxIcuInputBytes = 64 << 20;

// LatinForms results are cached per input; the cache is emptied when it
// grows past this many entries.
constexpr size_t kMaxCachedForms = 200'000;

// ---------------------------------------------------------------------------
// ASCII

// Length of the longest all-ASCII prefix of `s`, eight bytes at a time.
size_t AsciiPrefixLength(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (word & 0x8080808080808080ull) break;
  }
  while (i < n && static_cast<unsigned char>(p[i]) < 0x80) ++i;
  return i;
}

inline char AsciiLower(char c) {
  // Branch-free so that the loops below vectorize.
  return static_cast<char>(
      c + (static_cast<unsigned char>(c - 'A') < 26 ? 'a' - 'A' : 0));
}

// ---------------------------------------------------------------------------
// UTF-16 scratch space

// A UTF-16 buffer on the stack up to kInlineUnits, on the heap beyond.
class U16Buffer {
 public:
  U16Buffer() = default;
  U16Buffer(const U16Buffer&) = delete;
  U16Buffer& operator=(const U16Buffer&) = delete;

  UChar* data() { return heap_ ? heap_.get() : inline_; }
  const UChar* data() const { return heap_ ? heap_.get() : inline_; }
  int32_t size() const { return size_; }
  int32_t capacity() const { return capacity_; }
  void set_size(int32_t n) { size_ = n; }

  // Makes room for `n` units, keeping the current contents.
  void Reserve(int32_t n) {
    if (n <= capacity_) return;
    auto bigger = std::make_unique_for_overwrite<UChar[]>(n);
    std::copy_n(data(), size_, bigger.get());
    heap_ = std::move(bigger);
    capacity_ = n;
  }

 private:
  static constexpr int32_t kInlineUnits = 256;
  UChar inline_[kInlineUnits];
  std::unique_ptr<UChar[]> heap_;
  int32_t capacity_ = kInlineUnits;
  int32_t size_ = 0;
};

// Runs an ICU preflighting function `fn(dest, capacity, &status) -> length`
// into `out`, growing it once if the first attempt reports overflow.
template <typename Fn>
UErrorCode FillBuffer(U16Buffer* out, Fn fn) {
  UErrorCode status = U_ZERO_ERROR;
  int32_t n = fn(out->data(), out->capacity(), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    out->set_size(0);
    out->Reserve(n);
    status = U_ZERO_ERROR;
    n = fn(out->data(), out->capacity(), &status);
  }
  if (U_FAILURE(status)) return status;
  out->set_size(n);
  return U_ZERO_ERROR;
}

// ---------------------------------------------------------------------------
// UTF-8

// Decodes the code point at p[*i], strictly (Unicode Table 3-7: no overlong
// forms, surrogates, code points above U+10FFFF or truncated sequences), and
// advances *i past it. Returns -1, leaving *i alone, if the sequence there is
// ill-formed. p[*i] must not be ASCII.
inline UChar32 DecodeNonAscii(const unsigned char* p, size_t n, size_t* i) {
  const size_t at = *i;
  const unsigned lead = p[at];
  size_t len;
  unsigned lo = 0x80, hi = 0xBF;  // range of the second byte
  UChar32 c;
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
    c = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    c = lead & 0x0F;
    if (lead == 0xE0) lo = 0xA0;  // overlong
    if (lead == 0xED) hi = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    c = lead & 0x07;
    if (lead == 0xF0) lo = 0x90;  // overlong
    if (lead == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return -1;  // continuation byte, C0, C1 or F5..FF
  }
  if (n - at < len || p[at + 1] < lo || p[at + 1] > hi) return -1;
  for (size_t k = 1; k < len; ++k) {
    const unsigned b = p[at + k];
    if ((b & 0xC0) != 0x80) return -1;
    c = (c << 6) | (b & 0x3F);
  }
  *i = at + len;
  return c;
}

// Validates `s` strictly and appends it to `out` as UTF-16. On failure
// returns false and sets `*bad_offset` to the offset of the first byte of the
// ill-formed sequence.
bool DecodeUtf8(std::string_view s, U16Buffer* out, size_t* bad_offset) {
  // One UTF-16 unit per byte is always enough.
  out->Reserve(out->size() + static_cast<int32_t>(s.size()));
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  UChar* dst = out->data() + out->size();
  for (size_t i = 0; i < n;) {
    if (p[i] < 0x80) {
      *dst++ = p[i++];
      continue;
    }
    const UChar32 c = DecodeNonAscii(p, n, &i);
    if (c < 0) {
      *bad_offset = i;
      return false;
    }
    if (c <= 0xFFFF) {
      *dst++ = static_cast<UChar>(c);
    } else {
      *dst++ = U16_LEAD(c);
      *dst++ = U16_TRAIL(c);
    }
  }
  out->set_size(static_cast<int32_t>(dst - out->data()));
  return true;
}

void AppendUtf8(UChar32 c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    const char b[2] = {static_cast<char>(0xC0 | (c >> 6)),
                       static_cast<char>(0x80 | (c & 0x3F))};
    out->append(b, 2);
  } else if (c < 0x10000) {
    const char b[3] = {static_cast<char>(0xE0 | (c >> 12)),
                       static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
                       static_cast<char>(0x80 | (c & 0x3F))};
    out->append(b, 3);
  } else {
    const char b[4] = {static_cast<char>(0xF0 | (c >> 18)),
                       static_cast<char>(0x80 | ((c >> 12) & 0x3F)),
                       static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
                       static_cast<char>(0x80 | (c & 0x3F))};
    out->append(b, 4);
  }
}

std::string ToUtf8(const UChar* s, int32_t n) {
  std::string out;
  out.reserve(static_cast<size_t>(n) * 3);
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(s, i, n, c);  // lone surrogates come out as themselves
    AppendUtf8(c, &out);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Folding

// ICU's normalizer singletons: immutable and safe to share between threads.
const UNormalizer2* Nfkd() {
  static const UNormalizer2* const instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2* n = unorm2_getNFKDInstance(&status);
    return U_SUCCESS(status) ? n : nullptr;
  }();
  return instance;
}

const UNormalizer2* Nfc() {
  static const UNormalizer2* const instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2* n = unorm2_getNFCInstance(&status);
    return U_SUCCESS(status) ? n : nullptr;
  }();
  return instance;
}

// The replacement for a case-folded letter that has no decomposition to a
// base letter, or nullptr. Uppercase forms are listed too although folding
// has already lowercased them.
const char* LetterMapping(UChar32 c) {
  switch (c) {
    case 0x00C6:
    case 0x00E6:
      return "ae";  // Æ æ
    case 0x00D0:
    case 0x00F0:
      return "d";  // Ð ð
    case 0x00D8:
    case 0x00F8:
      return "o";  // Ø ø
    case 0x00DE:
    case 0x00FE:
      return "th";  // Þ þ
    case 0x0110:
    case 0x0111:
      return "d";  // Đ đ
    case 0x0126:
    case 0x0127:
      return "h";  // Ħ ħ
    case 0x0131:
      return "i";  // ı
    case 0x0138:
      return "k";  // ĸ
    case 0x0141:
    case 0x0142:
      return "l";  // Ł ł
    case 0x014A:
    case 0x014B:
      return "n";  // Ŋ ŋ
    case 0x0152:
    case 0x0153:
      return "oe";  // Œ œ
    case 0x0166:
    case 0x0167:
      return "t";  // Ŧ ŧ
    default:
      return nullptr;
  }
}

Error InvalidUtf8(size_t offset) {
  return Error::InvalidArgument(
      "invalid_utf8",
      "text is not valid UTF-8 at byte offset " + std::to_string(offset));
}

Error IcuFailure(const char* what, UErrorCode status) {
  return Error::Internal(std::string("ICU ") + what +
                         " failed: " + u_errorName(status));
}

// FoldForMatch with ICU for text whose first `ascii` bytes are ASCII; `out`
// holds those bytes, already lowercased. An ASCII character is a starter that
// decomposes and folds to itself, so nothing after it can change it and the
// prefix needs no ICU work.
Result<std::string> FoldWithIcu(std::string_view text, size_t ascii,
                                std::string out) {
  const std::string_view rest = text.substr(ascii);
  if (rest.size() > kMaxIcuInputBytes) {
    return Error::InvalidArgument(
        "text_too_long", "text to normalize is longer than " +
                             std::to_string(kMaxIcuInputBytes) + " bytes");
  }
  U16Buffer decoded;
  size_t bad_offset = 0;
  if (!DecodeUtf8(rest, &decoded, &bad_offset)) {
    return InvalidUtf8(ascii + bad_offset);
  }
  const UNormalizer2* nfkd = Nfkd();
  if (nfkd == nullptr) {
    return Error::Internal("ICU normalization data is unavailable");
  }

  U16Buffer decomposed;
  UErrorCode status = FillBuffer(&decomposed, [&](UChar* dst, int32_t cap,
                                                  UErrorCode* st) {
    return unorm2_normalize(nfkd, decoded.data(), decoded.size(), dst, cap, st);
  });
  if (U_FAILURE(status)) return IcuFailure("NFKD", status);

  // Full, locale-independent folding: ß -> ss, İ -> i + U+0307, ς -> σ. Marks
  // are dropped after this step so that the U+0307 from İ goes too.
  U16Buffer folded;
  status = FillBuffer(&folded, [&](UChar* dst, int32_t cap, UErrorCode* st) {
    return u_strFoldCase(dst, cap, decomposed.data(), decomposed.size(),
                         U_FOLD_CASE_DEFAULT, st);
  });
  if (U_FAILURE(status)) return IcuFailure("case folding", status);

  // Folding NFKD text yields NFKD text for every single code point (checked
  // exhaustively against ICU 72); renormalize only if a sequence ever breaks
  // that, so that FoldForMatch stays idempotent.
  const U16Buffer* result = &folded;
  status = U_ZERO_ERROR;
  if (unorm2_spanQuickCheckYes(nfkd, folded.data(), folded.size(), &status) <
      folded.size()) {
    status = FillBuffer(&decomposed, [&](UChar* dst, int32_t cap,
                                         UErrorCode* st) {
      return unorm2_normalize(nfkd, folded.data(), folded.size(), dst, cap, st);
    });
    if (U_FAILURE(status)) return IcuFailure("NFKD", status);
    result = &decomposed;
  }

  out.reserve(ascii + rest.size() + 8);
  const UChar* s = result->data();
  const int32_t n = result->size();
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT_UNSAFE(s, i, c);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    const int8_t type = u_charType(c);
    if (type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK) continue;
    // ŀ decomposes to l + U+00B7; Catalan also writes l·l with the middle
    // dot itself. Both become "ll". A middle dot elsewhere is kept.
    if (c == 0x00B7 && !out.empty() && out.back() == 'l') continue;
    if (const char* mapped = LetterMapping(c)) {
      out.append(mapped);
      continue;
    }
    AppendUtf8(c, &out);
  }
  return out;
}

// The fold of each code point of the blocks most names are written in,
// computed once with FoldWithIcu, so that FoldNonAscii needs ICU only for
// other text.
//
// Folding a string equals folding its code points one by one and
// concatenating the results unless NFKD's canonical reordering changes the
// order of characters that survive. Reordering moves only non-starters, so a
// code point is in the table only if every non-starter in its decomposition
// is a mark that folds to itself and is dropped. U+0345 is the exception: it
// folds to ι, but it is also the only non-starter that survives, and its
// place among dropped marks does not matter.
class FastFoldTable {
 public:
  // Code point ranges covered, in the order their entries are stored.
  static constexpr UChar32 kRanges[][2] = {
      {0x0080, 0x052F},  // Latin-1 .. Latin Extended-B, IPA, Greek, Cyrillic
      {0x1E00, 0x1FFF},  // Latin Extended Additional, Greek Extended
      {0x3040, 0x30FF},  // Hiragana, Katakana
  };

  // The folded UTF-8 for `c`, or false if `c` needs ICU.
  bool Lookup(UChar32 c, std::string_view* folded) const {
    size_t base = 0;
    for (const auto& range : kRanges) {
      if (c < range[0]) return false;
      if (c <= range[1]) {
        const Entry& e = entries_[base + (c - range[0])];
        if (e.size < 0) return false;
        *folded = std::string_view(e.bytes, e.size);
        return true;
      }
      base += range[1] - range[0] + 1;
    }
    return false;
  }

  // The table, or nullptr if ICU's data could not be loaded.
  static const FastFoldTable* Get() {
    static const FastFoldTable* const table = Build();
    return table;
  }

 private:
  struct Entry {
    int8_t size = -1;  // -1: not in the table
    char bytes[7];
  };
  static constexpr size_t kEntries = [] {
    size_t n = 0;
    for (const auto& range : kRanges) n += range[1] - range[0] + 1;
    return n;
  }();

  static const FastFoldTable* Build() {
    const UNormalizer2* nfkd = Nfkd();
    if (nfkd == nullptr) return nullptr;
    auto* table = new FastFoldTable;
    size_t index = 0;
    for (const auto& range : kRanges) {
      for (UChar32 c = range[0]; c <= range[1]; ++c, ++index) {
        if (!SafeToFoldAlone(nfkd, c)) continue;
        std::string utf8;
        AppendUtf8(c, &utf8);
        Result<std::string> folded = FoldWithIcu(utf8, 0, std::string());
        if (!folded.ok() || folded->size() > sizeof(Entry::bytes)) continue;
        Entry& e = table->entries_[index];
        e.size = static_cast<int8_t>(folded->size());
        std::memcpy(e.bytes, folded->data(), folded->size());
      }
    }
    return table;
  }

  // True if reordering cannot move any part of c's decomposition that
  // survives folding (see the class comment). With ICU 72's data this holds
  // for every code point in kRanges; the check guards against future data.
  static bool SafeToFoldAlone(const UNormalizer2* nfkd, UChar32 c) {
    UChar src[2];
    int32_t src_len = 0;
    U16_APPEND_UNSAFE(src, src_len, c);
    UChar decomposed[32];
    UErrorCode status = U_ZERO_ERROR;
    const int32_t n =
        unorm2_normalize(nfkd, src, src_len, decomposed, 32, &status);
    if (U_FAILURE(status)) return false;
    for (int32_t i = 0; i < n;) {
      UChar32 d;
      U16_NEXT(decomposed, i, n, d);
      if (u_getCombiningClass(d) == 0 || d == 0x0345) continue;
      const int8_t type = u_charType(d);
      if ((type != U_NON_SPACING_MARK && type != U_ENCLOSING_MARK) ||
          u_foldCase(d, U_FOLD_CASE_DEFAULT) != d) {
        return false;
      }
    }
    return true;
  }

  Entry entries_[kEntries];
};

// FoldForMatch for text whose first `ascii` bytes are ASCII and the rest is
// not; `out` holds those bytes, already lowercased. Folds code point by code
// point while they are ASCII, in FastFoldTable, CJK ideographs (which NFKD
// and folding leave alone) or Hangul syllables (which NFKD splits into
// conjoining jamo, all starters); at the first other one, starts over with
// ICU after the ASCII prefix.
Result<std::string> FoldNonAscii(std::string_view text, size_t ascii,
                                 std::string out) {
  const FastFoldTable* table = FastFoldTable::Get();
  if (table == nullptr) return FoldWithIcu(text, ascii, std::move(out));
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  out.reserve(n + n / 4);
  for (size_t i = ascii; i < n;) {
    if (p[i] < 0x80) {
      out.push_back(AsciiLower(static_cast<char>(p[i++])));
      continue;
    }
    const size_t start = i;
    const UChar32 c = DecodeNonAscii(p, n, &i);
    if (c < 0) return InvalidUtf8(start);
    std::string_view folded;
    if (table->Lookup(c, &folded)) {
      // See FoldWithIcu on the middle dot.
      if (c == 0x00B7 && !out.empty() && out.back() == 'l') continue;
      out.append(folded);
    } else if (c >= 0x4E00 && c <= 0x9FFF) {
      out.append(text.substr(start, i - start));
    } else if (c >= 0xAC00 && c <= 0xD7A3) {
      // Unicode's algorithmic Hangul decomposition.
      const int s = c - 0xAC00;
      AppendUtf8(0x1100 + s / 588, &out);
      AppendUtf8(0x1161 + (s % 588) / 28, &out);
      if (s % 28 != 0) AppendUtf8(0x11A7 + s % 28, &out);
    } else {
      out.resize(ascii);
      return FoldWithIcu(text, ascii, std::move(out));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Romanization

// True if `c` belongs to a script other than Latin (or Common, Inherited and
// Unknown, which belong to no particular script).
bool IsNonLatinScript(UChar32 c) {
  if (c < 0x80) return false;
  UErrorCode status = U_ZERO_ERROR;
  const UScriptCode script = uscript_getScript(c, &status);
  return U_SUCCESS(status) && script != USCRIPT_LATIN &&
         script != USCRIPT_COMMON && script != USCRIPT_INHERITED &&
         script != USCRIPT_UNKNOWN;
}

bool HasNonLatinScript(std::u16string_view s) {
  for (size_t i = 0; i < s.size();) {
    UChar32 c;
    U16_NEXT(s.data(), i, s.size(), c);
    if (IsNonLatinScript(c)) return true;
  }
  return false;
}

struct TransliteratorCloser {
  void operator()(UTransliterator* t) const { utrans_close(t); }
};
using TransliteratorPtr =
    std::unique_ptr<UTransliterator, TransliteratorCloser>;

// Idle "Any-Latin" transliterators. A UTransliterator must not be used by two
// threads at once, and opening one is expensive, so a caller borrows an idle
// one, or opens a new one if none is idle, and gives it back afterwards.
// The pool holds at most as many as there were concurrent callers.
class TransliteratorPool {
 public:
  TransliteratorPtr Borrow() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        TransliteratorPtr t = std::move(idle_.back());
        idle_.pop_back();
        return t;
      }
    }
    UErrorCode status = U_ZERO_ERROR;
    TransliteratorPtr t(utrans_openU(u"Any-Latin", -1, UTRANS_FORWARD, nullptr,
                                     0, nullptr, &status));
    if (U_FAILURE(status)) t.reset();
    return t;
  }

  void GiveBack(TransliteratorPtr t) {
    if (t == nullptr) return;
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(t));
  }

 private:
  std::mutex mu_;
  std::vector<TransliteratorPtr> idle_;
};

TransliteratorPool& Transliterators() {
  static TransliteratorPool* const pool = new TransliteratorPool;
  return *pool;
}

// Transliterates `in` with `t` into `out`. False on ICU failure.
bool Transliterate(UTransliterator* t, std::u16string_view in,
                   std::u16string* out) {
  int32_t capacity = static_cast<int32_t>(in.size()) * 4 + 16;
  for (int attempt = 0; attempt < 3; ++attempt) {
    out->assign(in);
    out->resize(capacity);
    int32_t length = static_cast<int32_t>(in.size());
    int32_t limit = length;
    UErrorCode status = U_ZERO_ERROR;
    utrans_transUChars(t, out->data(), &length, capacity, 0, &limit, &status);
    if (U_SUCCESS(status)) {
      out->resize(length);
      return true;
    }
    if (status != U_BUFFER_OVERFLOW_ERROR) return false;
    capacity = std::max(capacity * 2, length + 16);
  }
  return false;
}

// Romanizes `in` word by word (words being runs between white space), leaving
// words written only in Latin alone. `spaced` gets the transliterator's
// output as is, `joined` the same with the spaces it put inside a word
// removed: Han-Latin writes one syllable per character, "zhāng wěi" for 张伟,
// and people type the name as well as "zhangwei".
bool Romanize(std::u16string_view in, std::u16string* spaced,
              std::u16string* joined) {
  TransliteratorPool& pool = Transliterators();
  TransliteratorPtr t = pool.Borrow();
  if (t == nullptr) return false;
  spaced->clear();
  joined->clear();
  std::u16string word_out;
  bool ok = true;
  for (size_t i = 0; i < in.size() && ok;) {
    // A run of white space, then a word.
    size_t start = i;
    while (i < in.size()) {
      size_t next = i;
      UChar32 c;
      U16_NEXT(in.data(), next, in.size(), c);
      if (!u_isUWhiteSpace(c)) break;
      i = next;
    }
    spaced->append(in.substr(start, i - start));
    joined->append(in.substr(start, i - start));
    start = i;
    bool foreign = false;
    while (i < in.size()) {
      size_t next = i;
      UChar32 c;
      U16_NEXT(in.data(), next, in.size(), c);
      if (u_isUWhiteSpace(c)) break;
      foreign = foreign || IsNonLatinScript(c);
      i = next;
    }
    const std::u16string_view word = in.substr(start, i - start);
    if (!foreign) {
      spaced->append(word);
      joined->append(word);
      continue;
    }
    ok = Transliterate(t.get(), word, &word_out);
    spaced->append(word_out);
    std::erase(word_out, u' ');
    joined->append(word_out);
  }
  pool.GiveBack(std::move(t));
  return ok;
}

// The usual English romanization of a lowercase Cyrillic letter (Russian,
// plus Ukrainian і ї є ґ), or nullptr for any other code point.
const char* CyrillicRomanization(UChar32 c) {
  static constexpr const char* kRussian[32] = {
      "a",  "b",    "v", "g", "d", "e",  "zh", "z",   // а..з
      "i",  "y",    "k", "l", "m", "n",  "o",  "p",   // и..п
      "r",  "s",    "t", "u", "f", "kh", "ts", "ch",  // р..ч
      "sh", "shch", "",  "y", "",  "e",  "yu", "ya",  // ш..я
  };
  if (c >= 0x0430 && c <= 0x044F) return kRussian[c - 0x0430];
  switch (c) {
    case 0x0451:
      return "yo";  // ё
    case 0x0454:
      return "ye";  // є
    case 0x0456:
      return "i";  // і
    case 0x0457:
      return "yi";  // ї
    case 0x0491:
      return "g";  // ґ
    default:
      return nullptr;
  }
}

// `in` composed (so that ё is one code point), lowercased and with Cyrillic
// letters replaced by CyrillicRomanization; other code points unchanged.
std::u16string RomanizeCyrillic(std::u16string_view in) {
  std::u16string composed;
  const UNormalizer2* nfc = Nfc();
  if (nfc != nullptr) {
    composed.resize(in.size() + 8);
    UErrorCode status = U_ZERO_ERROR;
    int32_t n = unorm2_normalize(nfc, in.data(), in.size(), composed.data(),
                                 composed.size(), &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
      composed.resize(n);
      status = U_ZERO_ERROR;
      n = unorm2_normalize(nfc, in.data(), in.size(), composed.data(),
                           composed.size(), &status);
    }
    if (U_SUCCESS(status)) {
      composed.resize(n);
      in = composed;
    }
  }
  std::u16string out;
  out.reserve(in.size() * 2);
  for (size_t i = 0; i < in.size();) {
    UChar32 c;
    U16_NEXT(in.data(), i, in.size(), c);
    c = u_tolower(c);
    if (const char* roman = CyrillicRomanization(c)) {
      for (; *roman != '\0'; ++roman) out.push_back(*roman);
    } else {
      UChar units[2];
      int32_t len = 0;
      U16_APPEND_UNSAFE(units, len, c);
      out.append(units, len);
    }
  }
  return out;
}

// Drops the modifier letters transliterators use for apostrophe-like signs
// (ʹ ʺ for the Cyrillic soft and hard signs, ʻ ʼ ʾ ʿ for ayin and hamza):
// nobody types them, and they would glue to the word as letters.
void DropModifierApostrophes(std::u16string* s) {
  std::erase_if(*s, [](char16_t c) {
    return (c >= 0x02B9 && c <= 0x02BC) || c == 0x02BE || c == 0x02BF;
  });
}

std::vector<std::string> ComputeLatinForms(std::string_view text,
                                           std::u16string_view utf16,
                                           bool has_cyrillic) {
  std::vector<std::string> forms;
  Result<std::string> self = FoldForMatch(text);
  if (!self.ok()) return forms;
  auto add = [&](std::u16string form) {
    DropModifierApostrophes(&form);
    Result<std::string> folded = FoldForMatch(ToUtf8(form.data(), form.size()));
    if (!folded.ok() || !HasWordChars(*folded) || *folded == *self ||
        std::find(forms.begin(), forms.end(), *folded) != forms.end()) {
      return;
    }
    forms.push_back(std::move(folded).value());
  };

  std::u16string spaced, joined;
  if (Romanize(utf16, &spaced, &joined)) {
    add(std::move(spaced));
    add(std::move(joined));
  }
  if (has_cyrillic) {
    std::u16string table = RomanizeCyrillic(utf16);
    // Letters outside the table (Serbian ђ, Belarusian ў, other scripts)
    // still need the transliterator.
    if (HasNonLatinScript(table)) {
      if (Romanize(table, &spaced, &joined)) {
        add(std::move(spaced));
        add(std::move(joined));
      }
    } else {
      add(std::move(table));
    }
  }
  return forms;
}

struct FormsCache {
  std::mutex mu;
  std::unordered_map<std::string, std::vector<std::string>> forms;
};

FormsCache& Cache() {
  static FormsCache* const cache = new FormsCache;
  return *cache;
}

}  // namespace

Result<std::string> FoldForMatch(std::string_view text) {
  const size_t ascii = AsciiPrefixLength(text);
  std::string out(ascii, '\0');
  for (size_t i = 0; i < ascii; ++i) out[i] = AsciiLower(text[i]);
  if (ascii == text.size()) return out;
  return FoldNonAscii(text, ascii, std::move(out));
}

bool HasWordChars(std::string_view folded) {
  const auto* s = reinterpret_cast<const uint8_t*>(folded.data());
  const int32_t n =
      static_cast<int32_t>(std::min<size_t>(folded.size(), INT32_MAX));
  for (int32_t i = 0; i < n;) {
    const uint8_t b = s[i];
    if (b < 0x80) {
      if ((b >= '0' && b <= '9') || ((b | 0x20) >= 'a' && (b | 0x20) <= 'z')) {
        return true;
      }
      ++i;
      continue;
    }
    UChar32 c;
    U8_NEXT(s, i, n, c);  // ill-formed bytes give c < 0
    if (c >= 0 && (U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_N_MASK)) != 0) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> LatinForms(std::string_view text) {
  // Most names are Latin: find that out before touching the cache.
  if (AsciiPrefixLength(text) == text.size()) return {};
  if (text.size() > kMaxIcuInputBytes) return {};
  U16Buffer decoded;
  size_t bad_offset;
  if (!DecodeUtf8(text, &decoded, &bad_offset)) return {};
  const std::u16string_view utf16(decoded.data(), decoded.size());
  bool non_latin = false;
  bool has_cyrillic = false;
  for (size_t i = 0; i < utf16.size();) {
    UChar32 c;
    U16_NEXT(utf16.data(), i, utf16.size(), c);
    if (!IsNonLatinScript(c)) continue;
    non_latin = true;
    UErrorCode status = U_ZERO_ERROR;
    if (uscript_getScript(c, &status) == USCRIPT_CYRILLIC) {
      has_cyrillic = true;
      break;
    }
  }
  if (!non_latin) return {};

  FormsCache& cache = Cache();
  const std::string key(text);
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    auto it = cache.forms.find(key);
    if (it != cache.forms.end()) return it->second;
  }
  std::vector<std::string> forms = ComputeLatinForms(text, utf16, has_cyrillic);
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    if (cache.forms.size() >= kMaxCachedForms) cache.forms.clear();
    cache.forms.emplace(key, forms);
  }
  return forms;
}

}  // namespace galsync
