#include "reports/junit.h"

#include <fmt/format.h>

#include <vector>

#include "reports/markup.h"

namespace peakbench {
namespace {

using markup::xml_escape;

// Wall time of the runs of the scenarios a check covers ("streaming/warm/*" for a slope).
double seconds_of(const Report& report, const std::string& scenario_glob) {
  double total = 0;
  for (const RunRecord& run : report.runs) {
    if (glob_match(scenario_glob,
                   ScenarioKey{run.subject, run.phase, run.body_bytes}.to_string())) {
      total += run.wall_s;
    }
  }
  return total;
}

std::vector<std::string> failed_runs(const Report& report, const std::string& scenario) {
  std::vector<std::string> lines;
  for (const RunRecord& run : report.runs) {
    if (run.ok || ScenarioKey{run.subject, run.phase, run.body_bytes}.to_string() != scenario) {
      continue;
    }
    std::string line = fmt::format("repetition {}: {}", run.repetition,
                                   run.error.empty() ? "failed (no reason recorded)" : run.error);
    for (const std::string& note : run.notes) {
      line += "; " + note;
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

// Ant's schema wants a local date-time without a zone; the report's is UTC ("...Z").
std::string ant_timestamp(const std::string& iso) {
  if (iso.size() == 20 && iso.back() == 'Z') {
    return iso.substr(0, 19);
  }
  return iso.size() >= 19 ? iso.substr(0, 19) : "1970-01-01T00:00:00";
}

}  // namespace

std::string render_junit(const GateVerdict& verdict, const Report& report) {
  const ReportMeta& meta = report.meta;
  double suite_seconds = 0;
  for (const RunRecord& run : report.runs) {
    suite_seconds += run.wall_s;
  }
  const std::string time = fmt::format("{:.3f}", suite_seconds);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format(
      "<testsuites name=\"peakbench gate\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
      "time=\"{}\">\n",
      verdict.checks.size(), verdict.failures(), time);
  out += fmt::format(
      "  <testsuite name=\"peakbench gate\" package=\"peakbench\" id=\"0\" timestamp=\"{}\" "
      "hostname=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{}\">\n",
      xml_escape(ant_timestamp(meta.started_at)),
      xml_escape(meta.host.hostname.empty() ? "localhost" : meta.host.hostname),
      verdict.checks.size(), verdict.failures(), time);
  out += "    <properties>\n";
  auto property = [&](const char* name, const std::string& value) {
    out += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", name, xml_escape(value));
  };
  property("commit", meta.git_commit + (meta.git_dirty ? "+dirty" : ""));
  property("branch", meta.git_branch);
  property("label", meta.label);
  property("host", fmt::format("{}; {}, {} cores; {}", meta.host.hostname, meta.host.cpu_model,
                               meta.host.cores, meta.host.kernel));
  property("allocator", meta.allocator);
  property("peakbench_version", meta.peakbench_version);
  property("started_at", meta.started_at);
  out += "    </properties>\n";
  for (const GateCheck& c : verdict.checks) {
    const std::string head =
        fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"",
                    xml_escape("peakbench.gate." + c.rule), xml_escape(c.scenario + " " + c.bound),
                    seconds_of(report, c.scenario));
    if (c.passed) {
      out += head + "/>\n";
      continue;
    }
    std::string message =
        fmt::format("{}: {} is {}, limit {}", c.rule, c.bound, format_actual(c), format_limit(c));
    std::string body;
    if (c.bound == "runs_ok") {
      const std::vector<std::string> runs = failed_runs(report, c.scenario);
      if (!runs.empty()) {
        message += ": " + runs.front().substr(runs.front().find(": ") + 2);
      }
      for (const std::string& line : runs) {
        body += line + "\n";
      }
    }
    out += head + ">\n";
    out +=
        fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n", xml_escape(message),
                    c.bound == "runs_ok" ? "run-failed" : "memory-budget", xml_escape(body));
    out += "    </testcase>\n";
  }
  std::string notes;
  for (const std::string& note : verdict.notes) {
    notes += note + "\n";
  }
  out += fmt::format("    <system-out>{}</system-out>\n", xml_escape(notes));
  out += "    <system-err></system-err>\n";
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace peakbench
