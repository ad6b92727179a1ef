#include <memory>

#include "harness/cli.h"
#include "harness/run_options.h"
#include "harness/runner.h"

namespace peakbench {

void add_run_command(Commands& commands) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* run = commands.add("run", "Measure every scenario of a suite, each in its own child process",
                               [args] {
                                 auto options = resolve_run_options(*args);
                                 if (!options) return fail(ExitCode::usage, options.message());
                                 return run_suite(*options);
                               });
  run->add_option("--suite", args->suite, "Suite file (JSON), e.g. scenarios/default.json");
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
  run->add_option("--allocator", args->allocator, "Built-in subjects' allocator: glibc or jemalloc");
  run->add_option("--sample-ms", args->sample_interval_ms, "Sampler interval in ms (default 5)");
  run->add_option("--memory-limit", args->memory_limit,
                  "Cap each run's memory cgroup (e.g. 1GiB); past it the run is OOM-killed");
  run->add_option("--work-dir", args->work_dir, "Scratch directory for caches (default: a temp dir)");
  run->add_flag("--keep-work-dir", args->keep_work_dir, "Keep the scratch directory after the run");
}

}  // namespace peakbench
