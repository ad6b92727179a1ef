#include "harness/sampler.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <vector>

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

/// A child that steps on each byte from `go`: 1 touches 32 MiB of anon and 8 MiB of a mapped
/// file, 2 adds 16 MiB of shmem, 3 unmaps the shmem; it answers each step on `done`.
pid_t stepping_child(const int (&go)[2], const int (&done)[2], const char* file) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::close(go[1]);  // so that the parent's close is the end of the steps
  ::close(done[0]);
  constexpr std::size_t kMiB = 1 << 20;
  char step = 0;
  void* shmem = nullptr;
  while (::read(go[0], &step, 1) == 1) {
    if (step == '1') {
      void* anon =
          ::mmap(nullptr, 32 * kMiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      std::memset(anon, 1, 32 * kMiB);
      const int fd = ::open(file, O_RDONLY);
      auto* mapped =
          static_cast<volatile char*>(::mmap(nullptr, 8 * kMiB, PROT_READ, MAP_SHARED, fd, 0));
      for (std::size_t i = 0; i < 8 * kMiB; i += 4096) (void)mapped[i];
    } else if (step == '2') {
      shmem = ::mmap(nullptr, 16 * kMiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
      std::memset(shmem, 1, 16 * kMiB);
    } else if (step == '3') {
      ::munmap(shmem, 16 * kMiB);
    }
    if (::write(done[1], &step, 1) != 1) break;
  }
  ::_exit(0);
}

// statm each sample and status only when the shared part moved: the same figures as reading
// status every time, through a child whose anon, file and shmem change under it.
TEST(TreeReader, ReadsWhatStatusReadsAndRereadsStatusOnlyWhenSharedMoves) {
  constexpr std::uint64_t kMiB = 1 << 20;
  char file[] = "/tmp/peakbench-treereader-XXXXXX";
  const int fd = ::mkstemp(file);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 8 * kMiB), 0);
  ::close(fd);
  int go[2], done[2];
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t child = stepping_child(go, done, file);
  ASSERT_GT(child, 0);
  // However an assertion ends the test, the child goes (and is never signalled once reaped).
  struct Reaper {
    pid_t pid;
    bool reaped = false;
    ~Reaper() {
      if (reaped) return;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reaper{child};
  TreeReader reader;
  std::vector<pid_t> scratch;
  auto step = [&](char c) {
    ASSERT_EQ(::write(go[1], &c, 1), 1);
    char answer = 0;
    ASSERT_EQ(::read(done[0], &answer, 1), 1);
  };
  auto agree = [&](const char* when) {
    const TreeMemory fast = reader.read_tree(child);
    const TreeMemory reference = read_tree_memory(child, scratch);
    EXPECT_EQ(fast.processes, 1) << when;
    EXPECT_EQ(fast.anon_bytes, reference.anon_bytes) << when;
    EXPECT_EQ(fast.file_bytes, reference.file_bytes) << when;
    EXPECT_EQ(fast.shmem_bytes, reference.shmem_bytes) << when;
    return fast;
  };
  step('1');
  TreeMemory one = agree("anon and file");
  EXPECT_GE(one.anon_bytes, 32 * kMiB);
  EXPECT_GE(one.file_bytes, 8 * kMiB);
  const std::uint64_t reads = reader.status_reads();
  for (int i = 0; i < 20; ++i) (void)reader.read_tree(child);
  EXPECT_EQ(reader.status_reads(), reads) << "nothing shared moved, yet status was read";
  step('2');
  EXPECT_GE(agree("with shmem").shmem_bytes, 16 * kMiB);
  EXPECT_GT(reader.status_reads(), reads);
  step('3');
  EXPECT_LT(agree("shmem unmapped").shmem_bytes, 16 * kMiB);
  ::close(go[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  reaper.reaped = true;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ::close(go[0]);
  ::close(done[0]);
  ::close(done[1]);
  ::unlink(file);
  EXPECT_EQ(reader.read_tree(child).processes, 0);
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
