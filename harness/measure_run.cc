#include "harness/measure_run.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "harness/cgroup.h"
#include "harness/host_info.h"
#include "harness/taskstats.h"

namespace peakbench {

std::map<std::string, MethodAvailability> detect_methods(
    const std::filesystem::path& jemalloc_library) {
  std::map<std::string, MethodAvailability> methods;
  methods["kernel-hwm"] = {true,
                           "wait4 ru_maxrss of the root and of every orphan the launcher reaps"};
  // The launcher listens for the run's exits; the same registration here says whether it can.
  Result<TaskstatsListener> taskstats = TaskstatsListener::open();
  methods["taskstats"] = {taskstats.ok(),
                          taskstats ? "taskstats exit records (generic netlink, hiwater_rss) of "
                                      "every process of the run's tree"
                                    : taskstats.message()};
  // The probe resets VmHWM per phase through its own clear_refs; without write access the phase
  // peaks would include everything before them.
  bool clear_refs = ::access("/proc/self/clear_refs", W_OK) == 0;
  methods["self"] = {clear_refs, clear_refs
                                     ? "VmHWM inside the built-in subject, reset per phase by "
                                       "/proc/self/clear_refs"
                                     : "/proc/self/clear_refs is not writable"};
  // Without CONFIG_PROC_CHILDREN the sampler would see the root process only.
  std::string children = "/proc/self/task/" + std::to_string(::gettid()) + "/children";
  bool tree = ::access(children.c_str(), R_OK) == 0;
  methods["sampled"] = {
      tree, tree ? "/proc/PID/status summed over /proc/PID/task/TID/children"
                 : "no /proc/PID/task/TID/children (kernel without CONFIG_PROC_CHILDREN)"};
  methods["cgroup"] = memory_cgroup_support().availability;
  bool jemalloc = preload_loads(jemalloc_library.string());
  methods["jemalloc"] = {jemalloc, jemalloc
                                       ? "thread.peak of the subject's main thread, "
                                         "preloading " +
                                             jemalloc_library.string()
                                       : "the loader cannot preload '" + jemalloc_library.string() +
                                             "' (install libjemalloc2)"};
  return methods;
}

Result<MeasuredRun> measure_run(Spawner& launcher, SpawnRequest request,
                                const MeasureOptions& options) {
  MeasuredRun run;
  run.launcher_caveat = launcher.caveat();
  if (options.pin) {
    CpuPlan plan = plan_cpus();
    if (!request.cpu) {
      request.cpu = plan.subject_cpu;
    }
    // The sampler keeps off the subject's CPU only when the subject is pinned somewhere else.
    if (plan.sampler_cpu && request.cpu != plan.sampler_cpu) {
      run.sampler_cpu = plan.sampler_cpu;
    }
  }
  run.subject_cpu = request.cpu;

  // Made before the spawn, joined by the child before exec: every page of its image is charged.
  std::optional<MemoryCgroup> cgroup;
  if (options.charged_memory && memory_cgroup_support().availability.available) {
    Result<MemoryCgroup> made = MemoryCgroup::create(memory_cgroup_support());
    if (made) {
      cgroup.emplace(std::move(made).value());
      request.cgroup_procs = cgroup->procs_file();
    } else {
      run.charged_error = made.message();
    }
  }
  if (options.memory_limit_bytes) {
    // A limit that cannot be applied would measure an unlimited run under a limited name.
    Status limited =
        cgroup ? cgroup->set_limit(*options.memory_limit_bytes)
               : Status::Error("no memory cgroup for the run" +
                               (run.charged_error.empty() ? "" : ": " + run.charged_error));
    if (!limited) {
      return Status::Error("cannot apply the memory limit: " + limited.message());
    }
  }

  SamplerOptions sampling_options;
  sampling_options.interval = options.sample_interval;
  sampling_options.cpu = run.sampler_cpu;
  if (cgroup) {
    sampling_options.cgroup_dir = cgroup->dir();
    sampling_options.cgroup_version = cgroup->version();
  }
  Sampler sampler(sampling_options);
  const auto origin = std::chrono::steady_clock::now();
  run.spawn_monotonic_s = std::chrono::duration<double>(origin.time_since_epoch()).count();
  run.linger_s = request.orphan_grace_s;
  Result<pid_t> pid = launcher.spawn(request);
  if (!pid) {
    return pid.status();
  }
  Status sampling = sampler.start(*pid, origin);
  Result<ChildResult> child = launcher.wait();
  run.sampled = sampler.stop();
  if (!child) {
    return child.status();
  }
  run.child = std::move(child).value();
  if (!sampling) {
    run.sampled = SamplerResult{};  // the timeline is absent, and a note says why
    run.sampler_error = sampling.message();
  }

  if (cgroup) {
    Result<std::uint64_t> peak = cgroup->peak_bytes();
    if (peak) {
      run.charged_peak_bytes = *peak;
    } else {
      run.charged_error = peak.message();
    }
    if (Result<std::uint64_t> kills = cgroup->oom_kills(); kills) {
      run.oom_kills = *kills;
    }
    Status removed = cgroup->remove();
    if (!removed && run.charged_error.empty()) {
      run.charged_error = removed.message();
    }
  }

  if (!run.child.report_text.empty()) {
    Result<SubjectReport> subject = parse_subject_report(run.child.report_text);
    if (subject) {
      run.subject = std::move(subject).value();
    } else {
      run.subject_report_error = subject.message();
    }
  }
  return run;
}

namespace {

constexpr std::uint64_t kSelfSlackBytes = 1 << 20;

std::string plural(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string describe_exit(const ChildResult& child) {
  return child.exited ? "exited with status " + std::to_string(child.exit_status) : "ended";
}

}  // namespace

std::string late_sampling_note(const SamplerResult& sampled, std::chrono::microseconds interval,
                               double wall_s) {
  if (sampled.samples == 0 || interval.count() <= 0) return {};
  const bool many_late = sampled.missed_deadlines * 10 >= sampled.samples;
  const double gap_s = std::chrono::duration<double>(sampled.longest_gap).count();
  const bool long_gap = sampled.longest_gap > 2 * interval && gap_s >= 0.05 * wall_s;
  if (!many_late && !long_gap) return {};
  return fmt::format(
      "the sampler fell behind: {} of {} started late and the longest gap between two was "
      "{:.1f} ms (interval {} us); the timeline and sampled figures may miss a peak that short",
      sampled.missed_deadlines, plural(sampled.samples, "sample", "samples"), gap_s * 1e3,
      interval.count());
}

std::string describe_failure(const ChildResult& child, double timeout_s) {
  if (child.timed_out) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", timeout_s);
    return std::string("timed out after ") + seconds + " s and killed";
  }
  if (child.signal) {
    const char* name = ::strsignal(*child.signal);
    return "killed by signal " + std::to_string(*child.signal) + " (" + (name ? name : "?") + ")" +
           (child.core_dumped ? ", core dumped" : "");
  }
  if (child.exited && child.exit_status != 0) {
    return "exit status " + std::to_string(child.exit_status);
  }
  return {};
}

void apply_process_tree(const MeasuredRun& run, RunRecord& record) {
  const ChildResult& child = run.child;
  if (child.largest_process) {
    const ProcessPeak& p = *child.largest_process;
    Method method =
        child.tree_source == TreeSource::taskstats ? Method::taskstats : Method::kernel_hwm;
    record.largest_process =
        LargestProcess{p.pid, p.comm, p.argv0, Figure{p.peak_rss_bytes, method}};
    // The exit record names the root's argv[0] only; the samples saw the others'.
    if (record.largest_process->argv0.empty()) {
      if (auto it = run.sampled.argv0_by_pid.find(p.pid); it != run.sampled.argv0_by_pid.end()) {
        record.largest_process->argv0 = it->second;
      }
    }
    record.peak_rss = record.largest_process->peak_rss;
  }
  record.process_count = child.process_count;
  if (child.tree_source != TreeSource::taskstats) {
    record.notes.push_back(
        (child.taskstats_note.empty() ? std::string("taskstats unavailable")
                                      : child.taskstats_note) +
        "; the tree's processes are seen by wait4 only (the root and the orphans the launcher "
        "reaped): a child reaped by its own parent counts only in that parent's figure, and an "
        "auto-reaped child not at all");
  }
  if (!child.lingerers_killed.empty()) {
    std::string names;
    for (const KilledProcess& k : child.lingerers_killed) {
      names += (names.empty() ? "" : ", ") + std::string("pid ") + std::to_string(k.pid) + " (" +
               (k.comm.empty() ? "?" : k.comm) + ")";
    }
    char grace[32];
    std::snprintf(grace, sizeof grace, "%g", run.linger_s);
    std::string what =
        names + " still running " + grace + " s after the root process exited (--linger); killed";
    record.notes.push_back(what);
    if (record.ok) {
      record.ok = false;
      record.error = what;
    }
  }
}

void fill_run_record(const MeasuredRun& run, const MeasureOptions& options, double timeout_s,
                     RunRecord& record) {
  const ChildResult& child = run.child;
  record.ok = child.succeeded();
  record.exit_status = child.exited ? child.exit_status : 0;
  record.signal = child.signal;
  record.error = describe_failure(child, timeout_s);
  if (run.oom_kills > 0) {
    // A kill anywhere in the tree fails the run, whatever the root's exit status: the root may
    // well carry on after a worker died. The kernel log would name the process but is not ours
    // to read; the root is named when it was the one killed.
    const bool root_killed = child.signal && *child.signal == SIGKILL;
    std::string who = root_killed ? "the root process was" : "a process of the run's tree was";
    record.error = who + " killed by the out-of-memory killer (" + std::to_string(run.oom_kills) +
                   " kill" + (run.oom_kills == 1 ? "" : "s") + " in the run's cgroup)" +
                   (record.error.empty() ? "; the root " + describe_exit(child)
                                         : "; the root: " + record.error);
    record.ok = false;
  }
  record.peak_rss = Figure{child.max_rss_bytes, Method::kernel_hwm};
  apply_process_tree(run, record);
  record.wall_s = child.wall_s;
  record.user_s = child.user_s;
  record.system_s = child.system_s;
  std::vector<std::string>& notes = record.notes;
  if (run.subject) {
    apply_subject_report(*run.subject, record);
    // One method for every built-in run that reported: its own maximum, never "whichever is
    // higher", so that a scenario's median never mixes two methods.
    record.peak_rss = *record.subject_peak_rss;
    record.allocator = run.subject->allocator;
    // wait4 reads some 60-70 KiB over self (the probe's JSON, written after its last mark);
    // past kSelfSlackBytes the subject grew after that mark, and the run says so.
    if (child.max_rss_bytes > run.subject->peak_rss_bytes + kSelfSlackBytes) {
      notes.push_back(fmt::format(
          "wait4 saw {} KiB more than the subject's own maximum (kernel-hwm {} KiB, self {} KiB): "
          "the subject grew after its last mark",
          (child.max_rss_bytes - run.subject->peak_rss_bytes) / 1024, child.max_rss_bytes / 1024,
          run.subject->peak_rss_bytes / 1024));
    }
    if (run.subject->hwm_reset_failed) {
      notes.push_back(
          "the subject could not reset VmHWM (/proc/self/clear_refs): its phase peaks include "
          "what came before each phase");
    }
    // The probe counts from its own start; the timeline from the spawn. Same clock, so shift.
    if (run.subject->origin_monotonic_s > 0 && run.spawn_monotonic_s > 0) {
      double offset_s = run.subject->origin_monotonic_s - run.spawn_monotonic_s;
      for (PhasePeak& phase : record.phases) {
        phase.start_s += offset_s;
        phase.end_s += offset_s;
      }
    }
  }
  if (!run.subject_report_error.empty()) {
    notes.push_back(
        "the subject's own report was unreadable, so its peak is its largest process's: " +
        run.subject_report_error);
  }
  if (child.report_truncated) {
    notes.push_back(fmt::format("the subject's report was cut at {} bytes", kMaxReportBytes));
  }
  if (run.charged_peak_bytes) {
    record.charged_peak = Figure{*run.charged_peak_bytes, Method::cgroup};
  }
  if (!run.charged_error.empty()) {
    notes.push_back("charged memory (cgroup): " + run.charged_error);
  }
  if (!run.sampled.timeline.empty()) {
    const TimelinePoint& peak = run.sampled.peak;
    record.sampled_peak_rss = Figure{peak.rss_bytes, Method::sampled};
    record.sampled_peak_anon = Figure{peak.anon_bytes, Method::sampled};
    record.sampled_peak_file = Figure{peak.file_bytes, Method::sampled};
    record.sampled_peak_shmem = Figure{peak.shmem_bytes, Method::sampled};
    record.timeline = decimate(run.sampled.timeline, options.timeline_points);
    const TimelinePoint& tree = run.sampled.tree_peak;
    const Method method = run.sampled.tree_from_cgroup ? Method::cgroup : Method::sampled;
    record.tree_peak_rss = Figure{tree.rss_bytes, method};
    record.tree_peak_anon = Figure{tree.anon_bytes, method};
    record.tree_peak_file = Figure{tree.file_bytes, method};
    record.tree_peak_shmem = Figure{tree.shmem_bytes, method};
    if (!run.sampled.tree_from_cgroup) {
      record.notes.push_back(
          "tree figures are sums of /proc/PID/status over the processes (no memory cgroup" +
          (run.sampled.cgroup_error.empty() ? std::string(")")
                                            : ": " + run.sampled.cgroup_error + ")") +
          ": shared, copy-on-write and vfork pages may count more than once");
    }
  }
  if (!run.sampler_error.empty()) {
    notes.push_back("no timeline: the sampler did not start: " + run.sampler_error);
  }
  if (std::string late = late_sampling_note(run.sampled, options.sample_interval, child.wall_s);
      !late.empty()) {
    notes.push_back(std::move(late));
  }
  if (!run.launcher_caveat.empty()) notes.push_back(run.launcher_caveat);
  if (child.orphans_reaped > 0) {
    notes.push_back(fmt::format(
        "{} left by the run came to the launcher and were reaped{}",
        plural(static_cast<std::uint64_t>(child.orphans_reaped), "orphan", "orphans"),
        child.orphans_killed > 0 ? fmt::format(", {} of them killed", child.orphans_killed)
                                 : std::string()));
  }
}

}  // namespace peakbench
