#include "harness/launcher_process.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "base/unique_fd.h"
#include "harness/launcher_protocol.h"
#include "harness/proc_status.h"
#include "harness/taskstats.h"

extern char** environ;

namespace peakbench {
namespace {

/// At most this many lingerers are named in one result (the frame has a size limit).
constexpr std::size_t kMaxNamedLingerers = 64;

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

double monotonic_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// What a child was doing when it failed before exec.
enum class ExecStage : int {
  join_cgroup,
  pin_cpu,
  open_stdin,
  open_stdout,
  open_stderr,
  report_fd,
  chdir,
  exec,
};

const char* to_string(ExecStage stage) {
  switch (stage) {
    case ExecStage::join_cgroup:
      return "join cgroup";
    case ExecStage::pin_cpu:
      return "pin to cpu";
    case ExecStage::open_stdin:
      return "open stdin";
    case ExecStage::open_stdout:
      return "open stdout";
    case ExecStage::open_stderr:
      return "open stderr";
    case ExecStage::report_fd:
      return "set up report fd";
    case ExecStage::chdir:
      return "chdir";
    case ExecStage::exec:
      return "exec";
  }
  return "prepare";
}

// Why a child did not reach exec, sent over a close-on-exec pipe (EOF means exec succeeded).
struct ExecFailure {
  ExecStage stage = ExecStage::exec;
  int error = 0;  // errno
};

[[noreturn]] void fail_before_exec(int err_fd, ExecStage stage) {
  ExecFailure f{stage, errno};
  (void)!::write(err_fd, &f, sizeof f);
  ::_exit(127);
}

// Opens `path` onto `target` (0, 1 or 2).
bool redirect(const char* path, int flags, int target) {
  UniqueFd fd(::open(path, flags | O_CLOEXEC, 0644));
  return fd && ::dup2(fd.get(), target) == target;  // dup2 clears close-on-exec on the target
}

struct PreparedSpawn {
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

// Runs in the forked child: everything the child needs was prepared before the fork.
[[noreturn]] void exec_child(const SpawnRequest& r, PreparedSpawn& p, int report_w, int err_w) {
  // Undo what the launcher set for itself: exec keeps the signal mask and ignored signals.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGINT, SIGQUIT, SIGPIPE, SIGCHLD, SIGTERM, SIGHUP}) {
    ::signal(sig, SIG_DFL);
  }

  // Keep our two pipe ends above the descriptors we are about to set.
  err_w = ::fcntl(err_w, F_DUPFD_CLOEXEC, 10);
  if (report_w >= 0) {
    report_w = ::fcntl(report_w, F_DUPFD_CLOEXEC, 10);
  }

  if (!r.cgroup_procs.empty()) {
    int fd = ::open(r.cgroup_procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      fail_before_exec(err_w, ExecStage::join_cgroup);
    }
    // "0" would do too on v2, but v1's tasks/cgroup.procs want a real PID.
    char pid_text[32];
    int n = std::snprintf(pid_text, sizeof pid_text, "%d", static_cast<int>(::getpid()));
    if (::write(fd, pid_text, static_cast<std::size_t>(n)) != n) {
      fail_before_exec(err_w, ExecStage::join_cgroup);
    }
    ::close(fd);
  }
  if (r.cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(*r.cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) {
      fail_before_exec(err_w, ExecStage::pin_cpu);
    }
  }
  if (!redirect("/dev/null", O_RDONLY, 0)) {
    fail_before_exec(err_w, ExecStage::open_stdin);
  }
  if (!r.stdout_path.empty() && !redirect(r.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 1)) {
    fail_before_exec(err_w, ExecStage::open_stdout);
  }
  if (!r.stderr_path.empty() && !redirect(r.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 2)) {
    fail_before_exec(err_w, ExecStage::open_stderr);
  }
  if (report_w >= 0 && ::dup2(report_w, kReportFd) != kReportFd) {
    fail_before_exec(err_w, ExecStage::report_fd);
  }
  if (!r.working_dir.empty() && ::chdir(r.working_dir.c_str()) != 0) {
    fail_before_exec(err_w, ExecStage::chdir);
  }
  // Nothing the parent or launcher had open leaks into the run (the error pipe closes at exec).
  ::close_range(report_w >= 0 ? kReportFd + 1 : 3, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execvpe(p.argv[0], p.argv.data(), p.envp.data());
  fail_before_exec(err_w, ExecStage::exec);
}

void prepare(const SpawnRequest& r, PreparedSpawn& p) {
  auto overridden = [&](std::string_view entry) {
    std::size_t eq = entry.find('=');
    std::string_view key = entry.substr(0, eq);
    // Set below only when this run has a report pipe; an inherited one would point nowhere.
    if (key == kReportFdEnv) {
      return true;
    }
    for (const auto& [k, v] : r.env) {
      if (k == key) {
        return true;
      }
    }
    return false;
  };
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!overridden(*e)) {
      p.env_storage.emplace_back(*e);
    }
  }
  for (const auto& [k, v] : r.env) {
    std::string entry = k;
    entry += '=';
    entry += v;
    p.env_storage.push_back(std::move(entry));
  }
  if (r.report_pipe) {
    p.env_storage.push_back(std::string(kReportFdEnv) + "=" + std::to_string(kReportFd));
  }
  for (auto& s : p.env_storage) {
    p.envp.push_back(s.data());
  }
  p.envp.push_back(nullptr);
  for (const auto& a : r.argv) {
    p.argv.push_back(const_cast<char*>(a.c_str()));
  }
  p.argv.push_back(nullptr);
}

// PIDs of the launcher's descendants (a snapshot; processes may vanish meanwhile).
std::vector<pid_t> descendants() {
  std::vector<pid_t> out;
  append_children_of(::getpid(), out);
  for (std::size_t i = 0; i < out.size(); ++i) {
    append_children_of(out[i], out);
  }
  return out;
}

// SIGKILLs every descendant; names those it killed in `named` when given.
int kill_descendants(std::vector<KilledProcess>* named = nullptr) {
  int killed = 0;
  for (pid_t p : descendants()) {
    std::string comm = named != nullptr ? read_comm(p) : std::string();
    if (::kill(p, SIGKILL) == 0) {
      ++killed;
      if (named != nullptr && named->size() < kMaxNamedLingerers) {
        named->push_back(KilledProcess{p, std::move(comm)});
      }
    }
  }
  return killed;
}

class LauncherProcess {
 public:
  LauncherProcess(int socket_fd, UniqueFd signal_fd)
      : sock_(socket_fd), sigfd_(std::move(signal_fd)) {
    Result<TaskstatsListener> listener = TaskstatsListener::open();
    if (listener) {
      taskstats_.emplace(std::move(listener).value());
    } else {
      taskstats_error_ = listener.message();
    }
  }

  [[noreturn]] void serve() {
    for (;;) {
      std::optional<std::string> frame = receive_frame(sock_.get());
      if (!frame) {
        ::_exit(0);  // the parent closed the socket or died
      }
      Result<ParentMessage> message = decode_parent_message(*frame);
      if (!message) {
        ::_exit(1);
      }
      if (auto* request = std::get_if<SpawnRequest>(&*message)) {
        handle(*request);
      }
      // A Cancel with nothing running has nothing to do.
    }
  }

 private:
  void send_or_exit(const LauncherMessage& message) {
    if (!send_frame(sock_.get(), encode(message))) {
      shut_down_and_exit();
    }
  }

  [[noreturn]] void shut_down_and_exit() {
    kill_descendants();
    while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
    }
    ::_exit(0);
  }

  void spawn_failed(std::string message) { send_or_exit(SpawnFailedMessage{std::move(message)}); }

  void handle(const SpawnRequest& request) {
    if (request.argv.empty()) {
      spawn_failed("nothing to run: empty argv");
      return;
    }
    PreparedSpawn prepared;
    prepare(request, prepared);
    int report[2] = {-1, -1};
    int err[2] = {-1, -1};
    if (request.report_pipe && ::pipe2(report, O_CLOEXEC) != 0) {
      spawn_failed(std::string("cannot make a pipe: ") + std::strerror(errno));
      return;
    }
    UniqueFd report_r(report[0]);
    UniqueFd report_w(report[1]);
    if (::pipe2(err, O_CLOEXEC) != 0) {
      spawn_failed(std::string("cannot make a pipe: ") + std::strerror(errno));
      return;
    }
    UniqueFd err_r(err[0]);
    UniqueFd err_w(err[1]);

    // What was queued before this run belongs to other processes of the machine.
    std::vector<TaskExit> stale;
    if (taskstats_) {
      (void)taskstats_->read_available(stale);
    }
    double t0 = monotonic_s();
    pid_t pid = ::fork();
    if (pid == 0) {
      exec_child(request, prepared, report_w.get(), err_w.get());
    }
    report_w.reset();
    err_w.reset();
    if (pid < 0) {
      spawn_failed(std::string("cannot fork: ") + std::strerror(errno));
      return;
    }

    // EOF on the close-on-exec pipe: exec happened. A record: it did not, and why.
    ExecFailure failure;
    ssize_t got = 0;
    do {
      got = ::read(err_r.get(), &failure, sizeof failure);
    } while (got < 0 && errno == EINTR);
    if (got == static_cast<ssize_t>(sizeof failure)) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      spawn_failed("cannot run '" + request.argv[0] + "': " + to_string(failure.stage) +
                   " failed: " + std::strerror(failure.error));
      return;
    }
    err_r.reset();

    send_or_exit(StartedMessage{pid});
    supervise(request, pid, t0, std::move(report_r));
  }

  // Reaps one process that is ready, first reading its name while it is a zombie; false when
  // none is ready (or none is left: `none_left`).
  bool reap_one(pid_t root, ChildResult& result, std::vector<ProcessPeak>& reaped,
                bool& none_left) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      if (errno == EINTR) return true;
      none_left = errno == ECHILD;
      return false;
    }
    if (info.si_pid == 0) return false;
    pid_t p = info.si_pid;
    std::string comm = read_comm(p);
    int status = 0;
    rusage usage{};
    while (::wait4(p, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    ProcessPeak peak{p, std::move(comm), {}, static_cast<std::uint64_t>(usage.ru_maxrss) * 1024};
    if (p == root) {
      root_reaped_ = true;
      result.root_wall_s = monotonic_s() - t0_;
      result.exited = WIFEXITED(status);
      if (result.exited) {
        result.exit_status = WEXITSTATUS(status);
      }
      if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
        result.core_dumped = WCOREDUMP(status);
      }
      result.max_rss_bytes = peak.peak_rss_bytes;
      result.user_s = seconds(usage.ru_utime);
      result.system_s = seconds(usage.ru_stime);
    } else {
      ++result.orphans_reaped;
    }
    reaped.push_back(std::move(peak));
    return true;
  }

  // Reads the report pipe and reaps until no descendant is left, then sends Finished.
  void supervise(const SpawnRequest& request, pid_t pid, double t0, UniqueFd report_r) {
    t0_ = t0;
    root_reaped_ = false;
    ChildResult result;
    result.pid = pid;
    bool child_done = false;
    double child_exit_s = 0;
    bool cancelled = false;
    double run_deadline = request.timeout_s > 0 ? t0 + request.timeout_s : 0;
    double grace_deadline = 0;
    bool grace_over = false;
    std::vector<ProcessPeak> reaped;  // by wait4: the root and every orphan
    RunTree tree(::getpid());
    std::vector<TaskExit> exits;
    Status taskstats_complete = Status::Ok();
    auto read_taskstats = [&] {
      if (!taskstats_) return;
      exits.clear();
      Status read = taskstats_->read_available(exits);
      if (!read && taskstats_complete) taskstats_complete = read;
      for (const TaskExit& e : exits) tree.add(e, read_parent_pid);
    };
    if (report_r) {
      ::fcntl(report_r.get(), F_SETFL, O_NONBLOCK);
    }

    for (;;) {
      // Taskstats first: a process's record is queued before its parent can reap it.
      read_taskstats();
      // Reap whatever is ready; ECHILD means the whole tree is gone.
      bool none_left = false;
      while (reap_one(pid, result, reaped, none_left)) {
      }
      if (!child_done && root_reaped_) {
        child_done = true;
        child_exit_s = t0 + result.root_wall_s;
      }
      if (none_left) {
        result.wall_s = monotonic_s() - t0;
        break;
      }

      // When to act without an event: the run's deadline, then the tree's grace.
      double now = monotonic_s();
      if (child_done && grace_deadline == 0 && !grace_over && request.orphan_grace_s > 0) {
        grace_deadline = child_exit_s + request.orphan_grace_s;
      }
      double deadline = child_done ? grace_deadline : run_deadline;
      if (deadline != 0 && now >= deadline) {
        if (child_done) {
          result.orphans_killed += kill_descendants(&result.lingerers_killed);
          grace_over = true;
          grace_deadline = 0;
        } else {
          kill_descendants();
          result.timed_out = true;
          run_deadline = 0;
        }
        continue;  // reaping follows through SIGCHLD
      }
      int timeout_ms = -1;
      if (deadline != 0) {
        timeout_ms = static_cast<int>((deadline - now) * 1000) + 1;
      }

      pollfd fds[4] = {{sigfd_.get(), POLLIN, 0},
                       {sock_.get(), POLLIN, 0},
                       {taskstats_ ? taskstats_->fd() : -1, POLLIN, 0},
                       {report_r.get(), POLLIN, 0}};
      nfds_t nfds = report_r ? 4 : 3;
      int ready = ::poll(fds, nfds, timeout_ms);
      if (ready < 0 && errno != EINTR) {
        break;
      }
      if (fds[0].revents != 0) {
        signalfd_siginfo info;
        while (::read(sigfd_.get(), &info, sizeof info) > 0) {
        }
      }
      if (fds[1].revents != 0) {
        std::optional<std::string> frame = receive_frame(sock_.get());
        if (!frame) {
          shut_down_and_exit();  // the parent is gone: nobody to measure for
        }
        Result<ParentMessage> message = decode_parent_message(*frame);
        if (!cancelled && message && std::holds_alternative<CancelMessage>(*message)) {
          cancelled = true;
          int killed = kill_descendants();
          if (child_done) {
            result.orphans_killed += killed;
          }
        }
      }
      if (nfds == 4 && fds[3].revents != 0) {
        drain(report_r, result);
      }
    }
    if (report_r) {
      drain(report_r, result);
    }
    read_taskstats();
    summarize(request, pid, reaped, tree, taskstats_complete, result);

    send_or_exit(std::move(result));
    // The report and its frame are freed now; give the pages back, or the next run's pre-exec
    // copy of the launcher would count them.
    result = ChildResult{};
    ::malloc_trim(0);
  }

  // The tree's figures: taskstats when it saw the whole run, otherwise what wait4 saw.
  void summarize(const SpawnRequest& request, pid_t root, const std::vector<ProcessPeak>& reaped,
                 const RunTree& tree, const Status& taskstats_complete, ChildResult& result) {
    if (!request.taskstats) {
      result.taskstats_note = "taskstats not used (the run asked for wait4 only)";
    } else if (!taskstats_) {
      result.taskstats_note = taskstats_error_;
    } else if (!taskstats_complete) {
      result.taskstats_note = taskstats_complete.message();
    } else if (tree.processes().count(root) == 0) {
      result.taskstats_note = "taskstats: no exit record of the run's root process";
    }
    if (result.taskstats_note.empty()) {
      result.tree_source = TreeSource::taskstats;
      result.largest_process = tree.largest();
      result.process_count = static_cast<int>(tree.processes().size());
    } else {
      result.tree_source = TreeSource::wait4;
      for (const ProcessPeak& p : reaped) {
        if (!result.largest_process || p.peak_rss_bytes > result.largest_process->peak_rss_bytes) {
          result.largest_process = p;
        }
      }
      result.process_count = static_cast<int>(reaped.size());
    }
    if (result.largest_process && result.largest_process->pid == root) {
      result.largest_process->argv0 = request.argv[0];
    }
  }

  // Appends what the report pipe holds now; closes it on EOF.
  static void drain(UniqueFd& report_r, ChildResult& result) {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(report_r.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return;  // EAGAIN: nothing more for now
      }
      if (n == 0) {
        report_r.reset();
        return;
      }
      std::size_t room = kMaxReportBytes - result.report_text.size();
      std::size_t take = std::min(room, static_cast<std::size_t>(n));
      result.report_text.append(buf, take);
      if (take < static_cast<std::size_t>(n)) {
        result.report_truncated = true;
      }
    }
  }

  UniqueFd sock_;
  UniqueFd sigfd_;
  std::optional<TaskstatsListener> taskstats_;
  std::string taskstats_error_;
  double t0_ = 0;
  bool root_reaped_ = false;
};

}  // namespace

[[noreturn]] void run_launcher(int socket_fd) {
  // Orphans of a run are reparented here, so that the run ends when the last of them does.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Ctrl-C reaches the run (same process group) and the parent; the launcher outlives it to report
  // the signal, and exits when the parent closes the socket.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGQUIT, SIG_IGN);
  // So do a TERM or HUP sent to the whole process group: the parent cancels the run and the
  // launcher reports it; it exits when the parent does (the socket closes).
  ::signal(SIGTERM, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  // A fixed threshold keeps glibc from raising it after the first large free: blocks as big as a
  // report stay mmapped and go back to the kernel when freed.
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  UniqueFd sigfd(::signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!sigfd) {
    ::_exit(1);
  }
  LauncherProcess(socket_fd, std::move(sigfd)).serve();
}

}  // namespace peakbench
