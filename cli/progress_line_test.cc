// The progress line: its text, and the real binary on a pseudo-terminal (where it must appear)
// and on a pipe, with CI set, or with --quiet (where it must not).

#include "cli/progress_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

TEST(ProgressText, SaysBytesOfTheTotalRateElapsedPositionAndEta) {
  ProgressState state;
  state.index = 3;
  state.total = 4;
  state.what = "streaming cold 500MiB #1";
  state.received = 250ull << 20;
  state.body_bytes = 500ull << 20;
  state.run_s = 0.5;
  state.suite_s = 20.4;
  state.finished = 2;  // 10 s a run: 2 runs left, half a second into this one
  EXPECT_EQ(format_progress(state, 0),
            "[3/4] streaming cold 500MiB #1  250.0/500.0 MiB  500 MiB/s  0.5 s | 0:20, ETA 0:20");
}

TEST(ProgressText, HasNoEtaBeforeARunFinishedAndFitsTheTerminal) {
  ProgressState state;
  state.index = 1;
  state.total = 2;
  state.what = "whole-body warm 16MiB #1";
  state.body_bytes = 16ull << 20;
  const std::string line = format_progress(state, 0);
  EXPECT_NE(line.find("0.0/16.0 MiB"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA ?"), std::string::npos) << line;
  EXPECT_EQ(line.find("MiB/s"), std::string::npos) << "no rate before a byte: " << line;
  EXPECT_EQ(format_progress(state, 20).size(), 20u);
}

// The real binary with stderr on a pseudo-terminal (or on a file when `tty` is false), with no
// CI in its environment unless `env` sets it.
testing::CliResult run_on_terminal(const std::vector<std::string>& args, bool tty,
                                   const std::vector<std::string>& env) {
  testing::CliOptions options;
  options.env = env;
  options.unset = {"CI"};
  options.stderr_on_terminal = tty;
  return testing::run_peakbench(args, options);
}

const std::vector<std::string> kTinyRun{"run",    "--strategy", "streaming", "--phase", "cold",
                                        "--size", "16MiB",      "--repeat",  "1"};

TEST(ProgressOnATerminal, ShowsTheLiveLineThenTheRunsResult) {
  const testing::CliResult run = run_on_terminal(kTinyRun, true, {});
  ASSERT_EQ(run.exit_status, 0) << run.err;
  // The live line, drawn when the run starts: the bytes of the wheel, the position and the ETA.
  EXPECT_NE(run.err.find("[1/1] streaming cold"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("/16.0 MiB"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("ETA"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("\r\033[K"), std::string::npos) << "redrawn in place";
  // Then the finished line, and the table on stdout only.
  EXPECT_NE(run.err.find("MiB peak, 16.0 MiB received"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("| subject"), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("streaming"), std::string::npos) << run.out;
}

TEST(ProgressOnATerminal, IsSilentWithQuietOrWhenCiIsSet) {
  const testing::CliResult ci = run_on_terminal(kTinyRun, true, {"CI=true"});
  ASSERT_EQ(ci.exit_status, 0) << ci.err;
  EXPECT_EQ(ci.err.find("[1/1]"), std::string::npos) << ci.err;
  std::vector<std::string> quiet = kTinyRun;
  quiet.push_back("--quiet");
  const testing::CliResult q = run_on_terminal(quiet, true, {});
  ASSERT_EQ(q.exit_status, 0) << q.err;
  EXPECT_EQ(q.err.find("[1/1]"), std::string::npos) << q.err;
  EXPECT_EQ(q.err.find("preparing"), std::string::npos) << q.err;
}

TEST(ProgressOffATerminal, PrintsNothingToAFile) {
  const testing::CliResult run = run_on_terminal(kTinyRun, false, {});
  ASSERT_EQ(run.exit_status, 0) << run.err;
  EXPECT_EQ(run.err, "") << "stderr is not a terminal: no progress";
  EXPECT_NE(run.out.find("streaming"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace peakbench
