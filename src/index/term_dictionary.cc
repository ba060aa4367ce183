// The front-coded term dictionary; see galsync/term_dictionary.h.
#include "galsync/term_dictionary.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

namespace galsync {
namespace {

void PutVarint(std::string& out, size_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

const char* GetVarint(const char* p, size_t& v) {
  v = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<unsigned char>(*p++);
    v |= size_t{b & 0x7Fu} << shift;
    if (b < 0x80) return p;
  }
}

}  // namespace

// The tail of `s` that may be coded: from its last '@' on ("" if none).
std::string_view TermDictionary::TailOf(std::string_view s) {
  // memrchr, not rfind: libstdc++'s rfind steps a byte at a time.
  const auto* at = static_cast<const char*>(memrchr(s.data(), '@', s.size()));
  return at == nullptr ? std::string_view() : s.substr(at - s.data());
}

void TermDictionary::ChooseTails(const std::vector<std::string_view>& sorted) {
  // Counted in one string of kTailSample (not the first of a block, which
  // is stored whole): a tail common enough to matter is common there too.
  std::unordered_map<std::string_view, uint64_t> count;
  for (size_t t = 1; t < sorted.size(); t += kTailSample) {
    const std::string_view tail = TailOf(sorted[t]);
    if (tail.size() >= 3 && tail.size() <= kLongLength) ++count[tail];
  }
  // The tails that save the most bytes (a code byte instead of the tail).
  std::vector<std::pair<uint64_t, std::string_view>> saving;
  for (const auto& [tail, n] : count) {
    if (n >= 2) saving.push_back({n * (tail.size() - 1), tail});
  }
  const size_t keep = std::min(saving.size(), kMaxTails);
  std::partial_sort(saving.begin(), saving.begin() + keep, saving.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first
                                                : a.second < b.second;
                    });
  for (size_t i = 0; i < keep; ++i) tails_.emplace_back(saving[i].second);
}

TermDictionary::TermDictionary(const std::vector<std::string_view>& sorted) {
  if (sorted.size() >= UINT32_MAX) std::abort();
  size_ = static_cast<uint32_t>(sorted.size());
  ChooseTails(sorted);
  // The codes of the tails of each length (a few): cheaper than hashing.
  std::vector<std::vector<uint8_t>> codes_of_length(kLongLength + 1);
  for (size_t i = 0; i < tails_.size(); ++i) {
    codes_of_length[tails_[i].size()].push_back(static_cast<uint8_t>(i));
  }
  auto code_of = [&](std::string_view tail) -> int {
    if (tail.size() > kLongLength) return -1;
    for (const uint8_t c : codes_of_length[tail.size()]) {
      if (tails_[c] == tail) return c;
    }
    return -1;
  };
  length_.reserve(size_);
  block_start_.reserve((size_ + kBlock - 1) / kBlock);
  std::string_view prev;
  for (uint32_t t = 0; t < size_; ++t) {
    const std::string_view s = sorted[t];
    length_.push_back(static_cast<uint8_t>(std::min<size_t>(s.size(), kLongLength)));
    if (t % kBlock == 0) {
      if (bytes_.size() >= UINT32_MAX) std::abort();
      block_start_.push_back(static_cast<uint32_t>(bytes_.size()));
      PutVarint(bytes_, s.size());
      bytes_ += s;
    } else {
      size_t shared = 0;
      const size_t most = std::min(prev.size(), s.size());
      while (shared < most && prev[shared] == s[shared]) ++shared;
      std::string_view rest = s.substr(shared);
      const std::string_view tail = TailOf(rest);
      const int code = tail.empty() ? -1 : code_of(tail);
      if (code >= 0) rest.remove_suffix(tail.size());
      PutVarint(bytes_, shared);
      PutVarint(bytes_, rest.size() << 1 | (code >= 0));
      bytes_.append(rest);
      if (code >= 0) bytes_.push_back(static_cast<char>(code));
    }
    prev = s;
  }
  bytes_.shrink_to_fit();
}

const char* TermDictionary::Decode(const char* p, bool first,
                                   std::string& s) const {
  if (first) {
    size_t len = 0;
    p = GetVarint(p, len);
    s.assign(p, len);
    return p + len;
  }
  size_t shared = 0, coded = 0;
  p = GetVarint(p, shared);
  p = GetVarint(p, coded);
  const size_t rest = coded >> 1;
  s.resize(shared);
  s.append(p, rest);
  p += rest;
  if (coded & 1) s += tails_[static_cast<uint8_t>(*p++)];
  return p;
}

std::string_view TermDictionary::FirstOfBlock(uint32_t block) const {
  size_t len = 0;
  const char* p = GetVarint(bytes_.data() + block_start_[block], len);
  return {p, len};
}

std::string TermDictionary::Get(uint32_t t) const {
  std::string s;
  const uint32_t block = t / kBlock;
  const char* p = bytes_.data() + block_start_[block];
  for (uint32_t i = block * kBlock; i <= t; ++i) {
    p = Decode(p, i == block * kBlock, s);
  }
  return s;
}

uint32_t TermDictionary::LowerBound(std::string_view key) const {
  // The first block whose first string is >= key; the answer lies in the
  // block before it, or is that block's first string.
  uint32_t lo = 0, hi = static_cast<uint32_t>(block_start_.size());
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (FirstOfBlock(mid) < key) lo = mid + 1; else hi = mid;
  }
  if (lo == 0) return 0;
  const uint32_t block = lo - 1;
  const uint32_t end = std::min(size_, lo * kBlock);
  std::string s;
  const char* p = bytes_.data() + block_start_[block];
  for (uint32_t t = block * kBlock; t < end; ++t) {
    p = Decode(p, t == block * kBlock, s);
    if (std::string_view(s) >= key) return t;
  }
  return end;
}

}  // namespace galsync
