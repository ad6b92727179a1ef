#pragma once
// The memory lines of /proc/PID/status, read without allocating (the sampler reads them every
// millisecond, the subject probe between phases). Never smaps_rollup: 4 ms per read at 1 GiB.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace peakbench {

/// The memory figures of one process, in bytes (the kernel writes kB).
struct ProcMemory {
  std::uint64_t vm_rss_bytes = 0;
  std::uint64_t vm_hwm_bytes = 0;  ///< the kernel's high-water mark (reset by clear_refs 5)
  std::uint64_t rss_anon_bytes = 0;
  std::uint64_t rss_file_bytes = 0;
  std::uint64_t rss_shmem_bytes = 0;
};

/// Reads /proc/`pid`/status (pid 0: /proc/self/status). Empty when the process is gone or the
/// file cannot be read; a zombie reads as all zeros (its memory is gone already).
std::optional<ProcMemory> read_proc_memory(pid_t pid);

/// A process's resident and shared sizes from /proc/PID/statm, in bytes: resident is anon + file
/// + shmem and shared is file + shmem, from the same kernel counters as status's Rss* lines, at a
/// fraction of the cost (status formats some fifty lines under the process's locks).
struct ProcResident {
  std::uint64_t resident_bytes = 0;
  std::uint64_t shared_bytes = 0;
};

/// Reads /proc/`pid`/statm. Empty when the process is gone; a zombie reads as zeros.
std::optional<ProcResident> read_proc_resident(pid_t pid);

/// Appends the children of every thread of `pid` (/proc/PID/task/TID/children: a thread that
/// forks is the parent of record). Nothing when the process is gone.
void append_children_of(pid_t pid, std::vector<pid_t>& out);

/// The parent PID of `pid` (the fourth field of /proc/PID/stat); empty when the process is gone.
std::optional<pid_t> read_parent_pid(pid_t pid);

/// The kernel's command name of `pid` (/proc/PID/comm, readable for a zombie too); empty when the
/// process is gone.
std::string read_comm(pid_t pid);

/// The first word of `pid`'s command line (/proc/PID/cmdline up to its first NUL): the argv[0]
/// it was exec'd with, as it may have rewritten it since. Empty when the process is gone, is a
/// zombie or a kernel thread. At most 4 KiB.
std::string read_argv0(pid_t pid);

/// Resets the caller's VmHWM to its current RSS (`echo 5 > /proc/self/clear_refs`); false when the
/// kernel refused.
bool reset_own_hwm();

}  // namespace peakbench
