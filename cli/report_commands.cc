// The report-reading subcommands (DESIGN §5): table, compare, gate, merge, plot. Each turns its
// argv into a typed options struct, reads reports, and hands plain data to a builder and a
// renderer. Only `gate` turns a verdict into a failing exit status; the environment
// (GITHUB_STEP_SUMMARY) is read here and nowhere below.

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include "base/atomic_file.h"
#include "cli/cli.h"
#include "reports/compare.h"
#include "reports/export.h"
#include "reports/gate.h"
#include "reports/html.h"
#include "reports/junit.h"
#include "reports/merge.h"
#include "reports/plot.h"
#include "reports/report.h"
#include "reports/step_summary.h"
#include "reports/table.h"

namespace peakbench {
namespace {

struct TableOptions {
  std::string report;
  std::string format = "md";
};

struct CompareOptions {
  std::string before;
  std::string after;
  std::string format = "md";
};

struct GateOptions {
  std::string report;
  std::string rules;
  std::string baseline;
  std::string max_increase;
  std::string junit;
};

struct MergeOptions {
  std::string out;
  std::vector<std::string> inputs;
};

struct PlotOptions {
  std::string report;
  std::string out;
};

constexpr const char* kDefaultMaxIncrease = "+10%";

ExitCode run_table(const TableOptions& options) {
  auto format = parse_report_format(options.format);
  if (!format) {
    return fail(ExitCode::usage, format.message());
  }
  auto report = read_report(options.report);
  if (!report) {
    return fail(ExitCode::usage, report.message());
  }
  std::cout << render_report(*report, *format);
  // Said, never a failing status: only `gate` fails a build (STYLE rule 12).
  const std::vector<std::string> failed = failed_scenario_lines(*report);
  if (!failed.empty()) {
    std::cerr << fmt::format("peakbench: warning: {} has {} scenario{} with failed runs:\n",
                             options.report, failed.size(), failed.size() == 1 ? "" : "s");
    for (const std::string& line : failed) {
      std::cerr << "  " << line << '\n';
    }
  }
  return ExitCode::ok;
}

ExitCode run_compare(const CompareOptions& options) {
  auto format = parse_table_format(options.format);
  if (!format) {
    return fail(ExitCode::usage, format.message());
  }
  auto before = read_report(options.before);
  if (!before) {
    return fail(ExitCode::usage, before.message());
  }
  auto after = read_report(options.after);
  if (!after) {
    return fail(ExitCode::usage, after.message());
  }
  // Compare only reports: a regression is the gate's business, never a failing status here.
  std::cout << render(build_comparison_table(compare_reports(*before, *after)), *format);
  return ExitCode::ok;
}

ExitCode run_gate(const GateOptions& options) {
  if (options.rules.empty() && options.baseline.empty()) {
    return fail(ExitCode::usage, "nothing to gate: give --rules FILE, --baseline FILE or both");
  }
  if (!options.max_increase.empty() && options.baseline.empty()) {
    return fail(ExitCode::usage, "--max-increase needs --baseline FILE");
  }
  auto report = read_report(options.report);
  if (!report) {
    return fail(ExitCode::usage, report.message());
  }

  std::vector<GateRule> rules;
  if (!options.rules.empty()) {
    auto text = read_file(options.rules);
    if (!text) {
      return fail(ExitCode::usage, text.message());
    }
    auto parsed = parse_gate_rules(*text, options.rules);
    if (!parsed) {
      return fail(ExitCode::usage, parsed.message());
    }
    rules = std::move(*parsed);
  }
  std::optional<Report> baseline;
  if (!options.baseline.empty()) {
    auto read = read_report(options.baseline);
    if (!read) {
      return fail(ExitCode::usage, read.message());
    }
    baseline = std::move(*read);
    const std::string spelled =
        options.max_increase.empty() ? kDefaultMaxIncrease : options.max_increase;
    auto increase = parse_increase(spelled);
    if (!increase) {
      return fail(ExitCode::usage, "--max-increase: " + increase.message());
    }
    GateRule rule;
    rule.name = "--max-increase";
    rule.max_increase = *increase;
    rules.push_back(std::move(rule));
  }

  auto verdict = evaluate_gate(*report, baseline ? &*baseline : nullptr, rules);
  if (!verdict) {
    return fail(ExitCode::usage, verdict.message());
  }
  std::cout << render_markdown(build_gate_table(*verdict));

  if (!options.junit.empty()) {
    if (Status written = write_file_atomically(options.junit, render_junit(*verdict, *report));
        !written) {
      return fail(ExitCode::usage, written.message());
    }
  }
  if (const char* summary = std::getenv("GITHUB_STEP_SUMMARY");
      summary != nullptr && *summary != '\0') {
    // Appended, not replaced: other steps of the job write to the same file. A summary that
    // cannot be written is a warning: the verdict, not the summary, decides the exit status.
    std::ofstream out(summary, std::ios::app);
    out << render_step_summary(*verdict);
    out.flush();
    if (!out) {
      std::cerr << fmt::format(
          "peakbench: warning: cannot append the summary to GITHUB_STEP_SUMMARY ({})\n", summary);
    }
  }
  if (verdict->passed()) {
    return ExitCode::ok;
  }

  std::string violated;
  for (const GateCheck& c : verdict->checks) {
    if (c.passed) {
      continue;
    }
    if (!violated.empty()) {
      violated += "; ";
    }
    violated += fmt::format("{} {} on {} ({} > {})", c.rule, c.bound, c.scenario, format_actual(c),
                            format_limit(c));
  }
  return fail(ExitCode::failure,
              fmt::format("gate failed: {} of {} checks: {}", verdict->failures(),
                          verdict->checks.size(), violated));
}

ExitCode run_merge(const MergeOptions& options) {
  std::vector<NamedReport> inputs;
  for (const std::string& input : options.inputs) {
    auto report = read_report(input);
    if (!report) {
      return fail(ExitCode::usage, report.message());
    }
    inputs.push_back({input, std::move(*report)});
  }
  if (Status written = write_report(options.out, merge_reports(inputs)); !written) {
    return fail(ExitCode::usage, written.message());
  }
  return ExitCode::ok;
}

ExitCode run_plot(const PlotOptions& options) {
  auto report = read_report(options.report);
  if (!report) {
    return fail(ExitCode::usage, report.message());
  }
  auto svg = render_timeline_svg(*report);
  if (!svg) {
    return fail(ExitCode::usage, fmt::format("{}: {}", options.report, svg.message()));
  }
  if (Status written = write_file_atomically(options.out, *svg); !written) {
    return fail(ExitCode::usage, written.message());
  }
  return ExitCode::ok;
}

ExitCode run_html_report(const PlotOptions& options) {
  auto report = read_report(options.report);
  if (!report) {
    return fail(ExitCode::usage, report.message());
  }
  if (Status written = write_file_atomically(options.out, render_html_report(*report)); !written) {
    return fail(ExitCode::usage, written.message());
  }
  return ExitCode::ok;
}

}  // namespace

void add_report_commands(Commands& commands) {
  {
    auto o = std::make_shared<TableOptions>();
    CLI::App* sub = commands.add("table", "Print the peak-RSS table of a report, or export it",
                                 [o] { return run_table(*o); });
    sub->add_option("report", o->report, "report JSON")->required();
    sub->add_option("--format", o->format,
                    "md (default), csv, json; exports (docs/exports.md): gbench (Google Benchmark "
                    "JSON), gbench-aggregates (its aggregates only), custom-smaller "
                    "(github-action-benchmark), bmf (Bencher)");
  }
  {
    auto o = std::make_shared<CompareOptions>();
    CLI::App* sub =
        commands.add("compare", "Compare the peaks of two reports (never fails a build)",
                     [o] { return run_compare(*o); });
    sub->add_option("before", o->before, "report JSON before the change")->required();
    sub->add_option("after", o->after, "report JSON after the change")->required();
    sub->add_option("--format", o->format, "md (default), csv or json");
  }
  {
    auto o = std::make_shared<GateOptions>();
    CLI::App* sub =
        commands.add("gate", "Check a report against memory budgets; exit 1 on a violation",
                     [o] { return run_gate(*o); });
    sub->add_option("report", o->report, "report JSON")->required();
    sub->add_option("--rules", o->rules, "rules JSON (see reports/gates.json)")->check(kNotEmpty);
    sub->add_option("--baseline", o->baseline, "baseline report JSON for relative bounds")
        ->check(kNotEmpty);
    sub->add_option("--max-increase", o->max_increase,
                    "allowed increase over the baseline for every scenario (default +10%)")
        ->check(kNotEmpty);
    sub->add_option("--junit", o->junit, "write JUnit XML here")->check(kNotEmpty);
  }
  {
    auto o = std::make_shared<MergeOptions>();
    CLI::App* sub = commands.add("merge", "Join the reports of the shards of a run",
                                 [o] { return run_merge(*o); });
    sub->add_option("--out", o->out, "merged report JSON")->required();
    sub->add_option("inputs", o->inputs, "shard reports")->required();
  }
  {
    auto o = std::make_shared<PlotOptions>();
    CLI::App* sub = commands.add("plot", "Draw the RSS timelines of a report as SVG",
                                 [o] { return run_plot(*o); });
    sub->add_option("report", o->report, "report JSON")->required();
    sub->add_option("--out", o->out, "SVG file to write")->required();
  }
  {
    auto o = std::make_shared<PlotOptions>();
    CLI::App* sub = commands.add(
        "report", "Write a report as one self-contained HTML page (table, timelines, failures)",
        [o] { return run_html_report(*o); });
    sub->add_option("report", o->report, "report JSON")->required();
    sub->add_option("--out", o->out, "HTML file to write")->required();
  }
}

}  // namespace peakbench
