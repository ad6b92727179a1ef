#pragma once
// The launcher's wire protocol (see launcher.h): what the parent asks, what the launcher answers,
// and the codec of both. Frames are a u32 length then the payload; a payload is a message type
// then fields in host byte order (both ends are built from this source, on one host).
//
//   parent -> launcher: Spawn{SpawnRequest} | Cancel
//   launcher -> parent: Started{pid} then Finished{ChildResult}, or SpawnFailed{message}
//
// Each message's fields are listed once (a template visited by the encoder and the decoder), so
// the two directions cannot drift. The decoder checks every count against the bytes left in the
// frame before it sizes anything.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"

namespace peakbench {

/// The descriptor on which a spawned child finds the report pipe, and the variable that says so.
inline constexpr int kReportFd = 3;
inline constexpr const char* kReportFdEnv = "PEAKBENCH_REPORT_FD";

/// The launcher keeps at most this much of a child's report.
inline constexpr std::size_t kMaxReportBytes = 1 << 20;

/// What to run and how. Every path is used as given (relative to the launcher's working dir).
struct SpawnRequest {
  std::vector<std::string> argv;  ///< argv[0] is looked up in PATH when it has no slash
  /// Added to (or overriding) the environment the launcher inherited at start-up.
  std::vector<std::pair<std::string, std::string>> env;
  std::filesystem::path working_dir;  ///< empty: the launcher's
  std::filesystem::path stdout_path;  ///< truncated and written; empty: inherit the launcher's
  std::filesystem::path stderr_path;  ///< same for stderr; stdin is always /dev/null
  std::optional<int> cpu;             ///< pin the child (and what it spawns) to this CPU
  /// A cgroup file (`cgroup.procs`, v1 `tasks`) the child writes its PID to before exec, so that
  /// its image is charged there from the first page (see cgroup.h). Empty: stay where it is.
  std::filesystem::path cgroup_procs;
  /// Give the child a pipe on fd kReportFd and set PEAKBENCH_REPORT_FD; what it writes there comes
  /// back in ChildResult::report_text.
  bool report_pipe = true;
  /// SIGKILL the whole tree after this many seconds (0: never); ChildResult::timed_out says so.
  double timeout_s = 0;
  /// After the child exited, how long the rest of its tree may live before it is killed (0: no
  /// limit). A killed process is named in ChildResult::lingerers_killed.
  double orphan_grace_s = 30;
  /// Measure the tree by taskstats where available; false: by wait4 only, as where it is not.
  bool taskstats = true;
};

/// One process of a run's tree, as measured when it exited.
struct ProcessPeak {
  pid_t pid = 0;
  std::string comm;   ///< the kernel's 15-character command name
  std::string argv0;  ///< when known (the run's root)
  /// The process's own high-water mark: taskstats `hiwater_rss` (since its exec), or wait4's
  /// ru_maxrss (which includes what it inherited before exec and what it reaped).
  std::uint64_t peak_rss_bytes = 0;
};

/// A process of the run killed because it outlived the root by the grace period.
struct KilledProcess {
  pid_t pid = 0;
  std::string comm;
};

/// How the tree's processes were seen.
enum class TreeSource : std::uint8_t {
  wait4 = 0,      ///< the root's and the reparented orphans' wait4 (others are invisible)
  taskstats = 1,  ///< a taskstats exit record of every process, whoever reaped it
};

/// How a run ended, from the launcher's wait4() of the child and of its tree.
struct ChildResult {
  pid_t pid = 0;
  bool exited = false;        ///< exited normally (see exit_status)
  int exit_status = 0;        ///< when exited
  std::optional<int> signal;  ///< when killed by a signal
  bool core_dumped = false;
  bool timed_out = false;  ///< killed by SpawnRequest::timeout_s
  /// ru_maxrss: the kernel's high-water mark of the largest single process of the tree the child
  /// reaped itself (anon + file + shmem, no page cache), lowered by any clear_refs reset inside it.
  std::uint64_t max_rss_bytes = 0;
  double user_s = 0;
  double system_s = 0;
  double wall_s = 0;              ///< fork to the exit of the tree's last process
  double root_wall_s = 0;         ///< fork to the child's reaping
  int orphans_reaped = 0;         ///< descendants that came to the launcher and were reaped
  int orphans_killed = 0;         ///< of those, killed after orphan_grace_s or a cancel
  std::string report_text;        ///< what the child wrote on the report pipe
  bool report_truncated = false;  ///< it wrote more than kMaxReportBytes; the rest was dropped

  /// The largest single process of the whole tree (by `tree_source`); empty when none was seen.
  std::optional<ProcessPeak> largest_process;
  int process_count = 0;  ///< processes of the tree seen exiting (a lower bound with wait4)
  TreeSource tree_source = TreeSource::wait4;
  /// Why taskstats was not the source (or what it missed); empty when it saw the whole run.
  std::string taskstats_note;
  std::vector<KilledProcess> lingerers_killed;  ///< killed after orphan_grace_s

  bool succeeded() const { return exited && exit_status == 0 && !timed_out; }
};

/// Messages from the parent.
struct CancelMessage {};
using ParentMessage = std::variant<SpawnRequest, CancelMessage>;

/// Messages from the launcher.
struct StartedMessage {
  pid_t pid = 0;
};
struct SpawnFailedMessage {
  std::string message;
};
using LauncherMessage = std::variant<StartedMessage, SpawnFailedMessage, ChildResult>;

/// A message as a frame payload.
std::string encode(const ParentMessage& message);
std::string encode(const LauncherMessage& message);

/// A payload back into its message; an error naming what was malformed.
Result<ParentMessage> decode_parent_message(std::string_view payload);
Result<LauncherMessage> decode_launcher_message(std::string_view payload);

/// The largest payload either side accepts: a Finished with a capped report and its process names.
inline constexpr std::size_t kMaxFrameBytes = kMaxReportBytes + std::size_t{256} * 1024;

/// Writes a u32 length then `payload`; false when the other end is gone (or payload too big).
[[nodiscard]] bool send_frame(int fd, std::string_view payload);
/// Reads one frame's payload; empty on EOF, error or a length past kMaxFrameBytes.
std::optional<std::string> receive_frame(int fd);

}  // namespace peakbench
