#include "harness/launcher.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "harness/launcher_process.h"
#include "harness/proc_status.h"

namespace peakbench {

namespace fs = std::filesystem;

namespace {
/// The launcher's next message; an error when it hung up or sent something undecodable.
Result<LauncherMessage> receive_message(int socket) {
  std::optional<std::string> frame = receive_frame(socket);
  if (!frame) {
    return Status::Error("launcher: it exited unexpectedly");
  }
  return decode_launcher_message(*frame);
}
}  // namespace

fs::path Launcher::default_executable() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return {};
  }
  fs::path candidate = self.parent_path() / "peakbench-launcher";
  if (::access(candidate.c_str(), X_OK) != 0) {
    return {};
  }
  return candidate;
}

Result<Launcher> Launcher::start() { return start(default_executable()); }

Result<Launcher> Launcher::start(const fs::path& executable) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Status::Error(std::string("launcher: socketpair: ") + std::strerror(errno));
  }
  UniqueFd ours(sv[0]);
  UniqueFd theirs(sv[1]);
  // Prepared before the fork: the child only execs.
  constexpr int kSocketFd = 3;  // where peakbench-launcher finds its socket (its argv[1])
  std::string fd_text = std::to_string(kSocketFd);
  const char* argv[] = {"peakbench-launcher", fd_text.c_str(), nullptr};
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    return Status::Error(std::string("launcher: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ours.reset();
    // The parent may have died before this line; then nobody would close the socket for us.
    if (::getppid() != parent) {
      ::_exit(0);
    }
    if (executable.empty()) {
      run_launcher(theirs.release());
    }
    // The socket on a known descriptor, inherited; everything else closes at exec.
    int fd = theirs.release();
    if (fd == kSocketFd) {
      ::fcntl(fd, F_SETFD, 0);
    } else if (::dup2(fd, kSocketFd) != kSocketFd) {
      ::_exit(127);
    }
    ::close_range(kSocketFd + 1, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execv(executable.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  theirs.reset();
  return Launcher(pid, std::move(ours), !executable.empty());
}

Launcher::Launcher(Launcher&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      socket_(std::move(other.socket_)),
      running_(std::exchange(other.running_, false)),
      minimal_(other.minimal_) {}

Launcher& Launcher::operator=(Launcher&& other) noexcept {
  if (this != &other) {
    shut_down();
    pid_ = std::exchange(other.pid_, 0);
    socket_ = std::move(other.socket_);
    running_ = std::exchange(other.running_, false);
    minimal_ = other.minimal_;
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
  if (!send_frame(socket_.get(), encode(ParentMessage(request)))) {
    return Status::Error("launcher: it exited unexpectedly");
  }
  Result<LauncherMessage> message = receive_message(socket_.get());
  if (!message) {
    return message.status();
  }
  if (auto* failed = std::get_if<SpawnFailedMessage>(&*message)) {
    return Status::Error(failed->message);
  }
  auto* started = std::get_if<StartedMessage>(&*message);
  if (started == nullptr) {
    return Status::Error("launcher: unexpected message");
  }
  running_ = true;
  return started->pid;
}

Result<ChildResult> Launcher::wait() {
  if (!running_) {
    return Status::Error("launcher: nothing to wait for");
  }
  running_ = false;
  Result<LauncherMessage> message = receive_message(socket_.get());
  if (!message) {
    return message.status();
  }
  auto* result = std::get_if<ChildResult>(&*message);
  if (result == nullptr) {
    return Status::Error("launcher: unexpected message");
  }
  return std::move(*result);
}

Result<ChildResult> Launcher::run(const SpawnRequest& request) {
  Result<pid_t> pid = spawn(request);
  if (!pid) {
    return pid.status();
  }
  return wait();
}

Status Launcher::cancel() {
  if (!send_frame(socket_.get(), encode(ParentMessage(CancelMessage{})))) {
    return Status::Error("launcher: it exited unexpectedly");
  }
  return Status::Ok();
}

std::string Launcher::caveat() const {
  if (minimal_) return {};
  // The launcher's own resident size is what each run holds from its fork until its exec.
  const std::optional<ProcMemory> held = read_proc_memory(pid_);
  const std::string size =
      held ? " (" + std::to_string(held->vm_rss_bytes / 1024) + " KiB resident)" : std::string();
  return "runs were started by a forked copy of peakbench" + size +
         ", not by peakbench-launcher (not found beside the executable): until its exec each run "
         "holds that copy's pages, which a short run's peak may include";
}

}  // namespace peakbench
