#pragma once
// The RSS timeline of a run's whole process tree (DESIGN §4): a thread in the parent that reads
// /proc/PID/status of every process under the child on absolute deadlines and sums RssAnon,
// RssFile and RssShmem. Polling misses short peaks (10 ms caught 6 of 40 spikes), so the peak
// figure always comes from the kernel mark; the sampler gives the timeline and the split.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "base/status.h"
#include "reports/report.h"

namespace peakbench {

/// One reading of a process tree, summed over its processes.
struct TreeMemory {
  std::uint64_t rss_bytes = 0;  ///< anon + file + shmem
  std::uint64_t anon_bytes = 0;
  std::uint64_t file_bytes = 0;
  std::uint64_t shmem_bytes = 0;
  int processes = 0;  ///< processes read (vanished ones are skipped)
};

/// Reads the tree rooted at `root` once (root, then /proc/PID/task/TID/children recursively).
/// `scratch` is reused between calls so that sampling does not allocate.
TreeMemory read_tree_memory(pid_t root, std::vector<pid_t>& scratch);

/// The sampler's interval unless asked otherwise (`run --sample-ms`): 5 ms.
inline constexpr std::chrono::microseconds kDefaultSampleInterval{5000};

struct SamplerOptions {
  std::chrono::microseconds interval = kDefaultSampleInterval;  ///< 1 ms on request
  std::optional<int> cpu;                    ///< pin the sampling thread here (see plan_cpus)
};

struct SamplerResult {
  std::vector<TimelinePoint> timeline;  ///< every sample in which a process was found
  TimelinePoint peak;                   ///< the sample of largest tree RSS (with its split)
  std::uint64_t samples = 0;
  std::uint64_t missed_deadlines = 0;  ///< samples that started more than one interval late
  int max_processes = 0;               ///< largest tree seen
};

class Sampler {
 public:
  explicit Sampler(SamplerOptions options = {}) : options_(options) {}
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;
  /// Stops the thread if it still runs.
  ~Sampler();

  /// Starts sampling the tree rooted at `root`; timeline times count from `origin` (the spawn).
  /// An error when already started or when the thread cannot be pinned.
  Status start(pid_t root, std::chrono::steady_clock::time_point origin);
  /// Stops (within one interval) and hands over what was sampled.
  SamplerResult stop();

 private:
  void loop(pid_t root, std::chrono::steady_clock::time_point origin);
  SamplerOptions options_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  SamplerResult result_;
};

/// At most `max_points` points, keeping the largest-RSS point of each of `max_points` equal runs of
/// consecutive samples (so the peak survives); the input when it is short enough.
std::vector<TimelinePoint> decimate(std::span<const TimelinePoint> timeline,
                                    std::size_t max_points);

/// Where to put the subject and the sampler: with two or more allowed CPUs, the subject on the
/// first and the sampler on the second; otherwise nowhere in particular.
struct CpuPlan {
  std::optional<int> subject_cpu;
  std::optional<int> sampler_cpu;
};
CpuPlan plan_cpus();

}  // namespace peakbench
