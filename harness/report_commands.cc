// The report-reading subcommands (DESIGN §5): table, compare, gate, merge, plot. Each turns its
// argv into a typed options struct, reads reports, and hands plain data to a builder and a
// renderer. Only `gate` turns a verdict into a failing exit status.

#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "harness/cli.h"
#include "harness/report.h"
#include "harness/table.h"

namespace peakbench {
namespace {

struct TableOptions {
  std::string report;
  std::string format = "md";
};

ExitCode run_table(const TableOptions& options) {
  auto format = parse_table_format(options.format);
  if (!format) return fail(ExitCode::usage, format.message());
  auto report = read_report(options.report);
  if (!report) return fail(ExitCode::usage, report.message());
  std::cout << render(build_report_table(*report), *format);
  return ExitCode::ok;
}

}  // namespace

void add_report_commands(Commands& commands) {
  {
    auto options = std::make_shared<TableOptions>();
    CLI::App* sub = commands.add("table", "Print the peak-RSS table of a report",
                                 [options] { return run_table(*options); });
    sub->add_option("report", options->report, "report JSON")->required();
    sub->add_option("--format", options->format, "md (default), csv or json");
  }
  commands.add("compare", "(not built yet)", [] { return fail(ExitCode::usage, "'compare' is not built yet"); });
  commands.add("gate", "(not built yet)", [] { return fail(ExitCode::usage, "'gate' is not built yet"); });
  commands.add("merge", "(not built yet)", [] { return fail(ExitCode::usage, "'merge' is not built yet"); });
  commands.add("plot", "(not built yet)", [] { return fail(ExitCode::usage, "'plot' is not built yet"); });
}

}  // namespace peakbench
