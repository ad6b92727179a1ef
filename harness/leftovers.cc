#include "harness/leftovers.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "base/unique_fd.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;

// The pid at the start of `text`, followed by `separator` (a bare number is someone else's name).
std::optional<pid_t> leading_pid(std::string_view text, char separator) {
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || end == text.data() || pid <= 0) return std::nullopt;
  const std::string_view rest(end, static_cast<std::size_t>(text.data() + text.size() - end));
  if (rest.size() < 2 || rest.front() != separator) return std::nullopt;
  return pid;
}

// rmdir of a cgroup whose last process has just exited can see EBUSY for a moment.
bool remove_cgroup(const fs::path& dir, bool v1, std::string& error) {
  if (v1) {
    const UniqueFd fd(::open((dir / "memory.force_empty").c_str(), O_WRONLY | O_CLOEXEC));
    if (fd) (void)!::write(fd.get(), "0", 1);
  }
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  error = std::strerror(errno);
  return false;
}

}  // namespace

std::optional<pid_t> owner_pid(std::string_view name) {
  if (name.starts_with("peakbench-run-")) return leading_pid(name.substr(14), '.');
  if (name.starts_with("peakbench-")) return leading_pid(name.substr(10), '-');
  return std::nullopt;
}

bool is_live_peakbench(pid_t pid, const fs::path& proc) {
  std::ifstream comm(proc / std::to_string(pid) / "comm");
  std::string name;
  if (!std::getline(comm, name)) return false;
  return name.starts_with("peakbench");
}

std::string work_dir_prefix(pid_t pid) { return "peakbench-run-" + std::to_string(pid); }

std::vector<Leftover> sweep_leftovers(const fs::path& cgroup_parent, bool v1,
                                      const fs::path& temp_dir, const fs::path& proc) {
  std::vector<Leftover> out;
  const pid_t self = ::getpid();
  auto stale = [&](const fs::directory_entry& entry, std::string_view prefix) -> pid_t {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) return 0;
    const std::optional<pid_t> pid = owner_pid(name);
    if (!pid || *pid == self || is_live_peakbench(*pid, proc)) return 0;
    std::error_code ec;
    if (!entry.is_directory(ec) || entry.is_symlink(ec)) return 0;
    return *pid;
  };
  std::error_code ec;
  if (!cgroup_parent.empty()) {
    for (auto it = fs::directory_iterator(cgroup_parent, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      const pid_t pid = stale(*it, "peakbench-");
      if (pid == 0 || it->path().filename().string().starts_with("peakbench-run-")) continue;
      Leftover l{it->path(), pid, false, {}};
      l.removed = remove_cgroup(it->path(), v1, l.error);
      out.push_back(std::move(l));
    }
  }
  ec.clear();
  if (!temp_dir.empty()) {
    for (auto it = fs::directory_iterator(temp_dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      const pid_t pid = stale(*it, "peakbench-run-");
      if (pid == 0) continue;
      Leftover l{it->path(), pid, false, {}};
      std::error_code remove_ec;
      fs::remove_all(it->path(), remove_ec);
      l.removed = !remove_ec;
      if (remove_ec) l.error = remove_ec.message();
      out.push_back(std::move(l));
    }
  }
  return out;
}

}  // namespace peakbench
