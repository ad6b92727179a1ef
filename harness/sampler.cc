#include "harness/sampler.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "base/unique_fd.h"
#include "harness/proc_status.h"

namespace peakbench {
namespace {

double seconds_between(std::chrono::steady_clock::time_point from,
                       std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

void add_process(TreeMemory& sum, const ProcMemory& mem) {
  ++sum.processes;
  sum.anon_bytes += mem.rss_anon_bytes;
  sum.file_bytes += mem.rss_file_bytes;
  sum.shmem_bytes += mem.rss_shmem_bytes;
  sum.largest_file_bytes = std::max(sum.largest_file_bytes, mem.rss_file_bytes);
  sum.largest_shmem_bytes = std::max(sum.largest_shmem_bytes, mem.rss_shmem_bytes);
}

// Reads a small kernel file from its start into `buf` (no allocation); empty on failure.
std::string_view pread_all(int fd, std::span<char> buf) {
  ssize_t n = ::pread(fd, buf.data(), buf.size(), 0);
  return n > 0 ? std::string_view(buf.data(), static_cast<std::size_t>(n)) : std::string_view();
}

void parse_pids(std::string_view text, std::vector<pid_t>& out) {
  out.clear();
  pid_t pid = 0;
  bool any = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      pid = pid * 10 + (c - '0');
      any = true;
    } else {
      if (any) out.push_back(pid);
      pid = 0;
      any = false;
    }
  }
  if (any) out.push_back(pid);
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
    add_process(sum, *mem);
    append_children_of(pid, scratch);
  }
  sum.rss_bytes = sum.anon_bytes + sum.file_bytes + sum.shmem_bytes;
  return sum;
}

bool TreeReader::add(pid_t pid, TreeMemory& sum) {
  const std::optional<ProcResident> resident = read_proc_resident(pid);
  if (!resident) {
    splits_.erase(pid);
    return false;
  }
  auto it = splits_.find(pid);
  if (it == splits_.end() || it->second.shared_bytes != resident->shared_bytes) {
    ++status_reads_;
    const std::optional<ProcMemory> status = read_proc_memory(pid);
    if (!status) {
      splits_.erase(pid);
      return false;
    }
    if (std::string argv0 = read_argv0(pid); !argv0.empty()) {
      argv0s_.insert_or_assign(pid, std::move(argv0));
    }
    // Keyed by the shared size statm saw, so that the next sample compares like with like.
    it = splits_
             .insert_or_assign(pid, Split{resident->shared_bytes, status->rss_file_bytes,
                                          status->rss_shmem_bytes})
             .first;
  }
  ProcMemory mem;
  mem.rss_anon_bytes =
      resident->resident_bytes - std::min(resident->resident_bytes, resident->shared_bytes);
  mem.rss_file_bytes = it->second.file_bytes;
  mem.rss_shmem_bytes = it->second.shmem_bytes;
  add_process(sum, mem);
  return true;
}

TreeMemory TreeReader::read_tree(pid_t root) {
  TreeMemory sum;
  scratch_.clear();
  scratch_.push_back(root);
  for (std::size_t i = 0; i < scratch_.size(); ++i) {
    if (add(scratch_[i], sum)) append_children_of(scratch_[i], scratch_);
  }
  sum.rss_bytes = sum.anon_bytes + sum.file_bytes + sum.shmem_bytes;
  return sum;
}

TreeMemory TreeReader::read_processes(std::span<const pid_t> pids) {
  TreeMemory sum;
  for (pid_t pid : pids) (void)add(pid, sum);
  sum.rss_bytes = sum.anon_bytes + sum.file_bytes + sum.shmem_bytes;
  return sum;
}

TimelinePoint tree_point(double t_s, const CgroupMemoryStat& cgroup, const TreeMemory& processes) {
  TimelinePoint point;
  point.t_s = t_s;
  point.anon_bytes = cgroup.anon_bytes;
  point.file_bytes = std::max(cgroup.file_mapped_bytes, processes.largest_file_bytes);
  point.shmem_bytes = std::max(cgroup.shmem_bytes, processes.largest_shmem_bytes);
  point.rss_bytes = point.anon_bytes + point.file_bytes + point.shmem_bytes;
  return point;
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
  std::vector<pid_t> scratch;  // the cgroup's members
  scratch.reserve(64);
  TreeReader reader;
  // A minute at 5 ms: the vector grows rarely and only in the parent, never in the subject.
  result_.timeline.reserve(12000);
  // Opened once and read with pread from offset 0, which makes the kernel render them afresh.
  UniqueFd stat_fd;
  UniqueFd procs_fd;  // held only to check that the file can be read
  const std::filesystem::path procs_path = options_.cgroup_dir / "cgroup.procs";
  if (!options_.cgroup_dir.empty()) {
    stat_fd.reset(::open((options_.cgroup_dir / "memory.stat").c_str(), O_RDONLY | O_CLOEXEC));
    procs_fd.reset(::open(procs_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!stat_fd || !procs_fd) {
      result_.cgroup_error = "cannot open the cgroup's memory.stat or cgroup.procs under " +
                             options_.cgroup_dir.string() + ": " + std::strerror(errno);
    }
  }
  const bool use_cgroup = stat_fd && procs_fd;
  result_.tree_from_cgroup = use_cgroup;
  static thread_local char buf[16384];
  const long interval_ns = static_cast<long>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.interval).count());
  timespec next{};
  ::clock_gettime(CLOCK_MONOTONIC, &next);  // steady_clock is CLOCK_MONOTONIC on Linux
  std::optional<std::chrono::steady_clock::time_point> previous_start;
  while (!stop_.load(std::memory_order_relaxed)) {
    auto now = std::chrono::steady_clock::now();
    if (previous_start) {
      result_.longest_gap =
          std::max(result_.longest_gap,
                   std::chrono::duration_cast<std::chrono::microseconds>(now - *previous_start));
    }
    previous_start = now;
    TreeMemory tree;
    std::optional<CgroupMemoryStat> charged;
    if (use_cgroup) {
      // Opened afresh each time: v1 keeps the member list of an open cgroup.procs and hands it out
      // again while reads keep coming (its pidlist lingers a second after each), so a held
      // descriptor never saw the processes forked after the first read.
      const UniqueFd members(::open(procs_path.c_str(), O_RDONLY | O_CLOEXEC));
      parse_pids(members ? pread_all(members.get(), buf) : std::string_view(), scratch);
      tree = reader.read_processes(scratch);
      Result<CgroupMemoryStat> stat =
          parse_memory_stat(pread_all(stat_fd.get(), buf), options_.cgroup_version);
      if (stat) {
        charged = *stat;
      } else if (result_.cgroup_error.empty()) {
        result_.cgroup_error = stat.message();
      }
    } else {
      tree = reader.read_tree(root);
    }
    ++result_.samples;
    if (tree.processes > 0) {
      const double t_s = seconds_between(origin, now);
      TimelinePoint sum{t_s, tree.rss_bytes, tree.anon_bytes, tree.file_bytes, tree.shmem_bytes};
      if (sum.rss_bytes > result_.peak.rss_bytes) {
        result_.peak = sum;
      }
      TimelinePoint point = charged ? tree_point(t_s, *charged, tree) : sum;
      result_.timeline.push_back(point);
      if (point.rss_bytes > result_.tree_peak.rss_bytes) {
        result_.tree_peak = point;
        result_.tree_peak_processes = tree;
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
  stat_fd.reset();
  procs_fd.reset();
  result_.argv0_by_pid = reader.take_argv0s();
  if (use_cgroup && !result_.cgroup_error.empty()) {
    result_.tree_from_cgroup = false;
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
