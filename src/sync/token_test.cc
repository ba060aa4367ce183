// Tests of sync token encoding: round trip, and rejection of anything
// truncated, altered, re-encoded or signed with another secret.
#include "galsync/sync_token.h"

#include <gtest/gtest.h>

#include "util/crypto.h"

namespace galsync {
namespace {

const std::string kSecret(32, 'k');

TEST(TokenCodecTest, RoundTrips) {
  TokenCodec codec(kSecret);
  for (View view : {View::kFull, View::kPublic}) {
    SyncToken t{0x1122334455667788ull, 42, 1000000, 999, view};
    std::string s = codec.Encode(t);
    EXPECT_EQ(s.size(), 67u);
    auto back = codec.Decode(s);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, t);
  }
}

// A version 1 token (before views) is still honoured, as the full view.
TEST(TokenCodecTest, AcceptsVersionOneAsFullView) {
  std::string body(1, '\x01');
  for (uint64_t v : {uint64_t{7}, uint64_t{8}, uint64_t{9}, uint64_t{0}}) {
    for (int i = 0; i < 8; ++i) body.push_back(static_cast<char>(v >> (8 * i)));
  }
  auto mac = crypto::HmacSha256(kSecret, body);
  std::string v1 = crypto::Base64UrlEncode(
      body + std::string(reinterpret_cast<const char*>(mac.data()), 16));
  ASSERT_EQ(v1.size(), 66u);
  auto t = TokenCodec(kSecret).Decode(v1);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(*t, (SyncToken{7, 8, 9, 0, View::kFull}));
}

// The view byte is covered by the MAC, and only known views decode.
TEST(TokenCodecTest, RejectsUnknownView) {
  TokenCodec codec(kSecret);
  std::string body = {'\x02', '\x02'};
  body.append(32, '\0');
  auto mac = crypto::HmacSha256(kSecret, body);
  std::string bad = crypto::Base64UrlEncode(
      body + std::string(reinterpret_cast<const char*>(mac.data()), 16));
  EXPECT_FALSE(codec.Decode(bad).ok());
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
  for (std::string bad : {s.substr(0, 66), s + "A", std::string(""),
                          std::string(67, '!'), std::string(67, 'A'),
                          std::string(66, 'A'),
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
