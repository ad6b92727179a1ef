#include "harness/measure_run.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "harness/cgroup.h"
#include "harness/host_info.h"

namespace peakbench {

std::map<std::string, MethodAvailability> detect_methods(
    const std::filesystem::path& jemalloc_library) {
  std::map<std::string, MethodAvailability> methods;
  methods["kernel-hwm"] = {true, "wait4 ru_maxrss: the largest single process of the run"};
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

  Sampler sampler(SamplerOptions{options.sample_interval, run.sampler_cpu});
  const auto origin = std::chrono::steady_clock::now();
  run.spawn_monotonic_s = std::chrono::duration<double>(origin.time_since_epoch()).count();
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
    run.sampled = SamplerResult{};  // the timeline is simply absent
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

void fill_run_record(const MeasuredRun& run, const MeasureOptions& options, double timeout_s,
                     RunRecord& record) {
  const ChildResult& child = run.child;
  record.ok = child.succeeded();
  record.exit_status = child.exited ? child.exit_status : 0;
  record.signal = child.signal;
  record.error = describe_failure(child, timeout_s);
  if (run.oom_kills > 0 && !record.ok) {
    record.error = "killed by the out-of-memory killer (" + record.error + ")";
  }
  record.peak_rss = Figure{child.max_rss_bytes, Method::kernel_hwm};
  record.wall_s = child.wall_s;
  record.user_s = child.user_s;
  record.system_s = child.system_s;
  if (run.subject) {
    apply_subject_report(*run.subject, record);
    if (record.subject_peak_rss && record.subject_peak_rss->bytes > record.peak_rss->bytes) {
      record.peak_rss = *record.subject_peak_rss;
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
  if (run.charged_peak_bytes) {
    record.charged_peak = Figure{*run.charged_peak_bytes, Method::cgroup};
  }
  if (!run.sampled.timeline.empty()) {
    const TimelinePoint& peak = run.sampled.peak;
    record.sampled_peak_rss = Figure{peak.rss_bytes, Method::sampled};
    record.sampled_peak_anon = Figure{peak.anon_bytes, Method::sampled};
    record.sampled_peak_file = Figure{peak.file_bytes, Method::sampled};
    record.sampled_peak_shmem = Figure{peak.shmem_bytes, Method::sampled};
    record.timeline = decimate(run.sampled.timeline, options.timeline_points);
  }
}

}  // namespace peakbench
