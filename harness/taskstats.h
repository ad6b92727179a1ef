#pragma once
// Every process of a run measured whoever reaps it (DESIGN §4, process trees): Linux taskstats over
// generic netlink. A listener registered for every CPU gets one record per exiting task, with the
// task's own high-water mark since its exec (`hiwater_rss`, CONFIG_TASK_XACCT), its PID, parent and
// command name: a zombie nobody reaps, a child of a parent that ignores SIGCHLD, an orphan and a
// daemon are all seen. Needs CAP_NET_ADMIN in the initial user and PID namespaces.
//
// Raw netlink rather than libnl: four messages, and the launcher that listens must stay small
// (every run inherits its resident size until exec).
//
//   Result<TaskstatsListener> listener = TaskstatsListener::open();
//   RunTree tree(::getpid());            // the run's ancestor: the launcher, a subreaper
//   ... poll(listener->fd()) ...
//   std::vector<TaskExit> exits;
//   Status complete = listener->read_available(exits);   // an error: records were lost
//   for (const TaskExit& e : exits) tree.add(e, read_parent_pid);

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "harness/launcher_protocol.h"

namespace peakbench {

/// One task's exit record.
struct TaskExit {
  pid_t pid = 0;   ///< the task (thread) ID
  pid_t tgid = 0;  ///< its process
  pid_t ppid = 0;  ///< the process's parent when it exited
  std::string comm;
  std::uint64_t hiwater_rss_bytes = 0;  ///< the process's peak RSS since its exec
};

class TaskstatsListener {
 public:
  /// Opens a generic netlink socket and registers it for the exits on every possible CPU; an
  /// error names why taskstats is unavailable (no family, no CAP_NET_ADMIN, ...).
  static Result<TaskstatsListener> open();

  TaskstatsListener(TaskstatsListener&&) noexcept = default;
  TaskstatsListener& operator=(TaskstatsListener&&) noexcept = default;
  /// Deregisters (the kernel would also drop a listener whose socket is gone).
  ~TaskstatsListener();

  /// Readable when exit records are queued.
  int fd() const { return socket_.get(); }
  /// Appends every record queued now without blocking. An error when the kernel dropped records
  /// since the last call (the socket's receive buffer was full); the records still queued are
  /// appended all the same.
  Status read_available(std::vector<TaskExit>& out);

 private:
  TaskstatsListener(UniqueFd socket, std::uint16_t family, std::string cpus)
      : socket_(std::move(socket)), family_(family), cpus_(std::move(cpus)) {}
  UniqueFd socket_;
  std::uint16_t family_ = 0;
  std::string cpus_;  ///< the cpulist registered, e.g. "0-1"
};

/// The processes of one run among every exit on the machine: descendants of `ancestor`. An exit
/// whose parent is already known, or alive and descended from `ancestor`, belongs to the run; one
/// whose parent is gone and not yet known waits until that parent's own record arrives.
class RunTree {
 public:
  using ParentOf = std::function<std::optional<pid_t>(pid_t)>;
  explicit RunTree(pid_t ancestor) { members_.insert(ancestor); }

  /// `parent_of` gives a live process's parent (read_parent_pid; a table in tests).
  void add(const TaskExit& exit, const ParentOf& parent_of);

  /// The run's processes by PID, each with its largest record.
  const std::map<pid_t, ProcessPeak>& processes() const { return processes_; }
  /// The largest of them; empty when none.
  std::optional<ProcessPeak> largest() const;

 private:
  void accept(const TaskExit& exit);
  std::set<pid_t> members_;
  std::multimap<pid_t, TaskExit> waiting_for_parent_;
  std::map<pid_t, ProcessPeak> processes_;
};

}  // namespace peakbench
