// `peakbench run`: argv into RunArgs, the launcher started first, progress and the table printed
// here from what the runner reports.

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/cli.h"
#include "cli/progress_line.h"
#include "harness/launcher.h"
#include "harness/run_options.h"
#include "harness/runner.h"
#include "reports/table.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;

/// Where wheel hashes are cached between runs: $XDG_CACHE_HOME/peakbench, ~/.cache/peakbench.
fs::path default_hash_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return fs::path(xdg) / "peakbench";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return fs::path(home) / ".cache" / "peakbench";
  }
  return {};
}

/// Columns of the terminal on stderr; 0 when unknown.
std::size_t terminal_width() {
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 0;
}

struct RunCommandArgs {
  RunArgs run;
  bool quiet = false;
};

ExitCode run(const RunCommandArgs& command_args) {
  // First, while this process is small and has one thread: every run inherits the launcher's size.
  auto launcher = Launcher::start();
  if (!launcher) return fail(ExitCode::usage, launcher.message());
  RunArgs args = command_args.run;
  // `--suite default` or `scenarios/ci.json` from anywhere: the installed (or source) suites.
  if (!args.suite.empty()) args.suite = resolve_data_file(args.suite, "scenarios").string();
  auto options = resolve_run_options(args);
  if (!options) return fail(ExitCode::usage, options.message());
  options->hash_cache_dir = default_hash_cache_dir();

  const bool progress = !command_args.quiet && progress_enabled();
  auto outcome = [&] {
    // The line (and its ticker thread) ends before the table is printed.
    ProgressLine line(*options, std::cerr, progress, terminal_width());
    return run_suite(*options, *launcher, line);
  }();
  if (!outcome) return fail(ExitCode::usage, outcome.message());
  if (!options->out.empty() && progress) {
    std::cerr << "peakbench: report written to " << options->out.string() << '\n';
  }
  auto format = parse_table_format(options->format);
  std::cout << (format ? render(build_report_table(outcome->report), *format) : std::string());
  if (options->keep_work_dir)
    std::cerr << "peakbench: work dir kept at " << outcome->work_dir.string() << '\n';
  return outcome->any_failed ? ExitCode::failure : ExitCode::ok;
}

}  // namespace

void add_run_command(Commands& commands) {
  auto command_args = std::make_shared<RunCommandArgs>();
  RunArgs* args = &command_args->run;
  CLI::App* run =
      commands.add("run", "Measure every scenario of a suite, each in its own child process",
                   [command_args] { return peakbench::run(*command_args); });
  run->add_option("--suite", args->suite,
                  "Suite file (JSON), or the name of an installed one: default, ci, pip");
  run->add_option("--size", args->sizes, "Wheel sizes, comma-separated (default 500MiB)");
  run->add_option("--strategy", args->strategies,
                  "Built-in strategies, comma-separated: whole-body,streaming (or none)");
  run->add_option("--phase", args->phases, "Phases, comma-separated: cold,warm,revalidate");
  run->add_option("--client", args->clients, "External client NAME=TEMPLATE (repeatable)")
      ->allow_extra_args(false);
  run->add_option("--pip", args->pips, "pip preset NAME=PYTHON or NAME=PIP_CHECKOUT (repeatable)")
      ->allow_extra_args(false);
  run->add_option("--repeat", args->repeat, "Repetitions of each scenario (default 3)");
  run->add_option("--label", args->label, "A label stored in the report");
  run->add_option("--out", args->out, "Report file (JSON), rewritten after every run");
  run->add_option("--format", args->format, "Table on stdout: md (default), csv or json");
  run->add_option("--shard", args->shard, "Run only shard I of N (I/N), for CI matrices");
  run->add_option("--allocator", args->allocator,
                  "Built-in subjects' allocator: glibc or jemalloc");
  run->add_option("--sample-ms", args->sample_interval_ms, "Sampler interval in ms (default 5)");
  run->add_option("--memory-limit", args->memory_limit,
                  "Cap each run's memory cgroup (e.g. 1GiB); past it the run is OOM-killed");
  run->add_option("--work-dir", args->work_dir,
                  "Scratch directory for caches (default: a temp dir)");
  run->add_flag("--keep-work-dir", args->keep_work_dir, "Keep the scratch directory after the run");
  run->add_option("--git-dir,--measured-checkout", args->git_dir,
                  "The measured checkout whose commit the report records (default: a --pip "
                  "checkout, else none)");
  run->add_flag("--quiet,-q", command_args->quiet, "No progress on stderr (warnings still)");
}

}  // namespace peakbench
