// `peakbench run` end to end: the real binary, the real embedded server, real child processes.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>

#include "base/size.h"
#include "reports/report.h"
#include "tests/report_support.h"
#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

using testing::CliResult;
using testing::find_run;
using testing::read_back;
using testing::run_peakbench;
using testing::TempDir;

TEST(Run, StreamingPeaksAreFlatInTheBodySize) {
#ifdef PEAKBENCH_SANITIZE
  GTEST_SKIP() << "ASan's shadow memory is in every RSS figure";
#endif
  TempDir dir("run-flat");
  const CliResult result =
      run_peakbench({"run", "--strategy", "streaming", "--size", "32MiB,256MiB", "--phase",
                     "cold,warm", "--repeat", "1", "--out", (dir / "report.json").string()});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const Report report = read_back(dir / "report.json");
  for (const std::string phase : {"cold", "warm"}) {
    const RunRecord* small = find_run(report, "streaming", phase, 32 * kMiB);
    const RunRecord* large = find_run(report, "streaming", phase, 256 * kMiB);
    ASSERT_TRUE(small && large) << phase;
    ASSERT_TRUE(small->ok && large->ok) << phase;
    const double delta_mib = (static_cast<double>(large->peak_rss->bytes) -
                              static_cast<double>(small->peak_rss->bytes)) /
                             kMiB;
    EXPECT_LT(std::abs(delta_mib), 2.0)
        << phase << ": 32 MiB and 256 MiB bodies differ by " << delta_mib << " MiB";
  }
}

TEST(Run, WholeBodyHoldsItsCopiesAndTheReportSaysHowEachFigureWasMade) {
#ifdef PEAKBENCH_SANITIZE
  GTEST_SKIP() << "ASan's shadow memory is in every RSS figure";
#endif
  TempDir dir("run-whole");
  const CliResult result = run_peakbench(
      {"run", "--strategy", "whole-body", "--size", "64MiB", "--phase", "cold,warm,revalidate",
       "--repeat", "1", "--out", (dir / "report.json").string(), "--format", "csv"});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  EXPECT_NE(result.out.find("whole-body"), std::string::npos) << result.out;
  const Report report = read_back(dir / "report.json");
  for (const std::string phase : {"cold", "warm", "revalidate"}) {
    const RunRecord* run = find_run(report, "whole-body", phase, 64 * kMiB);
    ASSERT_NE(run, nullptr) << phase;
    ASSERT_TRUE(run->ok) << phase << ": " << run->error;
    ASSERT_TRUE(run->subject_start_rss.has_value());
    // The design holds the body and its serialized entry at once: 2 x B above its start, less
    // 1% for start-up pages that are given back before the peak.
    EXPECT_GE(run->peak_rss->bytes, run->subject_start_rss->bytes + 128 * kMiB * 99 / 100) << phase;
    EXPECT_FALSE(run->phases.empty()) << phase;
    ASSERT_TRUE(run->sampled_peak_rss.has_value()) << phase;
    EXPECT_EQ(run->sampled_peak_rss->method, Method::sampled);
    EXPECT_FALSE(run->timeline.empty());
  }
  // cold downloaded once; warm made no request; revalidate made one conditional request (304).
  EXPECT_EQ(find_run(report, "whole-body", "cold", 64 * kMiB)->file_requests.at(200), 1u);
  EXPECT_TRUE(find_run(report, "whole-body", "warm", 64 * kMiB)->file_requests.empty());
  const auto& revalidated = find_run(report, "whole-body", "revalidate", 64 * kMiB)->file_requests;
  EXPECT_EQ(revalidated.size(), 1u);
  EXPECT_EQ(revalidated.count(304), 1u);
  EXPECT_EQ(report.meta.methods.count("cgroup"), 1u);
  EXPECT_FALSE(report.meta.host.kernel.empty());
}

TEST(Run, AKilledSubjectIsAFailedRunAndTheOthersAreStillReported) {
  TempDir dir("run-killed");
  const CliResult result = run_peakbench(
      {"run", "--strategy", "streaming", "--client", "doomed=sh -c 'kill -KILL $$'", "--size",
       "16MiB", "--phase", "cold", "--repeat", "1", "--out", (dir / "report.json").string()});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  const Report report = read_back(dir / "report.json");
  const RunRecord* doomed = find_run(report, "doomed", "cold", 16 * kMiB);
  const RunRecord* streaming = find_run(report, "streaming", "cold", 16 * kMiB);
  ASSERT_TRUE(doomed && streaming);
  EXPECT_FALSE(doomed->ok);
  EXPECT_EQ(doomed->signal, 9);
  EXPECT_NE(doomed->error.find("signal 9"), std::string::npos) << doomed->error;
  EXPECT_TRUE(streaming->ok);
}

TEST(Run, ARunPastItsMemoryLimitIsAnOutOfMemoryKill) {
#ifdef PEAKBENCH_SANITIZE
  GTEST_SKIP() << "ASan's shadow memory would meet the limit first";
#endif
  TempDir dir("run-oom");
  // whole-body holds two 64 MiB bodies at once; streaming stays near its 14 MiB start.
  const CliResult result = run_peakbench(
      {"run", "--strategy", "whole-body,streaming", "--size", "64MiB", "--phase", "cold",
       "--repeat", "1", "--memory-limit", "96MiB", "--out", (dir / "report.json").string()});
  if (result.exit_status == 2 && result.err.find("needs a memory cgroup") != std::string::npos) {
    GTEST_SKIP() << result.err;
  }
  EXPECT_EQ(result.exit_status, 1) << result.err;
  const Report report = read_back(dir / "report.json");
  const RunRecord* whole = find_run(report, "whole-body", "cold", 64 * kMiB);
  const RunRecord* streaming = find_run(report, "streaming", "cold", 64 * kMiB);
  ASSERT_TRUE(whole && streaming);
  EXPECT_FALSE(whole->ok);
  EXPECT_EQ(whole->signal, 9);
  EXPECT_NE(whole->error.find("out-of-memory"), std::string::npos) << whole->error;
  EXPECT_TRUE(streaming->ok) << streaming->error;
}

TEST(Run, AWarmRunWhoseCacheFillFailedIsNotMeasured) {
  TempDir dir("run-unfilled");
  const CliResult result =
      run_peakbench({"run", "--strategy", "none", "--client", "broken=false", "--size", "16MiB",
                     "--phase", "warm", "--repeat", "1", "--out", (dir / "report.json").string()});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  const Report report = read_back(dir / "report.json");
  ASSERT_EQ(report.runs.size(), 1u);  // the fill is not a measured run
  const RunRecord& warm = report.runs[0];
  EXPECT_EQ(warm.phase, "warm");
  EXPECT_FALSE(warm.ok);
  EXPECT_NE(warm.error.find("not run: the cold run that fills its cache failed"), std::string::npos)
      << warm.error;
  EXPECT_TRUE(warm.file_requests.empty());
}

TEST(Run, AWrittenReportValidatesAgainstTheSchema) {
  if (std::system("python3 -c 'import jsonschema' 2>/dev/null") != 0) {
    GTEST_SKIP() << "python3-jsonschema is not installed (scripts/bootstrap installs it)";
  }
  TempDir dir("run-schema");
  const CliResult result =
      run_peakbench({"run", "--strategy", "streaming,whole-body", "--size", "16MiB", "--repeat",
                     "2", "--out", (dir / "report.json").string()});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const std::string command =
      "python3 -c 'import json,sys,jsonschema; jsonschema.validate("
      "json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' " +
      std::string(PEAKBENCH_SOURCE_DIR) + "/reports/schema/report-v2.schema.json " +
      (dir / "report.json").string();
  EXPECT_EQ(std::system(command.c_str()), 0);
}

TEST(Run, WithJemallocEachPhaseAlsoHasItsHeapPeak) {
#ifdef PEAKBENCH_SANITIZE
  GTEST_SKIP() << "jemalloc cannot be preloaded under ASan";
#endif
  TempDir dir("run-jemalloc");
  const CliResult result = run_peakbench(
      {"run", "--strategy", "whole-body", "--allocator", "jemalloc", "--size", "32MiB", "--phase",
       "cold", "--repeat", "1", "--out", (dir / "report.json").string()});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const Report report = read_back(dir / "report.json");
  EXPECT_EQ(report.meta.allocator, "jemalloc");
  EXPECT_TRUE(report.meta.methods.at("jemalloc").available);
  const RunRecord* cold = find_run(report, "whole-body", "cold", 32 * kMiB);
  ASSERT_NE(cold, nullptr);
  bool saw_body_sized_heap = false;
  std::optional<std::uint64_t> cache_write_heap;
  for (const PhasePeak& phase : cold->phases) {
    ASSERT_TRUE(phase.heap_peak.has_value()) << phase.phase;
    EXPECT_EQ(phase.heap_peak->method, Method::jemalloc);
    // The download buffers the whole body: its heap peak is at least B.
    if (phase.phase == "download") saw_body_sized_heap = phase.heap_peak->bytes >= 32 * kMiB;
    if (phase.phase == "cache-write") cache_write_heap = phase.heap_peak->bytes;
  }
  EXPECT_TRUE(saw_body_sized_heap);
  // The heap peak is absolute: the cache write starts holding the body (B, live at the phase's
  // start) and serializes it into a second buffer: about two bodies, not the one made inside it.
  ASSERT_TRUE(cache_write_heap.has_value());
  EXPECT_GE(*cache_write_heap, 64 * kMiB);
  EXPECT_LT(*cache_write_heap, 64 * kMiB + 24 * kMiB);
}

TEST(Run, ThePageCachePolicyIsAStatedConditionOfTheReport) {
  TempDir dir("run-page-cache");
  for (const char* policy : {"keep", "drop"}) {
    const std::filesystem::path out = dir / (std::string(policy) + ".json");
    const CliResult result =
        run_peakbench({"run", "--strategy", "streaming", "--size", "16MiB", "--phase", "cold,warm",
                       "--repeat", "1", "--page-cache", policy, "--out", out.string()});
    ASSERT_EQ(result.exit_status, 0) << result.err;
    const Report report = read_back(out);
    EXPECT_EQ(report.meta.page_cache, policy);
    const RunRecord* warm = find_run(report, "streaming", "warm", 16 * kMiB);
    ASSERT_NE(warm, nullptr);
    EXPECT_TRUE(warm->ok) << warm->error;
    EXPECT_EQ(warm->cache_outcome, "hit") << policy;  // evicted or not, the entry is there
  }
}

TEST(Run, BadInputIsOneLineAndExitStatusTwo) {
  TempDir dir("run-bad");
  { std::ofstream(dir / "broken.json") << "{\"sizes\": [\"32MiB\",]"; }
  { std::ofstream(dir / "unknown.json") << "{\"sizes\": [\"32MiB\"], \"colour\": \"blue\"}"; }
  const std::vector<std::vector<std::string>> cases = {
      {"run", "--suite", (dir / "broken.json").string()},
      {"run", "--suite", (dir / "unknown.json").string()},
      {"run", "--suite", (dir / "absent.json").string()},
      {"run", "--strategy", "mmap-everything"},
      {"run", "--size", "12 parsecs"},
      {"run", "--phase", "lukewarm"},
      {"run", "--repeat", "0"},
      {"run", "--shard", "3/2"},
      {"run", "--client", "x=curl {nope}"},
      {"run", "--pip", "old=/no/such/python"},
      {"run", "--out", "/no/such/dir/report.json"},
      {"run", "--memory-limit", "lots"},
  };
  for (const auto& args : cases) {
    const CliResult result = run_peakbench(args);
    EXPECT_EQ(result.exit_status, 2) << args.back() << ": " << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_NE(result.err.find("error"), std::string::npos) << result.err;
  }
}

TEST(Run, ShardsSplitTheSuiteAndMergeBackToTheWhole) {
  TempDir dir("run-shards");
  std::vector<std::string> files;
  for (const char* shard : {"1/2", "2/2"}) {
    const std::string out = (dir / (std::string("shard-") + shard[0] + ".json")).string();
    const CliResult result =
        run_peakbench({"run", "--strategy", "whole-body,streaming", "--size", "16MiB", "--phase",
                       "cold", "--repeat", "1", "--shard", shard, "--out", out});
    ASSERT_EQ(result.exit_status, 0) << result.err;
    files.push_back(out);
    EXPECT_EQ(read_back(out).runs.size(), 1u) << shard;
  }
  const std::string merged = (dir / "merged.json").string();
  const CliResult result = run_peakbench({"merge", "--out", merged, files[0], files[1]});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const Report report = read_back(merged);
  ASSERT_EQ(report.runs.size(), 2u);
  EXPECT_NE(find_run(report, "whole-body", "cold", 16 * kMiB), nullptr);
  EXPECT_NE(find_run(report, "streaming", "cold", 16 * kMiB), nullptr);
}

}  // namespace
}  // namespace peakbench
