#pragma once
// `peakbench run`'s executor (DESIGN §1): serves the wheels, carries out the plan (run_plan.h)
// through a Spawner, one measured child process per run, and rewrites the report after each run.
// It prints nothing: what it has to say goes to a RunObserver, and the CLI layer prints.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "harness/launcher.h"
#include "harness/run_options.h"
#include "harness/run_plan.h"
#include "reports/report.h"

namespace peakbench {

/// What the executor tells as it goes; every call comes from the thread that called run_suite.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  /// The wheels are being generated and hashed (can take a while the first time).
  virtual void preparing() {}
  /// The server is up. `body_bytes_sent` reads the file bytes it has sent so far; it may be called
  /// from any thread until run_suite returns (a progress line polls it while a run is in flight).
  virtual void serving(const std::function<std::uint64_t()>& body_bytes_sent) {
    (void)body_bytes_sent;
  }
  /// A measured run starts: `index` counts from 1 to `total`.
  virtual void run_started(const PlannedRun& run, std::size_t index, std::size_t total) {
    (void)run, (void)index, (void)total;
  }
  virtual void run_finished(const RunRecord& record) { (void)record; }
  /// Something went wrong that does not stop the suite (the report could not be rewritten).
  virtual void warning(std::string_view message) { (void)message; }
};

struct SuiteOutcome {
  Report report;
  bool any_failed = false;
  std::filesystem::path work_dir;  ///< removed unless RunOptions::keep_work_dir
  /// The suite stopped early because `stop` was set: the report holds the runs that finished.
  bool interrupted = false;
  std::size_t runs_done = 0;     ///< measured runs in the report
  std::size_t runs_planned = 0;  ///< measured runs the plan had
  /// Why the final report could not be written (empty: written, or no --out). The runs are in
  /// `report` all the same, for the table.
  std::string report_error;
};

/// Runs the whole suite through `spawner`, which must have been started while this process was
/// small (Launcher::start, first thing). An error only for what stops the suite before or after
/// its runs (a port in use, an unwritable report, no cgroup for --memory-limit): the message
/// names it. A run that fails is a record with ok = false.
///
/// When `stop` becomes true (a signal, set from another thread that also calls
/// spawner.cancel()), no further run starts, the run in flight is cancelled and left out of the
/// report unless it had succeeded, and the report is written with what finished.
Result<SuiteOutcome> run_suite(const RunOptions& options, Spawner& spawner, RunObserver& observer,
                               const std::atomic<bool>* stop = nullptr);

}  // namespace peakbench
