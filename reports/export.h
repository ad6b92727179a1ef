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

#include "reports/report.h"

namespace peakbench {

enum class ExportFormat { gbench, custom_smaller, bmf };

/// "gbench" | "custom-smaller" | "bmf"; nothing for any other name.
std::optional<ExportFormat> parse_export_format(std::string_view name);

std::string render_gbench_json(const Report& report);
std::string render_custom_smaller(const Report& report);
std::string render_bmf(const Report& report);
std::string render_export(const Report& report, ExportFormat format);

}  // namespace peakbench
