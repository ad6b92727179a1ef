// The whole measuring chain against subjects whose truth is known (DESIGN §4, issue 4 "Tests"):
// real child processes through the launcher, the probe's report, the sampler and the cgroup.
// Margins are DESIGN §6's max(256 KiB, 0.5%); nothing here asserts on wall-clock time. Memory
// assertions skip themselves under ASan, whose shadow memory is in every RSS figure.

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "harness/cgroup.h"
#include "harness/launcher.h"
#include "harness/measure_run.h"
#include "harness/sampler.h"
#include "harness/subject_probe.h"
#include "tests/measure_subjects.h"

namespace peakbench {
namespace {

using testing::calibrate_request;
using testing::calibration_tolerance_bytes;

#ifdef PEAKBENCH_SANITIZE
#define SKIP_UNDER_SANITIZERS() GTEST_SKIP() << "ASan's shadow memory is in every RSS figure"
#else
#define SKIP_UNDER_SANITIZERS() (void)0
#endif

void record(const std::string& key, std::uint64_t value) {
  ::testing::Test::RecordProperty(key, std::to_string(value));
}

// A run and what its subject published.
struct Measured {
  ChildResult child;
  SubjectReport subject;
  SamplerResult sampled;
};

Measured measure(Launcher& launcher, const SpawnRequest& request,
                 std::chrono::microseconds interval = std::chrono::milliseconds(5)) {
  Measured m;
  MeasureOptions options;
  options.sample_interval = interval;
  options.charged_memory = false;  // the cgroup tests below make their own
  Result<MeasuredRun> run = measure_run(launcher, request, options);
  EXPECT_TRUE(run.ok()) << run.message();
  if (!run) {
    return m;
  }
  m.child = run->child;
  m.sampled = run->sampled;
  EXPECT_TRUE(run->subject.has_value()) << run->subject_report_error << ": " << m.child.report_text;
  if (run->subject) {
    m.subject = *run->subject;
  }
  // The figures, for --gtest_output=json:FILE (MEASURING.md quotes them).
  record("wait4_max_rss_bytes", m.child.max_rss_bytes);
  record("subject_start_rss_bytes", m.subject.start_rss_bytes);
  record("subject_peak_rss_bytes", m.subject.peak_rss_bytes);
  record("sampled_peak_rss_bytes", m.sampled.peak.rss_bytes);
  record("sampled_peak_anon_bytes", m.sampled.peak.anon_bytes);
  record("sampled_peak_file_bytes", m.sampled.peak.file_bytes);
  record("samples", m.sampled.samples);
  return m;
}

void expect_near_bytes(std::uint64_t measured, std::uint64_t truth, const char* what) {
  std::uint64_t tolerance = calibration_tolerance_bytes(truth);
  std::uint64_t diff = measured > truth ? measured - truth : truth - measured;
  EXPECT_LE(diff, tolerance) << what << ": measured " << measured << " B, truth " << truth
                             << " B, off by " << diff << " B (tolerance " << tolerance << " B)";
}

class CalibrationTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(CalibrationTest, KernelMarksMeasureTheTouchedMiBWithinTolerance) {
  SKIP_UNDER_SANITIZERS();
  Result<Launcher> launcher = Launcher::start();
  ASSERT_TRUE(launcher.ok()) << launcher.message();
  const std::uint64_t mib = GetParam();
  Measured m = measure(*launcher, calibrate_request({"--mib", std::to_string(mib)}));
  ASSERT_TRUE(m.child.succeeded());
  // The truth: the subject's own resident size before it touched anything, plus N MiB.
  const std::uint64_t truth = m.subject.start_rss_bytes + mib * kMiB;
  expect_near_bytes(m.child.max_rss_bytes, truth, "wait4 ru_maxrss");
  expect_near_bytes(m.subject.peak_rss_bytes, truth, "the subject's own VmHWM");
  ASSERT_EQ(m.subject.phases.size(), 1u);
  expect_near_bytes(m.subject.phases[0].peak_rss.bytes, truth, "the download phase's VmHWM");
}

INSTANTIATE_TEST_SUITE_P(Sizes, CalibrationTest, ::testing::Values(16, 256),
                         [](const auto& info) { return std::to_string(info.param) + "MiB"; });

TEST(MeasurementTest, AChildDoesNotInheritTheParentsResidentSize) {
  SKIP_UNDER_SANITIZERS();
  // The launcher is forked while this process is small...
  Result<Launcher> launcher = Launcher::start();
  ASSERT_TRUE(launcher.ok()) << launcher.message();
  // ...then the parent grows by 512 MiB, touched, and keeps it while the child runs.
  const std::size_t big = 512 * kMiB;
  void* block = ::mmap(nullptr, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(block, MAP_FAILED);
  std::memset(block, 0x5a, big);
  Measured m = measure(*launcher, calibrate_request({"--mib", "10"}));
  ::munmap(block, big);
  ASSERT_TRUE(m.child.succeeded());
  const std::uint64_t truth = m.subject.start_rss_bytes + 10 * kMiB;
  expect_near_bytes(m.child.max_rss_bytes, truth, "wait4 ru_maxrss of a 10 MiB child");
  EXPECT_LT(m.child.max_rss_bytes, 100 * kMiB);
}

TEST(MeasurementTest, ASubjectKilledByASignalIsReportedWithItsSignal) {
  Result<Launcher> launcher = Launcher::start();
  ASSERT_TRUE(launcher.ok()) << launcher.message();
  Measured m = measure(*launcher, calibrate_request({"--mib", "4", "--signal", "TERM"}));
  EXPECT_FALSE(m.child.succeeded());
  EXPECT_FALSE(m.child.exited);
  ASSERT_TRUE(m.child.signal.has_value());
  EXPECT_EQ(*m.child.signal, SIGTERM);
}

TEST(MeasurementTest, TheSamplersSplitShowsTheCalibrationSubjectAsAnon) {
  SKIP_UNDER_SANITIZERS();
  Result<Launcher> launcher = Launcher::start();
  ASSERT_TRUE(launcher.ok()) << launcher.message();
  // Held long enough for many samples at the plateau.
  Measured m = measure(*launcher, calibrate_request({"--mib", "64", "--hold-ms", "300"}),
                       std::chrono::milliseconds(1));
  ASSERT_TRUE(m.child.succeeded());
  ASSERT_GT(m.sampled.timeline.size(), 10u);
  const TimelinePoint& peak = m.sampled.peak;
  EXPECT_GE(peak.anon_bytes, 64 * kMiB);
  EXPECT_LT(peak.anon_bytes, 64 * kMiB + 8 * kMiB);
  EXPECT_LT(peak.file_bytes, 32 * kMiB);
  EXPECT_EQ(peak.rss_bytes, peak.anon_bytes + peak.file_bytes + peak.shmem_bytes);
  // A plateau held for 300 ms is sampled exactly: the sample equals the kernel mark.
  expect_near_bytes(peak.rss_bytes, m.child.max_rss_bytes, "sampled plateau vs wait4");
}

TEST(MeasurementTest, Wait4SeesTheLargestProcessAndTheSamplerSumsTheTree) {
  SKIP_UNDER_SANITIZERS();
  Result<Launcher> launcher = Launcher::start();
  ASSERT_TRUE(launcher.ok()) << launcher.message();
  // Three children of 24, 40 and 32 MiB, alive together for a second, and the parent's own 8.
  Measured m = measure(
      *launcher, calibrate_request({"--mib", "8", "--children", "24,40,32", "--hold-ms", "1000"}));
  ASSERT_TRUE(m.child.succeeded());
  const std::uint64_t base = m.subject.start_rss_bytes;
  // wait4: the largest single process (the 40 MiB child), never a sum.
  EXPECT_GE(m.child.max_rss_bytes, 40 * kMiB);
  EXPECT_LT(m.child.max_rss_bytes, base + 40 * kMiB + 2 * kMiB);
  // The sampler: all four at once.
  EXPECT_EQ(m.sampled.max_processes, 4);
  EXPECT_GE(m.sampled.peak.anon_bytes, (8 + 24 + 40 + 32) * kMiB);
  EXPECT_GE(m.sampled.peak.rss_bytes, 4 * base + (8 + 24 + 40 + 32) * kMiB - 4 * kMiB);
}

// Not "charged >= ru_maxrss": shared-library pages already in the page cache stay charged to the
// cgroup that first read them, so the subject's file-backed RSS (a few MiB) is in its RSS and not
// in its charge. What it touches itself (anon, page tables) is charged here.
TEST(MeasurementTest, ChargedPeakCoversWhatTheSubjectTouchedWhereACgroupCanBeMade) {
  SKIP_UNDER_SANITIZERS();
  const CgroupSupport& support = memory_cgroup_support();
  if (!support.availability.available) {
    EXPECT_FALSE(support.availability.detail.empty());
    GTEST_SKIP() << "no memory cgroup: " << support.availability.detail;
  }
  Result<Launcher> launcher = Launcher::start();
  ASSERT_TRUE(launcher.ok()) << launcher.message();
  Result<MemoryCgroup> cgroup = MemoryCgroup::create(support);
  ASSERT_TRUE(cgroup.ok()) << cgroup.message();
  SpawnRequest request = calibrate_request({"--mib", "64", "--hold-ms", "200"});
  request.cgroup_procs = cgroup->procs_file();
  Measured m = measure(*launcher, request);
  ASSERT_TRUE(m.child.succeeded());
  Result<std::uint64_t> charged = cgroup->peak_bytes();
  ASSERT_TRUE(charged.ok()) << charged.message();
  record("charged_peak_bytes", *charged);
  EXPECT_GE(*charged, 64 * kMiB);
  EXPECT_GE(*charged, m.sampled.peak.anon_bytes);
  EXPECT_GE(*charged + m.sampled.peak.file_bytes, m.child.max_rss_bytes);
  EXPECT_LT(*charged, m.child.max_rss_bytes + 8 * kMiB);
  std::filesystem::path dir = cgroup->dir();
  EXPECT_TRUE(cgroup->remove().ok());
  EXPECT_FALSE(std::filesystem::exists(dir));
}

// The charge includes the page cache a run writes, which RSS never shows.
TEST(MeasurementTest, ChargedPeakIncludesThePageCacheARunWrites) {
  SKIP_UNDER_SANITIZERS();
  const CgroupSupport& support = memory_cgroup_support();
  if (!support.availability.available) {
    GTEST_SKIP() << support.availability.detail;
  }
  Result<Launcher> launcher = Launcher::start();
  ASSERT_TRUE(launcher.ok()) << launcher.message();
  Result<MemoryCgroup> cgroup = MemoryCgroup::create(support);
  ASSERT_TRUE(cgroup.ok()) << cgroup.message();
  std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("peakbench-charged-" + std::to_string(::getpid()));
  SpawnRequest request;
  request.argv = {"dd", "if=/dev/zero", "of=" + file.string(), "bs=1M", "count=64"};
  request.stderr_path = "/dev/null";
  request.cgroup_procs = cgroup->procs_file();
  Result<ChildResult> child = launcher->run(request);
  ASSERT_TRUE(child.ok()) << child.message();
  ASSERT_TRUE(child->succeeded());
  Result<std::uint64_t> charged = cgroup->peak_bytes();
  std::filesystem::remove(file);
  ASSERT_TRUE(charged.ok()) << charged.message();
  record("wait4_max_rss_bytes", child->max_rss_bytes);
  record("charged_peak_bytes", *charged);
  EXPECT_LT(child->max_rss_bytes, 16 * kMiB);
  EXPECT_GE(*charged, 64 * kMiB);
}

// jemalloc preloaded into the subject: the probe finds mallctl and reports thread.peak per phase.
TEST(MeasurementTest, APreloadedJemallocGivesTheHeapPeakPerPhase) {
  SKIP_UNDER_SANITIZERS();
  Result<Launcher> launcher = Launcher::start();
  ASSERT_TRUE(launcher.ok()) << launcher.message();
  SpawnRequest request = calibrate_request({"--mib", "24"});
  request.env = {{"LD_PRELOAD", PEAKBENCH_JEMALLOC_SO}};
  Measured m = measure(*launcher, request);
  ASSERT_TRUE(m.child.succeeded());
  EXPECT_EQ(m.subject.allocator, "jemalloc");
  ASSERT_EQ(m.subject.phases.size(), 1u);
  ASSERT_TRUE(m.subject.phases[0].heap_peak.has_value());
  // Size classes round up (100 MiB counts 112 MiB); 24 MiB is itself a size class.
  EXPECT_GE(m.subject.phases[0].heap_peak->bytes, 24 * kMiB);
  EXPECT_LT(m.subject.phases[0].heap_peak->bytes, 32 * kMiB);
}

// The sampler's lateness is a note only when it may have cost a peak: a tenth of the samples
// late, or one gap of more than two intervals that is also 5% of the run.
TEST(LateSampling, AFewLateSamplesOnABusyHostAreNoNote) {
  using std::chrono::microseconds;
  SamplerResult sampled;
  sampled.samples = 1000;
  sampled.missed_deadlines = 99;
  sampled.longest_gap = microseconds(9'000);  // under two 5 ms intervals
  EXPECT_EQ(late_sampling_note(sampled, microseconds(5'000), 5.0), "");
  sampled.longest_gap = microseconds(200'000);  // over two intervals, but 4% of a 5 s run
  EXPECT_EQ(late_sampling_note(sampled, microseconds(5'000), 5.0), "");
}

TEST(LateSampling, ATenthLateOrOneLongGapIsANoteWithTheFigures) {
  using std::chrono::microseconds;
  SamplerResult sampled;
  sampled.samples = 1000;
  sampled.missed_deadlines = 100;
  sampled.longest_gap = microseconds(6'000);
  EXPECT_EQ(late_sampling_note(sampled, microseconds(5'000), 5.0),
            "the sampler fell behind: 100 of 1000 samples started late and the longest gap "
            "between two was 6.0 ms (interval 5000 us); the timeline and sampled figures may miss "
            "a peak that short");
  sampled.missed_deadlines = 1;
  sampled.longest_gap = microseconds(250'000);  // 5% of a 5 s run
  EXPECT_NE(late_sampling_note(sampled, microseconds(5'000), 5.0).find("250.0 ms"),
            std::string::npos);
}

// Without peakbench-launcher beside the executable every run is forked from a copy of the caller
// and inherits its pages until exec: each run says so, and a run by the minimal launcher does not.
TEST(LauncherCaveat, AForkedCopyOfTheCallerIsNotedInEveryRunAndTheMinimalOneIsNot) {
  SKIP_UNDER_SANITIZERS();
  for (const bool minimal : {false, true}) {
    Result<Launcher> launcher =
        minimal ? Launcher::start() : Launcher::start(std::filesystem::path());
    ASSERT_TRUE(launcher.ok()) << launcher.message();
    ASSERT_EQ(launcher->minimal(), minimal);
    MeasureOptions options;
    Result<MeasuredRun> run = measure_run(*launcher, calibrate_request({"--mib", "16"}), options);
    ASSERT_TRUE(run.ok()) << run.message();
    RunRecord record;
    fill_run_record(*run, options, 60, record);
    const bool noted = std::any_of(record.notes.begin(), record.notes.end(), [](const auto& n) {
      return n.starts_with("runs were started by a forked copy of peakbench (") &&
             n.find("KiB resident)") != std::string::npos;
    });
    EXPECT_EQ(noted, !minimal) << (minimal ? "minimal launcher" : "forked copy");
    EXPECT_EQ(launcher->caveat().empty(), minimal);
  }
}

TEST(MeasureRunTest, FillsEveryFigureWithItsMethod) {
  SKIP_UNDER_SANITIZERS();
  Result<Launcher> launcher = Launcher::start();
  ASSERT_TRUE(launcher.ok()) << launcher.message();
  MeasureOptions options;
  options.timeline_points = 20;
  Result<MeasuredRun> run =
      measure_run(*launcher, calibrate_request({"--mib", "32", "--hold-ms", "200"}), options);
  ASSERT_TRUE(run.ok()) << run.message();
  RunRecord record;
  fill_run_record(*run, options, 120, record);
  EXPECT_TRUE(record.ok);
  EXPECT_TRUE(record.error.empty());
  // A built-in subject's headline is always its own running maximum (never "whichever is
  // higher"), so that a scenario's median never mixes two methods; wait4 and the tree stay beside
  // it as their own figures.
  EXPECT_GE(record.peak_rss->bytes, 32 * kMiB);
  ASSERT_TRUE(record.subject_peak_rss.has_value());
  EXPECT_EQ(record.subject_peak_rss->method, Method::self_hwm);
  EXPECT_EQ(record.peak_rss->method, Method::self_hwm);
  EXPECT_EQ(record.peak_rss->bytes, record.subject_peak_rss->bytes);
  ASSERT_TRUE(record.largest_process.has_value());
  EXPECT_EQ(record.largest_process->peak_rss.method, run->child.tree_source == TreeSource::taskstats
                                                         ? Method::taskstats
                                                         : Method::kernel_hwm);
  ASSERT_TRUE(record.subject_start_rss.has_value());
  ASSERT_EQ(record.phases.size(), 1u);
  // On the timeline's axis: after the spawn, before the run ended.
  EXPECT_GT(record.phases[0].start_s, 0.0);
  EXPECT_LE(record.phases[0].start_s, record.phases[0].end_s);
  EXPECT_LT(record.phases[0].end_s, record.wall_s);
  EXPECT_EQ(record.bytes_written, 32 * kMiB);
  ASSERT_TRUE(record.sampled_peak_rss.has_value());
  EXPECT_EQ(record.sampled_peak_rss->method, Method::sampled);
  EXPECT_GE(record.sampled_peak_anon->bytes, 32 * kMiB);
  EXPECT_LE(record.timeline.size(), 20u);
  EXPECT_FALSE(record.timeline.empty());
  if (memory_cgroup_support().availability.available) {
    ASSERT_TRUE(record.charged_peak.has_value()) << run->charged_error;
    EXPECT_EQ(record.charged_peak->method, Method::cgroup);
    EXPECT_GE(record.charged_peak->bytes, 32 * kMiB);
  } else {
    EXPECT_FALSE(record.charged_peak.has_value());
  }
  if (plan_cpus().sampler_cpu) {
    EXPECT_EQ(run->subject_cpu, plan_cpus().subject_cpu);
    EXPECT_EQ(run->sampler_cpu, plan_cpus().sampler_cpu);
  }
}

TEST(MeasureRunTest, SaysWhichMethodsThisHostHas) {
  std::map<std::string, MethodAvailability> methods = detect_methods(PEAKBENCH_JEMALLOC_SO);
  for (const char* name : {"kernel-hwm", "self", "sampled", "cgroup", "jemalloc"}) {
    ASSERT_EQ(methods.count(name), 1u) << name;
    EXPECT_FALSE(methods[name].detail.empty()) << name;
  }
  EXPECT_TRUE(methods["kernel-hwm"].available);
  EXPECT_TRUE(methods["sampled"].available) << methods["sampled"].detail;
  EXPECT_EQ(methods["cgroup"].available, memory_cgroup_support().availability.available);
  EXPECT_FALSE(detect_methods("/nonexistent/libjemalloc.so")["jemalloc"].available);
}

TEST(MeasureRunTest, AFailedRunIsARecordWithItsReason) {
  Result<Launcher> launcher = Launcher::start();
  ASSERT_TRUE(launcher.ok()) << launcher.message();
  MeasureOptions options;
  Result<MeasuredRun> killed =
      measure_run(*launcher, calibrate_request({"--mib", "1", "--signal", "KILL"}), options);
  ASSERT_TRUE(killed.ok()) << killed.message();
  RunRecord record;
  fill_run_record(*killed, options, 120, record);
  EXPECT_FALSE(record.ok);
  EXPECT_EQ(record.signal, SIGKILL);
  EXPECT_EQ(record.error, "killed by signal 9 (Killed)");

  SpawnRequest missing;
  missing.argv = {"peakbench-no-such-client"};
  Result<MeasuredRun> none = measure_run(*launcher, missing, options);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.message().find("peakbench-no-such-client"), std::string::npos) << none.message();
}

}  // namespace
}  // namespace peakbench
