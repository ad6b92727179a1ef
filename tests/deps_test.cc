// Dependency trees (issue 12): a suite's "packages" served as PEP 691 JSON and PEP 658 metadata
// files, installed whole by the real pips (no --no-deps) and fetched whole by the built-ins, with
// every request of each phase in the report. The real binary, server, children and pips.

#include <gtest/gtest.h>

#include <fstream>

#include "base/size.h"
#include "fixtures/test_support.h"
#include "reports/report.h"
#include "tests/report_support.h"
#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::find_run;
using testing::run_peakbench;
using testing::TempDir;

constexpr const char* kJson = "application/vnd.pypi.simple.v1+json";

// Four packages, two levels deep, with names the index must normalize (tree_dep.B, Tree-Dep-C).
constexpr const char* kTree = R"({
  "packages": [
    {"name": "tree-app", "size": "16MiB", "requires": ["tree-dep-a", "tree_dep.B"]},
    {"name": "tree-dep-a", "size": "1MiB", "requires": ["Tree-Dep-C"]},
    {"name": "tree-dep-b", "size": "2MiB"},
    {"name": "Tree-Dep-C", "size": "1MiB"}
  ],
  "phases": ["cold", "warm"],
  "repeat": 1
})";
constexpr std::uint64_t kTreeBytes = 20 * kMiB;

std::uint64_t count(const RunRecord& run, const std::string& kind, int status) {
  auto by_kind = run.requests.find(kind);
  if (by_kind == run.requests.end()) return 0;
  auto n = by_kind->second.find(status);
  return n == by_kind->second.end() ? 0 : n->second;
}

class DependencyTree : public ::testing::Test {
 protected:
  void SetUp() override { std::ofstream(dir_ / "tree.json") << kTree; }

  Report run(const std::vector<std::string>& subjects) {
    std::vector<std::string> args = {"run", "--suite", (dir_ / "tree.json").string(), "--out",
                                     (dir_ / "report.json").string()};
    args.insert(args.end(), subjects.begin(), subjects.end());
    const CliResult result = run_peakbench(args);
    EXPECT_EQ(result.exit_status, 0) << result.err;
    auto report = read_report(dir_ / "report.json");
    EXPECT_TRUE(report.ok()) << report.message();
    return report.ok() ? *report : Report{};
  }

  TempDir dir_{"deps"};
};

TEST_F(DependencyTree, TheReportListsTheTreeAsServed) {
  const Report report = run({"--strategy", "streaming"});
  ASSERT_EQ(report.meta.packages.size(), 4u);
  EXPECT_EQ(report.meta.packages[0].name, "tree-app");
  EXPECT_EQ(report.meta.packages[0].size_bytes, 16 * kMiB);
  // Requirements are kept under the names the suite lists them by.
  EXPECT_EQ(report.meta.packages[0].requires_dist,
            (std::vector<std::string>{"tree-dep-a", "tree-dep-b"}));
  EXPECT_EQ(report.meta.packages[1].requires_dist, (std::vector<std::string>{"Tree-Dep-C"}));
  for (const RunRecord& r : report.runs) EXPECT_EQ(r.body_bytes, 16 * kMiB) << r.phase;
}

TEST_F(DependencyTree, BuiltinsFetchEveryWheelColdAndNoneWarm) {
  const Report report = run({"--strategy", "whole-body,streaming"});
  for (const std::string subject : {"whole-body", "streaming"}) {
    const RunRecord* cold = find_run(report, subject, "cold");
    const RunRecord* warm = find_run(report, subject, "warm");
    ASSERT_NE(cold, nullptr) << subject;
    ASSERT_NE(warm, nullptr) << subject;
    ASSERT_TRUE(cold->ok && warm->ok) << cold->error << warm->error;
    EXPECT_EQ(count(*cold, "wheel", 200), 4u) << subject;
    EXPECT_EQ(cold->bytes_received, kTreeBytes) << subject;
    EXPECT_EQ(cold->cache_outcome, "miss-stored") << subject;
    EXPECT_GE(cold->cache_bytes_on_disk, kTreeBytes) << subject;
    EXPECT_TRUE(warm->requests.empty()) << subject << ": a warm tree is all hits";
    EXPECT_EQ(warm->cache_outcome, "hit") << subject;
  }
}

TEST_F(DependencyTree, RealPipsResolveItFromJsonPagesAndMetadataFiles) {
  const fs::path pip23 = testing::pyenv_python("3.11.7");
  const fs::path pip24 = testing::pyenv_python("3.13.0");
  if (pip23.empty() || pip24.empty()) GTEST_SKIP() << "the pyenv pythons are not installed";
  const Report report = run({"--strategy", "none", "--pip", "pip-23.2.1=" + pip23.string(), "--pip",
                             "pip-24.2=" + pip24.string()});
  for (const std::string subject : {"pip-23.2.1", "pip-24.2"}) {
    const RunRecord* cold = find_run(report, subject, "cold");
    const RunRecord* warm = find_run(report, subject, "warm");
    ASSERT_NE(cold, nullptr) << subject;
    ASSERT_NE(warm, nullptr) << subject;
    ASSERT_TRUE(cold->ok) << subject << ": " << cold->error;
    ASSERT_TRUE(warm->ok) << subject << ": " << warm->error;
    EXPECT_EQ(cold->command.find("--no-deps"), std::string::npos) << cold->command;
    // Cold: one JSON page per project, then each metadata file, then each wheel, all once.
    EXPECT_EQ(count(*cold, "page", 200), 4u) << subject;
    EXPECT_EQ(cold->page_types, (std::map<std::string, std::uint64_t>{{kJson, 4}})) << subject;
    EXPECT_EQ(count(*cold, "metadata", 200), 4u) << subject;
    EXPECT_EQ(count(*cold, "wheel", 200), 4u) << subject;
    EXPECT_EQ(cold->bytes_received, kTreeBytes) << subject;
    // Warm: pip asks for the pages again (it sends max-age=0 for them) and takes the metadata
    // files and wheels from its cache.
    EXPECT_EQ(count(*warm, "page", 200), 4u) << subject;
    EXPECT_EQ(warm->requests.count("metadata"), 0u) << subject;
    EXPECT_EQ(warm->requests.count("wheel"), 0u) << subject;
  }
}

}  // namespace
}  // namespace peakbench
