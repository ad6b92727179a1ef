// peakbench_micro's main: Google Benchmark, plus a MemoryManager on jemalloc's per-thread
// counters, so that each benchmark's JSON output also says how much heap one run of it touched.
//
//   build/release/peakbench_micro --benchmark_format=json   (memory fields are in JSON only)
//
// "***WARNING*** Library was built as DEBUG" in the console header (and "library_build_type":
// "debug" in the JSON context) is about Google Benchmark itself: the distribution's
// libbenchmark 1.7.1 is compiled without NDEBUG, so its runner keeps its asserts. The code under
// measurement is peakbench's, built by this project's preset; the context says how, under
// "peakbench_build_type", so a JSON result is not mistaken for a debug measurement.

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>

#ifdef PEAKBENCH_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>

namespace {

/// Heap figures of the benchmark's thread from jemalloc (linked into peakbench_micro):
/// `thread.peak` (since jemalloc 5.3; size-class rounded, so 100 MiB counts 112 MiB),
/// `thread.allocated`/`thread.deallocated`, and the arenas' allocation counts.
class JemallocMemoryManager final : public benchmark::MemoryManager {
 public:
  void Start() override {
    (void)mallctl("thread.peak.reset", nullptr, nullptr, nullptr, 0);
    allocated_at_start_ = read_u64("thread.allocated");
    deallocated_at_start_ = read_u64("thread.deallocated");
    allocations_at_start_ = allocations();
  }

  // Google Benchmark 1.7.1 calls this overload (the reference one forwards to it).
  void Stop(Result* result) override {
    const std::uint64_t allocated = read_u64("thread.allocated") - allocated_at_start_;
    const std::uint64_t deallocated = read_u64("thread.deallocated") - deallocated_at_start_;
    result->max_bytes_used = static_cast<std::int64_t>(read_u64("thread.peak.read"));
    result->total_allocated_bytes = static_cast<std::int64_t>(allocated);
    result->net_heap_growth =
        static_cast<std::int64_t>(allocated) - static_cast<std::int64_t>(deallocated);
    result->num_allocs = static_cast<std::int64_t>(allocations() - allocations_at_start_);
  }

 private:
  static std::uint64_t read_u64(const char* name) {
    std::uint64_t value = 0;
    std::size_t size = sizeof value;
    return mallctl(name, &value, &size, nullptr, 0) == 0 ? value : 0;
  }

  /// Small and large allocations made by every arena (MALLCTL_ARENAS_ALL), after an epoch refresh.
  static std::uint64_t allocations() {
    std::uint64_t epoch = 1;
    std::size_t size = sizeof epoch;
    (void)mallctl("epoch", &epoch, &size, &epoch, size);
    return read_u64("stats.arenas.4096.small.nmalloc") +
           read_u64("stats.arenas.4096.large.nmalloc");
  }

  std::uint64_t allocated_at_start_ = 0;
  std::uint64_t deallocated_at_start_ = 0;
  std::uint64_t allocations_at_start_ = 0;
};

}  // namespace
#endif

int main(int argc, char** argv) {
#ifdef NDEBUG
  benchmark::AddCustomContext("peakbench_build_type", "release");
#else
  benchmark::AddCustomContext("peakbench_build_type", "debug");
#endif
#ifdef PEAKBENCH_HAVE_JEMALLOC
  static JemallocMemoryManager memory_manager;
  benchmark::RegisterMemoryManager(&memory_manager);
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
