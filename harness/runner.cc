#include "harness/runner.h"

#include <fmt/format.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/atomic_file.h"
#include "base/size.h"
#include "base/text.h"
#include "fixtures/server.h"
#include "harness/cgroup.h"
#include "harness/host_info.h"
#include "harness/launcher.h"
#include "harness/leftovers.h"
#include "harness/measure_run.h"
#include "harness/page_cache.h"
#include "peakbench/version.h"
#include "reports/table.h"
#include "scenarios/cache_check.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;

/// A run that outlives this is killed and recorded as failed: a hung client must not hang CI.
constexpr double kRunTimeoutS = 900;

/// Everything a run needs that outlives it.
struct Context {
  const RunOptions& options;
  Spawner& spawner;
  FixtureServer& server;
  MeasureOptions measure;
  fs::path self_exe;
  fs::path jemalloc_library;  ///< preloaded into built-in subjects for Allocator::jemalloc
};

std::uint64_t tree_bytes(const fs::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) total += it->file_size(size_ec);
  }
  return total;
}

/// The last non-empty line of a file, for a one-line error.
std::string last_line(const fs::path& path) {
  auto text = read_file(path);
  if (!text) return {};
  std::string_view view = *text;
  while (!view.empty() && (view.back() == '\n' || view.back() == ' ')) view.remove_suffix(1);
  const auto nl = view.rfind('\n');
  return std::string(nl == std::string_view::npos ? view : view.substr(nl + 1));
}

std::string package_name(std::uint64_t size_bytes) {
  return "peakbench_" + format_size(size_bytes);
}

struct RunDirs {
  fs::path cache;
  fs::path target;
  fs::path logs;
};

/// The argv and environment of one run of `subject` against wheel `size_index`.
SpawnRequest build_request(const Context& ctx, const Subject& subject, std::size_t size_index,
                           const RunDirs& dirs, const std::string& log_stem) {
  SpawnRequest request;
  request.stdout_path = dirs.logs / (log_stem + ".stdout");
  request.stderr_path = dirs.logs / (log_stem + ".stderr");
  if (subject.builtin()) {
    // The body is hashed and discarded rather than written with --out: writing it changes no
    // resident figure (page cache is not RSS), but on a busy disk it throttles the writer.
    request.argv = {ctx.self_exe.string(),
                    "fetch",
                    "--strategy",
                    std::string(to_string(*subject.strategy)),
                    "--cache-dir",
                    dirs.cache.string(),
                    ctx.server.file_url(size_index)};
    // A dependency tree: the built-in fetches every wheel of it, the installed one first, into
    // one cache, as pip would download them.
    if (!ctx.options.packages.empty()) {
      for (std::size_t i = 1; i < ctx.server.wheel_count(); ++i) {
        request.argv.push_back(ctx.server.file_url(i));
      }
    }
    if (ctx.options.allocator == Allocator::jemalloc) {
      request.env.emplace_back("LD_PRELOAD", ctx.jemalloc_library.string());
    }
    return request;
  }
  request.report_pipe = false;
  TemplateValues values;
  values.index_url = ctx.server.index_url();
  values.trusted_host = ctx.server.trusted_host();
  values.cache_dir = dirs.cache.string();
  values.work_dir = dirs.target.string();
  values.package = fmt::format("{}=={}", ctx.server.wheel(size_index)->spec().name,
                               ctx.server.wheel(size_index)->spec().version);
  values.python = subject.client.python;
  // Validated when the options were resolved; a failure here is reported by the run.
  auto argv = expand_template(subject.client.command_template, values);
  if (argv) request.argv = std::move(*argv);
  for (const auto& [key, value] : subject.client.env) request.env.emplace_back(key, value);
  return request;
}

/// The lines of `path` that contain `needle`, at most `limit` of them.
std::vector<std::string> lines_with(const fs::path& path, std::string_view needle,
                                    std::size_t limit) {
  std::vector<std::string> found;
  auto text = read_file(path);
  if (!text) {
    return found;
  }
  std::string_view rest = *text;
  while (!rest.empty() && found.size() < limit) {
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (line.find(needle) != std::string_view::npos) {
      found.emplace_back(trim_space(line));
    }
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  }
  return found;
}

/// Notes where the allocator a built-in subject ran with is not the one asked for: a preload
/// that failed leaves glibc running, and the run says so (with the loader's own words).
void note_allocator(const Context& ctx, const SpawnRequest& request, const MeasuredRun& run,
                    RunRecord& record) {
  if (!run.subject) {
    // Copies run at once have no report pipe by design (N writers), and the report says so once.
    if (request.report_pipe) {
      record.notes.push_back(
          "the subject published no report of its own: no allocator, phases or self figure");
    }
    return;
  }
  const std::string asked(to_string(ctx.options.allocator));
  if (record.allocator == asked) {
    return;
  }
  std::string note = fmt::format("{} was asked for but {} ran", asked, record.allocator);
  if (ctx.options.allocator == Allocator::jemalloc) {
    note += fmt::format(" (LD_PRELOAD={} did not load", ctx.jemalloc_library.string());
    for (const std::string& line : lines_with(request.stderr_path, "LD_PRELOAD", 1)) {
      note += ": " + line;
    }
    note += ")";
  }
  record.notes.push_back(std::move(note));
}

/// Measures one run and fills its record: the scenario, the figures (measure_run.h), the server's
/// requests for the file, and the last line of stderr when it failed.
RunRecord measure_one(Context& ctx, const Subject& subject, std::size_t size_index, RunPhase phase,
                      int repetition, const SpawnRequest& request) {
  RunRecord record;
  record.subject = subject.name;
  record.subject_kind = subject.builtin() ? "builtin" : "external";
  record.phase = std::string(to_string(phase));
  record.body_bytes = ctx.options.sizes_bytes[size_index];
  record.repetition = repetition;
  record.command = shell_quote(request.argv);

  SpawnRequest timed = request;
  timed.timeout_s = kRunTimeoutS;
  timed.orphan_grace_s = ctx.options.linger_s;
  auto run = measure_run(ctx.spawner, timed, ctx.measure);
  if (!run) {
    record.ok = false;
    record.error = run.message();
    return record;
  }
  fill_run_record(*run, ctx.measure, kRunTimeoutS, record);
  if (subject.builtin()) {
    note_allocator(ctx, request, *run, record);
  }
  if (!record.ok && !request.stderr_path.empty()) {
    if (std::string tail = last_line(request.stderr_path); !tail.empty()) {
      record.error += ": " + tail;
    }
  }
  const RequestCounts counts = ctx.server.counts();
  if (auto it = counts.by_path.find(ctx.server.file_path(size_index)); it != counts.by_path.end()) {
    for (const auto& [status, n] : it->second) record.file_requests[status] = n;
  }
  // The counts were reset before this run: every request in them is the run's own.
  record.requests = counts.by_kind();
  record.page_types = counts.pages_by_type;
  if (!subject.builtin()) {
    // An external client tells nothing of itself: the server's full responses are its download.
    for (std::size_t i = 0; i < ctx.server.wheel_count(); ++i) {
      record.bytes_received +=
          counts.requests(ctx.server.file_path(i), 200) * ctx.server.wheel(i)->size_bytes();
    }
  }
  return record;
}

fs::path self_exe_path() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("peakbench") : exe;
}

Result<fs::path> make_work_dir(const RunOptions& options) {
  if (!options.work_dir.empty()) {
    std::error_code ec;
    fs::create_directories(options.work_dir, ec);
    if (ec) {
      return Status::Error(
          fmt::format("cannot create work dir {}: {}", options.work_dir.string(), ec.message()));
    }
    fs::path dir = fs::absolute(options.work_dir, ec);
    if (ec) {
      return Status::Error(
          fmt::format("cannot use work dir {}: {}", options.work_dir.string(), ec.message()));
    }
    return dir;
  }
  // temp_directory_path() throws when TMPDIR names no directory: say so instead.
  std::error_code ec;
  const fs::path tmp = fs::temp_directory_path(ec);
  if (ec) return Status::Error(fmt::format("no temporary directory (TMPDIR): {}", ec.message()));
  // The pid in the name lets a later run remove what a killed one left (leftovers.h).
  std::string pattern = (tmp / (work_dir_prefix(::getpid()) + ".XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::Error(fmt::format("cannot create a temporary work dir in {}: {}", tmp.string(),
                                     std::strerror(errno)));
  }
  return fs::path(pattern);
}

/// A Spawner that starts nothing once `stop` is set, and cancels a run that started just as it
/// was set (the other thread's cancel may have reached the launcher before the spawn did).
class StoppableSpawner final : public Spawner {
 public:
  StoppableSpawner(Spawner& inner, const std::atomic<bool>* stop) : inner_(inner), stop_(stop) {}
  bool stopped() const { return stop_ != nullptr && stop_->load(); }
  Result<pid_t> spawn(const SpawnRequest& request) override {
    if (stopped()) return Status::Error("interrupted");
    auto pid = inner_.spawn(request);
    if (pid && stopped()) (void)inner_.cancel();
    return pid;
  }
  Result<ChildResult> wait() override { return inner_.wait(); }
  Status cancel() override { return inner_.cancel(); }
  std::string caveat() const override { return inner_.caveat(); }

 private:
  Spawner& inner_;
  const std::atomic<bool>* stop_;
};

/// Why a fill left nothing a later run could read, or empty when it stored its entry. A
/// built-in subject says what it did (cache_outcome); of an external client only the cache dir
/// tells.
std::string fill_failure(const Subject& subject, const RunRecord& fill, const fs::path& cache_dir,
                         const fs::path& stderr_path) {
  if (subject.builtin() && !fill.cache_outcome.empty()) {
    if (fill.cache_outcome == "miss-stored") return {};
    std::string why = fmt::format("it stored no cache entry ({})", fill.cache_outcome);
    for (const std::string& note : fill.notes) {
      if (note.starts_with(kSubjectWarningNote)) {
        return why + ": " + note.substr(std::strlen(kSubjectWarningNote));
      }
    }
    if (std::string tail = last_line(stderr_path); !tail.empty()) why += ": " + tail;
    return why;
  }
  if (tree_bytes(cache_dir) == 0) {
    std::string why = "its cache dir is empty after the run";
    if (std::string tail = last_line(stderr_path); !tail.empty()) why += ": " + tail;
    return why;
  }
  return {};
}

ReportMeta make_meta(const RunOptions& options) {
  ReportMeta meta;
  meta.peakbench_version = kVersion;
  meta.build_type = PEAKBENCH_BUILD_TYPE;
  meta.peakbench_commit = kGitCommit;
  fs::path checkout = options.measured_checkout;
  for (const Subject& subject : options.subjects) {
    if (checkout.empty() && !subject.builtin()) checkout = subject.client.checkout;
  }
  if (!checkout.empty()) {
    const GitInfo git = read_git_info(checkout);
    meta.git_checkout = checkout.string();
    meta.git_commit = git.commit;
    meta.git_branch = git.branch;
    meta.git_dirty = git.dirty;
  }
  meta.label = options.label;
  meta.host = read_host_info();
  meta.allocator = std::string(to_string(options.allocator));
  meta.methods = detect_methods(options.jemalloc_library);
  if (options.allocator != Allocator::jemalloc) {
    meta.methods["jemalloc"] = {
        false, "built-in subjects ran with glibc malloc (--allocator jemalloc preloads it)"};
  }
  meta.methods["sampled"].detail += fmt::format(", every {} ms", options.sample_interval_ms);
  if (options.memory_limit_bytes) {
    meta.methods["cgroup"].detail += fmt::format("; each run limited to {} (--memory-limit)",
                                                 format_size(*options.memory_limit_bytes));
  }
  // What holds for every run and is not a figure: said once here, not in each run's notes.
  if (options.allocator == Allocator::jemalloc && !meta.methods["jemalloc"].available) {
    meta.notes.push_back("jemalloc was asked for but cannot be preloaded (" +
                         meta.methods["jemalloc"].detail + "): built-in subjects run with glibc");
  }
  for (const char* method : {"cgroup", "sampled", "self"}) {
    if (!meta.methods[method].available) {
      meta.notes.push_back(fmt::format("no {} figures: {}", method, meta.methods[method].detail));
    }
  }
  if (const CpuPlan cpus = plan_cpus(); !cpus.sampler_cpu) {
    meta.notes.push_back("one CPU: the sampler shares it with the subject (no pinning)");
  }
  meta.started_at = iso8601_utc(std::chrono::system_clock::now());
  meta.suite = options.suite.string();
  meta.sample_interval_ms = options.sample_interval_ms;
  meta.page_cache = std::string(to_string(options.page_cache));
  if (options.shard) meta.shard = fmt::format("{}/{}", options.shard->index, options.shard->count);
  return meta;
}

/// A built-in subject's "response not cached: WHY" warnings, as run notes "not cached: WHY".
std::vector<std::string> not_cached_notes(const fs::path& stderr_path) {
  std::vector<std::string> notes;
  auto text = read_file(stderr_path);
  if (!text) return notes;
  constexpr std::string_view kMark = "response not cached: ";
  std::string_view rest = *text;
  while (!rest.empty()) {
    const std::size_t nl = std::min(rest.find('\n'), rest.size());
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(std::min(nl + 1, rest.size()));
    if (const std::size_t at = line.find(kMark); at != std::string_view::npos) {
      notes.push_back("not cached: " + std::string(line.substr(at + kMark.size())));
    }
  }
  return notes;
}

/// The headers and faults of a planned run's variant. `body_bytes`: the file's size (resume cuts
/// a fraction of it).
std::pair<HeaderVariant, FaultPlan> served(ServedVariant variant, std::uint64_t body_bytes,
                                           double cut_fraction) {
  HeaderVariant headers;
  FaultPlan faults;
  switch (variant) {
    case ServedVariant::pypi:
      break;
    case ServedVariant::stale:
      headers.file_cache_control = "max-age=0";
      break;
    case ServedVariant::expired_no_validator:
      headers.file_cache_control = "max-age=60, public";
      headers.send_etag = false;
      headers.send_last_modified = false;
      headers.date_offset_s = -3600;
      break;
    case ServedVariant::no_store:
      headers.file_cache_control = "no-store";
      break;
    case ServedVariant::vary_user_agent:
      headers.vary = "User-Agent";
      break;
    case ServedVariant::cut_once:
      faults.cut_after_bytes =
          static_cast<std::uint64_t>(static_cast<double>(body_bytes) * cut_fraction);
      faults.times = 1;
      break;
    case ServedVariant::chunked:
      headers.chunked = true;
      break;
  }
  return {headers, faults};
}

/// A run's private temp dir (`--tmpdir`), removed (and unmounted) when it goes.
class RunTmpdir {
 public:
  static Result<RunTmpdir> make(const TmpdirChoice& choice, const fs::path& work_dir,
                                const std::string& stem) {
    RunTmpdir dir;
    std::error_code ec;
    switch (choice.kind) {
      case TmpdirChoice::Kind::inherit:
        return dir;
      case TmpdirChoice::Kind::disk:
      case TmpdirChoice::Kind::path: {
        const fs::path parent = choice.kind == TmpdirChoice::Kind::disk ? work_dir : choice.path;
        std::string pattern = (parent / ("peakbench-tmp-" + stem + ".XXXXXX")).string();
        if (::mkdtemp(pattern.data()) == nullptr) {
          return Status::Error(fmt::format("cannot create a temp dir in {}: {}", parent.string(),
                                           std::strerror(errno)));
        }
        dir.path_ = pattern;
        dir.detail_ = fmt::format("TMPDIR {} ({})", pattern, describe(choice));
        return dir;
      }
      case TmpdirChoice::Kind::tmpfs: {
        const fs::path mount_point = work_dir / ("tmpfs-" + stem);
        fs::create_directories(mount_point, ec);
        if (!ec && ::mount("tmpfs", mount_point.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                           "mode=0700") == 0) {
          dir.path_ = mount_point;
          dir.mounted_ = true;
          dir.detail_ = fmt::format("TMPDIR {} (a private tmpfs mount)", mount_point.string());
          return dir;
        }
        const std::string why = ec ? ec.message() : std::strerror(errno);
        fs::remove(mount_point, ec);
        std::string pattern = "/dev/shm/peakbench-tmp-" + stem + ".XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) {
          return Status::Error(fmt::format("--tmpdir tmpfs: no tmpfs mount ({}) and no {}: {}", why,
                                           pattern, std::strerror(errno)));
        }
        dir.path_ = pattern;
        dir.detail_ =
            fmt::format("TMPDIR {} (in /dev/shm: mounting a tmpfs failed: {})", pattern, why);
        return dir;
      }
    }
    return dir;
  }
  RunTmpdir() = default;
  RunTmpdir(RunTmpdir&& other) noexcept
      : path_(std::exchange(other.path_, {})),
        detail_(std::move(other.detail_)),
        mounted_(std::exchange(other.mounted_, false)) {}
  RunTmpdir& operator=(RunTmpdir&&) = delete;
  ~RunTmpdir() {
    if (path_.empty()) return;
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  const std::string& detail() const { return detail_; }

 private:
  fs::path path_;
  std::string detail_;
  bool mounted_ = false;
};

/// N copies of `copies[0]`'s run at once: one `sh` that starts each copy's argv in the background
/// and exits 1 when any failed. They share the cgroup, the launcher (which reaps all: its wait4
/// mark is the largest process) and the logs; a built-in's report pipe is off (N writers).
SpawnRequest concurrent_request(const std::vector<SpawnRequest>& copies) {
  SpawnRequest joined = copies.front();
  std::string script = "pids=''; ";
  for (const SpawnRequest& copy : copies) {
    script += shell_quote(copy.argv) + " & pids=\"$pids $!\"; ";
  }
  script += "rc=0; for p in $pids; do wait \"$p\" || rc=1; done; exit $rc";
  joined.argv = {"/bin/sh", "-c", script};
  joined.report_pipe = false;
  return joined;
}

/// What a planned run adds to its request beyond the subject's template: the temp dir, and for a
/// vary-miss fill a User-Agent unlike the measured run's (pip: its user_data field).
void add_run_conditions(const PlannedRun& run, const Subject& subject, const RunTmpdir& tmpdir,
                        SpawnRequest& request) {
  if (!tmpdir.path().empty()) request.env.emplace_back("TMPDIR", tmpdir.path().string());
  if (!run.vary_fill) return;
  if (subject.builtin() && request.argv.size() > 2) {
    request.argv.insert(request.argv.end() - 1, {"--user-agent", "peakbench-vary-fill"});
  } else {
    request.env.emplace_back("PIP_USER_AGENT_USER_DATA", "peakbench-vary-fill");
  }
}

}  // namespace

Result<SuiteOutcome> run_suite(const RunOptions& options, Spawner& outer_spawner,
                               RunObserver& observer, const std::atomic<bool>* stop) {
  StoppableSpawner spawner(outer_spawner, stop);
  if (const CgroupSupport& cgroups = memory_cgroup_support();
      options.memory_limit_bytes && !cgroups.availability.available) {
    return Status::Error("--memory-limit needs a memory cgroup: " + cgroups.availability.detail);
  }

  auto work_dir = make_work_dir(options);
  if (!work_dir) return work_dir.status();
  struct Cleanup {
    fs::path dir;
    bool keep;
    ~Cleanup() {
      std::error_code ec;
      if (!keep) fs::remove_all(dir, ec);
    }
  } cleanup{*work_dir, options.keep_work_dir};

  ServerOptions server_options;
  server_options.hash_cache_dir = options.hash_cache_dir;
  std::error_code ec;
  if (!server_options.hash_cache_dir.empty()) {
    fs::create_directories(server_options.hash_cache_dir, ec);
  }
  if (ec) server_options.hash_cache_dir.clear();
  if (!options.packages.empty()) {
    for (const PackageSpec& package : options.packages) {
      server_options.wheels.push_back(to_wheel_spec(package));
    }
  } else {
    for (std::uint64_t size : options.sizes_bytes) {
      WheelSpec spec;
      spec.name = package_name(size);
      spec.size_bytes = size;
      server_options.wheels.push_back(spec);
    }
  }
  observer.preparing();
  auto server = FixtureServer::start(server_options);
  if (!server) return server.status();
  observer.serving([s = server->get()] { return s->body_bytes_sent(); });

  MeasureOptions measure;
  measure.sample_interval =
      std::chrono::microseconds(static_cast<std::int64_t>(options.sample_interval_ms * 1000));
  measure.memory_limit_bytes = options.memory_limit_bytes;
  Context ctx{options,
              spawner,
              **server,
              measure,
              options.subject_exe.empty() ? self_exe_path() : options.subject_exe,
              options.jemalloc_library};

  SuiteOutcome outcome;
  outcome.work_dir = *work_dir;
  Report& report = outcome.report;
  report.meta = make_meta(options);
  for (const PackageSpec& package : options.packages) {
    report.meta.packages.push_back(
        PackageInfo{package.name, package.size_bytes, package.requires_dist});
  }
  if (options.concurrency > 1) {
    report.meta.notes.push_back(fmt::format(
        "--concurrency {}: each run is {} copies at once on one cache dir, in one cgroup; peak "
        "(kernel-hwm) is the largest process, sampled the tree total, charged the cgroup's",
        options.concurrency, options.concurrency));
  }
  if (options.tmpdir.kind != TmpdirChoice::Kind::inherit) {
    report.meta.notes.push_back(
        fmt::format("client temp dir (TMPDIR): {}, a private one per run (--tmpdir)",
                    describe(options.tmpdir)));
  }
  if (!options.out.empty()) {
    if (Status s = write_report(options.out, report); !s) return s;
  }

  const std::vector<PlannedRun> plan = plan_suite(options, *work_dir);
  const std::size_t total = measured_runs(plan);
  outcome.runs_planned = total;
  std::size_t index = 0;
  std::vector<bool> is_fill(plan.size(), false);
  for (const PlannedRun& run : plan) {
    if (run.needs) is_fill[*run.needs] = true;
  }
  std::vector<RunRecord> done(plan.size());  // every run's record, measured or not
  const fs::path logs = *work_dir / "logs";

  auto keep = [&](RunRecord record) {
    ++outcome.runs_done;
    observer.run_finished(record);
    outcome.any_failed = outcome.any_failed || !record.ok;
    report.runs.push_back(std::move(record));
    if (!options.out.empty()) {
      if (Status s = write_report(options.out, report); !s) {
        report.meta.notes.push_back("the report could not be rewritten after a run: " +
                                    s.message());
        observer.warning(s.message());
      }
    }
  };
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (spawner.stopped()) {
      outcome.interrupted = true;
      break;
    }
    const PlannedRun& run = plan[i];
    const Subject& subject = options.subjects[run.subject_index];
    if (run.measured) observer.run_started(run, ++index, total);
    if (run.needs && !done[*run.needs].ok) {
      // A run that needs a filled cache is not measured when the fill failed: it would measure
      // a download under the name of a cache read. It is a failed run that says why.
      const RunRecord& fill = done[*run.needs];
      RunRecord record;
      record.subject = fill.subject;
      record.subject_kind = fill.subject_kind;
      record.phase = std::string(to_string(run.phase));
      record.body_bytes = fill.body_bytes;
      record.repetition = fill.repetition;
      record.command = fill.command;
      record.ok = false;
      record.error = "not run: the cold run that fills its cache failed: " + fill.error;
      done[i] = record;
      if (run.measured) keep(std::move(record));
    } else {
      RunDirs dirs{run.cache_dir, run.target_dir, logs};
      fs::remove_all(dirs.target, ec);
      fs::create_directories(dirs.target, ec);
      fs::create_directories(dirs.cache, ec);
      fs::create_directories(dirs.logs, ec);
      if (run.needs && options.page_cache == PageCachePolicy::drop) {
        if (auto evicted = evict_page_cache(dirs.cache); !evicted) {
          observer.warning("--page-cache drop: " + evicted.message());
        }
      }
      const auto [headers, faults] =
          served(run.variant, options.sizes_bytes[run.size_index], options.resume_cut_fraction);
      ctx.server.set_variant(headers);
      ctx.server.set_faults(faults);
      ctx.server.reset_counts();
      SpawnRequest request = build_request(ctx, subject, run.size_index, dirs, run.log_stem);
      if (options.concurrency > 1) {
        std::vector<SpawnRequest> copies;
        for (int c = 0; c < options.concurrency; ++c) {
          RunDirs own = dirs;
          own.target = dirs.target / fmt::format("copy-{}", c);
          fs::create_directories(own.target, ec);
          copies.push_back(build_request(ctx, subject, run.size_index, own, run.log_stem));
        }
        request = concurrent_request(copies);
      }
      auto tmpdir = RunTmpdir::make(options.tmpdir, *work_dir, run.log_stem);
      if (!tmpdir) return tmpdir.status();
      add_run_conditions(run, subject, *tmpdir, request);
      RunRecord record =
          measure_one(ctx, subject, run.size_index, run.phase, run.repetition, request);
      record.cache_bytes_on_disk = tree_bytes(dirs.cache);
      if (!tmpdir->detail().empty()) record.notes.push_back(tmpdir->detail());
      if (options.concurrency > 1 && record.ok) {
        // The shared cache after N writers: every entry whole and readable, nothing half-written.
        const CacheCheck check = check_cache_dir(dirs.cache);
        if (check.ok()) {
          record.notes.push_back(fmt::format(
              "{} copies at once on one cache: peak is the largest process; sampled is the tree "
              "total; cache checked: {} complete entries, no temporary file",
              options.concurrency, check.entries));
        } else {
          record.ok = false;
          record.error = fmt::format("cache inconsistent after {} concurrent copies: {}",
                                     options.concurrency, check.problems.front());
          for (const std::string& problem : check.problems) record.notes.push_back(problem);
        }
      }
      if (subject.builtin()) {
        for (std::string& note : not_cached_notes(request.stderr_path)) {
          record.notes.push_back(std::move(note));
        }
      }
      if (run.variant != ServedVariant::pypi && run.variant != ServedVariant::stale) {
        record.notes.push_back(fmt::format("served: {}", to_string(run.variant)));
      }
      if (auto expected = expected_outcome(run.phase, subject.strategy); expected && record.ok) {
        if (auto differs = check_outcome(*expected, record.file_requests,
                                         record.cache_bytes_on_disk, record.body_bytes)) {
          record.notes.push_back(*differs);
        }
      }
      fs::remove_all(dirs.target, ec);  // the installed wheel: large, and no longer needed
      if (spawner.stopped() && !record.ok) {
        // Killed by the cancel: not a measurement, and not a failure of the subject.
        outcome.interrupted = true;
        break;
      }
      // A response served with no-store is meant to leave nothing: its next run downloads again.
      if (record.ok && is_fill[i] && run.variant != ServedVariant::no_store) {
        // A cold run that stored nothing (a full disk, say) fills no cache: what reads it
        // would measure a download under the name of a cache read.
        if (std::string why = fill_failure(subject, record, dirs.cache, request.stderr_path);
            !why.empty()) {
          record.ok = false;
          record.error = "a failed cache fill: " + why;
          observer.warning(fmt::format("{}: {}; the runs that read its cache are not measured",
                                       run.describe(options), record.error));
        }
      }
      done[i] = record;
      if (run.measured) keep(std::move(record));
    }
    if (run.remove_cache_after) fs::remove_all(run.cache_dir, ec);
  }
  ctx.server.set_variant(HeaderVariant{});
  ctx.server.set_faults(FaultPlan{});
  if (outcome.interrupted) {
    report.meta.notes.push_back(
        fmt::format("interrupted: {} of {} measured runs finished; the others did not run",
                    outcome.runs_done, outcome.runs_planned));
  }

  if (!options.out.empty()) {
    // The runs are kept whatever happens here: the caller still prints their table.
    if (Status s = write_report(options.out, report); !s) outcome.report_error = s.message();
  }
  return outcome;
}

}  // namespace peakbench
