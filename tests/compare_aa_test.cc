// A/A: two runs of the same binary and commit must compare as "same" on every row (the noise
// threshold covers run-to-run spread), through the real `peakbench run` and `compare`.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

using testing::run_peakbench;
using testing::TempDir;

TEST(CompareAA, TwoRunsOfTheSameCommitAreTheSameOnEveryRow) {
  TempDir dir("compare-aa");
  std::vector<std::string> reports;
  for (const char* name : {"a.json", "b.json"}) {
    reports.push_back((dir / name).string());
    const auto result =
        run_peakbench({"run", "--strategy", "whole-body,streaming", "--size", "16MiB", "--phase",
                       "cold,warm", "--repeat", "2", "--out", reports.back()});
    ASSERT_EQ(result.exit_status, 0) << result.err;
  }
  const auto result = run_peakbench({"compare", reports[0], reports[1], "--format", "json"});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const auto table = nlohmann::json::parse(result.out);
  ASSERT_EQ(table["rows"].size(), 4u) << result.out;
  for (const auto& row : table["rows"]) {
    EXPECT_EQ(row["verdict"], "same") << row.dump();
    EXPECT_GE(row["noise"].get<double>(), 0.5) << row.dump();  // the threshold, in % of before
  }
}

}  // namespace
}  // namespace peakbench
