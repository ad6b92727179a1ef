#pragma once
// The plan of `peakbench run` (DESIGN §1): which runs, in which order, on which cache dirs. A pure
// function of the options, so it is tested without a process; the executor (runner.h) carries it
// out.

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/run_options.h"

namespace peakbench {

/// The response headers a planned run is served with.
enum class ServedVariant {
  pypi,   ///< PyPI's: fresh for a year, with an ETag
  stale,  ///< max-age=0 with an ETag: every stored entry needs a conditional request
  /// max-age=60, no ETag, no Last-Modified, dated an hour ago: stored, then stale with no
  /// validator (phase stale)
  expired_no_validator,
  no_store,         ///< `Cache-Control: no-store` (phase no-store)
  vary_user_agent,  ///< PyPI's headers plus `Vary: User-Agent` (phase vary-miss)
  cut_once,         ///< PyPI's headers; the first file GET is cut (phase resume)
  chunked,          ///< PyPI's headers, chunked, no Content-Length (phase chunked)
};
std::string_view to_string(ServedVariant variant);

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
  /// A vary-miss fill: sends the varied request header (User-Agent) unlike the measured run.
  bool vary_fill = false;

  /// "streaming cold 500MiB #1", for progress lines.
  std::string describe(const RunOptions& options) const;
};

/// Every run of the suite, in order. Repetitions alternate subjects (a, b, a, b, ...) so drift
/// on a shared machine falls on all; within one (subject, size) group a fill comes before the
/// runs that read its cache. With a shard, only that shard's (subject, size) groups.
std::vector<PlannedRun> plan_suite(const RunOptions& options,
                                   const std::filesystem::path& work_dir);

/// What a measured run of `phase` should do, seen from the server and the cache: file requests
/// by status, and whether the cache holds the body after it. Real clients may differ (a pip that
/// cannot resume); the runner notes a difference, tests assert it.
struct ExpectedOutcome {
  std::map<int, std::uint64_t> file_requests;  ///< exactly these statuses and counts
  bool body_cached = true;                     ///< the cache dir holds at least the body's bytes
  std::string summary;                         ///< e.g. "one 200, stored"
};
/// nullopt for cold/warm/revalidate (checked elsewhere). `strategy`: the built-in's, or nullopt
/// for an external client (expected to behave as its CacheControl does, resume as pip 25.2).
std::optional<ExpectedOutcome> expected_outcome(RunPhase phase, std::optional<Strategy> strategy);
/// One line naming what differs, or nullopt when the run did what was expected.
std::optional<std::string> check_outcome(const ExpectedOutcome& expected,
                                         const std::map<int, std::uint64_t>& file_requests,
                                         std::uint64_t cache_bytes, std::uint64_t body_bytes);

/// How many runs of the plan are measured (what progress counts).
std::size_t measured_runs(const std::vector<PlannedRun>& plan);

}  // namespace peakbench
