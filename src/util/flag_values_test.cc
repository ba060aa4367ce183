// Counts and durations of command-line flags.
#include "util/flag_values.h"

#include <gtest/gtest.h>

namespace galsync {
namespace {

TEST(FlagValuesTest, Counts) {
  EXPECT_EQ(*ParseCount("--n", "0", 0, 10), 0u);
  EXPECT_EQ(*ParseCount("--n", "10", 0, 10), 10u);
  for (const char* bad : {"", "11", "-1", "1x", " 1", "1.5", "99999999999999999999"}) {
    auto r = ParseCount("--n", bad, 0, 10);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message,
              std::string("--n wants a number in 0..10, got \"") + bad + "\"");
  }
}

TEST(FlagValuesTest, Durations) {
  EXPECT_EQ(*ParseDurationSeconds("--d", "90", 1, 86400), 90u);
  EXPECT_EQ(*ParseDurationSeconds("--d", "90s", 1, 86400), 90u);
  EXPECT_EQ(*ParseDurationSeconds("--d", "5m", 1, 86400), 300u);
  EXPECT_EQ(*ParseDurationSeconds("--d", "2h", 1, 86400), 7200u);
  EXPECT_EQ(*ParseDurationSeconds("--d", "1d", 1, 86400), 86400u);
  for (const char* bad : {"", "s", "5x", "0s", "2d", "-5m", "1.5h", "m5"}) {
    auto r = ParseDurationSeconds("--d", bad, 1, 86400);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("--d wants a duration"), std::string::npos);
  }
}

}  // namespace
}  // namespace galsync
