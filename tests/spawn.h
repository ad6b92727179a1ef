#pragma once
// Runs a child process for the strategy tests: posix_spawn, stdout and stderr captured through
// pipes, wait4() for the exit status and the kernel's ru_maxrss. Header-only, tests only.
//
// ru_maxrss of a child spawned from this (test) process starts at this process's own resident
// size (DESIGN §4), so memory tests that need a small baseline read the subject's own figures
// (`peakbench fetch --stats`: VmRSS at start and VmHWM at exit, both of the exec'd image).

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace peakbench::testing {

struct ChildRun {
  int exit_code = -1;  ///< -1 when killed by a signal or not started
  std::string out;
  std::string err;
  std::uint64_t max_rss_bytes = 0;  ///< wait4's ru_maxrss (see above for what it includes)
};

/// Strings as the NULL-terminated `char*` array that posix_spawn takes (argv, envp); the
/// strings are owned here, so the array lives as long as this object.
class CStringArray {
 public:
  explicit CStringArray(std::vector<std::string> strings) : strings_(std::move(strings)) {
    for (std::string& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  CStringArray(const CStringArray&) = delete;
  CStringArray& operator=(const CStringArray&) = delete;
  char* const* get() { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

/// The environment of a test's child: this process's, less every name in `unset` and every name
/// that `set` ("NAME=value") gives, then `set`. Dropping the inherited entry makes the caller's
/// value win (getenv takes the first of two entries of one name).
inline std::vector<std::string> child_environment(const std::vector<std::string>& set,
                                                  const std::vector<std::string>& unset = {}) {
  std::vector<std::string> dropped = unset;
  for (const std::string& entry : set) dropped.push_back(entry.substr(0, entry.find('=')));
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const std::string_view name = entry.substr(0, entry.find('='));
    if (std::find(dropped.begin(), dropped.end(), name) == dropped.end()) env.emplace_back(entry);
  }
  env.insert(env.end(), set.begin(), set.end());
  return env;
}

/// Runs argv[0] (a path) with argv and the current environment plus `extra_env` ("K=V", over
/// any inherited value of that name); stdin is /dev/null.
inline ChildRun spawn_and_wait(const std::vector<std::string>& argv,
                               const std::vector<std::string>& extra_env = {}) {
  ChildRun run;
  std::array<int, 2> out_pipe{}, err_pipe{};
  if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0) return run;
  if (::pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);

  CStringArray args(argv);
  CStringArray env(child_environment(extra_env));

  pid_t pid = -1;
  const int spawned =
      ::posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.get(), env.get());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (spawned == 0) {
    std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
    std::array<std::string*, 2> sinks{&run.out, &run.err};
    int open_fds = 2;
    std::array<char, 65536> buffer{};
    while (open_fds > 0) {
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        const ssize_t n = ::read(fds[i].fd, buffer.data(), buffer.size());
        if (n > 0) {
          sinks[i]->append(buffer.data(), static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          fds[i].fd = -1;
          --open_fds;
        }
      }
    }
    int status = 0;
    rusage usage{};
    while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.max_rss_bytes = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
  }
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  return run;
}

/// Lines of `text` (without their newlines), empty lines dropped.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace peakbench::testing
