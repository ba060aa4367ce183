// The front-coded term dictionary; see galsync/term_dictionary.h.
#include "galsync/term_dictionary.h"

#include <algorithm>
#include <cstdlib>

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

TermDictionary::TermDictionary(const std::vector<std::string_view>& sorted) {
  if (sorted.size() >= UINT32_MAX) std::abort();
  size_ = static_cast<uint32_t>(sorted.size());
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
      PutVarint(bytes_, shared);
      PutVarint(bytes_, s.size() - shared);
      bytes_.append(s.substr(shared));
    }
    prev = s;
  }
  bytes_.shrink_to_fit();
}

const char* TermDictionary::Decode(const char* p, bool first, std::string& s) {
  size_t shared = 0, rest = 0;
  if (first) {
    p = GetVarint(p, rest);
  } else {
    p = GetVarint(p, shared);
    p = GetVarint(p, rest);
  }
  s.resize(shared);
  s.append(p, rest);
  return p + rest;
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
