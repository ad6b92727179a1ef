#pragma once
// The report model (DESIGN §1, STYLE rule 8): plain structs filled by the runner, written and read
// as versioned JSON by report_json.cc beside this file. Nothing here measures or formats.

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace peakbench {

/// Version 2 added run notes, the allocator each run had and peaks absent from runs that never ran;
/// the reader still reads version 1.
inline constexpr int kReportSchemaVersion = 2;
inline constexpr int kOldestReadableSchemaVersion = 1;

/// How a figure was obtained; written as "kernel-hwm", "cgroup", "sampled", "jemalloc", "self",
/// "taskstats" (every process's own peak at its exit, whoever reaped it).
enum class Method { kernel_hwm, cgroup, sampled, jemalloc, self_hwm, taskstats };

/// A memory figure and the method that produced it.
struct Figure {
  std::uint64_t bytes = 0;
  Method method = Method::kernel_hwm;
};

/// Peak inside one phase of a built-in subject (VmHWM after a clear_refs reset at its start).
struct PhasePeak {
  std::string phase;                ///< "download" | "cache-write" | "cache-read"
  Figure peak_rss;                  ///< method self_hwm
  std::optional<Figure> heap_peak;  ///< jemalloc thread.peak, when jemalloc ran
  double start_s = 0;               ///< seconds since the subject started
  double end_s = 0;
};

/// One sample of the whole process tree, summed over its processes.
struct TimelinePoint {
  double t_s = 0;  ///< since spawn
  std::uint64_t rss_bytes = 0;
  std::uint64_t anon_bytes = 0;
  std::uint64_t file_bytes = 0;
  std::uint64_t shmem_bytes = 0;
};

/// The largest single process of a run's whole tree.
struct LargestProcess {
  int pid = 0;
  std::string comm;   ///< the kernel's command name
  std::string argv0;  ///< the root's, or what a sample read; empty when no sample saw it
  Figure peak_rss;    ///< taskstats or kernel-hwm
};

/// The kinds of index request a run counts (RunRecord::requests, gate's max_requests).
inline constexpr std::array<std::string_view, 3> kRequestKinds = {"page", "metadata", "wheel"};
inline bool is_request_kind(std::string_view kind) {
  return std::find(kRequestKinds.begin(), kRequestKinds.end(), kind) != kRequestKinds.end();
}

/// One measured child process run. Optional figures are absent when their method was not
/// available (the report's meta says why).
struct RunRecord {
  std::string subject;       ///< "whole-body", "streaming", or an external client's name
  std::string subject_kind;  ///< "builtin" | "external" | "calibration"
  std::string phase;         ///< "cold" | "warm" | "revalidate"
  std::uint64_t body_bytes = 0;
  int repetition = 0;   ///< 0-based
  std::string command;  ///< the argv, shell-quoted, for reruns by hand

  bool ok = false;
  int exit_status = 0;        ///< when it exited
  std::optional<int> signal;  ///< when it was killed
  std::string error;          ///< one line when !ok

  /// The peak, one method per kind of subject: a built-in subject that published its report:
  /// its own running maximum of VmHWM (self), since its per-phase resets lower what wait4 sees;
  /// anything else: the largest single process of the tree (taskstats; without it wait4
  /// ru_maxrss, kernel-hwm).
  /// Absent when the run never ran (its fill failed, its program could not start).
  std::optional<Figure> peak_rss;
  std::optional<Figure> subject_peak_rss;   ///< built-in subject's own VmHWM (self)
  std::optional<Figure> subject_start_rss;  ///< its RSS before the first phase (self)
  std::optional<Figure> charged_peak;       ///< private memory cgroup's max usage (cgroup)
  std::optional<Figure> sampled_peak_rss;   ///< max over samples of the tree sum (sampled)
  std::optional<Figure> sampled_peak_anon;  ///< anon/file/shmem at the sample of max RSS
  std::optional<Figure> sampled_peak_file;
  std::optional<Figure> sampled_peak_shmem;
  /// The tree's largest resident total, anon + mapped file + shmem (page cache excluded), with its
  /// split: from the run's cgroup (cgroup), where a shared, copy-on-write or vfork page counts
  /// once; without one, the process sum (sampled, and a note says it may double-count).
  std::optional<Figure> tree_peak_rss;
  std::optional<Figure> tree_peak_anon;
  std::optional<Figure> tree_peak_file;
  std::optional<Figure> tree_peak_shmem;
  std::vector<PhasePeak> phases;
  /// The largest process of the tree (taskstats: every process, whoever reaped it; otherwise the
  /// root and the orphans the launcher reaped) and how many processes were seen.
  std::optional<LargestProcess> largest_process;
  int process_count = 0;

  double wall_s = 0;  ///< spawn to the exit of the tree's last process
  double user_s = 0;
  double system_s = 0;

  std::uint64_t bytes_received = 0;  ///< body bytes from the network (server count for externals)
  std::uint64_t bytes_written = 0;
  std::string cache_outcome;                   ///< built-in subjects: "hit", "revalidated", ...
  std::map<int, std::uint64_t> file_requests;  ///< server requests for files, by status
  std::uint64_t cache_bytes_on_disk = 0;
  std::vector<TimelinePoint> timeline;  ///< decimated to a few hundred points
  /// The allocator the subject actually ran with: "glibc", "jemalloc" (built-in subjects, as
  /// their probe saw it), or empty for an external client, whose allocator is its own.
  std::string allocator;
  /// What was measured but is not a figure, or could not be measured, one line each: a sampler
  /// that missed deadlines, a cgroup error, an orphan killed, a preload that failed...
  std::vector<std::string> notes;
  /// Every request the run made of the index, by kind ("page": /simple/ pages, "metadata": PEP
  /// 658 metadata files, "wheel": every wheel of the suite) and status. Empty in older reports.
  std::map<std::string, std::map<int, std::uint64_t>> requests;
  /// Index pages answered 200, by the representation served (PEP 691: the content type).
  std::map<std::string, std::uint64_t> page_types;
};

/// Runs sharing (subject, phase, body size) form a scenario.
struct ScenarioKey {
  std::string subject;
  std::string phase;
  std::uint64_t body_bytes = 0;
  // clang-tidy 14 reads the defaulted <=> as a literal 0 comparison (a known false positive).
  auto operator<=>(const ScenarioKey&) const = default;  // NOLINT(modernize-use-nullptr)
  std::string to_string() const;                         ///< "streaming/warm/500MiB"
};

struct ScenarioSummary {
  ScenarioKey key;
  std::string subject_kind;
  int runs = 0;
  int failed = 0;
  /// Successful runs whose peak was taken by another method than the median's (a built-in
  /// subject that published no report of its own): left out of the median, never mixed into it.
  int excluded = 0;
  /// Over the successful runs whose peak was taken by `peak_rss_method`.
  std::uint64_t median_peak_rss_bytes = 0;
  std::uint64_t min_peak_rss_bytes = 0;
  std::uint64_t max_peak_rss_bytes = 0;
  double peak_per_body_byte = 0;  ///< median / body_bytes
  /// The one method of the median: the method most successful runs were measured by (self for
  /// a built-in subject, kernel-hwm for an external client); a tie goes to the first run's.
  Method peak_rss_method = Method::kernel_hwm;
  std::optional<std::uint64_t> median_charged_bytes;
  bool warm_downloaded = false;  ///< a warm run that made a file request with a 200
  /// Added by reports: median wall time of the successful runs, for the time-based exports.
  double median_wall_s = 0;
  /// Added by reports: median subject_start_rss (self) when every successful run has one: the
  /// base that "peak above start" and multiples of the body size are counted from.
  std::optional<std::uint64_t> median_start_rss_bytes;

  /// Runs in the median: neither failed nor excluded.
  int measured() const { return runs - failed - excluded; }
  /// Whether there is a median at all.
  bool succeeded() const { return measured() > 0; }
};

/// One CPU cache level as sysfs describes it (Google Benchmark's context "caches").
struct CpuCache {
  std::string type;  ///< "Data" | "Instruction" | "Unified"
  int level = 0;
  std::uint64_t size_bytes = 0;
  int num_sharing = 0;  ///< logical CPUs sharing it
};

struct HostInfo {
  std::string kernel;
  std::string cpu_model;
  int cores = 0;
  std::uint64_t memory_bytes = 0;
  std::string hostname;          ///< uname nodename; empty when unknown
  double mhz_per_cpu = 0;        ///< /proc/cpuinfo "cpu MHz" of the first CPU; 0 when unknown
  std::vector<CpuCache> caches;  ///< cpu0's caches from sysfs; empty when unknown
};

struct MethodAvailability {
  bool available = false;
  std::string detail;  ///< why not, or which interface (e.g. "cgroup v1 memory.max_usage_in_bytes")
};

/// A package of a suite's dependency tree, as the index served it.
struct PackageInfo {
  std::string name;
  std::uint64_t size_bytes = 0;
  std::vector<std::string> requires_dist;
};

struct ReportMeta {
  std::string peakbench_version;
  /// CMAKE_BUILD_TYPE of the peakbench that ran ("RelWithDebInfo", "Debug"); empty when unknown.
  std::string build_type;
  /// The commit peakbench itself was built from (compiled in); may be empty.
  std::string peakbench_commit;
  /// The measured checkout (`run --git-dir`, or a `--pip` source checkout); never peakbench's own
  /// tree unless named. All empty when no checkout was measured.
  std::string git_checkout;
  std::string git_commit;
  std::string git_branch;
  bool git_dirty = false;
  std::string label;
  HostInfo host;
  std::string allocator;                              ///< "glibc" | "jemalloc" (built-in subjects)
  std::map<std::string, MethodAvailability> methods;  ///< by method name
  std::string started_at;                             ///< ISO 8601 UTC
  std::string suite;                                  ///< suite file, if any
  double sample_interval_ms = 0;
  /// Warm runs' page cache policy: "keep" (the cold run's pages stay cached) or "drop" (evicted
  /// before each warm run); empty in older reports.
  std::string page_cache;
  std::string shard;  ///< "I/N" when sharded, else empty
  /// Added by reports: set by `peakbench merge`, the shard (or file, when unsharded) of each input.
  std::vector<std::string> merged_shards;
  /// What applies to the whole report and is not a figure, one line each.
  std::vector<std::string> notes;
  /// The suite's dependency tree, when it had one: the first package is what was installed.
  std::vector<PackageInfo> packages;
};

struct Report {
  int schema_version = kReportSchemaVersion;
  ReportMeta meta;
  std::vector<RunRecord> runs;

  /// Scenarios in first-seen order of their runs.
  std::vector<ScenarioSummary> summarize() const;
};

/// Who made a report, in a few words: "nightly, commit 0123456+dirty on main", "commit 0123456",
/// "unlabelled report". (Compare's column headers, the table's first note.)
std::string describe_source(const ReportMeta& meta);

std::string to_string(Method method);
/// The method named `name` ("kernel-hwm", ...), or nothing when unknown. (Added by reports.)
std::optional<Method> parse_method(std::string_view name);

/// JSON text of the report (pretty-printed, with summaries).
std::string to_json_text(const Report& report);
/// Parses a report; a malformed document or an unknown schema_version is a one-line error that
/// names `source`.
Result<Report> parse_report(const std::string& text, const std::string& source);
/// Writes atomically (temporary name, rename), so an interrupted run keeps what it finished.
Status write_report(const std::filesystem::path& path, const Report& report);
Result<Report> read_report(const std::filesystem::path& path);

}  // namespace peakbench
