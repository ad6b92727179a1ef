#pragma once
// The plan of `peakbench run` (DESIGN §1): which runs, in which order, on which cache dirs. A pure
// function of the options, so it is tested without a process; the executor (runner.h) carries it
// out.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "harness/run_options.h"

namespace peakbench {

/// The response headers a planned run is served with.
enum class ServedVariant {
  pypi,   ///< PyPI's: fresh for a year, with an ETag
  stale,  ///< max-age=0 with an ETag: every stored entry needs a conditional request
};

struct PlannedRun {
  std::size_t subject_index = 0;  ///< into RunOptions::subjects
  std::size_t size_index = 0;     ///< into RunOptions::sizes_bytes
  RunPhase phase = RunPhase::cold;
  int repetition = 0;
  /// False for a run that only fills the cache a later run reads: it is not in the report.
  bool measured = true;
  ServedVariant variant = ServedVariant::pypi;
  std::filesystem::path cache_dir;  ///< shared by a fill and the runs that read what it stored
  std::filesystem::path target_dir;
  std::string log_stem;  ///< logs/{log_stem}.stdout and .stderr
  /// The run (an index into the plan) whose cache this run reads: when that run failed, this one
  /// is not run and is recorded as failed with its reason.
  std::optional<std::size_t> needs;
  bool remove_cache_after = false;  ///< the last run on its cache dir

  /// "streaming cold 500MiB #1", for progress lines.
  std::string describe(const RunOptions& options) const;
};

/// Every run of the suite, in order. Repetitions alternate subjects (a, b, a, b, ...) so drift
/// on a shared machine falls on all; within one (subject, size) group a fill comes before the
/// runs that read its cache. With a shard, only that shard's (subject, size) groups.
std::vector<PlannedRun> plan_suite(const RunOptions& options,
                                   const std::filesystem::path& work_dir);

/// How many runs of the plan are measured (what progress counts).
std::size_t measured_runs(const std::vector<PlannedRun>& plan);

}  // namespace peakbench
