#include "harness/runner.h"

#include <fmt/format.h>
#include <limits.h>
#include <stdlib.h>
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
#include "fixtures/server.h"
#include "harness/cgroup.h"
#include "harness/host_info.h"
#include "harness/launcher.h"
#include "harness/measure_run.h"
#include "peakbench/version.h"
#include "reports/table.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;

/// A run that outlives this is killed and recorded as failed: a hung client must not hang CI.
constexpr double kRunTimeoutS = 900;
/// Timeline points kept per run in the report.
constexpr std::size_t kTimelinePoints = 300;

/// Everything a run needs that outlives it.
struct Context {
  const RunOptions& options;
  Spawner& spawner;
  FixtureServer& server;
  MeasureOptions measure;
  fs::path self_exe;
};

std::string shell_quote(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& word : argv) {
    if (!out.empty()) out += ' ';
    if (!word.empty() &&
        word.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") ==
            std::string::npos) {
      out += word;
    } else {
      out += '\'';
      for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

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
    if (ctx.options.allocator == "jemalloc")
      request.env.emplace_back("LD_PRELOAD", PEAKBENCH_JEMALLOC_SO);
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
  auto run = measure_run(ctx.spawner, timed, ctx.measure);
  if (!run) {
    record.ok = false;
    record.error = run.message();
    return record;
  }
  fill_run_record(*run, ctx.measure, kRunTimeoutS, record);
  if (!record.ok && !request.stderr_path.empty()) {
    if (std::string tail = last_line(request.stderr_path); !tail.empty())
      record.error += ": " + tail;
  }
  const RequestCounts counts = ctx.server.counts();
  if (auto it = counts.by_path.find(ctx.server.file_path(size_index)); it != counts.by_path.end()) {
    for (const auto& [status, n] : it->second) record.file_requests[status] = n;
  }
  if (!subject.builtin()) {
    // An external client tells nothing of itself: the server's full responses are its download.
    auto full = record.file_requests.find(200);
    record.bytes_received =
        full == record.file_requests.end() ? 0 : full->second * record.body_bytes;
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
    if (ec)
      return Status::Error(
          fmt::format("cannot create work dir {}: {}", options.work_dir.string(), ec.message()));
    return fs::absolute(options.work_dir);
  }
  std::string pattern = (fs::temp_directory_path() / "peakbench-run.XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    return Status::Error("cannot create a temporary work dir");
  return fs::path(pattern);
}

ReportMeta make_meta(const RunOptions& options) {
  ReportMeta meta;
  meta.peakbench_version = kVersion;
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
  meta.allocator = options.allocator;
  meta.methods = detect_methods(PEAKBENCH_JEMALLOC_SO);
  if (options.allocator != "jemalloc") {
    meta.methods["jemalloc"] = {
        false, "built-in subjects ran with glibc malloc (--allocator jemalloc preloads it)"};
  }
  meta.methods["sampled"].detail += fmt::format(", every {} ms", options.sample_interval_ms);
  if (options.memory_limit_bytes) {
    meta.methods["cgroup"].detail += fmt::format("; each run limited to {} (--memory-limit)",
                                                 format_size(*options.memory_limit_bytes));
  }
  meta.started_at = iso8601_utc(std::chrono::system_clock::now());
  meta.suite = options.suite.string();
  meta.sample_interval_ms = options.sample_interval_ms;
  if (options.shard) meta.shard = fmt::format("{}/{}", options.shard->index, options.shard->count);
  return meta;
}

}  // namespace

Result<SuiteOutcome> run_suite(const RunOptions& options, Spawner& spawner, RunObserver& observer) {
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
  if (!server_options.hash_cache_dir.empty())
    fs::create_directories(server_options.hash_cache_dir, ec);
  if (ec) server_options.hash_cache_dir.clear();
  for (std::uint64_t size : options.sizes_bytes) {
    WheelSpec spec;
    spec.name = package_name(size);
    spec.size_bytes = size;
    server_options.wheels.push_back(spec);
  }
  observer.preparing();
  auto server = FixtureServer::start(server_options);
  if (!server) return server.status();
  observer.serving([s = server->get()] { return s->body_bytes_sent(); });

  MeasureOptions measure;
  measure.sample_interval =
      std::chrono::microseconds(static_cast<std::int64_t>(options.sample_interval_ms * 1000));
  measure.timeline_points = kTimelinePoints;
  measure.memory_limit_bytes = options.memory_limit_bytes;
  Context ctx{options, spawner, **server, measure, self_exe_path()};

  SuiteOutcome outcome;
  outcome.work_dir = *work_dir;
  Report& report = outcome.report;
  report.meta = make_meta(options);
  if (!options.out.empty()) {
    if (Status s = write_report(options.out, report); !s) return s;
  }

  const std::vector<PlannedRun> plan = plan_suite(options, *work_dir);
  const std::size_t total = measured_runs(plan);
  std::size_t index = 0;
  std::vector<RunRecord> done(plan.size());  // every run's record, measured or not
  const fs::path logs = *work_dir / "logs";
  HeaderVariant stale_variant;
  stale_variant.file_cache_control = "max-age=0";

  auto keep = [&](RunRecord record) {
    observer.run_finished(record);
    outcome.any_failed = outcome.any_failed || !record.ok;
    report.runs.push_back(std::move(record));
    if (!options.out.empty()) {
      if (Status s = write_report(options.out, report); !s) observer.warning(s.message());
    }
  };
  for (std::size_t i = 0; i < plan.size(); ++i) {
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
      ctx.server.set_variant(run.variant == ServedVariant::stale ? stale_variant : HeaderVariant{});
      ctx.server.reset_counts();
      SpawnRequest request = build_request(ctx, subject, run.size_index, dirs, run.log_stem);
      RunRecord record =
          measure_one(ctx, subject, run.size_index, run.phase, run.repetition, request);
      record.cache_bytes_on_disk = tree_bytes(dirs.cache);
      fs::remove_all(dirs.target, ec);  // the installed wheel: large, and no longer needed
      done[i] = record;
      if (run.measured) keep(std::move(record));
    }
    if (run.remove_cache_after) fs::remove_all(run.cache_dir, ec);
  }
  ctx.server.set_variant(HeaderVariant{});

  if (!options.out.empty()) {
    if (Status s = write_report(options.out, report); !s) return s;
  }
  return outcome;
}

}  // namespace peakbench
