// Interrupting `peakbench run` with real signals, and what a killed one leaves for the next run to
// sweep (issue: nothing lost, nothing crashes). The real binary in its own process group, a
// private TMPDIR, the real memory cgroups.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "harness/cgroup.h"
#include "reports/report.h"
#include "tests/run_peakbench.h"

extern char** environ;

namespace peakbench {
namespace {

namespace fs = std::filesystem;
using testing::slurp;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

/// `peakbench ARGS` started in its own process group with TMPDIR=tmp, output to files in `dir`.
struct Started {
  pid_t pid = -1;
  fs::path out, err;
};

Started start_peakbench(const std::vector<std::string>& args, const fs::path& dir,
                        const fs::path& tmp) {
  Started s;
  s.out = dir / "stdout";
  s.err = dir / "stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, s.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, s.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  std::vector<std::string> argv_s{PEAKBENCH_EXE};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_s.size() + 1);
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (entry.rfind("TMPDIR=", 0) != 0) env_s.push_back(entry);
  }
  env_s.push_back("TMPDIR=" + tmp.string());
  std::vector<char*> envp;
  envp.reserve(env_s.size() + 1);
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  if (posix_spawn(&s.pid, PEAKBENCH_EXE, &actions, &attr, argv.data(), envp.data()) != 0) {
    s.pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return s;
}

/// The cgroups a peakbench with this pid made, under the parent cgroup of this test.
std::vector<fs::path> cgroups_of(pid_t pid) {
  std::vector<fs::path> out;
  const CgroupSupport& support = memory_cgroup_support();
  if (!support.availability.available) return out;
  const std::string prefix = "peakbench-" + std::to_string(pid) + "-";
  std::error_code ec;
  for (auto it = fs::directory_iterator(support.parent_dir, ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().filename().string().rfind(prefix, 0) == 0) out.push_back(it->path());
  }
  return out;
}

bool group_gone(pid_t pgid) {
  for (int i = 0; i < 500; ++i) {
    if (::kill(-pgid, 0) != 0 && errno == ESRCH) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

int wait_exit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

std::vector<fs::path> entries(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    out.push_back(it->path());
  }
  return out;
}

enum class Moment { before_first_run, mid_run, after_a_run };

struct Case {
  int sig;
  Moment moment;
};

class Interrupt : public ::testing::TestWithParam<Case> {};

TEST_P(Interrupt, StopsCleanlyAndKeepsWhatFinished) {
  const Case c = GetParam();
  TempDir dir("interrupt");
  const fs::path tmp = dir / "tmp";
  fs::create_directories(tmp);
  const fs::path report_path = dir / "report.json";
  const Started s =
      start_peakbench({"run", "--strategy", "whole-body,streaming", "--size", "32MiB", "--phase",
                       "cold,warm", "--repeat", "3", "--out", report_path.string()},
                      dir.path(), tmp);
  ASSERT_GT(s.pid, 0);

  const auto deadline = Clock::now() + std::chrono::seconds(60);
  if (c.moment == Moment::mid_run) {
    // A run is in flight while its cgroup exists (or, without cgroups, its work dir's logs).
    const bool cgroups = memory_cgroup_support().availability.available;
    while (Clock::now() < deadline) {
      if (cgroups ? !cgroups_of(s.pid).empty() : !entries(tmp).empty()) break;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  } else if (c.moment == Moment::after_a_run) {
    while (Clock::now() < deadline) {
      auto report = read_report(report_path);
      if (report && !report->runs.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  } else {
    // The first report is written before the first run starts.
    while (Clock::now() < deadline && !fs::exists(report_path)) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  ASSERT_EQ(::kill(s.pid, c.sig), 0);
  const int code = wait_exit(s.pid);
  const std::string err = slurp(s.err);
  EXPECT_EQ(code, 128 + c.sig) << err;
  EXPECT_NE(err.find("interrupted by SIG"), std::string::npos) << err;

  // Nothing left: no process of its group, no cgroup, no work dir.
  EXPECT_TRUE(group_gone(s.pid)) << "a process of the run outlived it";
  EXPECT_TRUE(cgroups_of(s.pid).empty());
  EXPECT_TRUE(entries(tmp).empty()) << entries(tmp).front();

  // The report is valid and holds only what finished.
  auto report = read_report(report_path);
  ASSERT_TRUE(report.ok()) << report.message();
  for (const RunRecord& run : report->runs) EXPECT_TRUE(run.ok) << run.error;
  if (c.moment == Moment::after_a_run) {
    EXPECT_FALSE(report->runs.empty());
  }
  bool noted = false;
  for (const std::string& note : report->meta.notes) noted = noted || note.find("interrupted") == 0;
  EXPECT_TRUE(noted);
}

INSTANTIATE_TEST_SUITE_P(Signals, Interrupt,
                         ::testing::Values(Case{SIGINT, Moment::before_first_run},
                                           Case{SIGINT, Moment::mid_run},
                                           Case{SIGINT, Moment::after_a_run},
                                           Case{SIGTERM, Moment::mid_run},
                                           Case{SIGHUP, Moment::mid_run}));

TEST(Interrupt, WhatAKilledRunLeftIsSweptByTheNext) {
  TempDir dir("killed");
  const fs::path tmp = dir / "tmp";
  fs::create_directories(tmp);
  const bool cgroups = memory_cgroup_support().availability.available;
  const Started s = start_peakbench({"run", "--strategy", "streaming", "--size", "32MiB", "--phase",
                                     "cold,warm", "--repeat", "3"},
                                    dir.path(), tmp);
  ASSERT_GT(s.pid, 0);
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    if ((!cgroups || !cgroups_of(s.pid).empty()) && !entries(tmp).empty()) break;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  ASSERT_EQ(::kill(s.pid, SIGKILL), 0);
  EXPECT_EQ(wait_exit(s.pid), 1000 + SIGKILL);
  EXPECT_TRUE(group_gone(s.pid));
  // SIGKILL cleans nothing: the work dir (and the run's cgroup) stay behind.
  ASSERT_FALSE(entries(tmp).empty());
  const std::vector<fs::path> left_cgroups = cgroups_of(s.pid);
  if (cgroups) {
    EXPECT_FALSE(left_cgroups.empty());
  }

  // A directory of a live peakbench (this test) is not touched.
  const fs::path live = tmp / ("peakbench-run-" + std::to_string(::getpid()) + ".live00");
  fs::create_directories(live);

  TempDir second("sweeper");
  const testing::CliResult next = testing::run_peakbench(
      {"run", "--strategy", "streaming", "--size", "1MiB", "--phase", "cold", "--repeat", "1"},
      {"TMPDIR=" + tmp.string()});
  EXPECT_EQ(next.exit_status, 0) << next.err;
  EXPECT_NE(next.err.find("left by a dead peakbench (pid " + std::to_string(s.pid) + ")"),
            std::string::npos)
      << next.err;
  EXPECT_TRUE(cgroups_of(s.pid).empty());
  const std::vector<fs::path> after = entries(tmp);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after.front(), live);
}

}  // namespace
}  // namespace peakbench
