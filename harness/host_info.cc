#include "harness/host_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "base/text.h"

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

std::string read_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Number of CPUs in a sysfs list such as "0-3,8,10-11".
int count_cpu_list(const std::string& list) {
  int count = 0;
  std::stringstream items(list);
  std::string item;
  while (std::getline(items, item, ',')) {
    const std::size_t dash = item.find('-');
    if (dash == std::string::npos) {
      count += item.empty() ? 0 : 1;
    } else {
      count += std::atoi(item.c_str() + dash + 1) - std::atoi(item.c_str()) + 1;
    }
  }
  return count;
}

}  // namespace

std::vector<CpuCache> read_cpu_caches(const std::filesystem::path& dir) {
  std::vector<CpuCache> caches;
  for (int index = 0;; ++index) {
    const std::filesystem::path entry = dir / ("index" + std::to_string(index));
    const std::string size = read_line(entry / "size");  // "48K", "2048K", "32M"
    if (size.empty()) {
      break;
    }
    CpuCache cache;
    cache.type = read_line(entry / "type");
    cache.level = std::atoi(read_line(entry / "level").c_str());
    char* end = nullptr;
    cache.size_bytes = std::strtoull(size.c_str(), &end, 10);
    if (*end == 'K') {
      cache.size_bytes <<= 10;
    } else if (*end == 'M') {
      cache.size_bytes <<= 20;
    }
    cache.num_sharing = count_cpu_list(read_line(entry / "shared_cpu_list"));
    caches.push_back(std::move(cache));
  }
  return caches;
}

HostInfo read_host_info() {
  HostInfo host;
  utsname names{};
  if (::uname(&names) == 0) {
    host.kernel = std::string(names.sysname) + " " + names.release;
    host.hostname = names.nodename;
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos || colon + 2 > line.size()) {
      continue;
    }
    const std::string value = line.substr(colon + 2);
    if (line.rfind("model name", 0) == 0 && host.cpu_model.empty()) {
      host.cpu_model = value;
    } else if (line.rfind("cpu MHz", 0) == 0 && host.mhz_per_cpu == 0) {
      host.mhz_per_cpu = std::strtod(value.c_str(), nullptr);
    }
    if (line.empty() || (!host.cpu_model.empty() && host.mhz_per_cpu > 0)) {
      break;  // the first CPU's block is enough
    }
  }
  host.caches = read_cpu_caches("/sys/devices/system/cpu/cpu0/cache");
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
  const std::string git = "git -C " + shell_quote(std::string_view(dir.string())) + " ";
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
