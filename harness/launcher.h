#pragma once
// The small process that spawns every measured run (DESIGN §4). A child inherits the resident
// size of whoever forks it (a 10 MiB child of a 1 GiB parent reported 1024 MiB), so runs are never
// forked by the process that holds the server and the reports: Launcher::start() forks a launcher
// at start-up, before anything large exists, and the parent asks it over a socketpair to spawn each
// run. The launcher is a child subreaper: orphaned grandchildren come to it, and a run is finished
// only when every descendant has been reaped.
//
// The launcher is a separate small executable, `peakbench-launcher` (launcher_main.cc), exec'd
// once by Launcher::start(): its resident size (about 1 MiB, the C and C++ runtime) is what a run
// inherits before its own exec. The protocol is in launcher_protocol.h. The parent learns the
// child's PID right after the fork (for the sampler) and blocks in wait() for the result. One run
// at a time.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "harness/launcher_protocol.h"

namespace peakbench {

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
  /// What makes every run this spawner starts measured less well than it could be, in one line
  /// for each run's notes; empty when nothing does.
  virtual std::string caveat() const { return {}; }
};

class Launcher final : public Spawner {
 public:
  /// Starts the launcher: forks and execs `peakbench-launcher` from the directory of the running
  /// executable. Without that file it forks a copy of the caller instead (every run then inherits
  /// the caller's resident size; minimal() says which). Call first thing, while the process is
  /// small and has one thread.
  static Result<Launcher> start();
  /// The same with an explicit launcher executable (empty: fork a copy of the caller).
  static Result<Launcher> start(const std::filesystem::path& executable);
  /// `peakbench-launcher` next to the running executable, or empty when there is none.
  static std::filesystem::path default_executable();

  Launcher(Launcher&& other) noexcept;
  Launcher& operator=(Launcher&& other) noexcept;
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;
  /// Closes the socket; the launcher kills what is left of a run, reaps it and exits.
  ~Launcher() override;

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
  /// True when the launcher is the minimal executable, false for a forked copy of the caller.
  bool minimal() const { return minimal_; }
  /// For a forked copy of the caller: that every run starts from the caller's resident size.
  std::string caveat() const override;

 private:
  Launcher(pid_t pid, UniqueFd socket, bool minimal)
      : pid_(pid), socket_(std::move(socket)), minimal_(minimal) {}
  void shut_down();
  pid_t pid_ = 0;
  UniqueFd socket_;
  bool running_ = false;
  bool minimal_ = false;
};

}  // namespace peakbench
