#pragma once
// The RSS timeline of a run's whole process tree (DESIGN §4): a thread in the parent that reads,
// on absolute deadlines, the memory of every process of the run (TreeReader: /proc/PID/statm, and
// /proc/PID/status when the shared part moved) and, when the run has a private memory cgroup,
// that cgroup's memory.stat. Polling misses short peaks (10 ms caught 6 of
// 40 spikes), so the peak figure always comes from the kernel mark; the sampler gives the timeline
// and the split.
//
// Two tree readings per sample:
//  - the sum of RssAnon/RssFile/RssShmem over the processes (SamplerResult::peak, `sampled`). It
//    counts a page once per process that maps it: a copy-on-write child that writes nothing
//    doubles the anon, a vfork child (same address space until exec) doubles everything;
//  - the tree reading (tree_point, `cgroup`): anon from the cgroup, where every page is charged
//    once; mapped file and shmem the larger of the cgroup's and the largest single process's,
//    since file pages first read by another cgroup (shared libraries, an earlier run's cache) are
//    charged there, not here. Without a cgroup the tree reading is the sum.
// With a cgroup the processes are its members (cgroup.procs), so an orphan or daemon that left
// the root's subtree is still read.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "harness/cgroup.h"
#include "reports/report.h"

namespace peakbench {

/// One reading of a process tree, summed over its processes.
struct TreeMemory {
  std::uint64_t rss_bytes = 0;  ///< anon + file + shmem
  std::uint64_t anon_bytes = 0;
  std::uint64_t file_bytes = 0;
  std::uint64_t shmem_bytes = 0;
  int processes = 0;                     ///< processes read (vanished ones are skipped)
  std::uint64_t largest_file_bytes = 0;  ///< max over the processes of RssFile
  std::uint64_t largest_shmem_bytes = 0;
};

/// Reads the tree rooted at `root` once from every process's /proc/PID/status (root, then
/// /proc/PID/task/TID/children recursively). `scratch` is reused between calls. The reference
/// reading: the sampler reads through TreeReader, which gives the same figures for less.
TreeMemory read_tree_memory(pid_t root, std::vector<pid_t>& scratch);

/// The sampler's reader of a tree's memory, one sample after another: per process one
/// /proc/PID/statm (anon = resident - shared, exactly) and, only when that process's shared size
/// changed since it was last read, its /proc/PID/status for the split of shared into file and
/// shmem. A split can only be stale when file and shmem moved by equal and opposite amounts
/// between two samples. Not thread-safe; one per sampler.
class TreeReader {
 public:
  /// The tree rooted at `root`, as read_tree_memory reads it.
  TreeMemory read_tree(pid_t root);
  /// The processes `pids` (e.g. a cgroup's members).
  TreeMemory read_processes(std::span<const pid_t> pids);
  /// How many status files were read so far (the rest of the readings came from statm alone).
  std::uint64_t status_reads() const { return status_reads_; }
  /// The argv[0] of every process read so far, by PID: read with its status, so after an exec
  /// (which moves the shared size) it is the new program's. Kept after the process is gone.
  std::unordered_map<pid_t, std::string> take_argv0s() { return std::move(argv0s_); }

 private:
  bool add(pid_t pid, TreeMemory& sum);
  struct Split {
    std::uint64_t shared_bytes = 0;
    std::uint64_t file_bytes = 0;
    std::uint64_t shmem_bytes = 0;
  };
  std::unordered_map<pid_t, Split> splits_;
  std::unordered_map<pid_t, std::string> argv0s_;
  std::vector<pid_t> scratch_;
  std::uint64_t status_reads_ = 0;
};

/// The tree reading of one sample: anon from the cgroup (each page once), file and shmem the
/// larger of the cgroup's and the largest process's (see the file comment).
TimelinePoint tree_point(double t_s, const CgroupMemoryStat& cgroup, const TreeMemory& processes);

/// The sampler's interval unless asked otherwise (`run --sample-ms`): 5 ms.
inline constexpr std::chrono::microseconds kDefaultSampleInterval{5000};

struct SamplerOptions {
  std::chrono::microseconds interval = kDefaultSampleInterval;  ///< 1 ms on request
  std::optional<int> cpu;  ///< pin the sampling thread here (see plan_cpus)
  /// The run's private memory cgroup; empty: none, the tree is the root's descendants.
  std::filesystem::path cgroup_dir;
  CgroupVersion cgroup_version = CgroupVersion::none;
};

struct SamplerResult {
  std::vector<TimelinePoint> timeline;  ///< tree readings of every sample that found a process
  TimelinePoint peak;                   ///< the sample of the largest process sum (with its split)
  TimelinePoint tree_peak;              ///< the largest tree reading (with its split)
  /// The per-process reading of the tree_peak sample: what the processes alive at the tree's
  /// peak held, each counted alone (shared pages once per process).
  TreeMemory tree_peak_processes;
  bool tree_from_cgroup = false;  ///< the tree readings came from the cgroup
  std::string cgroup_error;       ///< the cgroup was given but could not be read
  std::uint64_t samples = 0;
  std::uint64_t missed_deadlines = 0;  ///< samples that started more than one interval late
  /// The longest time between the starts of two consecutive samples: what a peak must outlast
  /// to be seen for sure (one interval when the sampler kept up).
  std::chrono::microseconds longest_gap{0};
  int max_processes = 0;  ///< largest tree seen
  /// The argv[0] of each process the samples saw (TreeReader::take_argv0s): how the launcher's
  /// exit records, which carry only the command name, get the argv[0] of a process not the root.
  std::unordered_map<pid_t, std::string> argv0_by_pid;
};

class Sampler {
 public:
  explicit Sampler(SamplerOptions options = {}) : options_(std::move(options)) {}
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
