#pragma once
// Runs the built `peakbench` binary (PEAKBENCH_EXE) as a user would, capturing its exit status,
// stdout and stderr, for tests of the CLI contract (DESIGN §5). Test-only.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures/test_support.h"

namespace peakbench::testing {

struct CliResult {
  int exit_status = -1;  ///< -1 when it did not exit normally
  std::string out;
  std::string err;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Runs `peakbench ARGS...` with `env_extra` ("NAME=value") added to the environment.
inline CliResult run_peakbench(const std::vector<std::string>& args,
                               const std::vector<std::string>& env_extra = {}) {
  TempDir dir("cli");
  const std::string out_path = (dir / "out").string();
  const std::string err_path = (dir / "err").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);

  std::vector<std::string> argv_strings{PEAKBENCH_EXE};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    // The caller's settings win; a CI runner's GITHUB_STEP_SUMMARY never leaks into a test.
    if (entry.rfind("GITHUB_STEP_SUMMARY=", 0) == 0) continue;
    env_strings.push_back(entry);
  }
  env_strings.insert(env_strings.end(), env_extra.begin(), env_extra.end());
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  CliResult result;
  pid_t pid = 0;
  if (posix_spawn(&pid, PEAKBENCH_EXE, &actions, nullptr, argv.data(), envp.data()) == 0) {
    int status = 0;
    if (::waitpid(pid, &status, 0) == pid && WIFEXITED(status))
      result.exit_status = WEXITSTATUS(status);
  }
  posix_spawn_file_actions_destroy(&actions);
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  return result;
}

/// The source tree's file `relative` (goldens live in reports/golden/).
inline std::filesystem::path source_path(const std::string& relative) {
  return std::filesystem::path(PEAKBENCH_SOURCE_DIR) / relative;
}

/// True when PEAKBENCH_UPDATE_GOLDEN=1: golden tests then rewrite the expected files.
inline bool updating_golden() {
  const char* update = std::getenv("PEAKBENCH_UPDATE_GOLDEN");
  return update != nullptr && std::string(update) == "1";
}

}  // namespace peakbench::testing
