#pragma once
// What a report records about where it ran: the host, the checkout, the time.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "reports/report.h"

namespace peakbench {

/// Kernel release and host name (uname), CPU model and MHz (/proc/cpuinfo), online cores, total
/// memory (/proc/meminfo), cpu0's caches (sysfs). Fields it cannot read stay empty or zero.
HostInfo read_host_info();

/// The caches under a sysfs directory such as /sys/devices/system/cpu/cpu0/cache (index0, ...);
/// empty when there is none.
std::vector<CpuCache> read_cpu_caches(const std::filesystem::path& dir);

struct GitInfo {
  std::string commit;  ///< full hash of HEAD; empty when `dir` is not in a git checkout
  std::string branch;  ///< "HEAD" when detached
  bool dirty = false;  ///< tracked files differ from HEAD
};

/// Runs `git` in `dir`; all empty when git or the checkout is absent.
GitInfo read_git_info(const std::filesystem::path& dir);

/// True when the dynamic loader preloads `library` (a soname such as libjemalloc.so.2, searched
/// as LD_PRELOAD searches, or a path) into a child without complaint. Checked in a child: a
/// dlopen here fails for jemalloc, whose static TLS cannot be added to a running process.
bool preload_loads(const std::string& library);

/// "2026-11-25T15:04:05Z".
std::string iso8601_utc(std::chrono::system_clock::time_point when);

}  // namespace peakbench
