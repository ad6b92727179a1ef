#include "base/text.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "base/median.h"

namespace peakbench {
namespace {

TEST(Text, ShellQuoteLeavesPlainWordsAndQuotesTheRest) {
  EXPECT_EQ(shell_quote(std::string_view("--cache-dir=/tmp/a,b")), "--cache-dir=/tmp/a,b");
  EXPECT_EQ(shell_quote(std::string_view("")), "''");
  EXPECT_EQ(shell_quote(std::string_view("a b")), "'a b'");
  EXPECT_EQ(shell_quote(std::string_view("it's")), "'it'\\''s'");
  EXPECT_EQ(shell_quote(std::vector<std::string>{"python3", "-c", "print(1)"}),
            "python3 -c 'print(1)'");
}

TEST(Text, XmlEscapeReplacesTheFiveSpecialCharacters) {
  EXPECT_EQ(xml_escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  EXPECT_EQ(xml_escape("plain"), "plain");
}

TEST(Median, OddTakesTheMiddleEvenTheMeanRoundedDownForIntegers) {
  EXPECT_EQ(median_of(std::vector<std::uint64_t>{5, 1, 3}), 3u);
  EXPECT_EQ(median_of(std::vector<std::uint64_t>{1, 2, 4, 9}), 3u);  // (2 + 4) / 2
  EXPECT_EQ(median_of(std::vector<std::uint64_t>{1, 2}), 1u);        // 1.5 rounded down
  EXPECT_DOUBLE_EQ(median_of(std::vector<double>{1, 2}), 1.5);
  EXPECT_EQ(median_of(std::vector<std::uint64_t>{}), 0u);
}

}  // namespace
}  // namespace peakbench
