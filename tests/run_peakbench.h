#pragma once
// Runs the built `peakbench` binary (PEAKBENCH_EXE) as a user would, capturing its exit status,
// stdout and stderr (on a file or a pseudo-terminal), for tests of the CLI contract (DESIGN §5);
// and `peakbench serve` in the background. Test-only.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/unique_fd.h"
#include "fixtures/test_support.h"
#include "tests/spawn.h"

namespace peakbench::testing {

struct CliResult {
  int exit_status = -1;  ///< -1 when it did not exit normally
  std::string out;
  std::string err;  ///< stderr: from a file, or what the pseudo-terminal showed
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct CliOptions {
  std::vector<std::string> env;    ///< "NAME=value" set in the child, over any inherited value
  std::vector<std::string> unset;  ///< names dropped from the inherited environment
  /// stderr on a pseudo-terminal, as a user at a terminal sees it (else on a file).
  bool stderr_on_terminal = false;
};

/// Runs `peakbench ARGS...`: stdin /dev/null, stdout on a file, stderr on a file or a
/// pseudo-terminal. A CI runner's GITHUB_STEP_SUMMARY never leaks into a test.
inline CliResult run_peakbench(const std::vector<std::string>& args, const CliOptions& options) {
  TempDir dir("cli");
  const std::string out_path = (dir / "out").string();
  const std::string err_path = (dir / "err").string();
  int terminal = -1, child_side = -1;
  if (options.stderr_on_terminal &&
      ::openpty(&terminal, &child_side, nullptr, nullptr, nullptr) != 0) {
    return {};
  }
  const UniqueFd terminal_fd(terminal);
  UniqueFd child_side_fd(child_side);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  if (terminal_fd) {
    posix_spawn_file_actions_adddup2(&actions, child_side_fd.get(), 2);
    posix_spawn_file_actions_addclose(&actions, terminal_fd.get());
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  }
  std::vector<std::string> argv_strings{PEAKBENCH_EXE};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  CStringArray argv(std::move(argv_strings));
  std::vector<std::string> unset = options.unset;
  unset.push_back("GITHUB_STEP_SUMMARY");
  CStringArray envp(child_environment(options.env, unset));

  CliResult result;
  pid_t pid = 0;
  const bool spawned =
      posix_spawn(&pid, PEAKBENCH_EXE, &actions, nullptr, argv.get(), envp.get()) == 0;
  posix_spawn_file_actions_destroy(&actions);
  std::thread reader;
  if (terminal_fd) {
    child_side_fd.reset();  // the child holds the only copy: EOF (EIO) once it exits
    reader = std::thread([&] {
      char buf[4096];
      for (;;) {
        const ssize_t n = ::read(terminal_fd.get(), buf, sizeof buf);
        if (n > 0) {
          result.err.append(buf, static_cast<std::size_t>(n));
        } else if (n < 0 && errno == EINTR) {
          continue;
        } else {
          break;
        }
      }
    });
  }
  if (spawned) {
    int status = 0;
    if (::waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
      result.exit_status = WEXITSTATUS(status);
    }
  }
  if (reader.joinable()) {
    reader.join();
  } else {
    result.err = slurp(err_path);
  }
  result.out = slurp(out_path);
  return result;
}

/// Runs `peakbench ARGS...` with `env_extra` ("NAME=value") set in its environment.
inline CliResult run_peakbench(const std::vector<std::string>& args,
                               const std::vector<std::string>& env_extra = {}) {
  CliOptions options;
  options.env = env_extra;
  return run_peakbench(args, options);
}

/// `peakbench ARGS` (a shell command line, quoted by the caller) with only its stderr kept.
inline CommandResult peakbench_stderr(const std::string& args) {
  return run(std::string(PEAKBENCH_EXE) + " " + args + " 2>&1 >/dev/null");
}

/// The bad-input contract (DESIGN §5): exit 2 and exactly one line, an error naming `names`.
inline void expect_one_error_line(const CommandResult& r, const std::string& names) {
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(r.output.starts_with("peakbench: error: ")) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find(names), std::string::npos) << r.output;
}

/// `peakbench serve ARGS...` running in the background until stop() or destruction (SIGTERM).
class ServeProcess {
 public:
  /// Starts it and reads the line it prints first: the index URL.
  explicit ServeProcess(std::vector<std::string> args) {
    std::array<int, 2> out{};
    if (::pipe2(out.data(), O_CLOEXEC) != 0) return;
    stdout_.reset(out[0]);
    UniqueFd write_end(out[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
    args.insert(args.begin(), {PEAKBENCH_EXE, "serve"});
    CStringArray argv(std::move(args));
    if (posix_spawn(&pid_, PEAKBENCH_EXE, &actions, nullptr, argv.get(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    write_end.reset();  // so that the read below ends when the child exits
    char c;
    while (::read(stdout_.get(), &c, 1) == 1 && c != '\n') url_ += c;
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;
  ~ServeProcess() { stop(SIGTERM); }

  /// The first line it printed (empty if it printed none).
  const std::string& index_url() const { return url_; }

  /// Sends `sig` and waits: the wait status (-1 if it was not running), and in `rest` what it
  /// printed on stdout after the first line.
  int stop(int sig, std::string* rest = nullptr) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    const pid_t waited = ::waitpid(pid_, &status, 0);
    pid_ = -1;
    char c;
    while (::read(stdout_.get(), &c, 1) == 1) {
      if (rest != nullptr) *rest += c;
    }
    return waited > 0 ? status : -1;
  }

 private:
  pid_t pid_ = -1;
  UniqueFd stdout_;
  std::string url_;
};

/// The source tree's file `relative` (goldens live in reports/golden/).
inline std::filesystem::path source_path(const std::string& relative) {
  return std::filesystem::path(PEAKBENCH_SOURCE_DIR) / relative;
}

/// The golden file `name` of reports/golden/, as a path string for a command line.
inline std::string golden(const std::string& name) {
  return source_path("reports/golden/" + name).string();
}

/// True when PEAKBENCH_UPDATE_GOLDEN=1: golden tests then rewrite the expected files.
inline bool updating_golden() {
  const char* update = std::getenv("PEAKBENCH_UPDATE_GOLDEN");
  return update != nullptr && std::string(update) == "1";
}

}  // namespace peakbench::testing
