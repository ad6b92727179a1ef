#pragma once
// One measured run, all methods together (DESIGN §4): a private memory cgroup where one can be
// made, the spawn through the launcher, the sampler on the child's tree, the launcher's wait4 and
// the subject's own report. `peakbench run` calls measure_run() per scenario run and
// fill_run_record() to put the figures, each with its method, into the report model.
//
//   Result<Launcher> launcher = Launcher::start();  // first thing, while the process is small
//   ... start the server, prepare the cache dir ...
//   MeasureOptions options;                          // 5 ms, pinned when there are two CPUs
//   Result<MeasuredRun> run = measure_run(*launcher, request, options);
//   RunRecord record;                                // subject, phase, body_bytes, ... set here
//   if (run) {
//     fill_run_record(*run, options, request.timeout_s, record);
//   } else {
//     record.ok = false;
//     record.error = run.message();                  // e.g. the program could not be run
//   }

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "base/status.h"
#include "harness/launcher.h"
#include "harness/sampler.h"
#include "harness/subject_probe.h"
#include "reports/report.h"

namespace peakbench {

/// Timeline points kept per run in the report (fill_run_record decimates to this many).
inline constexpr std::size_t kTimelinePoints = 300;

struct MeasureOptions {
  std::chrono::microseconds sample_interval = kDefaultSampleInterval;  ///< 1 ms on request
  /// With two or more CPUs, the subject on the first and the sampler on the second (plan_cpus);
  /// a SpawnRequest::cpu set by the caller wins.
  bool pin = true;
  /// Charge the run to a private memory cgroup when memory_cgroup_support() says one can be made.
  bool charged_memory = true;
  std::size_t timeline_points = kTimelinePoints;
  /// Caps the run's cgroup (needs charged_memory and a cgroup); past it the kernel kills it.
  std::optional<std::uint64_t> memory_limit_bytes;
};

struct MeasuredRun {
  ChildResult child;
  /// What the subject published on the report pipe, parsed; empty when it published nothing.
  std::optional<SubjectReport> subject;
  std::string subject_report_error;  ///< it published something that is not a subject report
  SamplerResult sampled;             ///< full resolution, times since spawn_monotonic_s
  std::string sampler_error;         ///< the sampler could not start: no timeline
  double spawn_monotonic_s = 0;      ///< CLOCK_MONOTONIC seconds just before the spawn
  std::optional<std::uint64_t> charged_peak_bytes;
  std::string charged_error;       ///< the cgroup was wanted and available but failed
  std::uint64_t oom_kills = 0;     ///< out-of-memory kills in the run's cgroup
  std::optional<int> subject_cpu;  ///< where the child was pinned
  std::optional<int> sampler_cpu;
  double linger_s = 0;  ///< the request's orphan_grace_s: how long the tree may outlive its root
  std::string launcher_caveat;  ///< Spawner::caveat() of the spawner that started it
};

/// What each method can do on this host, by the report's method names ("kernel-hwm", "self",
/// "sampled", "cgroup", "jemalloc"), for ReportMeta::methods. Detail names the interface used, or
/// why it is unavailable. `jemalloc_library` is the library a subject would preload.
std::map<std::string, MethodAvailability> detect_methods(
    const std::filesystem::path& jemalloc_library);

/// Measures one run of `request`. An error only when it could not start (the message names the
/// cause, e.g. a missing program); a run that failed or was killed is a MeasuredRun.
Result<MeasuredRun> measure_run(Spawner& launcher, SpawnRequest request,
                                const MeasureOptions& options);

/// A note when the sampler fell so far behind that the timeline and the sampled figures may have
/// missed a peak: when at least a tenth of the samples started late, or when the longest gap
/// between two samples was over two intervals and at least 5% of the run's wall time. A few late
/// samples on a busy host are normal and not worth a note in every run. Empty otherwise.
std::string late_sampling_note(const SamplerResult& sampled, std::chrono::microseconds interval,
                               double wall_s);

/// Why a finished run failed, in one line ("killed by signal 9 (Killed)", "exit status 3",
/// "timed out after 60 s and killed"), or empty when it succeeded.
std::string describe_failure(const ChildResult& child, double timeout_s);

/// Fills the measured fields of `record`: ok, exit_status, signal, error, peak_rss, wall/user/
/// system time, the subject's figures (self, jemalloc), charged_peak (cgroup), sampled_peak_*
/// (sampled), the decimated timeline, the allocator the subject saw and a note for everything
/// measured that is not a figure (missed sampler deadlines, cgroup and subject-report errors, a
/// refused HWM reset, orphans reaped or killed). peak_rss is one method per kind of subject: a
/// built-in subject that published its report: its own running VmHWM maximum across its
/// per-phase resets (self), since those resets lower what wait4 sees; anything else: wait4's
/// ru_maxrss (kernel-hwm). Phase times are moved to the timeline's axis (seconds since the
/// spawn). Leaves the scenario fields alone.
void fill_run_record(const MeasuredRun& run, const MeasureOptions& options, double timeout_s,
                     RunRecord& record);

/// The tree's part of fill_run_record: the largest process (the peak, taskstats or kernel-hwm),
/// the process count, a note when taskstats was not the source, and a failure naming every
/// process killed for outliving the root by the linger grace.
void apply_process_tree(const MeasuredRun& run, RunRecord& record);

}  // namespace peakbench
