#pragma once
// `peakbench run` (DESIGN §1): plans the scenarios, serves the wheels, measures every run in its
// own child process through the launcher, and rewrites the report after each run.

#include "harness/report.h"
#include "harness/run_options.h"
#include "harness/status.h"

namespace peakbench {

/// Runs the whole suite; prints progress to stderr when progress_enabled() and the table to
/// stdout at the end. Exit status: 0 when every run succeeded, 1 when one failed, 2 on bad input
/// (a port in use, an unwritable report).
ExitCode run_suite(const RunOptions& options);

}  // namespace peakbench
