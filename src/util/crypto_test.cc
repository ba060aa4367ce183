// Tests of the base64 encoders against RFC 4648's test vectors (§10).
#include "util/crypto.h"

#include <gtest/gtest.h>

namespace galsync::crypto {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> padded[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
      {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [in, out] : padded) {
    EXPECT_EQ(Base64Encode(in), out) << in;
    std::string url = out;
    while (!url.empty() && url.back() == '=') url.pop_back();
    EXPECT_EQ(Base64UrlEncode(in), url) << in;
    EXPECT_EQ(Base64UrlDecode(url), std::string(in)) << in;
  }
  // The two alphabets differ in their last two digits.
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

}  // namespace
}  // namespace galsync::crypto
