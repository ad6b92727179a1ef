#pragma once
// `peakbench run`'s validated options (STYLE rule 5): a suite file, overridden by the command line,
// checked once; everything below takes this struct and never sees argv.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "harness/client_template.h"
#include "harness/shard.h"
#include "scenarios/strategy.h"

namespace peakbench {

/// A measured phase of a scenario.
enum class RunPhase {
  cold,        ///< empty cache: the client downloads
  warm,        ///< the cache a cold run left: the client reads it
  revalidate,  ///< a stale entry (max-age=0) with an ETag: one conditional request answered 304
};
std::string_view to_string(RunPhase phase);
Result<RunPhase> parse_phase(std::string_view name);

/// Something measured: a built-in strategy or an external client.
struct Subject {
  std::string name;                  ///< "whole-body", "streaming", or the client's name
  std::optional<Strategy> strategy;  ///< set for built-in subjects
  ClientSpec client;                 ///< set for external clients
  bool builtin() const { return strategy.has_value(); }
};

/// What a suite file may say; absent fields keep the defaults below.
struct RunOptions {
  std::vector<std::uint64_t> sizes_bytes{500ull << 20};
  std::vector<Subject> subjects;  ///< built-ins first, in suite order, then clients
  std::vector<RunPhase> phases{RunPhase::cold, RunPhase::warm};
  int repeat = 3;
  std::string label;
  std::filesystem::path suite;  ///< the suite file, if any
  std::filesystem::path out;    ///< report path; empty: none written
  std::string format = "md";    ///< md | csv | json (stdout)
  std::optional<Shard> shard;
  std::string allocator = "glibc";  ///< built-in subjects: glibc | jemalloc (LD_PRELOAD)
  double sample_interval_ms = 5;
  /// Caps each run's memory cgroup (page cache included); a run past it is killed by the kernel
  /// and reported as an out-of-memory kill. Needs a memory cgroup.
  std::optional<std::uint64_t> memory_limit_bytes;
  std::filesystem::path work_dir;  ///< scratch for caches and outputs; empty: a temp dir
  bool keep_work_dir = false;
  /// The checkout whose commit the report's meta.git records; empty: the first `--pip` source
  /// checkout, else none (never the current directory: that is rarely what was measured).
  std::filesystem::path measured_checkout;
  /// Where wheel hashes are cached between runs (the CLI picks it from XDG_CACHE_HOME or HOME);
  /// empty: not cached.
  std::filesystem::path hash_cache_dir;
};

/// What the command line gave, as strings, before validation. Empty means "not given".
struct RunArgs {
  std::string suite;
  std::string sizes;
  std::string strategies;
  std::string phases;
  std::vector<std::string> clients;
  std::vector<std::string> pips;
  std::optional<int> repeat;
  std::string label;
  std::string out;
  std::string format;
  std::string shard;
  std::string allocator;
  std::optional<double> sample_interval_ms;
  std::string memory_limit;
  std::string work_dir;
  bool keep_work_dir = false;
  std::string git_dir;
};

/// Reads the suite (if any), applies the command line over it and validates the whole.
/// Suite format (JSON): {"sizes": ["500MiB"], "strategies": ["whole-body", "streaming"],
/// "phases": ["cold", "warm"], "repeat": 3, "label": "...", "allocator": "glibc",
/// "clients": {"NAME": "TEMPLATE"}, "pips": {"NAME": "PYTHON"}}.
Result<RunOptions> resolve_run_options(const RunArgs& args);

}  // namespace peakbench
