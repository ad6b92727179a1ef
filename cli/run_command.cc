// `peakbench run`: argv into RunArgs, the launcher started first, progress and the table printed
// here from what the runner reports.

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/cli.h"
#include "harness/launcher.h"
#include "harness/run_options.h"
#include "harness/runner.h"
#include "reports/table.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;

/// One line per measured run on stderr, when progress is enabled.
class ProgressLine final : public RunObserver {
 public:
  ProgressLine(const RunOptions& options, bool enabled) : options_(options), enabled_(enabled) {}
  void preparing() override {
    if (enabled_) std::cerr << "peakbench: preparing the wheels and the index\n";
  }
  void run_started(const PlannedRun& run, std::size_t index, std::size_t total) override {
    if (enabled_)
      std::cerr << fmt::format("[{}/{}] {} ... ", index, total, run.describe(options_))
                << std::flush;
  }
  void run_finished(const RunRecord& record) override {
    if (!enabled_) return;
    if (record.ok) {
      std::cerr << fmt::format("{:.1f} MiB peak, {:.0f} MiB received, {:.2f} s\n",
                               static_cast<double>(record.peak_rss->bytes) / (1 << 20),
                               static_cast<double>(record.bytes_received) / (1 << 20),
                               record.wall_s);
    } else {
      std::cerr << "FAILED: " << record.error << '\n';
    }
  }
  void warning(std::string_view message) override {
    std::cerr << "peakbench: warning: " << message << '\n';
  }

 private:
  const RunOptions& options_;
  bool enabled_;
};

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

ExitCode run(const RunArgs& args) {
  // First, while this process is small and has one thread: every run inherits the launcher's size.
  auto launcher = Launcher::start();
  if (!launcher) return fail(ExitCode::usage, launcher.message());
  auto options = resolve_run_options(args);
  if (!options) return fail(ExitCode::usage, options.message());
  options->hash_cache_dir = default_hash_cache_dir();

  const bool progress = progress_enabled();
  ProgressLine line(*options, progress);
  auto outcome = run_suite(*options, *launcher, line);
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
  auto args = std::make_shared<RunArgs>();
  CLI::App* run =
      commands.add("run", "Measure every scenario of a suite, each in its own child process",
                   [args] { return peakbench::run(*args); });
  run->add_option("--suite", args->suite, "Suite file (JSON), e.g. scenarios/default.json");
  run->add_option("--size", args->sizes, "Wheel sizes, comma-separated (default 500MiB)");
  run->add_option("--strategy", args->strategies,
                  "Built-in strategies, comma-separated: whole-body,streaming,tee-mmap (or none)");
  run->add_option("--phase", args->phases,
                  "Phases, comma-separated: cold, warm, revalidate, stale, no-store, vary-miss, "
                  "resume, chunked");
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
  run->add_option("--tmpdir", args->tmpdir,
                  "Each client's TMPDIR: disk, tmpfs (a private RAM-backed dir) or a directory");
  run->add_option("--resume-cut", args->resume_cut_fraction,
                  "resume phase: cut the first response at this fraction of the body (0.5)");
  run->add_option("--concurrency", args->concurrency,
                  "Run N copies of each subject at once on one cache dir (default 1)");
  run->add_flag("--keep-work-dir", args->keep_work_dir, "Keep the scratch directory after the run");
}

}  // namespace peakbench
