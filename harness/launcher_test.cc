#include "harness/launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/subject_probe.h"
#include "tests/measure_subjects.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;
using testing::calibrate_request;

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class LauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Launcher> started = Launcher::start();
    ASSERT_TRUE(started.ok()) << started.message();
    launcher_.emplace(std::move(started).value());
    dir_ = fs::temp_directory_path() / ("peakbench-launcher-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    launcher_.reset();
    fs::remove_all(dir_);
  }
  Launcher& launcher() { return *launcher_; }
  std::optional<Launcher> launcher_;
  fs::path dir_;
};

TEST_F(LauncherTest, ReportsTheExitStatusOfAChild) {
  SpawnRequest request;
  request.argv = {"sh", "-c", "exit 3"};
  Result<ChildResult> result = launcher().run(request);
  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_TRUE(result->exited);
  EXPECT_EQ(result->exit_status, 3);
  EXPECT_FALSE(result->signal.has_value());
  EXPECT_FALSE(result->succeeded());
  EXPECT_GT(result->max_rss_bytes, 0u);
}

TEST_F(LauncherTest, ReportsTheSignalThatKilledAChildAndWhatItPublishedBefore) {
  Result<ChildResult> result =
      launcher().run(calibrate_request({"--mib", "1", "--signal", "KILL"}));
  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_FALSE(result->exited);
  ASSERT_TRUE(result->signal.has_value());
  EXPECT_EQ(*result->signal, SIGKILL);
  EXPECT_FALSE(result->succeeded());
  EXPECT_TRUE(parse_subject_report(result->report_text).ok()) << result->report_text;
}

TEST_F(LauncherTest, AMissingProgramIsAnErrorAndTheLauncherCarriesOn) {
  SpawnRequest missing;
  missing.argv = {"/nonexistent/peakbench-no-such-program"};
  Result<pid_t> pid = launcher().spawn(missing);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.message().find("no-such-program"), std::string::npos) << pid.message();
  EXPECT_NE(pid.message().find("No such file"), std::string::npos) << pid.message();

  SpawnRequest next;
  next.argv = {"true"};
  Result<ChildResult> result = launcher().run(next);
  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_TRUE(result->succeeded());
}

TEST_F(LauncherTest, AMissingWorkingDirectoryIsAnError) {
  SpawnRequest request;
  request.argv = {"true"};
  request.working_dir = dir_ / "absent";
  Result<pid_t> pid = launcher().spawn(request);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.message().find("chdir"), std::string::npos) << pid.message();
}

TEST_F(LauncherTest, AppliesEnvironmentWorkingDirectoryAndRedirections) {
  SpawnRequest request;
  request.argv = {
      "sh", "-c",
      "echo \"$PEAKBENCH_TEST_VALUE\"; pwd; echo oops >&2; echo \"$PEAKBENCH_REPORT_FD\""};
  request.env = {{"PEAKBENCH_TEST_VALUE", "forty-two"}};
  request.working_dir = dir_;
  request.stdout_path = dir_ / "out.txt";
  request.stderr_path = dir_ / "err.txt";
  Result<ChildResult> result = launcher().run(request);
  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_TRUE(result->succeeded());
  EXPECT_EQ(slurp(dir_ / "out.txt"), "forty-two\n" + fs::canonical(dir_).string() + "\n3\n");
  EXPECT_EQ(slurp(dir_ / "err.txt"), "oops\n");
}

TEST(LauncherEnvTest, ARunWithoutAReportPipeDoesNotSeeAnInheritedReportFd) {
  // As when peakbench itself runs under a harness: the variable is in the launcher's environment.
  ASSERT_EQ(::setenv(kReportFdEnv, "7", 1), 0);
  Result<Launcher> launcher = Launcher::start();
  ::unsetenv(kReportFdEnv);
  ASSERT_TRUE(launcher.ok()) << launcher.message();
  fs::path out = fs::temp_directory_path() / ("peakbench-env-" + std::to_string(::getpid()));
  SpawnRequest request;
  request.argv = {"sh", "-c", "echo \"[${PEAKBENCH_REPORT_FD-unset}]\""};
  request.report_pipe = false;
  request.stdout_path = out;
  Result<ChildResult> result = launcher->run(request);
  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(slurp(out), "[unset]\n");
  fs::remove(out);
}

TEST_F(LauncherTest, ForwardsWhatTheChildWritesOnTheReportPipe) {
  SpawnRequest request;
  request.argv = {"sh", "-c", "printf 'hello report' >&3"};
  Result<ChildResult> result = launcher().run(request);
  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(result->report_text, "hello report");
}

TEST_F(LauncherTest, ReturnsTheChildPidAtSpawnThenTheResult) {
  SpawnRequest request;
  request.argv = {"sh", "-c", "echo $$"};
  request.stdout_path = dir_ / "pid.txt";
  Result<pid_t> pid = launcher().spawn(request);
  ASSERT_TRUE(pid.ok()) << pid.message();
  Result<ChildResult> result = launcher().wait();
  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(result->pid, *pid);
  EXPECT_EQ(slurp(dir_ / "pid.txt"), std::to_string(*pid) + "\n");
}

TEST_F(LauncherTest, ReapsOrphanedGrandchildrenBeforeReturning) {
  SpawnRequest request = calibrate_request({"--mib", "0", "--orphan-ms", "300"});
  request.stdout_path = dir_ / "orphan.txt";
  Result<ChildResult> result = launcher().run(request);
  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_TRUE(result->succeeded());
  EXPECT_EQ(result->orphans_reaped, 1);
  EXPECT_EQ(result->orphans_killed, 0);
  pid_t orphan = std::stoi(slurp(dir_ / "orphan.txt"));
  // Reaped, not a zombie left behind: the PID no longer exists.
  EXPECT_EQ(::kill(orphan, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(LauncherTest, KillsOrphansThatOutliveTheirGrace) {
  SpawnRequest request = calibrate_request({"--mib", "0", "--orphan-ms", "600000"});
  request.orphan_grace_s = 0.1;
  request.stdout_path = dir_ / "orphan.txt";
  Result<ChildResult> result = launcher().run(request);
  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_TRUE(result->succeeded());
  EXPECT_EQ(result->orphans_reaped, 1);
  EXPECT_EQ(result->orphans_killed, 1);
}

TEST_F(LauncherTest, KillsARunPastItsTimeout) {
  SpawnRequest request;
  request.argv = {"sleep", "600"};
  request.timeout_s = 0.1;
  Result<ChildResult> result = launcher().run(request);
  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_TRUE(result->timed_out);
  ASSERT_TRUE(result->signal.has_value());
  EXPECT_EQ(*result->signal, SIGKILL);
}

TEST_F(LauncherTest, CancelKillsTheRunningTree) {
  SpawnRequest request;
  request.argv = {"sleep", "600"};
  Result<pid_t> pid = launcher().spawn(request);
  ASSERT_TRUE(pid.ok()) << pid.message();
  ASSERT_TRUE(launcher().cancel().ok());
  Result<ChildResult> result = launcher().wait();
  ASSERT_TRUE(result.ok()) << result.message();
  ASSERT_TRUE(result->signal.has_value());
  EXPECT_EQ(*result->signal, SIGKILL);
  EXPECT_FALSE(result->timed_out);
}

TEST_F(LauncherTest, PinsTheChildToTheRequestedCpu) {
  if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    GTEST_SKIP() << "one CPU";
  }
  SpawnRequest request;
  request.argv = {"sh", "-c", "grep Cpus_allowed_list /proc/self/status"};
  request.cpu = 1;
  request.stdout_path = dir_ / "cpus.txt";
  Result<ChildResult> result = launcher().run(request);
  ASSERT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(slurp(dir_ / "cpus.txt"), "Cpus_allowed_list:\t1\n");
}

// Every run inherits the launcher's resident anon pages between fork and exec, so a launcher that
// kept a large report around would raise the floor of every later measurement.
TEST_F(LauncherTest, DoesNotGrowAfterALargeReport) {
#ifdef PEAKBENCH_SANITIZE
  GTEST_SKIP() << "ASan's shadow memory is in every RSS figure";
#endif
  SpawnRequest tiny;
  tiny.argv = {"true"};
  Result<ChildResult> before = launcher().run(tiny);
  ASSERT_TRUE(before.ok()) << before.message();
  for (int i = 0; i < 3; ++i) {
    SpawnRequest big;
    big.argv = {"sh", "-c", "dd if=/dev/zero bs=1000 count=1000 2>/dev/null >&3"};
    Result<ChildResult> report = launcher().run(big);
    ASSERT_TRUE(report.ok()) << report.message();
    EXPECT_EQ(report->report_text.size(), 1000000u);
  }
  Result<ChildResult> after = launcher().run(tiny);
  ASSERT_TRUE(after.ok()) << after.message();
  ::testing::Test::RecordProperty("before", std::to_string(before->max_rss_bytes));
  ::testing::Test::RecordProperty("after", std::to_string(after->max_rss_bytes));
  EXPECT_LE(after->max_rss_bytes, before->max_rss_bytes + std::uint64_t{256} * 1024)
      << "before " << before->max_rss_bytes << " after " << after->max_rss_bytes;
}

TEST_F(LauncherTest, TruncatesAReportPastItsLimit) {
  SpawnRequest big;
  big.argv = {"sh", "-c", "dd if=/dev/zero bs=4096 count=512 2>/dev/null >&3"};
  Result<ChildResult> report = launcher().run(big);
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_TRUE(report->report_truncated);
  EXPECT_EQ(report->report_text.size(), kMaxReportBytes);
  EXPECT_TRUE(report->succeeded());
}

TEST(LauncherOwnerTest, KillsTheRunAndExitsWhenItsOwnerDies) {
  int pids[2];
  ASSERT_EQ(::pipe(pids), 0);
  pid_t owner = ::fork();
  if (owner == 0) {
    // The owner starts a launcher and a long run, tells the test the run's PID, and dies
    // without any destructor running.
    Result<Launcher> launcher = Launcher::start();
    SpawnRequest request;
    request.argv = {"sleep", "600"};
    pid_t run = -1;
    if (launcher) {
      Result<pid_t> pid = launcher->spawn(request);
      if (pid) {
        run = *pid;
      }
    }
    (void)!::write(pids[1], &run, sizeof run);
    ::_exit(0);
  }
  ::close(pids[1]);
  pid_t run = -1;
  ASSERT_EQ(::read(pids[0], &run, sizeof run), static_cast<ssize_t>(sizeof run));
  ::close(pids[0]);
  ASSERT_GT(run, 0);
  ASSERT_EQ(::waitpid(owner, nullptr, 0), owner);
  // The launcher sees EOF on its socket, kills the run and reaps it. Poll for that, bounded.
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = ::kill(run, 0) == -1 && errno == ESRCH;
    if (!gone) {
      ::usleep(10 * 1000);
    }
  }
  EXPECT_TRUE(gone) << "the run " << run << " outlived its owner by 5 s";
}

TEST(LauncherOwnerTest, ExitsWhenItsOwnerGoes) {
  // The owner starts a launcher, tells the test its PID and dies without closing anything by hand.
  // The test is a subreaper meanwhile, so the orphaned launcher becomes its child and can be
  // waited for with a bound: a launcher that does not exit fails the test instead of hanging it.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int pids[2];
  ASSERT_EQ(::pipe(pids), 0);
  pid_t owner = ::fork();
  if (owner == 0) {
    Result<Launcher> launcher = Launcher::start();
    pid_t pid = -1;
    if (launcher) {
      // One run first: the launcher is then serving (and past its own start-up checks).
      SpawnRequest request;
      request.argv = {"true"};
      if (launcher->run(request)) pid = launcher->pid();
    }
    (void)!::write(pids[1], &pid, sizeof pid);
    ::_exit(0);
  }
  ::close(pids[1]);
  pid_t launcher = -1;
  ssize_t got = ::read(pids[0], &launcher, sizeof launcher);
  ::close(pids[0]);
  ASSERT_EQ(::waitpid(owner, nullptr, 0), owner);
  ASSERT_EQ(got, static_cast<ssize_t>(sizeof launcher));
  ASSERT_GT(launcher, 0);
  bool exited = false;
  for (int i = 0; i < 500 && !exited; ++i) {
    exited = ::waitpid(launcher, nullptr, WNOHANG) == launcher;
    if (!exited) {
      ::usleep(10 * 1000);
    }
  }
  if (!exited) {
    ::kill(launcher, SIGKILL);
    ::waitpid(launcher, nullptr, 0);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  EXPECT_TRUE(exited) << "the launcher " << launcher << " outlived its owner's socket by 5 s";
}

}  // namespace
}  // namespace peakbench
