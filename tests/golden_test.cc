// Golden tests: the hand-made reports in reports/golden/ and the exact outputs expected from them,
// through the real `peakbench` binary. PEAKBENCH_UPDATE_GOLDEN=1 rewrites the expected files (then
// review the diff before committing it).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness/atomic_file.h"
#include "harness/report.h"
#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

using testing::run_peakbench;
using testing::source_path;

void expect_golden(const std::string& relative, const std::string& actual) {
  const auto path = source_path(relative);
  if (testing::updating_golden()) {
    ASSERT_TRUE(write_file_atomically(path, actual).ok()) << relative;
    return;
  }
  auto expected = read_file(path);
  ASSERT_TRUE(expected.ok()) << expected.message() << " (PEAKBENCH_UPDATE_GOLDEN=1 makes it)";
  EXPECT_EQ(actual, *expected) << "differs from " << relative;
}

std::string golden(const std::string& name) { return source_path("reports/golden/" + name).string(); }

TEST(GoldenReports, AreSpelledExactlyAsTheWriterWritesThem) {
  for (const char* name : {"report.json", "before.json", "after.json"}) {
    auto report = read_report(golden(name));
    ASSERT_TRUE(report.ok()) << report.message();
    expect_golden(std::string("reports/golden/") + name, to_json_text(*report));
  }
}

TEST(GoldenReports, StayUnder50KB) {
  for (const auto& entry : std::filesystem::directory_iterator(source_path("reports/golden"))) {
    EXPECT_LT(std::filesystem::file_size(entry.path()), 50u * 1000) << entry.path();
  }
}

struct GoldenCase {
  std::vector<std::string> args;  // after `peakbench`; "@name" is reports/golden/name
  std::string expected;           // under reports/golden/
  int exit_status = 0;
};

std::vector<std::string> expand(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& a : args) out.push_back(a.rfind('@', 0) == 0 ? golden(a.substr(1)) : a);
  return out;
}

class GoldenOutput : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenOutput, IsByteForByteTheExpectedFile) {
  const GoldenCase& c = GetParam();
  const auto result = run_peakbench(expand(c.args));
  EXPECT_EQ(result.exit_status, c.exit_status) << result.err;
  EXPECT_EQ(result.err, "");
  expect_golden("reports/golden/" + c.expected, result.out);
}

INSTANTIATE_TEST_SUITE_P(
    Table, GoldenOutput,
    ::testing::Values(GoldenCase{{"table", "@report.json"}, "report.table.md"},
                      GoldenCase{{"table", "@report.json", "--format", "csv"}, "report.table.csv"},
                      GoldenCase{{"table", "@report.json", "--format", "json"}, "report.table.json"},
                      GoldenCase{{"table", "@before.json"}, "before.table.md"},
                      GoldenCase{{"table", "@after.json"}, "after.table.md"}));

}  // namespace
}  // namespace peakbench
