#include "harness/sampler.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace peakbench {
namespace {

SamplerOptions options(std::chrono::microseconds interval, std::optional<int> cpu) {
  SamplerOptions o;
  o.interval = interval;
  o.cpu = cpu;
  return o;
}

// The tree reading: anon from the cgroup (each page once, however many processes map it); file
// and shmem never below the largest single process, whose shared-library pages may be charged to
// another cgroup.
TEST(TreePoint, TakesAnonFromTheCgroupAndFileAtLeastFromTheLargestProcess) {
  CgroupMemoryStat cgroup;
  cgroup.anon_bytes = 300u << 20;  // a COW child: 300 MiB once
  cgroup.file_mapped_bytes = 1u << 20;
  cgroup.shmem_bytes = 0;
  TreeMemory processes;
  processes.anon_bytes = 600u << 20;  // ... twice in the process sum
  processes.file_bytes = 14u << 20;
  processes.largest_file_bytes = 7u << 20;
  processes.largest_shmem_bytes = 4096;
  TimelinePoint p = tree_point(1.5, cgroup, processes);
  EXPECT_EQ(p.t_s, 1.5);
  EXPECT_EQ(p.anon_bytes, 300u << 20);
  EXPECT_EQ(p.file_bytes, 7u << 20);
  EXPECT_EQ(p.shmem_bytes, 4096u);
  EXPECT_EQ(p.rss_bytes, p.anon_bytes + p.file_bytes + p.shmem_bytes);
  cgroup.file_mapped_bytes = 9u << 20;
  EXPECT_EQ(tree_point(0, cgroup, processes).file_bytes, 9u << 20);
}

TimelinePoint at(double t_s, std::uint64_t rss_bytes) { return {t_s, rss_bytes, rss_bytes, 0, 0}; }

TEST(Decimate, KeepsShortTimelinesAsTheyAre) {
  std::vector<TimelinePoint> timeline{at(0, 1), at(1, 5), at(2, 3)};
  EXPECT_EQ(decimate(timeline, 3).size(), 3u);
  EXPECT_EQ(decimate(timeline, 0).size(), 0u);
}

TEST(Decimate, KeepsTheLargestPointOfEachBucketSoThePeakSurvives) {
  std::vector<TimelinePoint> timeline;
  timeline.reserve(10000);
  for (int i = 0; i < 10000; ++i) {
    timeline.push_back(at(i * 0.001, 100 + i % 7));
  }
  timeline[4321].rss_bytes = 999999;  // a one-sample spike
  std::vector<TimelinePoint> out = decimate(timeline, 300);
  ASSERT_EQ(out.size(), 300u);
  std::uint64_t max_rss = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    max_rss = std::max(max_rss, out[i].rss_bytes);
    if (i > 0) {
      EXPECT_LT(out[i - 1].t_s, out[i].t_s);
    }
  }
  EXPECT_EQ(max_rss, 999999u);
}

TEST(TreeMemory, ReadsThisProcessAndSkipsAVanishedOne) {
  std::vector<pid_t> scratch;
  TreeMemory self = read_tree_memory(::getpid(), scratch);
  EXPECT_GE(self.processes, 1);
  EXPECT_GT(self.anon_bytes, 0u);
  EXPECT_EQ(self.rss_bytes, self.anon_bytes + self.file_bytes + self.shmem_bytes);
  // PIDs are below /proc/sys/kernel/pid_max (at most 2^22).
  TreeMemory gone = read_tree_memory(1 << 23, scratch);
  EXPECT_EQ(gone.processes, 0);
  EXPECT_EQ(gone.rss_bytes, 0u);
}

TEST(Sampler, SamplesUntilStoppedAndRefusesASecondStart) {
  Sampler sampler(options(std::chrono::milliseconds(1), std::nullopt));
  auto origin = std::chrono::steady_clock::now();
  ASSERT_TRUE(sampler.start(::getpid(), origin).ok());
  EXPECT_FALSE(sampler.start(::getpid(), origin).ok());
  while (std::chrono::steady_clock::now() - origin < std::chrono::milliseconds(30)) {
  }
  SamplerResult result = sampler.stop();
  EXPECT_GT(result.samples, 2u);
  ASSERT_FALSE(result.timeline.empty());
  EXPECT_GE(result.timeline.front().t_s, 0.0);
  EXPECT_GT(result.peak.rss_bytes, 0u);
  EXPECT_GE(result.max_processes, 1);
}

TEST(Sampler, PinsItsThreadWhenAsked) {
  CpuPlan plan = plan_cpus();
  if (!plan.sampler_cpu) {
    GTEST_SKIP() << "fewer than two CPUs";
  }
  EXPECT_NE(*plan.subject_cpu, *plan.sampler_cpu);
  Sampler sampler(options(std::chrono::milliseconds(5), plan.sampler_cpu));
  ASSERT_TRUE(sampler.start(::getpid(), std::chrono::steady_clock::now()).ok());
  (void)sampler.stop();
  Sampler bad(options(std::chrono::milliseconds(5), CPU_SETSIZE - 1));
  EXPECT_FALSE(bad.start(::getpid(), std::chrono::steady_clock::now()).ok());
}

}  // namespace
}  // namespace peakbench
