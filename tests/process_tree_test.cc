// Whole-tree truth: every process of a client's tree measured whoever reaps it, against the truth
// each calibration process prints (its RSS before touching + the MiB it touched), within
// max(256 KiB, 1%). Run through the real launcher with taskstats and, where wait4 can see the
// process at all, with wait4 only.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "harness/launcher.h"
#include "harness/measure_run.h"
#include "harness/taskstats.h"
#include "tests/measure_subjects.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;

// "touched PID START_KB MIB" lines: each touching process's truth by PID.
std::map<pid_t, std::uint64_t> truths(const fs::path& stdout_path) {
  std::map<pid_t, std::uint64_t> out;
  std::ifstream in(stdout_path);
  std::string word;
  while (in >> word) {
    if (word != "touched") continue;
    long pid = 0;
    std::uint64_t start_kb = 0, mib = 0;
    in >> pid >> start_kb >> mib;
    out[static_cast<pid_t>(pid)] = start_kb * 1024 + mib * kMiB;
  }
  return out;
}

std::uint64_t tolerance(std::uint64_t truth) {
  return std::max<std::uint64_t>(256 * kKiB, truth / 100);
}

bool taskstats_available() { return TaskstatsListener::open().ok(); }

class ProcessTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Launcher> started = Launcher::start();
    ASSERT_TRUE(started.ok()) << started.message();
    launcher_.emplace(std::move(started).value());
    dir_ = fs::temp_directory_path() / ("peakbench-tree-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    launcher_.reset();
    fs::remove_all(dir_);
  }

  SpawnRequest shape(const std::string& name, std::vector<std::string> extra = {}) {
    SpawnRequest r = testing::calibrate_request({});
    r.argv = {PEAKBENCH_EXE, "calibrate-tree", "--shape", name};
    r.argv.insert(r.argv.end(), extra.begin(), extra.end());
    r.stdout_path = dir_ / (name + ".txt");
    return r;
  }

  // Runs `request` and checks that the largest process is `name`'s touching process with its
  // truth; returns the result.
  ChildResult expect_largest(SpawnRequest request, const std::string& comm, bool taskstats) {
    request.taskstats = taskstats;
    Result<ChildResult> result = launcher_->run(request);
    EXPECT_TRUE(result.ok()) << result.message();
    if (!result) return {};
    std::map<pid_t, std::uint64_t> truth = truths(request.stdout_path);
    EXPECT_EQ(result->tree_source, taskstats ? TreeSource::taskstats : TreeSource::wait4)
        << result->taskstats_note;
    EXPECT_TRUE(result->largest_process.has_value());
    if (!result->largest_process) return *result;
    const ProcessPeak& largest = *result->largest_process;
    EXPECT_EQ(largest.comm, comm);
    auto it = truth.find(largest.pid);
    EXPECT_NE(it, truth.end()) << "the largest process " << largest.pid << " (" << largest.comm
                               << ") printed no truth";
    if (it != truth.end()) {
      std::int64_t diff =
          static_cast<std::int64_t>(largest.peak_rss_bytes) - static_cast<std::int64_t>(it->second);
      EXPECT_LE(static_cast<std::uint64_t>(std::abs(diff)), tolerance(it->second))
          << comm << ": measured " << largest.peak_rss_bytes << " truth " << it->second;
    }
    return *result;
  }

  void SkipWithoutTaskstats() {
    if (!taskstats_available()) GTEST_SKIP() << TaskstatsListener::open().message();
  }

  std::optional<Launcher> launcher_;
  fs::path dir_;
};

#ifdef PEAKBENCH_SANITIZE
#define SKIP_UNDER_ASAN() GTEST_SKIP() << "ASan's shadow memory is in every RSS figure"
#else
#define SKIP_UNDER_ASAN() (void)0
#endif

TEST_F(ProcessTreeTest, AZombieNobodyReapsIsMeasured) {
  SKIP_UNDER_ASAN();
  SkipWithoutTaskstats();
  ChildResult r = expect_largest(shape("zombie", {"--mib", "64"}), "pb-zombie", true);
  EXPECT_EQ(r.process_count, 2);
}

TEST_F(ProcessTreeTest, AZombieIsMeasuredByTheSubreapersWait4WithoutTaskstats) {
  SKIP_UNDER_ASAN();
  expect_largest(shape("zombie", {"--mib", "64"}), "pb-zombie", false);
}

TEST_F(ProcessTreeTest, AnAutoReapedChildIsMeasured) {
  SKIP_UNDER_ASAN();
  SkipWithoutTaskstats();
  ChildResult r = expect_largest(shape("auto-reaped", {"--mib", "64"}), "pb-autoreaped", true);
  EXPECT_EQ(r.process_count, 2);
}

TEST_F(ProcessTreeTest, AnOrphanStillRunningWhenItsParentExitsIsMeasuredAndWaitedFor) {
  SKIP_UNDER_ASAN();
  SkipWithoutTaskstats();
  ChildResult r =
      expect_largest(shape("orphan", {"--mib", "64", "--hold-ms", "300"}), "pb-orphan", true);
  EXPECT_EQ(r.orphans_reaped, 1);
  EXPECT_GE(r.wall_s, r.root_wall_s);
  EXPECT_TRUE(r.lingerers_killed.empty());
}

TEST_F(ProcessTreeTest, AnOrphanIsMeasuredByWait4WithoutTaskstats) {
  SKIP_UNDER_ASAN();
  expect_largest(shape("orphan", {"--mib", "64", "--hold-ms", "100"}), "pb-orphan", false);
}

TEST_F(ProcessTreeTest, ADoubleForkedDaemonIsMeasuredAndTheRunLastsUntilItExits) {
  SKIP_UNDER_ASAN();
  SkipWithoutTaskstats();
  ChildResult r =
      expect_largest(shape("daemon", {"--mib", "64", "--hold-ms", "400"}), "pb-daemon", true);
  EXPECT_EQ(r.process_count, 3);
  EXPECT_TRUE(r.lingerers_killed.empty());
  // The run ends with its last process: after the daemon's hold, which began after the root left.
  EXPECT_GT(r.wall_s, r.root_wall_s);
}

TEST_F(ProcessTreeTest, ADaemonPastTheGraceIsKilledAndTheRunFailsNamingIt) {
  SKIP_UNDER_ASAN();
  SpawnRequest request = shape("daemon", {"--mib", "16", "--hold-ms", "600000"});
  request.orphan_grace_s = 0.3;
  MeasureOptions options;
  options.charged_memory = false;
  options.pin = false;
  Result<MeasuredRun> run = measure_run(*launcher_, request, options);
  ASSERT_TRUE(run.ok()) << run.message();
  ASSERT_EQ(run->child.lingerers_killed.size(), 1u);
  const KilledProcess& killed = run->child.lingerers_killed[0];
  EXPECT_EQ(killed.comm, "pb-daemon");
  std::map<pid_t, std::uint64_t> truth = truths(request.stdout_path);
  EXPECT_EQ(truth.count(killed.pid), 1u);
  RunRecord record;
  fill_run_record(*run, options, request.timeout_s, record);
  EXPECT_FALSE(record.ok);
  EXPECT_NE(record.error.find("pid " + std::to_string(killed.pid) + " (pb-daemon)"),
            std::string::npos)
      << record.error;
  EXPECT_NE(record.error.find("0.3 s"), std::string::npos) << record.error;
}

TEST_F(ProcessTreeTest, ACopyOnWriteChildDoesNotHideTheLargestProcess) {
  SKIP_UNDER_ASAN();
  SkipWithoutTaskstats();
  ChildResult r =
      expect_largest(shape("cow", {"--mib", "64", "--hold-ms", "100"}), "pb-cow-parent", true);
  EXPECT_EQ(r.process_count, 2);
}

TEST_F(ProcessTreeTest, OfTwoConcurrentChildrenTheLargerIsTheHeadline) {
  SKIP_UNDER_ASAN();
  SkipWithoutTaskstats();
  ChildResult r =
      expect_largest(shape("two-children", {"--mib", "32", "--mib2", "96", "--hold-ms", "200"}),
                     "pb-child-b", true);
  EXPECT_EQ(r.process_count, 3);
}

TEST_F(ProcessTreeTest, AVforkChildIsMeasuredFromItsExec) {
  SKIP_UNDER_ASAN();
  SkipWithoutTaskstats();
  ChildResult r = expect_largest(shape("vfork", {"--mib", "32", "--mib2", "96"}), "pb-touch", true);
  EXPECT_EQ(r.process_count, 2);
}

TEST_F(ProcessTreeTest, TheRootIsNamedWithItsArgv0) {
  SKIP_UNDER_ASAN();
  SkipWithoutTaskstats();
  SpawnRequest request = shape("touch", {"--mib", "16"});
  ChildResult r = expect_largest(request, "pb-touch", true);
  ASSERT_TRUE(r.largest_process.has_value());
  EXPECT_EQ(r.largest_process->pid, r.pid);
  EXPECT_EQ(r.largest_process->argv0, PEAKBENCH_EXE);
  EXPECT_EQ(r.process_count, 1);
}

// The launcher is the minimal executable, so a tiny client is not over-reported by what it
// inherited before its exec: /bin/true reads about 1 MiB under /usr/bin/time.
TEST_F(ProcessTreeTest, BinTrueIsUnderOnePointTwoMiB) {
  SKIP_UNDER_ASAN();
  ASSERT_TRUE(launcher_->minimal()) << "no peakbench-launcher next to the test binary";
  for (bool taskstats : {true, false}) {
    SpawnRequest request;
    request.argv = {"/bin/true"};
    request.taskstats = taskstats;
    Result<ChildResult> r = launcher_->run(request);
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_LT(r->max_rss_bytes, 1229u * 1024) << "wait4 ru_maxrss";
    ASSERT_TRUE(r->largest_process.has_value());
    EXPECT_LT(r->largest_process->peak_rss_bytes, 1229u * 1024) << "taskstats " << taskstats;
    EXPECT_GT(r->largest_process->peak_rss_bytes, 0u);
  }
}

}  // namespace
}  // namespace peakbench
