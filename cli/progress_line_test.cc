// The progress line: its text, and the real binary on a pseudo-terminal (where it must appear)
// and on a pipe, with CI set, or with --quiet (where it must not).

#include "cli/progress_line.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fixtures/test_support.h"
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

struct PtyRun {
  int exit_status = -1;
  std::string terminal;  // what went to stderr (the pseudo-terminal)
  std::string out;       // stdout (a file)
};

// The real binary with stderr on a pseudo-terminal (or on a file when `tty` is false).
PtyRun run_on_terminal(const std::vector<std::string>& args, bool tty,
                       const std::vector<std::string>& env_extra) {
  testing::TempDir dir("progress");
  const std::string out_path = (dir / "out").string();
  const std::string err_path = (dir / "err").string();
  int master = -1, slave = -1;
  if (tty && ::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  if (tty) {
    posix_spawn_file_actions_adddup2(&actions, slave, 2);
    posix_spawn_file_actions_addclose(&actions, master);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  }
  std::vector<std::string> argv_strings{PEAKBENCH_EXE};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (entry.rfind("CI=", 0) == 0 || entry.rfind("GITHUB_STEP_SUMMARY=", 0) == 0) continue;
    env_strings.push_back(entry);
  }
  env_strings.insert(env_strings.end(), env_extra.begin(), env_extra.end());
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  PtyRun result;
  pid_t pid = 0;
  const bool spawned =
      posix_spawn(&pid, PEAKBENCH_EXE, &actions, nullptr, argv.data(), envp.data()) == 0;
  posix_spawn_file_actions_destroy(&actions);
  std::thread reader;
  if (tty) {
    ::close(slave);  // the child holds the only copy: EOF (EIO) once it exits
    reader = std::thread([&] {
      char buf[4096];
      for (;;) {
        const ssize_t n = ::read(master, buf, sizeof buf);
        if (n > 0) {
          result.terminal.append(buf, static_cast<std::size_t>(n));
        } else if (n < 0 && errno == EINTR) {
          continue;
        } else {
          break;
        }
      }
    });
  }
  if (spawned) {
    int status = 0;
    if (::waitpid(pid, &status, 0) == pid && WIFEXITED(status))
      result.exit_status = WEXITSTATUS(status);
  }
  if (tty) {
    reader.join();
    ::close(master);
  } else {
    result.terminal = testing::slurp(err_path);
  }
  result.out = testing::slurp(out_path);
  return result;
}

const std::vector<std::string> kTinyRun{"run",    "--strategy", "streaming", "--phase", "cold",
                                        "--size", "16MiB",      "--repeat",  "1"};

TEST(ProgressOnATerminal, ShowsTheLiveLineThenTheRunsResult) {
  const PtyRun run = run_on_terminal(kTinyRun, true, {});
  ASSERT_EQ(run.exit_status, 0) << run.terminal;
  // The live line, drawn when the run starts: the bytes of the wheel, the position and the ETA.
  EXPECT_NE(run.terminal.find("[1/1] streaming cold"), std::string::npos) << run.terminal;
  EXPECT_NE(run.terminal.find("/16.0 MiB"), std::string::npos) << run.terminal;
  EXPECT_NE(run.terminal.find("ETA"), std::string::npos) << run.terminal;
  EXPECT_NE(run.terminal.find("\r\033[K"), std::string::npos) << "redrawn in place";
  // Then the finished line, and the table on stdout only.
  EXPECT_NE(run.terminal.find("MiB peak, 16.0 MiB received"), std::string::npos) << run.terminal;
  EXPECT_EQ(run.terminal.find("| subject"), std::string::npos) << run.terminal;
  EXPECT_NE(run.out.find("streaming"), std::string::npos) << run.out;
}

TEST(ProgressOnATerminal, IsSilentWithQuietOrWhenCiIsSet) {
  const PtyRun ci = run_on_terminal(kTinyRun, true, {"CI=true"});
  ASSERT_EQ(ci.exit_status, 0) << ci.terminal;
  EXPECT_EQ(ci.terminal.find("[1/1]"), std::string::npos) << ci.terminal;
  std::vector<std::string> quiet = kTinyRun;
  quiet.push_back("--quiet");
  const PtyRun q = run_on_terminal(quiet, true, {});
  ASSERT_EQ(q.exit_status, 0) << q.terminal;
  EXPECT_EQ(q.terminal.find("[1/1]"), std::string::npos) << q.terminal;
  EXPECT_EQ(q.terminal.find("preparing"), std::string::npos) << q.terminal;
}

TEST(ProgressOffATerminal, PrintsNothingToAFile) {
  const PtyRun run = run_on_terminal(kTinyRun, false, {});
  ASSERT_EQ(run.exit_status, 0) << run.terminal;
  EXPECT_EQ(run.terminal, "") << "stderr is not a terminal: no progress";
  EXPECT_NE(run.out.find("streaming"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace peakbench
