#pragma once
// What a peakbench that died (SIGKILL, a crash, a power cut) leaves behind: its runs' memory
// cgroups (`peakbench-<pid>-<n>`, still charging page cache) and its temporary work dirs
// (`peakbench-run-<pid>.XXXXXX`). Both names carry the pid, so a later run can tell a dead owner
// from a live one and remove what is left.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace peakbench {

/// The pid in a name this program makes (`peakbench-<pid>-...` or `peakbench-run-<pid>.XXXXXX`).
std::optional<pid_t> owner_pid(std::string_view name);

/// True when `pid` is a live process of this program (its /proc/PID/comm starts "peakbench").
bool is_live_peakbench(pid_t pid, const std::filesystem::path& proc = "/proc");

/// One thing removed or that could not be removed, for a line on stderr.
struct Leftover {
  std::filesystem::path path;
  pid_t owner = 0;
  bool removed = false;
  std::string error;  ///< why it could not be removed
};

/// Removes the cgroups under `cgroup_parent` and the work dirs under `temp_dir` whose owner is not
/// a live peakbench (`v1`: empty each cgroup with memory.force_empty first). Either path may be
/// empty. Never throws.
std::vector<Leftover> sweep_leftovers(const std::filesystem::path& cgroup_parent, bool v1,
                                      const std::filesystem::path& temp_dir,
                                      const std::filesystem::path& proc = "/proc");

/// The prefix of a temporary work dir of the process `pid` (mkdtemp adds `.XXXXXX`).
std::string work_dir_prefix(pid_t pid);

}  // namespace peakbench
