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
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef PEAKBENCH_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>

namespace {

// PEAKBENCH_BENCHMARK_BEFORE_1_9_2 (set by CMake from the package's version): Google Benchmark
// before 1.9.2 (Debian's 1.7.1) keeps the memory result of each repetition in a std::vector that
// grows with the next repetition, while the repetition's report keeps a pointer into it: with
// --benchmark_repetitions > 1 every repetition but the last reports freed memory (upstream fix
// #1941 made the report hold the result by value). Seen here as max_bytes_used
// 7236844123925471090 on repetition 0 of BM_EncodeWholeBodyEntry.
#ifdef PEAKBENCH_BENCHMARK_BEFORE_1_9_2
using Run = benchmark::BenchmarkReporter::Run;
using MemoryResult = benchmark::MemoryManager::Result;
static_assert(std::is_pointer_v<decltype(Run::memory_result)>,
              "a Google Benchmark that keeps a report's memory result by value needs no fix-up");

/// The manager's own copy of every result it handed back, kept where it does not move, and found
/// again for a report by the address the library gave it (which the report still holds) in the
/// order the library asked: an address the allocator reused for a later repetition is told apart
/// by the allocation count behind the report's allocs_per_iter.
class MemoryResults {
 public:
  void add(const MemoryResult* given, const MemoryResult& copy) {
    entries_.push_back(Entry{given, copy});
  }

  /// The copy made for `run`; null when none was made at that address.
  const MemoryResult* find(const Run& run) {
    const auto key = std::make_pair(run.benchmark_name(), run.repetition_index);
    if (auto it = found_.find(key); it != found_.end()) return it->second;  // another reporter
    Entry* match = nullptr;
    for (Entry& e : entries_) {
      if (e.taken || e.given != run.memory_result) continue;
      if (!match) match = &e;
      if (gives_allocs_per_iter(e.copy, run)) {
        match = &e;
        break;
      }
    }
    if (!match) return nullptr;
    match->taken = true;
    return found_[key] = &match->copy;
  }

 private:
  struct Entry {
    const MemoryResult* given;
    MemoryResult copy;
    bool taken = false;
  };
  // As the library computes it: allocations over min(16, iterations) memory iterations.
  static bool gives_allocs_per_iter(const MemoryResult& r, const Run& run) {
    const auto memory_iterations = std::min<benchmark::IterationCount>(16, run.iterations);
    return memory_iterations > 0 &&
           static_cast<double>(r.num_allocs) / static_cast<double>(memory_iterations) ==
               run.allocs_per_iter;
  }
  std::deque<Entry> entries_;
  std::map<std::pair<std::string, std::int64_t>, const MemoryResult*> found_;
};

/// Hands every run to `inner` with its memory result pointing at the manager's copy.
class MemoryResultsReporter final : public benchmark::BenchmarkReporter {
 public:
  MemoryResultsReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner, MemoryResults& results)
      : inner_(std::move(inner)), results_(results) {}

  bool ReportContext(const Context& context) override {
    // The library points this reporter, not the inner one, at the --benchmark_out file.
    inner_->SetOutputStream(&GetOutputStream());
    inner_->SetErrorStream(&GetErrorStream());
    return inner_->ReportContext(context);
  }

  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> fixed = runs;
    for (Run& run : fixed) {
      if (run.run_type == Run::RT_Iteration && run.memory_result) {
        run.memory_result = results_.find(run);
      }
    }
    inner_->ReportRuns(fixed);
  }

  void Finalize() override { inner_->Finalize(); }

 private:
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
  MemoryResults& results_;
};

/// The value of `--NAME=VALUE` in argv (Google Benchmark's flags take only that form); empty when
/// it is not there.
std::string flag_value(int argc, char** argv, std::string_view name) {
  std::string value;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() > name.size() + 3 && arg.substr(0, 2) == "--" &&
        arg.substr(2, name.size()) == name && arg[2 + name.size()] == '=') {
      value = arg.substr(3 + name.size());
    }
  }
  return value;
}

MemoryResults memory_results;
#endif

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
#ifdef PEAKBENCH_BENCHMARK_BEFORE_1_9_2
    memory_results.add(result, *result);
#endif
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
#ifdef PEAKBENCH_BENCHMARK_BEFORE_1_9_2
  // Read before Initialize, which takes its flags out of argv.
  const bool to_file = !flag_value(argc, argv, "benchmark_out").empty();
  const std::string out_format = flag_value(argc, argv, "benchmark_out_format");
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
#ifdef PEAKBENCH_BENCHMARK_BEFORE_1_9_2
  MemoryResultsReporter display(
      std::unique_ptr<benchmark::BenchmarkReporter>(benchmark::CreateDefaultDisplayReporter()),
      memory_results);
  // Only the JSON reporter writes memory fields; for the others the library makes its own.
  std::unique_ptr<MemoryResultsReporter> file;
  if (to_file && (out_format.empty() || out_format == "json")) {
    file = std::make_unique<MemoryResultsReporter>(std::make_unique<benchmark::JSONReporter>(),
                                                   memory_results);
  }
  benchmark::RunSpecifiedBenchmarks(&display, file.get());
#else
  benchmark::RunSpecifiedBenchmarks();
#endif
  benchmark::Shutdown();
  return 0;
}
