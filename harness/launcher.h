#pragma once
// The small process that spawns every measured run (DESIGN §4). A child inherits the resident
// size of whoever forks it (a 10 MiB child of a 1 GiB parent reported 1024 MiB), so runs are never
// forked by the process that holds the server and the reports: Launcher::start() forks a launcher
// at start-up, before anything large exists, and the parent asks it over a socketpair to spawn each
// run. The launcher is a child subreaper: orphaned grandchildren come to it, and a run is finished
// only when every descendant has been reaped.
//
// Protocol (length-prefixed binary frames, both ends are this same binary):
//   parent -> launcher: Spawn{request} | Cancel
//   launcher -> parent: Started{pid} then Finished{ChildResult}, or SpawnFailed{message}
// The parent learns the child's PID right after the fork (for the sampler) and blocks in wait()
// for the result. One run at a time.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"

namespace peakbench {

/// The descriptor on which a spawned child finds the report pipe, and the variable that says so.
inline constexpr int kReportFd = 3;
inline constexpr const char* kReportFdEnv = "PEAKBENCH_REPORT_FD";

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
  /// After the child exited, how long its orphans may live before they are killed (0: no limit).
  double orphan_grace_s = 30;
};

/// How a run ended, from the launcher's wait4() of the child.
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
  double wall_s = 0;              ///< fork to the child's reaping
  int orphans_reaped = 0;         ///< descendants that came to the launcher and were reaped
  int orphans_killed = 0;         ///< of those, killed after orphan_grace_s or a cancel
  std::string report_text;        ///< what the child wrote on the report pipe
  bool report_truncated = false;  ///< it wrote more than kMaxReportBytes; the rest was dropped

  bool succeeded() const { return exited && exit_status == 0 && !timed_out; }
};

/// The launcher keeps at most this much of a child's report.
inline constexpr std::size_t kMaxReportBytes = 1 << 20;

/// Runs one child at a time and reports how it ended: the seam between the runner and the
/// processes it measures. Launcher is the real one; tests may script another.
class Spawner {
 public:
  virtual ~Spawner() = default;
  /// Starts a run; returns the child's PID once it has exec'd, or why it could not start.
  virtual Result<pid_t> spawn(const SpawnRequest& request) = 0;
  /// Blocks until the spawned child and every descendant are gone.
  virtual Result<ChildResult> wait() = 0;
  /// Kills the current run's whole tree; wait() still returns its result. Thread-safe.
  virtual Status cancel() = 0;
};

class Launcher final : public Spawner {
 public:
  /// Forks the launcher. Call first thing, while the process is small and has one thread: the
  /// launcher is a copy of the caller at this moment, and every run inherits its resident size.
  static Result<Launcher> start();

  Launcher(Launcher&& other) noexcept;
  Launcher& operator=(Launcher&& other) noexcept;
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;
  /// Closes the socket; the launcher kills what is left of a run, reaps it and exits.
  ~Launcher();

  /// Starts a run and returns the child's PID once it is forked and has exec'd. A child that
  /// cannot exec (missing program, bad working dir, cgroup refused) is an error naming the cause;
  /// it has been reaped and there is nothing to wait() for.
  Result<pid_t> spawn(const SpawnRequest& request) override;
  /// Blocks until the spawned child and every descendant are reaped.
  Result<ChildResult> wait() override;
  /// spawn() then wait().
  Result<ChildResult> run(const SpawnRequest& request);
  /// Asks the launcher to SIGKILL the current run's whole tree (wait() still returns its result).
  /// Safe to call from another thread while wait() blocks.
  Status cancel() override;

  pid_t pid() const { return pid_; }

 private:
  Launcher(pid_t pid, UniqueFd socket) : pid_(pid), socket_(std::move(socket)) {}
  void shut_down();
  pid_t pid_ = 0;
  UniqueFd socket_;
  bool running_ = false;
};

/// The body of the launcher process (exposed for tests of the protocol); never returns.
[[noreturn]] void run_launcher(int socket_fd);

}  // namespace peakbench
