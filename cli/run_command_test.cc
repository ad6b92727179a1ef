// `peakbench run` as installed users call it: suites by name, the two commits in the report.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "peakbench/version.h"
#include "reports/report.h"
#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

using testing::run_peakbench;
using testing::TempDir;

TEST(RunCommand, RecordsItsOwnCommitAndTheMeasuredCheckoutsApart) {
  TempDir dir("run-commits");
  const std::string repo = (dir / "measured").string();
  // A checkout with one commit, not the tree peakbench was built from.
  const std::string make_repo = "git init -q '" + repo + "' && git -C '" + repo +
                                "' -c user.name=t -c user.email=t@t commit -q --allow-empty -m x";
  ASSERT_EQ(std::system(make_repo.c_str()), 0);
  const auto common =
      std::vector<std::string>{"run",   "--strategy", "streaming", "--phase",  "cold", "--size",
                               "16MiB", "--repeat",   "1",         "--format", "json"};
  auto with = common;
  with.insert(with.end(), {"--git-dir", repo, "--out", (dir / "with.json").string()});
  const auto a = run_peakbench(with);
  ASSERT_EQ(a.exit_status, 0) << a.err;
  auto report = read_report(dir / "with.json");
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_EQ(report->meta.peakbench_commit, kGitCommit);
  EXPECT_EQ(report->meta.git_checkout, repo);
  EXPECT_EQ(report->meta.git_commit.size(), 40u);
  EXPECT_NE(report->meta.git_commit, report->meta.peakbench_commit);

  auto without = common;
  without.insert(without.end(), {"--out", (dir / "without.json").string()});
  const auto b = run_peakbench(without);
  ASSERT_EQ(b.exit_status, 0) << b.err;
  auto plain = read_report(dir / "without.json");
  ASSERT_TRUE(plain.ok()) << plain.message();
  EXPECT_EQ(plain->meta.git_commit, "") << "the current directory is not the measured checkout";
  EXPECT_EQ(plain->meta.peakbench_commit, kGitCommit);
}

TEST(RunCommand, FindsASuiteByNameAndRejectsAMissingOne) {
  TempDir dir("run-suite-name");
  const auto ok =
      run_peakbench({"run", "--suite", "default", "--strategy", "streaming", "--phase", "cold",
                     "--size", "16MiB", "--repeat", "1", "--out", (dir / "r.json").string()});
  ASSERT_EQ(ok.exit_status, 0) << ok.err;
  auto report = read_report(dir / "r.json");
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_NE(report->meta.suite.find("scenarios/default.json"), std::string::npos)
      << report->meta.suite;

  const auto missing = run_peakbench({"run", "--suite", "no-such-suite", "--size", "16MiB"});
  EXPECT_EQ(missing.exit_status, 2);
  EXPECT_NE(missing.err.find("no-such-suite"), std::string::npos) << missing.err;
}

TEST(RunCommand, GitDirThatIsNotADirectoryIsBadUsage) {
  const auto r = run_peakbench({"run", "--git-dir", "/nonexistent/checkout", "--size", "16MiB"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--git-dir"), std::string::npos) << r.err;
}

// Every value in --help is named for what it is (SIZE, FILE, SECONDS), never CLI11's bare type
// with its validators ("TEXT:NOT EMPTY", "UINT:UINT in [1 - 86400]").
TEST(Help, NamesEveryValueAndShowsNoValidatorText) {
  for (const char* command :
       {"run", "fetch", "serve", "table", "compare", "gate", "merge", "plot", "calibrate"}) {
    const auto help = run_peakbench({command, "--help"});
    ASSERT_EQ(help.exit_status, 0) << command << ": " << help.err;
    EXPECT_EQ(help.out.find(":NOT EMPTY"), std::string::npos) << command << "\n" << help.out;
    EXPECT_EQ(help.out.find(" in ["), std::string::npos) << command << "\n" << help.out;
    EXPECT_EQ(help.out.find("TEXT:"), std::string::npos) << command << "\n" << help.out;
  }
  const auto run = run_peakbench({"run", "--help"});
  EXPECT_NE(run.out.find("--size SIZE[,SIZE...]"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("--out FILE"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("--tmpdir disk|tmpfs|DIR"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace peakbench
