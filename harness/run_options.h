#pragma once
// `peakbench run`'s validated options (STYLE rule 5): a suite file, overridden by the command line,
// checked once; everything below takes this struct and never sees argv.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "fixtures/wheel_image.h"
#include "harness/client_template.h"
#include "harness/page_cache.h"
#include "harness/sampler.h"
#include "harness/shard.h"
#include "reports/export.h"
#include "scenarios/strategy.h"

namespace peakbench {

/// Repetitions of a scenario at most.
inline constexpr int kMaxRepeat = 1000;
/// The largest wheel a run may serve: it is generated and hashed before the first run (about
/// 4 GB/s) and a cold run stores a copy on disk, so past this a typo costs minutes and a full disk.
inline constexpr std::uint64_t kMaxWheelBytes = 64ull << 30;
inline constexpr const char* kMaxWheelBytesWhy =
    "64GiB (it is hashed before the first run and stored on disk by every cold run)";

/// A measured phase of a scenario.
enum class RunPhase {
  cold,        ///< empty cache: the client downloads
  warm,        ///< the cache a cold run left: the client reads it
  revalidate,  ///< a stale entry (max-age=0) with an ETag: one conditional request answered 304
  stale,       ///< an entry past its max-age with no ETag and no Last-Modified: purged, downloaded
  no_store,    ///< `Cache-Control: no-store`: the fill stored nothing, so this run downloads
  vary_miss,   ///< the entry varies on User-Agent, which the fill sent differently: a miss
  resume,      ///< empty cache; the server cuts the first response at a fraction of the body
  chunked,     ///< empty cache; `Transfer-Encoding: chunked`, no Content-Length
};
std::string_view to_string(RunPhase phase);
Result<RunPhase> parse_phase(std::string_view name);

/// The allocator built-in subjects run with.
enum class Allocator {
  glibc,     ///< the C library's malloc, as linked
  jemalloc,  ///< jemalloc, preloaded (LD_PRELOAD)
};
std::string_view to_string(Allocator allocator);
Result<Allocator> parse_allocator(std::string_view name);
/// The temp dir a run's client gets as TMPDIR (`--tmpdir`).
struct TmpdirChoice {
  enum class Kind {
    inherit,  ///< not given: the client inherits peakbench's own TMPDIR
    disk,     ///< a private directory in the work dir (on disk)
    tmpfs,    ///< a private tmpfs mount per run where permitted, else a directory in /dev/shm
    path,     ///< a private directory under `path`
  };
  Kind kind = Kind::inherit;
  std::filesystem::path path;
};
/// "disk", "tmpfs" or an existing directory (absolute or relative); one-line error otherwise.
Result<TmpdirChoice> parse_tmpdir(std::string_view text);
std::string describe(const TmpdirChoice& choice);  ///< "disk", "tmpfs", "/var/tmp", "inherited"

/// Something measured: a built-in strategy or an external client.
struct Subject {
  std::string name;                  ///< "whole-body", "streaming", or the client's name
  std::optional<Strategy> strategy;  ///< set for built-in subjects
  ClientSpec client;                 ///< set for external clients
  bool builtin() const { return strategy.has_value(); }
};

/// A package of a suite's dependency tree (`"packages"`): one wheel the index serves.
struct PackageSpec {
  std::string name;  ///< as given (a PEP 508 name); served under its normalized form
  std::uint64_t size_bytes = 0;
  std::vector<std::string> requires_dist;  ///< names of other packages of the suite
};

/// The wheel the index serves for `package` (its METADATA names the requirements).
WheelSpec to_wheel_spec(const PackageSpec& package);

/// Packages a suite may list at most.
inline constexpr std::size_t kMaxPackages = 1000;

/// What a suite file may say; absent fields keep the defaults below.
struct RunOptions {
  std::vector<std::uint64_t> sizes_bytes{500ull << 20};
  std::vector<Subject> subjects;  ///< built-ins first, in suite order, then clients
  std::vector<RunPhase> phases{RunPhase::cold, RunPhase::warm};
  int repeat = 3;
  std::string label;
  std::filesystem::path suite;                               ///< the suite file, if any
  std::filesystem::path out;                                 ///< report path; empty: none written
  ReportFormat format{TableFormat::markdown, std::nullopt};  ///< what stdout gets
  std::optional<Shard> shard;
  Allocator allocator = Allocator::glibc;  ///< built-in subjects'
  /// The library preloaded for Allocator::jemalloc (the build's, from pkg-config).
  std::filesystem::path jemalloc_library = PEAKBENCH_JEMALLOC_SO;
  /// The program built-in subjects run as (`PROGRAM fetch ...`); empty: this executable.
  std::filesystem::path subject_exe;
  double sample_interval_ms = static_cast<double>(kDefaultSampleInterval.count()) / 1000;
  /// Caps each run's memory cgroup (page cache included); a run past it is killed by the kernel
  /// and reported as an out-of-memory kill. Needs a memory cgroup.
  std::optional<std::uint64_t> memory_limit_bytes;
  /// How long a run's processes may outlive its root (`--linger`); past it they are killed and
  /// the run fails, naming them. 0: no limit.
  double linger_s = 30;
  /// keep: a warm run reads the cache its cold run left in the page cache; drop: evicted first.
  PageCachePolicy page_cache = PageCachePolicy::keep;
  std::filesystem::path work_dir;  ///< scratch for caches and outputs; empty: a temp dir
  bool keep_work_dir = false;
  /// The checkout whose commit the report's meta.git records; empty: the first `--pip` source
  /// checkout, else none (never the current directory: that is rarely what was measured).
  std::filesystem::path measured_checkout;
  /// Where wheel hashes are cached between runs (the CLI picks it from XDG_CACHE_HOME or HOME);
  /// empty: not cached.
  std::filesystem::path hash_cache_dir;
  TmpdirChoice tmpdir;
  /// resume: where the server cuts the first response, as a fraction of the body (0 < f < 1).
  double resume_cut_fraction = 0.5;
  /// Copies of the subject run at once on one cache dir, in one cgroup (`--concurrency`).
  int concurrency = 1;
  /// A dependency tree instead of one wheel per size: the first package is what is installed
  /// (sizes_bytes is then its size alone); every other one is required, directly or not, by it.
  /// Built-ins fetch every wheel; the pip preset installs without --no-deps.
  std::vector<PackageSpec> packages;
  /// Whether any package requires another (the pip preset then resolves dependencies).
  bool has_dependencies() const;
};

/// What the command line gave, as strings, before validation. Empty means "not given".
struct RunArgs {
  std::string suite;
  std::string sizes;
  std::string strategies;
  std::string phases;
  std::vector<std::string> clients;
  std::vector<std::string> pips;
  /// pyenv's root (the CLI reads PYENV_ROOT, else ~/.pyenv): where `pyenv:VERSION` pips are.
  std::string pyenv_root;
  std::optional<int> repeat;
  std::string label;
  std::string out;
  std::string format;
  std::string shard;
  std::string allocator;
  std::optional<double> sample_interval_ms;
  std::string memory_limit;
  std::optional<double> linger_s;
  std::string page_cache;
  std::string work_dir;
  bool keep_work_dir = false;
  std::optional<std::string> tmpdir;  ///< given empty: an error
  std::optional<double> resume_cut_fraction;
  std::optional<int> concurrency;
  std::string git_dir;
};

/// Reads the suite (if any), applies the command line over it and validates the whole.
/// Suite format (JSON): {"sizes": ["500MiB"], "strategies": ["whole-body", "streaming"],
/// "phases": ["cold", "warm"], "repeat": 3, "label": "...", "allocator": "glibc",
/// "clients": {"NAME": "TEMPLATE"}, "pips": {"NAME": "PYTHON"}, "tmpdir": "disk|tmpfs|PATH",
/// "resume_cut": 0.5, "concurrency": 1, "packages": [{"name": "app", "size": "512MiB",
/// "requires": ["dep-01"]}, {"name": "dep-01", "size": "8MiB"}]} ("packages" replaces "sizes").
Result<RunOptions> resolve_run_options(const RunArgs& args);

/// The dependency tree of a suite file, checked as resolve_run_options checks it (for `peakbench
/// serve --suite`); a suite without "packages" is an error naming it.
Result<std::vector<PackageSpec>> read_suite_packages(const std::filesystem::path& suite);

}  // namespace peakbench
