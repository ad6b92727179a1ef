#include "harness/launcher.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "harness/proc_status.h"

extern char** environ;

namespace peakbench {
namespace {

// ---- framing: u32 length, then fields (both ends are the same binary, so host byte order) ----

enum class MessageType : std::uint8_t {
  spawn = 1,
  cancel = 2,
  started = 3,
  spawn_failed = 4,
  finished = 5,
};

class Encoder {
 public:
  explicit Encoder(MessageType type) { put_u8(static_cast<std::uint8_t>(type)); }
  void put_u8(std::uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void put_i64(std::int64_t v) { buf_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void put_f64(double v) { buf_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void put_str(std::string_view s) {
    put_i64(static_cast<std::int64_t>(s.size()));
    buf_.append(s);
  }
  const std::string& bytes() const { return buf_; }

 private:
  std::string buf_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view bytes) : in_(bytes) {}
  bool get_u8(std::uint8_t& v) { return get_raw(&v, sizeof v); }
  bool get_i64(std::int64_t& v) { return get_raw(&v, sizeof v); }
  bool get_f64(double& v) { return get_raw(&v, sizeof v); }
  bool get_str(std::string& s) {
    std::int64_t n = 0;
    if (!get_i64(n) || n < 0 || static_cast<std::size_t>(n) > in_.size()) {
      return false;
    }
    s.assign(in_.substr(0, static_cast<std::size_t>(n)));
    in_.remove_prefix(static_cast<std::size_t>(n));
    return true;
  }

 private:
  bool get_raw(void* out, std::size_t n) {
    if (in_.size() < n) {
      return false;
    }
    std::memcpy(out, in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
};

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int fd, char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::read(fd, data, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;  // EOF: the other end is gone
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool send_frame(int fd, const Encoder& message) {
  const std::string& payload = message.bytes();
  std::uint32_t size = static_cast<std::uint32_t>(payload.size());
  return write_all(fd, reinterpret_cast<const char*>(&size), sizeof size) &&
         write_all(fd, payload.data(), payload.size());
}

// A frame's payload; empty optional on EOF or error.
std::optional<std::string> receive_frame(int fd) {
  std::uint32_t size = 0;
  if (!read_all(fd, reinterpret_cast<char*>(&size), sizeof size)) {
    return std::nullopt;
  }
  // The largest frame is a Finished with a capped report; anything bigger is a broken stream.
  if (size > kMaxReportBytes + std::size_t{64} * 1024) {
    return std::nullopt;
  }
  std::string payload(size, '\0');
  if (!read_all(fd, payload.data(), size)) {
    return std::nullopt;
  }
  return payload;
}

void encode_request(Encoder& e, const SpawnRequest& r) {
  e.put_i64(static_cast<std::int64_t>(r.argv.size()));
  for (const auto& a : r.argv) {
    e.put_str(a);
  }
  e.put_i64(static_cast<std::int64_t>(r.env.size()));
  for (const auto& [k, v] : r.env) {
    e.put_str(k);
    e.put_str(v);
  }
  e.put_str(r.working_dir.native());
  e.put_str(r.stdout_path.native());
  e.put_str(r.stderr_path.native());
  e.put_i64(r.cpu.value_or(-1));
  e.put_str(r.cgroup_procs.native());
  e.put_u8(r.report_pipe ? 1 : 0);
  e.put_f64(r.timeout_s);
  e.put_f64(r.orphan_grace_s);
}

bool decode_request(Decoder& d, SpawnRequest& r) {
  std::int64_t n = 0;
  if (!d.get_i64(n) || n < 0) {
    return false;
  }
  r.argv.resize(static_cast<std::size_t>(n));
  for (auto& a : r.argv) {
    if (!d.get_str(a)) {
      return false;
    }
  }
  if (!d.get_i64(n) || n < 0) {
    return false;
  }
  r.env.resize(static_cast<std::size_t>(n));
  for (auto& [k, v] : r.env) {
    if (!d.get_str(k) || !d.get_str(v)) {
      return false;
    }
  }
  std::string s;
  if (!d.get_str(s)) {
    return false;
  }
  r.working_dir = s;
  if (!d.get_str(s)) {
    return false;
  }
  r.stdout_path = s;
  if (!d.get_str(s)) {
    return false;
  }
  r.stderr_path = s;
  std::int64_t cpu = -1;
  if (!d.get_i64(cpu)) {
    return false;
  }
  if (cpu >= 0) {
    r.cpu = static_cast<int>(cpu);
  }
  if (!d.get_str(s)) {
    return false;
  }
  r.cgroup_procs = s;
  std::uint8_t flag = 0;
  if (!d.get_u8(flag)) {
    return false;
  }
  r.report_pipe = flag != 0;
  return d.get_f64(r.timeout_s) && d.get_f64(r.orphan_grace_s);
}

void encode_result(Encoder& e, const ChildResult& c) {
  e.put_i64(c.pid);
  e.put_u8(c.exited ? 1 : 0);
  e.put_i64(c.exit_status);
  e.put_i64(c.signal.value_or(0));
  e.put_u8(c.core_dumped ? 1 : 0);
  e.put_u8(c.timed_out ? 1 : 0);
  e.put_i64(static_cast<std::int64_t>(c.max_rss_bytes));
  e.put_f64(c.user_s);
  e.put_f64(c.system_s);
  e.put_f64(c.wall_s);
  e.put_i64(c.orphans_reaped);
  e.put_i64(c.orphans_killed);
  e.put_str(c.report_text);
  e.put_u8(c.report_truncated ? 1 : 0);
}

bool decode_result(Decoder& d, ChildResult& c) {
  std::int64_t i = 0;
  std::uint8_t b = 0;
  if (!d.get_i64(i)) {
    return false;
  }
  c.pid = static_cast<pid_t>(i);
  if (!d.get_u8(b)) {
    return false;
  }
  c.exited = b != 0;
  if (!d.get_i64(i)) {
    return false;
  }
  c.exit_status = static_cast<int>(i);
  if (!d.get_i64(i)) {
    return false;
  }
  if (i != 0) {
    c.signal = static_cast<int>(i);
  }
  if (!d.get_u8(b)) {
    return false;
  }
  c.core_dumped = b != 0;
  if (!d.get_u8(b)) {
    return false;
  }
  c.timed_out = b != 0;
  if (!d.get_i64(i)) {
    return false;
  }
  c.max_rss_bytes = static_cast<std::uint64_t>(i);
  if (!d.get_f64(c.user_s) || !d.get_f64(c.system_s) || !d.get_f64(c.wall_s)) {
    return false;
  }
  if (!d.get_i64(i)) {
    return false;
  }
  c.orphans_reaped = static_cast<int>(i);
  if (!d.get_i64(i)) {
    return false;
  }
  c.orphans_killed = static_cast<int>(i);
  if (!d.get_str(c.report_text) || !d.get_u8(b)) {
    return false;
  }
  c.report_truncated = b != 0;
  return true;
}

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

double monotonic_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// ---- the launcher process ----

// Why a child did not reach exec, sent over a close-on-exec pipe (EOF means exec succeeded).
struct ExecFailure {
  int stage = 0;  // index into kStageNames
  int error = 0;  // errno
};
constexpr const char* kStageNames[] = {"join cgroup", "pin to cpu",  "open stdin",
                                       "open stdout", "open stderr", "set up report fd",
                                       "chdir",       "exec"};

[[noreturn]] void fail_before_exec(int err_fd, int stage) {
  ExecFailure f{stage, errno};
  (void)!::write(err_fd, &f, sizeof f);
  ::_exit(127);
}

// Opens `path` onto `target` (0, 1 or 2).
bool redirect(const char* path, int flags, int target) {
  int fd = ::open(path, flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    return false;
  }
  bool ok = ::dup2(fd, target) == target;  // dup2 clears close-on-exec on the target
  ::close(fd);
  return ok;
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
      fail_before_exec(err_w, 0);
    }
    // "0" would do too on v2, but v1's tasks/cgroup.procs want a real PID.
    char pid_text[32];
    int n = std::snprintf(pid_text, sizeof pid_text, "%d", static_cast<int>(::getpid()));
    if (::write(fd, pid_text, static_cast<std::size_t>(n)) != n) {
      fail_before_exec(err_w, 0);
    }
    ::close(fd);
  }
  if (r.cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(*r.cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) {
      fail_before_exec(err_w, 1);
    }
  }
  if (!redirect("/dev/null", O_RDONLY, 0)) {
    fail_before_exec(err_w, 2);
  }
  if (!r.stdout_path.empty() && !redirect(r.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 1)) {
    fail_before_exec(err_w, 3);
  }
  if (!r.stderr_path.empty() && !redirect(r.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 2)) {
    fail_before_exec(err_w, 4);
  }
  if (report_w >= 0 && ::dup2(report_w, kReportFd) != kReportFd) {
    fail_before_exec(err_w, 5);
  }
  if (!r.working_dir.empty() && ::chdir(r.working_dir.c_str()) != 0) {
    fail_before_exec(err_w, 6);
  }
  // Nothing the parent or launcher had open leaks into the run (the error pipe closes at exec).
  ::close_range(report_w >= 0 ? kReportFd + 1 : 3, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execvpe(p.argv[0], p.argv.data(), p.envp.data());
  fail_before_exec(err_w, 7);
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

int kill_descendants() {
  int killed = 0;
  for (pid_t p : descendants()) {
    if (::kill(p, SIGKILL) == 0) {
      ++killed;
    }
  }
  return killed;
}

class LauncherProcess {
 public:
  LauncherProcess(int socket_fd, int signal_fd) : sock_(socket_fd), sigfd_(signal_fd) {}

  [[noreturn]] void serve() {
    for (;;) {
      std::optional<std::string> frame = receive_frame(sock_);
      if (!frame) {
        ::_exit(0);  // the parent closed the socket or died
      }
      Decoder d(*frame);
      std::uint8_t type = 0;
      if (!d.get_u8(type)) {
        ::_exit(1);
      }
      if (type == static_cast<std::uint8_t>(MessageType::cancel)) {
        continue;  // nothing running
      }
      if (type != static_cast<std::uint8_t>(MessageType::spawn)) {
        ::_exit(1);
      }
      SpawnRequest request;
      if (!decode_request(d, request)) {
        ::_exit(1);
      }
      handle(request);
    }
  }

 private:
  void send_or_exit(const Encoder& e) {
    if (!send_frame(sock_, e)) {
      shut_down_and_exit();
    }
  }

  [[noreturn]] void shut_down_and_exit() {
    kill_descendants();
    while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
    }
    ::_exit(0);
  }

  void handle(const SpawnRequest& request) {
    if (request.argv.empty()) {
      Encoder e(MessageType::spawn_failed);
      e.put_str("nothing to run: empty argv");
      send_or_exit(e);
      return;
    }
    PreparedSpawn prepared;
    prepare(request, prepared);
    int report[2] = {-1, -1};
    int err[2] = {-1, -1};
    if ((request.report_pipe && ::pipe2(report, O_CLOEXEC) != 0) || ::pipe2(err, O_CLOEXEC) != 0) {
      Encoder e(MessageType::spawn_failed);
      e.put_str(std::string("cannot make a pipe: ") + std::strerror(errno));
      send_or_exit(e);
      return;
    }
    UniqueFd report_r(report[0]);
    UniqueFd err_r(err[0]);
    double t0 = monotonic_s();
    pid_t pid = ::fork();
    if (pid == 0) {
      exec_child(request, prepared, report[1], err[1]);
    }
    if (report[1] >= 0) {
      ::close(report[1]);
    }
    ::close(err[1]);
    if (pid < 0) {
      Encoder e(MessageType::spawn_failed);
      e.put_str(std::string("cannot fork: ") + std::strerror(errno));
      send_or_exit(e);
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
      Encoder e(MessageType::spawn_failed);
      std::string what = kStageNames[failure.stage];
      e.put_str("cannot run '" + request.argv[0] + "': " + what +
                " failed: " + std::strerror(failure.error));
      send_or_exit(e);
      return;
    }
    err_r.reset();

    Encoder started(MessageType::started);
    started.put_i64(pid);
    send_or_exit(started);
    supervise(request, pid, t0, std::move(report_r));
  }

  // Reads the report pipe and reaps until no descendant is left, then sends Finished.
  void supervise(const SpawnRequest& request, pid_t pid, double t0, UniqueFd report_r) {
    ChildResult result;
    result.pid = pid;
    bool child_done = false;
    double child_exit_s = 0;
    bool cancelled = false;
    double run_deadline = request.timeout_s > 0 ? t0 + request.timeout_s : 0;
    double grace_deadline = 0;
    bool orphans_killed_once = false;
    if (report_r) {
      ::fcntl(report_r.get(), F_SETFL, O_NONBLOCK);
    }

    for (;;) {
      // Reap whatever is ready; ECHILD means the whole tree is gone.
      bool none_left = false;
      for (;;) {
        int status = 0;
        rusage usage{};
        pid_t p = ::wait4(-1, &status, WNOHANG, &usage);
        if (p == 0) {
          break;
        }
        if (p < 0) {
          if (errno == EINTR) {
            continue;
          }
          none_left = errno == ECHILD;
          break;
        }
        if (p == pid) {
          child_done = true;
          child_exit_s = monotonic_s();
          result.wall_s = child_exit_s - t0;
          result.exited = WIFEXITED(status);
          if (result.exited) {
            result.exit_status = WEXITSTATUS(status);
          }
          if (WIFSIGNALED(status)) {
            result.signal = WTERMSIG(status);
            result.core_dumped = WCOREDUMP(status);
          }
          result.max_rss_bytes = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
          result.user_s = seconds(usage.ru_utime);
          result.system_s = seconds(usage.ru_stime);
        } else {
          ++result.orphans_reaped;
        }
      }
      if (none_left) {
        break;
      }

      // When to act without an event: the run's deadline, then the orphans' grace.
      double now = monotonic_s();
      if (child_done && grace_deadline == 0 && !orphans_killed_once && request.orphan_grace_s > 0) {
        grace_deadline = child_exit_s + request.orphan_grace_s;
      }
      double deadline = child_done ? grace_deadline : run_deadline;
      if (deadline != 0 && now >= deadline) {
        int killed = kill_descendants();
        if (child_done) {
          result.orphans_killed += killed;
          orphans_killed_once = true;
          grace_deadline = 0;
        } else {
          result.timed_out = true;
          run_deadline = 0;
        }
        continue;  // reaping follows through SIGCHLD
      }
      int timeout_ms = -1;
      if (deadline != 0) {
        timeout_ms = static_cast<int>((deadline - now) * 1000) + 1;
      }

      pollfd fds[3] = {{sigfd_, POLLIN, 0}, {sock_, POLLIN, 0}, {report_r.get(), POLLIN, 0}};
      nfds_t nfds = report_r ? 3 : 2;
      int ready = ::poll(fds, nfds, timeout_ms);
      if (ready < 0 && errno != EINTR) {
        break;
      }
      if (fds[0].revents != 0) {
        signalfd_siginfo info;
        while (::read(sigfd_, &info, sizeof info) > 0) {
        }
      }
      if (fds[1].revents != 0) {
        std::optional<std::string> frame = receive_frame(sock_);
        if (!frame) {
          shut_down_and_exit();  // the parent is gone: nobody to measure for
        }
        if (!cancelled && !frame->empty() &&
            static_cast<std::uint8_t>((*frame)[0]) ==
                static_cast<std::uint8_t>(MessageType::cancel)) {
          cancelled = true;
          int killed = kill_descendants();
          if (child_done) {
            result.orphans_killed += killed;
          }
        }
      }
      if (nfds == 3 && fds[2].revents != 0) {
        drain(report_r, result);
      }
    }
    if (report_r) {
      drain(report_r, result);
    }

    {
      Encoder e(MessageType::finished);
      encode_result(e, result);
      send_or_exit(e);
    }
    // The report and its frame are freed now; give the pages back, or the next run's pre-exec
    // copy of the launcher would count them.
    result = ChildResult{};
    ::malloc_trim(0);
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

  int sock_;
  int sigfd_;
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
  int sigfd = ::signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sigfd < 0) {
    ::_exit(1);
  }
  LauncherProcess(socket_fd, sigfd).serve();
}

Result<Launcher> Launcher::start() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Status::Error(std::string("launcher: socketpair: ") + std::strerror(errno));
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(sv[0]);
    ::close(sv[1]);
    return Status::Error(std::string("launcher: fork: ") + std::strerror(e));
  }
  if (pid == 0) {
    ::close(sv[0]);
    // The parent may have died before this line; then nobody would close the socket for us.
    if (::getppid() != parent) {
      ::_exit(0);
    }
    run_launcher(sv[1]);
  }
  ::close(sv[1]);
  return Launcher(pid, UniqueFd(sv[0]));
}

Launcher::Launcher(Launcher&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      socket_(std::move(other.socket_)),
      running_(std::exchange(other.running_, false)) {}

Launcher& Launcher::operator=(Launcher&& other) noexcept {
  if (this != &other) {
    shut_down();
    pid_ = std::exchange(other.pid_, 0);
    socket_ = std::move(other.socket_);
    running_ = std::exchange(other.running_, false);
  }
  return *this;
}

Launcher::~Launcher() { shut_down(); }

void Launcher::shut_down() {
  socket_.reset();
  if (pid_ > 0) {
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = 0;
  }
}

Result<pid_t> Launcher::spawn(const SpawnRequest& request) {
  if (!socket_) {
    return Status::Error("launcher: not running");
  }
  if (running_) {
    return Status::Error("launcher: a run is still going; wait() for it first");
  }
  Encoder e(MessageType::spawn);
  encode_request(e, request);
  if (!send_frame(socket_.get(), e)) {
    return Status::Error("launcher: it exited unexpectedly");
  }
  std::optional<std::string> frame = receive_frame(socket_.get());
  if (!frame) {
    return Status::Error("launcher: it exited unexpectedly");
  }
  Decoder d(*frame);
  std::uint8_t type = 0;
  if (!d.get_u8(type)) {
    return Status::Error("launcher: empty message");
  }
  if (type == static_cast<std::uint8_t>(MessageType::spawn_failed)) {
    std::string message;
    if (!d.get_str(message)) {
      return Status::Error("launcher: malformed message");
    }
    return Status::Error(message);
  }
  std::int64_t pid = 0;
  if (type != static_cast<std::uint8_t>(MessageType::started) || !d.get_i64(pid)) {
    return Status::Error("launcher: unexpected message");
  }
  running_ = true;
  return static_cast<pid_t>(pid);
}

Result<ChildResult> Launcher::wait() {
  if (!running_) {
    return Status::Error("launcher: nothing to wait for");
  }
  running_ = false;
  std::optional<std::string> frame = receive_frame(socket_.get());
  if (!frame) {
    return Status::Error("launcher: it exited unexpectedly");
  }
  Decoder d(*frame);
  std::uint8_t type = 0;
  ChildResult result;
  if (!d.get_u8(type) || type != static_cast<std::uint8_t>(MessageType::finished) ||
      !decode_result(d, result)) {
    return Status::Error("launcher: malformed result");
  }
  return result;
}

Result<ChildResult> Launcher::run(const SpawnRequest& request) {
  Result<pid_t> pid = spawn(request);
  if (!pid) {
    return pid.status();
  }
  return wait();
}

Status Launcher::cancel() {
  Encoder e(MessageType::cancel);
  if (!send_frame(socket_.get(), e)) {
    return Status::Error("launcher: it exited unexpectedly");
  }
  return Status::Ok();
}

}  // namespace peakbench
