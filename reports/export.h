#pragma once
// Exports other tools read (`peakbench table --format gbench|custom-smaller|bmf`):
//  - gbench: Google Benchmark's JSON (context + benchmarks), read by its tools/compare.py and by
//    github-action-benchmark's `googlecpp` tool. Those compare real_time/cpu_time (here the wall
//    and CPU time of a run, in ms); the peak RSS rides along as the counter `peak_rss_bytes`.
//  - custom-smaller: github-action-benchmark's `customSmallerIsBetter`: [{name, unit, value, range,
//    extra}], one entry per scenario, value = median peak RSS in bytes. Use this one to chart and
//    alert on memory with that action.
//  - bmf: Bencher Metric Format: {scenario: {"peak-rss": {value, lower_value, upper_value}}} in
//    bytes (median, min, max).
// Scenarios without a successful run are left out (there is no figure to export).

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "reports/report.h"
#include "reports/table.h"

namespace peakbench {

enum class ExportFormat { gbench, custom_smaller, bmf };

/// "gbench" | "custom-smaller" | "bmf"; nothing for any other name.
std::optional<ExportFormat> parse_export_format(std::string_view name);

std::string render_gbench_json(const Report& report);
std::string render_custom_smaller(const Report& report);
std::string render_bmf(const Report& report);
std::string render_export(const Report& report, ExportFormat format);

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
