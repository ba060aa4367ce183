// TermDictionary: a sorted list of distinct strings, front-coded, with
// random access by rank and lower-bound search. The prefix index keeps its
// words here.
//
// Layout: blocks of kBlock strings. The first string of a block is stored
// whole; each next one as the count of bytes it shares with the string
// before it and the rest. Sorted words share long prefixes ("jessica.smith",
// "jessica.smith@example.com"), so a block holds about half of the bytes a
// plain concatenation would, and needs no offset per string.
//
// The rest's tail from its last '@' (an e-mail address's domain), if it is
// one of the kMaxTails tails that save the most bytes in this dictionary,
// is stored as a byte that numbers it: a directory's addresses share a few
// domains, and these bytes were most of a dictionary's (at 1,000,000
// generated people, 18 of its 31 MB).
//
//   bytes        ┌ block 0 ─────────────────────────────────┬ block 1 ...
//                │ len "jessica" │ 7 len*2 ".smith" │ 13 len*2+1 "" 0 │...
//                └──────────────────────────────────────────┴─────────...
//                  (the third string: "jessica.smith" and tail 0)
//   block_start  offset of each block in bytes
//   length       per string, its length in bytes (255: look it up)
//   tails        the coded tails ("@example.com", ...), by number
//
// Costs (T strings, L bytes in a string):
//   length(t)     O(1) below 255 bytes, else one block decode
//   Get(t)        one block decode: at most kBlock - 1 steps of O(L)
//   LowerBound    O(log(T / kBlock)) comparisons with whole first strings,
//                 then one block decode
//   ForEach       O(total bytes), in order
//
// Thread-safety: immutable after construction; any number of readers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace galsync {

class TermDictionary {
 public:
  static constexpr uint32_t kBlock = 16;
  static constexpr size_t kMaxTails = 256;  // numbered by one byte

  TermDictionary() = default;
  // `sorted` must be strictly increasing (bytewise).
  explicit TermDictionary(const std::vector<std::string_view>& sorted);

  uint32_t size() const { return size_; }
  uint32_t length(uint32_t t) const {
    return length_[t] != kLongLength ? length_[t] : LongLength(t);
  }
  std::string Get(uint32_t t) const;
  // The rank of the first string >= key (size() if none).
  uint32_t LowerBound(std::string_view key) const;
  // Calls f(rank, string) for every string, in order.
  template <typename F>
  void ForEach(F&& f) const {
    std::string s;
    const char* p = bytes_.data();  // blocks are stored one after another
    for (uint32_t t = 0; t < size_; ++t) {
      p = Decode(p, t % kBlock == 0, s);
      f(t, std::string_view(s));
    }
  }

  size_t MemoryBytes() const {
    size_t n = bytes_.capacity() + block_start_.capacity() * sizeof(uint32_t) +
               length_.capacity() + tails_.capacity() * sizeof(std::string);
    for (const std::string& tail : tails_) n += tail.capacity();
    return n;
  }

 private:
  static constexpr uint8_t kLongLength = 255;
  static constexpr size_t kTailSample = 32;  // see ChooseTails
  uint32_t LongLength(uint32_t t) const { return Get(t).size(); }
  static std::string_view TailOf(std::string_view s);
  void ChooseTails(const std::vector<std::string_view>& sorted);
  // Decodes the string at p into s (which holds the string before it unless
  // `first`); returns the position after it.
  const char* Decode(const char* p, bool first, std::string& s) const;
  // The first string of a block, stored whole.
  std::string_view FirstOfBlock(uint32_t block) const;

  uint32_t size_ = 0;
  std::string bytes_;
  std::vector<uint32_t> block_start_;
  std::vector<uint8_t> length_;
  std::vector<std::string> tails_;
};

}  // namespace galsync
