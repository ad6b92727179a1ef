#include "harness/sampler.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "harness/proc_status.h"

namespace peakbench {
namespace {

double seconds_between(std::chrono::steady_clock::time_point from,
                       std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

TreeMemory read_tree_memory(pid_t root, std::vector<pid_t>& scratch) {
  TreeMemory sum;
  scratch.clear();
  scratch.push_back(root);
  // Breadth-first over a growing list; a process that vanished mid-read is simply skipped.
  for (std::size_t i = 0; i < scratch.size(); ++i) {
    pid_t pid = scratch[i];
    std::optional<ProcMemory> mem = read_proc_memory(pid);
    if (!mem) {
      continue;
    }
    ++sum.processes;
    sum.anon_bytes += mem->rss_anon_bytes;
    sum.file_bytes += mem->rss_file_bytes;
    sum.shmem_bytes += mem->rss_shmem_bytes;
    append_children_of(pid, scratch);
  }
  sum.rss_bytes = sum.anon_bytes + sum.file_bytes + sum.shmem_bytes;
  return sum;
}

Sampler::~Sampler() {
  if (thread_.joinable()) {
    (void)stop();
  }
}

Status Sampler::start(pid_t root, std::chrono::steady_clock::time_point origin) {
  if (thread_.joinable()) {
    return Status::Error("sampler: already started");
  }
  if (options_.interval.count() <= 0) {
    return Status::Error("sampler: the interval must be positive");
  }
  stop_.store(false);
  result_ = SamplerResult{};
  thread_ = std::thread([this, root, origin] { loop(root, origin); });
  if (options_.cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(*options_.cpu, &set);
    int rc = ::pthread_setaffinity_np(thread_.native_handle(), sizeof set, &set);
    if (rc != 0) {
      stop_.store(true);
      thread_.join();
      return Status::Error("sampler: cannot pin to cpu " + std::to_string(*options_.cpu) + ": " +
                           std::strerror(rc));
    }
  }
  return Status::Ok();
}

SamplerResult Sampler::stop() {
  stop_.store(true);
  if (thread_.joinable()) {
    thread_.join();
  }
  return std::move(result_);
}

void Sampler::loop(pid_t root, std::chrono::steady_clock::time_point origin) {
  std::vector<pid_t> scratch;
  scratch.reserve(64);
  // A minute at 5 ms: the vector grows rarely and only in the parent, never in the subject.
  result_.timeline.reserve(12000);
  const long interval_ns = static_cast<long>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.interval).count());
  timespec next{};
  ::clock_gettime(CLOCK_MONOTONIC, &next);  // steady_clock is CLOCK_MONOTONIC on Linux
  while (!stop_.load(std::memory_order_relaxed)) {
    auto now = std::chrono::steady_clock::now();
    TreeMemory tree = read_tree_memory(root, scratch);
    ++result_.samples;
    if (tree.processes > 0) {
      TimelinePoint point{seconds_between(origin, now), tree.rss_bytes, tree.anon_bytes,
                          tree.file_bytes, tree.shmem_bytes};
      result_.timeline.push_back(point);
      if (point.rss_bytes > result_.peak.rss_bytes) {
        result_.peak = point;
      }
      if (tree.processes > result_.max_processes) {
        result_.max_processes = tree.processes;
      }
    }
    // Absolute deadlines: the reading time does not stretch the interval. When a reading ran
    // past the next deadline, skip to the one after now instead of bursting to catch up.
    next.tv_nsec += interval_ns;
    while (next.tv_nsec >= 1'000'000'000L) {
      next.tv_nsec -= 1'000'000'000L;
      ++next.tv_sec;
    }
    timespec mono{};
    ::clock_gettime(CLOCK_MONOTONIC, &mono);
    bool late =
        mono.tv_sec > next.tv_sec || (mono.tv_sec == next.tv_sec && mono.tv_nsec > next.tv_nsec);
    if (late) {
      ++result_.missed_deadlines;
      next = mono;
      continue;
    }
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR) {
    }
  }
}

std::vector<TimelinePoint> decimate(std::span<const TimelinePoint> timeline,
                                    std::size_t max_points) {
  if (max_points == 0) {
    return {};
  }
  if (timeline.size() <= max_points) {
    return {timeline.begin(), timeline.end()};
  }
  std::vector<TimelinePoint> out;
  out.reserve(max_points);
  const std::size_t n = timeline.size();
  for (std::size_t b = 0; b < max_points; ++b) {
    std::size_t begin = b * n / max_points;
    std::size_t end = (b + 1) * n / max_points;
    const TimelinePoint* best = &timeline[begin];
    for (std::size_t i = begin + 1; i < end; ++i) {
      if (timeline[i].rss_bytes > best->rss_bytes) {
        best = &timeline[i];
      }
    }
    out.push_back(*best);
  }
  return out;
}

CpuPlan plan_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) {
    return {};
  }
  std::vector<int> allowed;
  for (int cpu = 0; cpu < CPU_SETSIZE && allowed.size() < 2; ++cpu) {
    if (CPU_ISSET(cpu, &set)) {
      allowed.push_back(cpu);
    }
  }
  if (allowed.size() < 2) {
    return {};
  }
  return CpuPlan{allowed[0], allowed[1]};
}

}  // namespace peakbench
