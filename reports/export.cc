#include "reports/export.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
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

// Rounded to 6 significant decimals, for the same reason.
double rounded(double value) { return std::round(value * 1e6) / 1e6; }

bool in_scenario(const RunRecord& run, const ScenarioKey& key) {
  return run.subject == key.subject && run.phase == key.phase && run.body_bytes == key.body_bytes;
}

std::vector<const RunRecord*> runs_of(const Report& report, const ScenarioKey& key) {
  std::vector<const RunRecord*> runs;
  for (const RunRecord& run : report.runs) {
    if (in_scenario(run, key)) {
      runs.push_back(&run);
    }
  }
  return runs;
}

// Google Benchmark's statistics (src/statistics.cc): mean, median, sample standard deviation
// (n - 1; 0 for one value) and coefficient of variation (stddev / mean, a fraction).
struct Stats {
  double mean = 0, median = 0, stddev = 0, cv = 0;
};

Stats stats_of(std::vector<double> values) {
  Stats s;
  if (values.empty()) {
    return s;
  }
  const auto n = static_cast<double>(values.size());
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  s.median = values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  if (values.size() > 1) {
    double sum_sq = 0;
    for (double v : values) {
      sum_sq += (v - s.mean) * (v - s.mean);
    }
    s.stddev = std::sqrt(sum_sq / (n - 1));
  }
  s.cv = s.mean != 0 ? s.stddev / s.mean : 0;
  return s;
}

// The first failed run's reason, for the one-line summaries.
std::string first_reason(const std::vector<const RunRecord*>& runs) {
  for (const RunRecord* run : runs) {
    if (!run->ok) {
      return run->error.empty() ? "no reason recorded" : run->error;
    }
  }
  return "";
}

Json gbench_context(const Report& report) {
  const ReportMeta& meta = report.meta;
  Json context{{"date", meta.started_at}};
  if (!meta.host.hostname.empty()) {
    context["host_name"] = meta.host.hostname;
  }
  context["executable"] = "peakbench";
  context["num_cpus"] = meta.host.cores;
  if (meta.host.mhz_per_cpu > 0) {
    context["mhz_per_cpu"] = std::lround(meta.host.mhz_per_cpu);
  }
  if (!meta.host.caches.empty()) {
    Json caches = Json::array();
    for (const CpuCache& c : meta.host.caches) {
      caches.push_back(Json{{"type", c.type},
                            {"level", c.level},
                            {"size", c.size_bytes},
                            {"num_sharing", c.num_sharing}});
    }
    context["caches"] = std::move(caches);
  }
  // Google Benchmark says "debug" for a build without NDEBUG; CMake's Debug is the one such here.
  if (!meta.build_type.empty()) {
    context["library_build_type"] = meta.build_type == "Debug" ? "debug" : "release";
    context["peakbench_build_type"] = meta.build_type;
  }
  context["kernel"] = meta.host.kernel;
  context["cpu_model"] = meta.host.cpu_model;
  context["peakbench_version"] = meta.peakbench_version;
  context["git_commit"] = meta.git_commit;
  context["label"] = meta.label;
  context["allocator"] = meta.allocator;
  context["report_schema_version"] = report.schema_version;
  return context;
}

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "gbench") {
    return ExportFormat::gbench;
  }
  if (name == "gbench-aggregates") {
    return ExportFormat::gbench_aggregates;
  }
  if (name == "custom-smaller") {
    return ExportFormat::custom_smaller;
  }
  if (name == "bmf") {
    return ExportFormat::bmf;
  }
  return std::nullopt;
}

std::string render_gbench_json(const Report& report, bool aggregates_only) {
  const std::vector<ScenarioSummary> summaries = report.summarize();
  // Families: (subject, phase) in first-seen order; instances: body sizes in first-seen order.
  std::vector<std::pair<std::string, std::string>> families;
  std::vector<std::vector<std::uint64_t>> instances;
  Json benchmarks = Json::array();
  for (const ScenarioSummary& s : summaries) {
    const std::pair<std::string, std::string> family_key{s.key.subject, s.key.phase};
    auto family_it = std::find(families.begin(), families.end(), family_key);
    if (family_it == families.end()) {
      families.push_back(family_key);
      instances.emplace_back();
      family_it = families.end() - 1;
    }
    const auto family = static_cast<int>(family_it - families.begin());
    auto& sizes = instances[static_cast<std::size_t>(family)];
    sizes.push_back(s.key.body_bytes);
    const auto instance = static_cast<int>(sizes.size() - 1);

    const std::string name = s.key.to_string();
    const std::vector<const RunRecord*> runs = runs_of(report, s.key);
    auto entry = [&](const std::string& entry_name) {
      return Json{{"name", entry_name},
                  {"family_index", family},
                  {"per_family_instance_index", instance},
                  {"run_name", name}};
    };
    std::vector<double> real_ms, cpu_ms, peaks;
    int index = 0;
    for (const RunRecord* run : runs) {
      const int repetition_index = index++;
      if (run->ok) {
        real_ms.push_back(ms(run->wall_s));
        cpu_ms.push_back(ms(run->user_s + run->system_s));
        peaks.push_back(static_cast<double>(run->peak_rss->bytes));
      }
      if (aggregates_only) {
        continue;
      }
      Json j = entry(name);
      j["run_type"] = "iteration";
      j["repetitions"] = s.runs;
      j["repetition_index"] = repetition_index;
      j["threads"] = 1;
      if (!run->ok) {
        j["error_occurred"] = true;
        j["error_message"] = run->error.empty() ? "failed (no reason recorded)" : run->error;
      }
      j["iterations"] = 1;
      j["real_time"] = ms(run->wall_s);
      j["cpu_time"] = ms(run->user_s + run->system_s);
      j["time_unit"] = "ms";
      if (run->peak_rss) {
        j["max_bytes_used"] = run->peak_rss->bytes;
        j["peak_rss_bytes"] = run->peak_rss->bytes;
      }
      j["body_bytes"] = run->body_bytes;
      benchmarks.push_back(std::move(j));
    }
    auto aggregate = [&](const char* aggregate_name, const char* unit, double real, double cpu,
                         double peak) {
      Json j = entry(name + "_" + aggregate_name);
      j["run_type"] = "aggregate";
      j["repetitions"] = s.runs;
      j["threads"] = 1;
      j["aggregate_name"] = aggregate_name;
      j["aggregate_unit"] = unit;
      j["iterations"] = s.runs - s.failed;
      j["real_time"] = rounded(real);
      j["cpu_time"] = rounded(cpu);
      j["time_unit"] = "ms";
      j["peak_rss_bytes"] = rounded(peak);
      j["runs_failed"] = s.failed;
      benchmarks.push_back(std::move(j));
    };
    if (s.succeeded()) {
      const Stats real = stats_of(real_ms), cpu = stats_of(cpu_ms), peak = stats_of(peaks);
      aggregate("mean", "time", real.mean, cpu.mean, peak.mean);
      aggregate("median", "time", real.median, cpu.median, peak.median);
      aggregate("stddev", "time", real.stddev, cpu.stddev, peak.stddev);
      aggregate("cv", "percentage", real.cv, cpu.cv, peak.cv);
    }
    // A user-defined statistic in Google Benchmark's terms: its value in both times, 0 when all
    // ran, so that a consumer comparing by name sees a failure appear.
    aggregate("runs_failed", "time", s.failed, s.failed,
              s.succeeded() ? static_cast<double>(s.median_peak_rss_bytes) : 0.0);
  }
  const Json doc{{"context", gbench_context(report)}, {"benchmarks", std::move(benchmarks)}};
  return doc.dump(2) + "\n";
}

std::string render_custom_smaller(const Report& report) {
  Json entries = Json::array();
  for (const ScenarioSummary& s : report.summarize()) {
    const std::string name = s.key.to_string();
    if (s.succeeded()) {
      entries.push_back(Json{
          {"name", name + " peak RSS"},
          {"unit", "bytes"},
          {"value", s.median_peak_rss_bytes},
          {"range", fmt::format("{} - {}", s.min_peak_rss_bytes, s.max_peak_rss_bytes)},
          {"extra", fmt::format("median of {} runs ({} failed), {}; {} MiB; peak / body {:.2f}",
                                s.runs - s.failed, s.failed, to_string(s.peak_rss_method),
                                format_mib(s.median_peak_rss_bytes), s.peak_per_body_byte)},
      });
    }
    Json failed{{"name", name + " runs failed"}, {"unit", "runs"}, {"value", s.failed}};
    failed["extra"] = s.failed == 0 ? fmt::format("all {} runs succeeded", s.runs)
                                    : fmt::format("{} of {} runs failed: {}", s.failed, s.runs,
                                                  first_reason(runs_of(report, s.key)));
    entries.push_back(std::move(failed));
  }
  return entries.dump(2) + "\n";
}

std::string render_bmf(const Report& report) {
  Json doc = Json::object();
  for (const ScenarioSummary& s : report.summarize()) {
    Json measures = Json::object();
    if (s.succeeded()) {
      measures["peak-rss"] = Json{{"value", s.median_peak_rss_bytes},
                                  {"lower_value", s.min_peak_rss_bytes},
                                  {"upper_value", s.max_peak_rss_bytes}};
    }
    measures["runs-failed"] = Json{{"value", s.failed}};
    doc[s.key.to_string()] = std::move(measures);
  }
  return doc.dump(2) + "\n";
}

std::string render_export(const Report& report, ExportFormat format) {
  switch (format) {
    case ExportFormat::gbench:
      return render_gbench_json(report);
    case ExportFormat::gbench_aggregates:
      return render_gbench_json(report, true);
    case ExportFormat::custom_smaller:
      return render_custom_smaller(report);
    case ExportFormat::bmf:
      return render_bmf(report);
  }
  return render_bmf(report);
}

std::vector<std::string> failed_scenario_lines(const Report& report) {
  std::vector<std::string> lines;
  for (const ScenarioSummary& s : report.summarize()) {
    if (s.failed > 0) {
      lines.push_back(fmt::format("{}: {} of {} runs failed ({})", s.key.to_string(), s.failed,
                                  s.runs, first_reason(runs_of(report, s.key))));
    }
  }
  return lines;
}

Result<ReportFormat> parse_report_format(std::string_view name) {
  if (std::optional<ExportFormat> exported = parse_export_format(name)) {
    return ReportFormat{std::nullopt, *exported};
  }
  if (Result<TableFormat> table = parse_table_format(name)) {
    return ReportFormat{*table, std::nullopt};
  }
  return Status::Error(
      fmt::format("unknown format '{}' (expected md, csv, json, gbench, gbench-aggregates, "
                  "custom-smaller or bmf)",
                  name));
}

std::string render_report(const Report& report, const ReportFormat& format) {
  if (format.exported) {
    return render_export(report, *format.exported);
  }
  return render(build_report_table(report), format.table.value_or(TableFormat::markdown));
}

}  // namespace peakbench
