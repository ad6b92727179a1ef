#include "harness/host_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace peakbench {
namespace {

// The output of a shell command, trailing newline removed; empty when it failed.
std::string command_output(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return {};
  }
  std::string out;
  char buf[256];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) {
    out.append(buf, n);
  }
  int status = ::pclose(pipe);
  if (status != 0) {
    return {};
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

}  // namespace

HostInfo read_host_info() {
  HostInfo host;
  utsname names{};
  if (::uname(&names) == 0) {
    host.kernel = std::string(names.sysname) + " " + names.release;
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      std::size_t colon = line.find(':');
      if (colon != std::string::npos) {
        host.cpu_model = line.substr(line.find_first_not_of(' ', colon + 1));
      }
      break;
    }
  }
  long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  host.cores = cores > 0 ? static_cast<int>(cores) : 0;
  std::ifstream meminfo("/proc/meminfo");
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      std::istringstream fields(line.substr(9));
      std::uint64_t kb = 0;
      if (fields >> kb) {
        host.memory_bytes = kb * 1024;
      }
      break;
    }
  }
  return host;
}

GitInfo read_git_info(const std::filesystem::path& dir) {
  GitInfo info;
  const std::string git = "git -C " + shell_quote(dir.string()) + " ";
  info.commit = command_output(git + "rev-parse HEAD 2>/dev/null");
  if (info.commit.empty()) {
    return info;
  }
  info.branch = command_output(git + "rev-parse --abbrev-ref HEAD 2>/dev/null");
  info.dirty = !command_output(git + "status --porcelain --untracked-files=no 2>/dev/null").empty();
  return info;
}

bool preload_loads(const std::string& library) {
  if (library.empty()) return false;
  // ld.so names a library it cannot preload on stderr, then runs the program anyway.
  return command_output("env LD_PRELOAD=" + shell_quote(library) + " sh -c 'echo ok' 2>&1") == "ok";
}

std::string iso8601_utc(std::chrono::system_clock::time_point when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

}  // namespace peakbench
