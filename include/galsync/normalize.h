// Text normalization for matching: the one definition of "the same letters"
// used when the prefix index is built and when it is queried.
//
// FoldForMatch: Unicode NFKD, full case folding (locale-independent: ß→ss,
// ς→σ, İ→i plus a combining dot), then combining marks (general categories
// Mn and Me) removed, then explicit mappings for letters that have no
// decomposition: ł→l, ø→o, æ→ae, đ→d, ð→d, þ→th, œ→oe, ı→i, ħ→h, ŧ→t, ĸ→k,
// ŋ→n. A middle dot right after an l is removed too, so Catalan "coŀlegi"
// (ŀ decomposes to l·) and "col·legi" both fold to "collegi".
// So "José", "JOSE" and "jose" fold to "jose", "Straße" to "strasse",
// "Łukasz" to "lukasz", "İstanbul" and "Işık" to "istanbul" and "isik".
// Characters other than letters and digits (punctuation such as '@' '.' '-',
// spaces, symbols, emoji) are kept: the caller decides where words end. But
// NFKD applies to them as to letters: compatibility characters become their
// plain forms (no-break space → space, '＠' → '@', '™' → "tm", '①' → "1"),
// and marks among them go (the emoji variation selector U+FE0F, the keycap
// U+20E3).
// The result is a key for matching, not for display. Marks go in every
// script: й→и, ё→е, が→か, and Indic vowel signs of category Mn. Hangul
// syllables come out as conjoining jamo (NFKD), so "김" begins with "기".
// Folding is idempotent. Pure ASCII input is just lowercased (tens of ns);
// names in Latin, Greek, Cyrillic, kana, CJK or Hangul cost well under a
// microsecond.
//
// LatinForms: romanizations of text written in a non-Latin script, folded:
// ICU's "Any-Latin" transliteration, plus for Cyrillic a common English
// romanization (ё→yo, ж→zh, х→kh, ц→ts, ч→ch, ш→sh, щ→shch, ю→yu, я→ya,
// й→y, ъ and ь dropped; Ukrainian і→i, ї→yi, є→ye, ґ→g), so both "petr"
// and "pyotr" find "Пётр". Han is transliterated one syllable per character,
// so 张伟 yields both "zhang wei" and "zhangwei" (the spaces the
// transliterator put inside a word removed). The modifier letters
// transliterators use for apostrophe-like signs (ʹ ʺ for ь ъ, ʻ ʼ ʾ ʿ for
// ayin and hamza) are dropped. Slow (a transliterator runs: microseconds for
// Cyrillic, tens of microseconds for Han): meant for index building; results
// are cached (bounded), so repeated names cost well under a microsecond.
//
// Thread-safety: all functions may be called concurrently. (LatinForms
// lends transliterators out from a pool and guards its cache with a mutex.)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "galsync/status.h"

namespace galsync {

// kInvalidArgument, reason "invalid_utf8", if `text` is not valid UTF-8
// (overlong forms, surrogates, code points above U+10FFFF and truncated
// sequences are rejected); the message names the byte offset.
// kInvalidArgument, reason "text_too_long", for text that needs ICU (see
// above) and is longer than 64 MiB.
Result<std::string> FoldForMatch(std::string_view text);

// True if `folded` contains at least one letter or number (general category
// L* or N*, any script; "٣" counts, "😀" and "@." do not). Ill-formed UTF-8
// bytes are ignored.
bool HasWordChars(std::string_view folded);

// Folded Latin forms of `text` (its original spelling, not folded), without
// duplicates and never equal to FoldForMatch(text). Empty if every code point
// of `text` is of the Latin, Common or Inherited script (ASCII digits,
// punctuation, emoji and combining marks are Common or Inherited; "٣" is
// Arabic and yields "3"), or if `text` is not valid UTF-8.
// Words written in Latin keep their spelling: "张伟 Smith" yields
// "zhang wei smith".
std::vector<std::string> LatinForms(std::string_view text);

}  // namespace galsync
