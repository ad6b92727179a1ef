#pragma once
// Charged memory (DESIGN §4): the only exact tree-sum peak is a private memory cgroup's counter,
// v1 `memory.max_usage_in_bytes` (this machine), v2 `memory.peak` elsewhere. A run gets a fresh
// cgroup `peakbench-<pid>-<n>` under the one peakbench runs in; the child joins it before exec
// (SpawnRequest::cgroup_procs), so every page of its image is charged there. The counter includes
// page cache and kernel memory (a 1 GiB file write reads 1053 MiB): the report calls it "charged
// memory", never RSS. Without the right to make a cgroup, the availability says why.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/status.h"
#include "reports/report.h"

namespace peakbench {

enum class CgroupVersion { none, v1, v2 };

/// A cgroup's own memory statistics (memory.stat), in bytes. Every page is charged to one cgroup,
/// so a page shared by several processes of the run (copy-on-write, vfork, shared mappings) counts
/// once here. v1 keys (hierarchical `total_*` preferred): `rss`, `mapped_file`, `shmem`, `cache`;
/// v2: `anon`, `file_mapped`, `shmem`, `file`.
struct CgroupMemoryStat {
  std::uint64_t anon_bytes = 0;
  /// Mapped file pages, shmem excluded: the kernel counts mapped shmem in mapped_file (measured:
  /// 64 MiB of shared anonymous memory read mapped_file 64 MiB, shmem 64 MiB), so shmem is taken
  /// off, exact when all shmem is mapped or there is none.
  std::uint64_t file_mapped_bytes = 0;
  std::uint64_t shmem_bytes = 0;       ///< tmpfs, shared anonymous memory, mapped or not
  std::uint64_t page_cache_bytes = 0;  ///< all file pages (v1 cache, v2 file), shmem included
};

/// Parses memory.stat text; an error when a key the version must have is missing.
Result<CgroupMemoryStat> parse_memory_stat(std::string_view text, CgroupVersion version);
/// Parses memory.oom_control (v1) or memory.events (v2) text: the `oom_kill` count.
Result<std::uint64_t> parse_oom_kill_count(std::string_view text);

/// Where private memory cgroups can be made, and if not, why.
struct CgroupSupport {
  MethodAvailability availability;  ///< detail: the interface used, or the reason it is missing
  CgroupVersion version = CgroupVersion::none;
  std::filesystem::path parent_dir;  ///< our own memory cgroup's directory; runs go below it
};

/// Detects support from a mountinfo and a /proc/PID/cgroup file (replaceable in tests), by making
/// and removing a probe cgroup.
CgroupSupport detect_memory_cgroup(const std::filesystem::path& mountinfo,
                                   const std::filesystem::path& self_cgroup);
/// detect_memory_cgroup() of this process, done once and remembered.
const CgroupSupport& memory_cgroup_support();

/// A private memory cgroup for one run; removed on destruction.
class MemoryCgroup {
 public:
  /// Makes `peakbench-<pid>-<n>` under support.parent_dir, its peak counter at zero.
  static Result<MemoryCgroup> create(const CgroupSupport& support);

  MemoryCgroup(MemoryCgroup&& other) noexcept;
  MemoryCgroup& operator=(MemoryCgroup&& other) noexcept;
  MemoryCgroup(const MemoryCgroup&) = delete;
  MemoryCgroup& operator=(const MemoryCgroup&) = delete;
  ~MemoryCgroup();

  const std::filesystem::path& dir() const { return dir_; }
  CgroupVersion version() const { return version_; }
  /// The cgroup's own statistics (parse_memory_stat).
  std::filesystem::path stat_file() const { return dir_ / "memory.stat"; }
  /// The file a process writes its PID to, to join (SpawnRequest::cgroup_procs); read, the
  /// member processes one PID a line, orphans and daemons of the run included.
  std::filesystem::path procs_file() const { return dir_ / "cgroup.procs"; }
  /// The largest charge since creation (or the last reset), page cache and kernel memory included.
  Result<std::uint64_t> peak_bytes() const;
  /// Sets the peak to the current charge (v1: write 0; v2: writes to memory.peak, kernel >= 6.12).
  Status reset_peak();
  /// Caps the memory charged here (v1 memory.limit_in_bytes, v2 memory.max): past it the kernel
  /// reclaims page cache, then kills a process of the cgroup (an out-of-memory kill).
  Status set_limit(std::uint64_t bytes);
  /// Out-of-memory kills in this cgroup so far (v1 memory.oom_control, v2 memory.events).
  Result<std::uint64_t> oom_kills() const;
  /// Removes the cgroup; every process in it must have exited. The page cache the run wrote stays
  /// cached (charged to the removed cgroup until the kernel reclaims it): no force_empty, which
  /// would evict it and make the next warm run read its cache from disk.
  Status remove();

 private:
  MemoryCgroup(std::filesystem::path dir, CgroupVersion version)
      : dir_(std::move(dir)), version_(version) {}
  std::filesystem::path dir_;
  CgroupVersion version_ = CgroupVersion::none;
};

}  // namespace peakbench
