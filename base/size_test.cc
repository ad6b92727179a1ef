#include "base/size.h"

#include <gtest/gtest.h>

namespace peakbench {
namespace {

TEST(ParseSize, AcceptsEverySpellingOfTheContract) {
  EXPECT_EQ(*parse_size("1048576"), 1048576u);
  EXPECT_EQ(*parse_size("64KiB"), 64u * 1024);
  EXPECT_EQ(*parse_size("500MiB"), 500u * 1024 * 1024);
  EXPECT_EQ(*parse_size("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(*parse_size("500MB"), 500u * 1000 * 1000);
  EXPECT_EQ(*parse_size("16M"), 16u * 1024 * 1024);
  EXPECT_EQ(*parse_size("8GiB"), 8ull * 1024 * 1024 * 1024);
}

TEST(ParseSize, RejectsBadInputWithAMessageNamingIt) {
  for (const char* bad : {"", "MiB", "-1", "1.5GiB", "12 parsecs", "10XB", "99999999999999999999",
                          "20000000000GiB"}) {
    auto size = parse_size(bad);
    ASSERT_FALSE(size.ok()) << bad;
    EXPECT_NE(size.message().find("bad size"), std::string::npos) << size.message();
    EXPECT_EQ(size.message().find('\n'), std::string::npos);
  }
}

TEST(ParseSize, ListsAreCommaSeparated) {
  auto sizes = parse_size_list("32MiB,128MiB");
  ASSERT_TRUE(sizes.ok());
  EXPECT_EQ(*sizes, (std::vector<std::uint64_t>{32u << 20, 128u << 20}));
  EXPECT_FALSE(parse_size_list("32MiB,,1").ok());
}

TEST(FormatSize, RoundTripsThroughParse) {
  for (std::uint64_t bytes : {1ull, 1000ull, 1024ull, 500ull << 20, 3ull << 30, 12345ull}) {
    EXPECT_EQ(*parse_size(format_size(bytes)), bytes) << format_size(bytes);
  }
  EXPECT_EQ(format_size(500u << 20), "500MiB");
}

}  // namespace
}  // namespace peakbench
