// What one sample of a process tree costs the sampler: the reference reading (every process's
// /proc/PID/status) against TreeReader (statm, status only when the shared part moved), over a
// tree of this process and N-1 sleeping children. Alternate the two in one run to compare:
//   build/release/peakbench_micro --benchmark_filter='Tree' --benchmark_repetitions=5
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "harness/cgroup.h"
#include "harness/proc_status.h"
#include "harness/sampler.h"

namespace {

/// `n - 1` children that sleep until killed, so the tree has `n` processes.
class SleepingTree {
 public:
  explicit SleepingTree(int n) {
    for (int i = 1; i < n; ++i) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::pause();
        ::_exit(0);
      }
      if (pid > 0) children_.push_back(pid);
    }
  }
  ~SleepingTree() {
    for (pid_t pid : children_) ::kill(pid, SIGKILL);
    for (pid_t pid : children_) ::waitpid(pid, nullptr, 0);
  }
  SleepingTree(const SleepingTree&) = delete;
  SleepingTree& operator=(const SleepingTree&) = delete;

 private:
  std::vector<pid_t> children_;
};

void BM_TreeByStatus(benchmark::State& state) {
  SleepingTree tree(static_cast<int>(state.range(0)));
  std::vector<pid_t> scratch;
  for (auto _ : state) {
    benchmark::DoNotOptimize(peakbench::read_tree_memory(::getpid(), scratch));
  }
}
BENCHMARK(BM_TreeByStatus)->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond);

void BM_TreeByTreeReader(benchmark::State& state) {
  SleepingTree tree(static_cast<int>(state.range(0)));
  peakbench::TreeReader reader;
  for (auto _ : state) {
    benchmark::DoNotOptimize(reader.read_tree(::getpid()));
  }
  state.counters["status_reads"] = static_cast<double>(reader.status_reads());
}
BENCHMARK(BM_TreeByTreeReader)->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond);

void BM_ReadStatus(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(peakbench::read_proc_memory(::getpid()));
}
BENCHMARK(BM_ReadStatus)->Unit(benchmark::kMicrosecond);

void BM_ReadStatm(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(peakbench::read_proc_resident(::getpid()));
}
BENCHMARK(BM_ReadStatm)->Unit(benchmark::kMicrosecond);

/// The cgroup half of a sample: memory.stat by pread on a held descriptor and cgroup.procs opened
/// afresh (as the sampler does, see sampler.cc), in a private memory cgroup of one process.
void BM_CgroupReads(benchmark::State& state) {
  const peakbench::CgroupSupport& support = peakbench::memory_cgroup_support();
  if (!support.availability.available) {
    state.SkipWithError("no memory cgroup here");
    return;
  }
  auto cgroup = peakbench::MemoryCgroup::create(support);
  if (!cgroup) {
    state.SkipWithError(cgroup.message().c_str());
    return;
  }
  const int stat = ::open(cgroup->stat_file().c_str(), O_RDONLY | O_CLOEXEC);
  char buf[16384];
  for (auto _ : state) {
    benchmark::DoNotOptimize(::pread(stat, buf, sizeof buf, 0));
    const int procs = ::open(cgroup->procs_file().c_str(), O_RDONLY | O_CLOEXEC);
    benchmark::DoNotOptimize(::read(procs, buf, sizeof buf));
    ::close(procs);
  }
  ::close(stat);
}
BENCHMARK(BM_CgroupReads)->Unit(benchmark::kMicrosecond);

}  // namespace
