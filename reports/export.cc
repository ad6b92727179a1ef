#include "reports/export.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/median.h"
#include "reports/table.h"

namespace peakbench {
namespace {

using Json = nlohmann::ordered_json;

double ms(double seconds) {
  // Microsecond resolution keeps the output stable across platforms' double printing.
  return static_cast<double>(std::llround(seconds * 1e6)) / 1e3;
}

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "gbench") {
    return ExportFormat::gbench;
  }
  if (name == "custom-smaller") {
    return ExportFormat::custom_smaller;
  }
  if (name == "bmf") {
    return ExportFormat::bmf;
  }
  return std::nullopt;
}

std::string render_gbench_json(const Report& report) {
  const ReportMeta& meta = report.meta;
  Json context{
      {"date", meta.started_at},
      {"host_name", ""},
      {"executable", "peakbench"},
      {"num_cpus", meta.host.cores},
      {"mhz_per_cpu", 0},
      {"cpu_scaling_enabled", false},
      {"caches", Json::array()},
      {"load_avg", Json::array()},
      {"library_build_type", "release"},
      {"kernel", meta.host.kernel},
      {"cpu_model", meta.host.cpu_model},
      {"peakbench_version", meta.peakbench_version},
      {"git_commit", meta.git_commit},
      {"label", meta.label},
      {"report_schema_version", report.schema_version},
  };
  const std::vector<ScenarioSummary> summaries = report.summarize();
  Json benchmarks = Json::array();
  int family = 0;
  for (const ScenarioSummary& s : summaries) {
    if (!s.succeeded()) {
      continue;
    }
    const std::string name = s.key.to_string();
    const int successful = s.runs - s.failed;
    int index = 0;
    std::vector<double> cpu_ms;
    for (const RunRecord& run : report.runs) {
      if (!run.ok || run.subject != s.key.subject || run.phase != s.key.phase ||
          run.body_bytes != s.key.body_bytes) {
        continue;
      }
      cpu_ms.push_back(ms(run.user_s + run.system_s));
      benchmarks.push_back(Json{
          {"name", name},
          {"family_index", family},
          {"per_family_instance_index", 0},
          {"run_name", name},
          {"run_type", "iteration"},
          {"repetitions", successful},
          {"repetition_index", index++},
          {"threads", 1},
          {"iterations", 1},
          {"real_time", ms(run.wall_s)},
          {"cpu_time", ms(run.user_s + run.system_s)},
          {"time_unit", "ms"},
          {"peak_rss_bytes", run.peak_rss->bytes},
          {"body_bytes", run.body_bytes},
      });
    }
    benchmarks.push_back(Json{
        {"name", name + "_median"},
        {"family_index", family},
        {"per_family_instance_index", 0},
        {"run_name", name},
        {"run_type", "aggregate"},
        {"repetitions", successful},
        {"threads", 1},
        {"aggregate_name", "median"},
        {"aggregate_unit", "time"},
        {"iterations", successful},
        {"real_time", ms(s.median_wall_s)},
        {"cpu_time", median_of(cpu_ms)},
        {"time_unit", "ms"},
        {"peak_rss_bytes", s.median_peak_rss_bytes},
        {"body_bytes", s.key.body_bytes},
    });
    ++family;
  }
  const Json doc{{"context", std::move(context)}, {"benchmarks", std::move(benchmarks)}};
  return doc.dump(2) + "\n";
}

std::string render_custom_smaller(const Report& report) {
  Json entries = Json::array();
  for (const ScenarioSummary& s : report.summarize()) {
    if (!s.succeeded()) {
      continue;
    }
    entries.push_back(Json{
        {"name", s.key.to_string() + " peak RSS"},
        {"unit", "bytes"},
        {"value", s.median_peak_rss_bytes},
        {"range", fmt::format("{} - {}", s.min_peak_rss_bytes, s.max_peak_rss_bytes)},
        {"extra",
         fmt::format("median of {} runs ({} failed), {}; {} MiB; peak / body {:.2f}",
                     s.measured(), s.failed, to_string(s.peak_rss_method),
                     format_mib(s.median_peak_rss_bytes),
                     s.peak_per_body_byte)},
    });
  }
  return entries.dump(2) + "\n";
}

std::string render_bmf(const Report& report) {
  Json doc = Json::object();
  for (const ScenarioSummary& s : report.summarize()) {
    if (!s.succeeded()) {
      continue;
    }
    doc[s.key.to_string()] = Json{{"peak-rss",
                                   {{"value", s.median_peak_rss_bytes},
                                    {"lower_value", s.min_peak_rss_bytes},
                                    {"upper_value", s.max_peak_rss_bytes}}}};
  }
  return doc.dump(2) + "\n";
}

std::string render_export(const Report& report, ExportFormat format) {
  switch (format) {
    case ExportFormat::gbench:
      return render_gbench_json(report);
    case ExportFormat::custom_smaller:
      return render_custom_smaller(report);
    case ExportFormat::bmf:
      return render_bmf(report);
  }
  return render_bmf(report);
}

Result<ReportFormat> parse_report_format(std::string_view name) {
  if (std::optional<ExportFormat> exported = parse_export_format(name)) {
    return ReportFormat{std::nullopt, *exported};
  }
  if (Result<TableFormat> table = parse_table_format(name)) {
    return ReportFormat{*table, std::nullopt};
  }
  return Status::Error(fmt::format(
      "unknown format '{}' (expected md, csv, json, gbench, custom-smaller or bmf)", name));
}

std::string render_report(const Report& report, const ReportFormat& format) {
  if (format.exported) {
    return render_export(report, *format.exported);
  }
  return render(build_report_table(report), format.table.value_or(TableFormat::markdown));
}

}  // namespace peakbench
