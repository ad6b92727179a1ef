#include "harness/proc_status.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "base/unique_fd.h"

namespace peakbench {
namespace {

/// Fills up to `capacity` bytes of `buf` from `fd` (retrying short reads and EINTR) without
/// allocating; returns how many it read, 0 at end of file or on an error.
std::size_t read_some(int fd, char* buf, std::size_t capacity) {
  std::size_t used = 0;
  while (used < capacity) {
    const ssize_t n = ::read(fd, buf + used, capacity - used);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    used += static_cast<std::size_t>(n);
  }
  return used;
}

// /proc/PID/status is about 1.5 KB; the memory lines sit in its first half.
constexpr std::size_t kStatusBufferBytes = 4096;

// The value of a "Key:   1234 kB" line, in bytes.
std::uint64_t kb_value(std::string_view rest) {
  std::uint64_t kb = 0;
  std::size_t i = 0;
  while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) {
    ++i;
  }
  for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9'; ++i) {
    kb = kb * 10 + (rest[i] - '0');
  }
  return kb * 1024;
}

// Appends the PIDs listed in one /proc/PID/task/TID/children file ("12 34 56 ").
void append_children(const char* path, std::vector<pid_t>& out) {
  const UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return;
  }
  // 4 KiB holds some 500 children; a larger family spills into a string.
  char buf[4096];
  std::size_t used = 0;
  std::string spill;
  for (;;) {
    if (used == sizeof buf) {
      spill.append(buf, used);
      used = 0;
    }
    const std::size_t n = read_some(fd.get(), buf + used, sizeof buf - used);
    if (n == 0) {
      break;
    }
    used += n;
  }
  std::string_view text(buf, used);
  if (!spill.empty()) {
    spill.append(buf, used);
    text = spill;
  }
  long pid = -1;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      pid = (pid < 0 ? 0 : pid * 10) + (c - '0');
    } else if (pid >= 0) {
      out.push_back(static_cast<pid_t>(pid));
      pid = -1;
    }
  }
  if (pid >= 0) {
    out.push_back(static_cast<pid_t>(pid));
  }
}

}  // namespace

std::optional<ProcMemory> read_proc_memory(pid_t pid) {
  char path[64];
  if (pid == 0) {
    std::snprintf(path, sizeof path, "/proc/self/status");
  } else {
    std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  }
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return std::nullopt;
  }
  char buf[kStatusBufferBytes];
  const std::size_t used = read_some(fd.get(), buf, sizeof buf);
  fd.reset();
  // A process that vanished between open and read (ESRCH) reads as nothing.
  if (used == 0) {
    return std::nullopt;
  }

  ProcMemory mem;
  std::string_view text(buf, used);
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (line.size() < 6 || (line[0] != 'V' && line[0] != 'R')) {
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view key = line.substr(0, colon);
    std::string_view rest = line.substr(colon + 1);
    if (key == "VmRSS") {
      mem.vm_rss_bytes = kb_value(rest);
    } else if (key == "VmHWM") {
      mem.vm_hwm_bytes = kb_value(rest);
    } else if (key == "RssAnon") {
      mem.rss_anon_bytes = kb_value(rest);
    } else if (key == "RssFile") {
      mem.rss_file_bytes = kb_value(rest);
    } else if (key == "RssShmem") {
      mem.rss_shmem_bytes = kb_value(rest);
      break;  // the last of the lines we want
    }
  }
  return mem;
}

std::optional<ProcResident> read_proc_resident(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
  const UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  char buf[256];
  const std::size_t used = read_some(fd.get(), buf, sizeof buf);
  if (used == 0) return std::nullopt;
  // "size resident shared text lib data dt", in pages.
  std::uint64_t fields[3] = {};
  std::size_t field = 0;
  bool in_number = false;
  for (std::size_t i = 0; i < used && field < 3; ++i) {
    const char c = buf[i];
    if (c >= '0' && c <= '9') {
      fields[field] = fields[field] * 10 + static_cast<std::uint64_t>(c - '0');
      in_number = true;
    } else if (in_number) {
      ++field;
      in_number = false;
    }
  }
  if (field < 2 || (field == 2 && !in_number)) return std::nullopt;
  static const auto page_bytes = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  return ProcResident{fields[1] * page_bytes, fields[2] * page_bytes};
}

bool reset_own_hwm() {
  const UniqueFd fd(::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC));
  if (!fd) {
    return false;
  }
  // 5 resets the peak RSS (Documentation/admin-guide/mm/soft-dirty and proc.rst).
  return ::write(fd.get(), "5", 1) == 1;
}

namespace {
struct CloseDir {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
}  // namespace

void append_children_of(pid_t pid, std::vector<pid_t>& out) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/task", static_cast<int>(pid));
  const std::unique_ptr<DIR, CloseDir> dir(::opendir(path));
  if (dir == nullptr) {
    return;
  }
  while (dirent* entry = ::readdir(dir.get())) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') {
      continue;
    }
    char children[320];
    std::snprintf(children, sizeof children, "/proc/%d/task/%s/children", static_cast<int>(pid),
                  entry->d_name);
    append_children(children, out);
  }
}

std::optional<pid_t> read_parent_pid(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return std::nullopt;
  }
  char buf[512];
  std::size_t n = read_some(fd.get(), buf, sizeof buf);
  fd.reset();
  // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses, so split at the last ')'.
  std::string_view text(buf, n);
  std::size_t close = text.rfind(')');
  if (close == std::string_view::npos || close + 4 >= text.size()) {
    return std::nullopt;
  }
  std::size_t i = close + 4;  // past ") S "
  long ppid = 0;
  bool digits = false;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    ppid = ppid * 10 + (text[i] - '0');
    digits = true;
  }
  if (!digits) {
    return std::nullopt;
  }
  return static_cast<pid_t>(ppid);
}

std::string read_argv0(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/cmdline", static_cast<int>(pid));
  const UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return {};
  }
  char buf[4096];
  const std::size_t n = read_some(fd.get(), buf, sizeof buf);
  return std::string(buf, ::strnlen(buf, n));
}

std::string read_comm(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/comm", static_cast<int>(pid));
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return {};
  }
  char buf[64];
  std::size_t n = read_some(fd.get(), buf, sizeof buf);
  fd.reset();
  while (n > 0 && buf[n - 1] == '\n') {
    --n;
  }
  return std::string(buf, n);
}

}  // namespace peakbench
