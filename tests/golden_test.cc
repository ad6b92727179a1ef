// Golden tests: the hand-made reports in reports/golden/ and the exact outputs expected from them,
// through the real `peakbench` binary. PEAKBENCH_UPDATE_GOLDEN=1 rewrites the expected files (then
// review the diff before committing it).

#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <string>
#include <vector>

#include "base/atomic_file.h"
#include "reports/report.h"
#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

using testing::golden;
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

TEST(GoldenReports, AreSpelledExactlyAsTheWriterWritesThem) {
  for (const char* name : {"report.json", "before.json", "after.json", "oom.json"}) {
    auto report = read_report(golden(name));
    ASSERT_TRUE(report.ok()) << report.message();
    expect_golden(std::string("reports/golden/") + name, to_json_text(*report));
  }
}

TEST(GoldenReports, AVersion1ReportReadsAsTheSameVersion2Report) {
  auto old = read_report(golden("v1/report.json"));
  ASSERT_TRUE(old.ok()) << old.message();
  EXPECT_EQ(old->schema_version, kReportSchemaVersion);
  auto text = read_file(golden("report.json"));
  ASSERT_TRUE(text.ok()) << text.message();
  EXPECT_EQ(to_json_text(*old), *text);
}

TEST(GoldenReports, StayUnder50KB) {
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(source_path("reports/golden"))) {
    if (!entry.is_regular_file()) continue;
    EXPECT_LT(std::filesystem::file_size(entry.path()), 50u * 1000) << entry.path();
  }
}

struct GoldenCase {
  std::vector<std::string> args;  // after `peakbench`; "@name" is reports/golden/name
  std::string expected;           // under reports/golden/
  int exit_status = 0;
  /// The report has failed runs: `table` says so on stderr (and still exits 0).
  bool warns = false;
  /// Test output names the expected file, not the struct's bytes.
  friend void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.expected; }
};

/// "report.table.md" -> "report_table_md": test names that say which file is compared.
std::string golden_name(const ::testing::TestParamInfo<GoldenCase>& info) {
  std::string name = info.param.expected;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

std::vector<std::string> expand(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  out.reserve(args.size());
  for (const std::string& a : args) out.push_back(a.rfind('@', 0) == 0 ? golden(a.substr(1)) : a);
  return out;
}

class GoldenOutput : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenOutput, IsByteForByteTheExpectedFile) {
  const GoldenCase& c = GetParam();
  const auto result = run_peakbench(expand(c.args));
  EXPECT_EQ(result.exit_status, c.exit_status) << result.err;
  if (c.warns) {
    EXPECT_NE(result.err.find("scenario with failed runs"), std::string::npos) << result.err;
  } else {
    EXPECT_EQ(result.err, "");
  }
  expect_golden("reports/golden/" + c.expected, result.out);
}

INSTANTIATE_TEST_SUITE_P(
    Table, GoldenOutput,
    ::testing::Values(GoldenCase{{"table", "@report.json"}, "report.table.md"},
                      GoldenCase{{"table", "@report.json", "--format", "csv"}, "report.table.csv"},
                      GoldenCase{{"table", "@report.json", "--format", "json"},
                                 "report.table.json"},
                      GoldenCase{{"table", "@before.json"}, "before.table.md", 0, true},
                      GoldenCase{{"table", "@after.json"}, "after.table.md"}),
    golden_name);

INSTANTIATE_TEST_SUITE_P(
    Compare, GoldenOutput,
    ::testing::Values(
        GoldenCase{{"compare", "@before.json", "@after.json"}, "compare.md"},
        GoldenCase{{"compare", "@before.json", "@after.json", "--format", "csv"}, "compare.csv"},
        GoldenCase{{"compare", "@before.json", "@after.json", "--format", "json"}, "compare.json"}),
    golden_name);

INSTANTIATE_TEST_SUITE_P(
    Export, GoldenOutput,
    ::testing::Values(GoldenCase{{"table", "@report.json", "--format", "gbench"},
                                 "report.gbench.json"},
                      GoldenCase{{"table", "@report.json", "--format", "custom-smaller"},
                                 "report.custom-smaller.json"},
                      GoldenCase{{"table", "@report.json", "--format", "bmf"}, "report.bmf.json"},
                      GoldenCase{{"table", "@report.json", "--format", "gbench-aggregates"},
                                 "report.gbench-aggregates.json"}),
    golden_name);

INSTANTIATE_TEST_SUITE_P(Gate, GoldenOutput,
                         ::testing::Values(GoldenCase{{"gate", "@report.json", "--rules",
                                                       "@gates.json", "--baseline", "@report.json"},
                                                      "gate.md"}),
                         golden_name);

TEST(GoldenGate, JUnitAndStepSummaryOfAPassingGate) {
  testing::TempDir dir("gate");
  const std::string junit = (dir / "junit.xml").string();
  const std::string summary = (dir / "summary.md").string();
  ASSERT_TRUE(write_file_atomically(summary, "earlier step\n").ok());
  const auto result = run_peakbench({"gate", golden("report.json"), "--rules", golden("gates.json"),
                                     "--baseline", golden("report.json"), "--junit", junit},
                                    {"GITHUB_STEP_SUMMARY=" + summary});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  expect_golden("reports/golden/gate.junit.xml", testing::slurp(junit));
  const std::string appended = testing::slurp(summary);
  EXPECT_EQ(appended.rfind("earlier step\n### peakbench gate: passed (28 checks)\n\n| rule", 0), 0u)
      << appended;
}

TEST(GoldenPlot, SvgOfTheMedianRuns) {
  testing::TempDir dir("plot");
  const std::string svg = (dir / "rss.svg").string();
  const auto result = run_peakbench({"plot", golden("report.json"), "--out", svg});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(result.out, "");
  expect_golden("reports/golden/report.plot.svg", testing::slurp(svg));
}

}  // namespace
}  // namespace peakbench
