#pragma once
// Exports other tools read (`peakbench table --format gbench|gbench-aggregates|custom-smaller|bmf`;
// docs/exports.md shows how to wire each consumer):
//  - gbench: Google Benchmark's JSON (context + benchmarks), read by its tools/compare.py and by
//    github-action-benchmark's `googlecpp` tool. One family per subject and phase, one instance per
//    body size, one iteration entry per run (repetition_index as Google Benchmark numbers them),
//    then the aggregates mean, median, stddev and cv of the successful runs. real_time/cpu_time are
//    the wall and CPU time of a run in ms; the peak RSS is `max_bytes_used` (Google Benchmark's
//    MemoryManager field) and the counter `peak_rss_bytes`. A failed run is an entry with
//    `error_occurred` and its reason in `error_message`, as Google Benchmark writes a run that
//    skipped with an error.
//  - gbench-aggregates: the same with the aggregates only (--benchmark_report_aggregates_only):
//    every name appears once, which is what github-action-benchmark needs (it matches by name).
//  - custom-smaller: github-action-benchmark's `customSmallerIsBetter`: [{name, unit, value, range,
//    extra}], per scenario "<scenario> peak RSS" (median bytes) and "<scenario> runs failed".
//  - bmf: Bencher Metric Format: {scenario: {"peak-rss": {value, lower_value, upper_value},
//    "runs-failed": {value}}}, bytes (median, min, max) and a count.
// Failures: a scenario is never left out. Every export carries, per scenario, the number of failed
// runs as a metric that is 0 when all ran (gbench: the aggregate `<scenario>_runs_failed`), so a
// consumer that compares with the previous result alerts when it becomes non-zero (0 -> n is an
// infinite ratio for github-action-benchmark; a Bencher static threshold with upper boundary 0).
// A scenario without a successful run has no peak entry. Exports never fail a build themselves.

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "reports/report.h"
#include "reports/table.h"

namespace peakbench {

enum class ExportFormat { gbench, gbench_aggregates, custom_smaller, bmf };

/// "gbench" | "gbench-aggregates" | "custom-smaller" | "bmf"; nothing for any other name.
std::optional<ExportFormat> parse_export_format(std::string_view name);

/// Google Benchmark JSON; `aggregates_only` leaves out the per-run entries.
std::string render_gbench_json(const Report& report, bool aggregates_only = false);
std::string render_custom_smaller(const Report& report);
std::string render_bmf(const Report& report);
std::string render_export(const Report& report, ExportFormat format);

/// One line per scenario with failed runs: "whole-body/cold/128MiB: 2 of 2 runs failed (killed by
/// the out-of-memory killer ...)"; empty when every run succeeded.
std::vector<std::string> failed_scenario_lines(const Report& report);

/// What a report prints as (`run --format`, `table --format`): the peak-RSS table in one of the
/// table formats, or an export. One list, so both commands accept the same names.
struct ReportFormat {
  std::optional<TableFormat> table;  ///< set unless `exported` is
  std::optional<ExportFormat> exported;
};

/// "md" | "markdown" | "csv" | "json" | "gbench" | "custom-smaller" | "bmf"; any other name is an
/// error that lists them.
Result<ReportFormat> parse_report_format(std::string_view name);
/// The report's table (build_report_table) or its export, as `format` says.
std::string render_report(const Report& report, const ReportFormat& format);

}  // namespace peakbench
