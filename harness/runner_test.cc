// The executor with the real launcher, the real server and real `peakbench fetch` children.

#include "harness/runner.h"

#include <gtest/gtest.h>

#include "fixtures/test_support.h"

namespace peakbench {
namespace {

RunOptions one_streaming_cold_run(const std::filesystem::path& work_dir) {
  RunOptions options;
  options.sizes_bytes = {16ull << 20};
  Subject streaming;
  streaming.name = "streaming";
  streaming.strategy = Strategy::streaming;
  options.subjects = {streaming};
  options.phases = {RunPhase::cold};
  options.repeat = 1;
  options.subject_exe = PEAKBENCH_EXE;
  options.work_dir = work_dir;
  return options;
}

TEST(Runner, AJemallocPreloadThatFailsRecordsGlibcWithANote) {
#ifdef PEAKBENCH_SANITIZE
  GTEST_SKIP() << "jemalloc cannot be preloaded under ASan";
#endif
  Result<Launcher> launcher = Launcher::start();
  ASSERT_TRUE(launcher.ok()) << launcher.message();
  testing::TempDir dir("runner-preload");
  RunOptions options = one_streaming_cold_run(dir.path());
  options.allocator = Allocator::jemalloc;
  options.jemalloc_library = dir / "no-such-libjemalloc.so.2";
  RunObserver quiet;
  Result<SuiteOutcome> outcome = run_suite(options, *launcher, quiet);
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  ASSERT_EQ(outcome->report.runs.size(), 1u);
  const RunRecord& run = outcome->report.runs[0];
  ASSERT_TRUE(run.ok) << run.error;
  EXPECT_EQ(run.allocator, "glibc");
  ASSERT_FALSE(run.notes.empty());
  bool said_so = false;
  for (const std::string& note : run.notes) {
    said_so = said_so || note.find("jemalloc was asked for but glibc ran") != std::string::npos;
  }
  EXPECT_TRUE(said_so) << run.notes[0];
  // The report as a whole says it too, once.
  ASSERT_FALSE(outcome->report.meta.notes.empty());
  EXPECT_NE(outcome->report.meta.notes[0].find("jemalloc"), std::string::npos);
}

TEST(Runner, ABuiltInRunsPeakIsItsOwnMaximumAndItsAllocatorIsRecorded) {
  Result<Launcher> launcher = Launcher::start();
  ASSERT_TRUE(launcher.ok()) << launcher.message();
  testing::TempDir dir("runner-self");
  RunObserver quiet;
  Result<SuiteOutcome> outcome = run_suite(one_streaming_cold_run(dir.path()), *launcher, quiet);
  ASSERT_TRUE(outcome.ok()) << outcome.message();
  ASSERT_EQ(outcome->report.runs.size(), 1u);
  const RunRecord& run = outcome->report.runs[0];
  ASSERT_TRUE(run.ok) << run.error;
  ASSERT_TRUE(run.peak_rss && run.subject_peak_rss);
  EXPECT_EQ(run.peak_rss->method, Method::self_hwm);
  EXPECT_EQ(run.peak_rss->bytes, run.subject_peak_rss->bytes);
  EXPECT_EQ(run.allocator, "glibc");
  const std::vector<ScenarioSummary> summaries = outcome->report.summarize();
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(summaries[0].peak_rss_method, Method::self_hwm);
}

}  // namespace
}  // namespace peakbench
