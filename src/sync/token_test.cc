// Tests of sync token encoding: round trip, and rejection of anything
// truncated, altered, re-encoded or signed with another secret.
#include "galsync/sync_token.h"

#include <gtest/gtest.h>

namespace galsync {
namespace {

const std::string kSecret(32, 'k');

TEST(TokenCodecTest, RoundTrips) {
  TokenCodec codec(kSecret);
  SyncToken t{0x1122334455667788ull, 42, 1000000, 999};
  std::string s = codec.Encode(t);
  EXPECT_EQ(s.size(), 66u);
  auto back = codec.Decode(s);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, t);
}

TEST(TokenCodecTest, RejectsEveryAlteredCharacter) {
  TokenCodec codec(kSecret);
  std::string s = codec.Encode({1, 2, 3, 0});
  for (size_t i = 0; i < s.size(); ++i) {
    std::string bad = s;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    auto r = codec.Decode(bad);
    ASSERT_FALSE(r.ok()) << "position " << i;
    EXPECT_EQ(r.error().reason, "invalid_token");
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  }
}

TEST(TokenCodecTest, RejectsTruncatedExtendedAndGarbage) {
  TokenCodec codec(kSecret);
  std::string s = codec.Encode({1, 2, 3, 0});
  for (std::string bad : {s.substr(0, 65), s + "A", std::string(""),
                          std::string(66, '!'), std::string(66, 'A'),
                          std::string("0"), s.substr(0, 40)}) {
    EXPECT_FALSE(codec.Decode(bad).ok()) << bad;
  }
}

TEST(TokenCodecTest, RejectsAnotherServersSecret) {
  TokenCodec a(kSecret), b(std::string(32, 'z'));
  EXPECT_FALSE(b.Decode(a.Encode({1, 2, 3, 0})).ok());
}

}  // namespace
}  // namespace galsync
