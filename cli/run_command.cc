// `peakbench run`: argv into RunArgs, the launcher started first, progress and the table printed
// here from what the runner reports.

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "base/safe_text.h"
#include "cli/cli.h"
#include "cli/progress_line.h"
#include "harness/cgroup.h"
#include "harness/launcher.h"
#include "harness/leftovers.h"
#include "harness/run_options.h"
#include "harness/runner.h"
#include "reports/export.h"

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

/// SIGINT, SIGTERM and SIGHUP stop a run cleanly: they are blocked in every thread and taken by
/// one thread that sets the stop flag and cancels the run in flight, so the runner can write the
/// report with what finished and remove its cgroups and work dir before the process exits.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set_, sig);
    // Before any other thread exists, so that all inherit the mask.
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  /// Starts taking the signals; each one sets `stop` and cancels the current run of `spawner`.
  void watch(Spawner& spawner) {
    thread_ = std::thread([this, &spawner] {
      const timespec tick{0, 100'000'000};
      while (!done_) {
        const int sig = sigtimedwait(&set_, nullptr, &tick);
        if (sig <= 0) continue;
        if (signal_ == 0) signal_ = sig;
        stop_ = true;
        (void)spawner.cancel();
      }
    });
  }
  const std::atomic<bool>& stop() const { return stop_; }
  /// The first signal taken, or 0; one that arrived while nothing watched is still pending here.
  int signal() {
    if (signal_ == 0) {
      const timespec none{0, 0};
      if (const int sig = sigtimedwait(&set_, nullptr, &none); sig > 0) signal_ = sig;
    }
    return signal_;
  }

 private:
  sigset_t set_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int> signal_{0};
};

/// Removes the cgroups and temp work dirs of peakbench processes that died without cleaning up.
void sweep_dead_runs() {
  const CgroupSupport& cgroups = memory_cgroup_support();
  std::error_code ec;
  const fs::path tmp = fs::temp_directory_path(ec);
  for (const Leftover& left :
       sweep_leftovers(cgroups.availability.available ? cgroups.parent_dir : fs::path(),
                       cgroups.version == CgroupVersion::v1, ec ? fs::path() : tmp)) {
    if (left.removed) {
      std::cerr << fmt::format("peakbench: removed {} left by a dead peakbench (pid {})\n",
                               printable(left.path.string()), left.owner);
    } else {
      std::cerr << fmt::format(
          "peakbench: warning: cannot remove {} left by a dead peakbench (pid {}): {}\n",
          printable(left.path.string()), left.owner, left.error);
    }
  }
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
  // The stop signals are blocked first, so that none is lost or kills the process half-way; the
  // launcher inherits the mask and clears it for every child it starts.
  StopSignals signals;
  // Then, while this process is small and has one thread: every run inherits the launcher's size.
  auto launcher = Launcher::start();
  if (!launcher) return fail(ExitCode::usage, launcher.message());
  RunArgs args = command_args.run;
  // `--suite default` or `scenarios/ci.json` from anywhere: the installed (or source) suites.
  if (!args.suite.empty()) args.suite = resolve_data_file(args.suite, "scenarios").string();
  if (const char* root = std::getenv("PYENV_ROOT"); root != nullptr && *root != '\0') {
    args.pyenv_root = root;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    args.pyenv_root = (fs::path(home) / ".pyenv").string();
  }
  auto options = resolve_run_options(args);
  if (!options) return fail(ExitCode::usage, options.message());
  options->hash_cache_dir = default_hash_cache_dir();
  sweep_dead_runs();

  const bool progress = !command_args.quiet && progress_enabled();
  signals.watch(*launcher);
  auto outcome = [&] {
    // The line (and its ticker thread) ends before the table is printed.
    ProgressLine line(*options, std::cerr, progress, terminal_width());
    return run_suite(*options, *launcher, line, &signals.stop());
  }();
  if (!outcome) return fail(ExitCode::usage, outcome.message());
  if (!options->out.empty() && progress && outcome->report_error.empty()) {
    std::cerr << "peakbench: report written to " << options->out.string() << '\n';
  }
  std::cout << render_report(outcome->report, options->format) << std::flush;
  if (options->keep_work_dir) {
    std::cerr << "peakbench: work dir kept at " << printable(outcome->work_dir.string()) << '\n';
  }
  if (!outcome->report_error.empty()) {
    return fail(ExitCode::usage, fmt::format("the report was not written to {}: {}",
                                             options->out.string(), outcome->report_error));
  }
  if (const int sig = signals.signal(); sig != 0) {
    std::cerr << fmt::format(
        "peakbench: interrupted by SIG{}: {} of {} runs finished{}\n", sigabbrev_np(sig),
        outcome->runs_done, outcome->runs_planned,
        options->out.empty() ? "" : ", report written to " + printable(options->out.string()));
    return static_cast<ExitCode>(128 + sig);
  }
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
                  "Suite file (JSON), or the name of an installed one: default, ci, pip, deps")
      ->check(kNotEmpty);
  run->add_option("--size", args->sizes, "Wheel sizes, comma-separated (default 500MiB)")
      ->check(kNotEmpty);
  run->add_option("--strategy", args->strategies,
                  "Built-in strategies, comma-separated: whole-body,streaming,tee-mmap (or none)")
      ->check(kNotEmpty);
  run->add_option("--phase", args->phases,
                  "Phases, comma-separated: cold, warm, revalidate, stale, no-store, vary-miss, "
                  "resume, chunked")
      ->check(kNotEmpty);
  run->add_option("--client", args->clients, "External client NAME=TEMPLATE (repeatable)")
      ->allow_extra_args(false)
      ->check(kNotEmpty);
  run->add_option("--pip", args->pips, "pip preset NAME=PYTHON or NAME=PIP_CHECKOUT (repeatable)")
      ->allow_extra_args(false)
      ->check(kNotEmpty);
  run->add_option("--repeat", args->repeat, "Repetitions of each scenario (default 3)")
      ->check(kNotEmpty);
  run->add_option("--label", args->label, "A label stored in the report");
  run->add_option("--out", args->out, "Report file (JSON), rewritten after every run")
      ->check(kNotEmpty);
  run->add_option("--format", args->format,
                  "Table on stdout: md (default), csv, json, or an export as `table --format`")
      ->check(kNotEmpty);
  run->add_option("--shard", args->shard, "Run only shard I of N (I/N), for CI matrices")
      ->check(kNotEmpty);
  run->add_option("--allocator", args->allocator, "Built-in subjects' allocator: glibc or jemalloc")
      ->check(kNotEmpty);
  run->add_option(
         "--sample-ms", args->sample_interval_ms,
         fmt::format("Sampler interval in ms (default {})", RunOptions{}.sample_interval_ms))
      ->check(kNotEmpty);
  run->add_option("--memory-limit", args->memory_limit,
                  "Cap each run's memory cgroup (e.g. 1GiB); past it the run is OOM-killed")
      ->check(kNotEmpty);
  run->add_option("--linger", args->linger_s,
                  "Seconds a run's processes may outlive its root before they are killed and the "
                  "run fails (default 30, 0: no limit)")
      ->check(kNotEmpty);
  run->add_option("--page-cache", args->page_cache,
                  "keep (default): warm runs read the cache from memory; drop: evicted first")
      ->check(kNotEmpty);
  run->add_option("--work-dir", args->work_dir,
                  "Scratch directory for caches (default: a temp dir)")
      ->check(kNotEmpty);
  run->add_option("--tmpdir", args->tmpdir,
                  "Each client's TMPDIR: disk, tmpfs (a private RAM-backed dir) or a directory")
      ->check(kNotEmpty);
  run->add_option("--resume-cut", args->resume_cut_fraction,
                  "resume phase: cut the first response at this fraction of the body (0.5)")
      ->check(kNotEmpty);
  run->add_option("--concurrency", args->concurrency,
                  "Run N copies of each subject at once on one cache dir (default 1)")
      ->check(kNotEmpty);
  run->add_flag("--keep-work-dir", args->keep_work_dir, "Keep the scratch directory after the run");
  run->add_option("--git-dir,--measured-checkout", args->git_dir,
                  "The measured checkout whose commit the report records (default: a --pip "
                  "checkout, else none)");
  run->add_flag("--quiet,-q", command_args->quiet, "No progress on stderr (warnings still)");
}

}  // namespace peakbench
