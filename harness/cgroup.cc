#include "harness/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "base/unique_fd.h"

namespace peakbench {
namespace fs = std::filesystem;
namespace {

std::string errno_text() { return std::strerror(errno); }

Status write_text(const fs::path& file, std::string_view text) {
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    return Status::Error("cannot open " + file.string() + ": " + errno_text());
  }
  bool ok = ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
  std::string why = ok ? "" : errno_text();
  fd.reset();
  if (!ok) {
    return Status::Error("cannot write " + file.string() + ": " + why);
  }
  return Status::Ok();
}

Result<std::uint64_t> read_number(const fs::path& file) {
  std::ifstream in(file);
  std::uint64_t value = 0;
  if (!(in >> value)) {
    return Status::Error("cannot read a number from " + file.string());
  }
  return value;
}

struct Mount {
  fs::path root;  // the hierarchy's directory shown at the mount point
  fs::path mount_point;
};

// The v1 mount carrying the memory controller, or the v2 mount.
std::optional<Mount> find_mount(const fs::path& mountinfo, bool v2) {
  std::ifstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point, options, word;
    fields >> id >> parent >> dev >> root >> mount_point >> options;
    while (fields >> word && word != "-") {
    }
    std::string fstype, source, super_options;
    fields >> fstype >> source >> super_options;
    if (v2 && fstype == "cgroup2") {
      return Mount{root, mount_point};
    }
    if (!v2 && fstype == "cgroup") {
      std::istringstream opts(super_options);
      std::string opt;
      while (std::getline(opts, opt, ',')) {
        if (opt == "memory") {
          return Mount{root, mount_point};
        }
      }
    }
  }
  return std::nullopt;
}

// Our cgroup path in a hierarchy: the "memory" line (v1) or the "0::" line (v2).
std::optional<std::string> own_cgroup_path(const fs::path& self_cgroup, bool v2) {
  std::ifstream in(self_cgroup);
  std::string line;
  while (std::getline(in, line)) {
    std::size_t a = line.find(':');
    std::size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) {
      continue;
    }
    std::string hierarchy = line.substr(0, a);
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (v2 && hierarchy == "0" && controllers.empty()) {
      return path;
    }
    if (!v2) {
      std::istringstream list(controllers);
      std::string c;
      while (std::getline(list, c, ',')) {
        if (c == "memory") {
          return path;
        }
      }
    }
  }
  return std::nullopt;
}

// The directory of cgroup `path` under `mount` (the mount may show a sub-tree only).
fs::path cgroup_dir(const Mount& mount, const std::string& path) {
  fs::path rel = fs::path(path).lexically_relative(mount.root);
  if (rel.empty() || rel.native().rfind("..", 0) == 0) {
    rel = fs::path(path).relative_path();
  }
  return (mount.mount_point / rel).lexically_normal();
}

const char* peak_file(CgroupVersion v) {
  return v == CgroupVersion::v1 ? "memory.max_usage_in_bytes" : "memory.peak";
}

std::string next_name() {
  static std::atomic<int> counter{0};
  return "peakbench-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

// Makes and removes a cgroup under `parent`: whether we may, and whether it has the counter.
MethodAvailability try_create(const fs::path& parent, CgroupVersion v) {
  fs::path probe = parent / (next_name() + "-probe");
  if (::mkdir(probe.c_str(), 0755) != 0) {
    return {false, "cannot create a cgroup under " + parent.string() + ": " + errno_text()};
  }
  std::error_code ec;
  bool has_counter = fs::exists(probe / peak_file(v), ec);
  std::string delegation;
  if (!has_counter && v == CgroupVersion::v2) {
    // v2 gives a child the memory controller only when the parent lists it in
    // cgroup.subtree_control. A delegated cgroup (systemd Delegate=yes, or our own) may enable
    // it; one holding processes of its own may not (the no-internal-processes rule: EBUSY).
    Status enabled = write_text(parent / "cgroup.subtree_control", "+memory");
    if (enabled) {
      ::rmdir(probe.c_str());
      if (::mkdir(probe.c_str(), 0755) == 0) {
        has_counter = fs::exists(probe / peak_file(v), ec);
      }
    } else {
      delegation = "; enabling it failed: " + enabled.message();
      if (enabled.message().find(std::strerror(EBUSY)) != std::string::npos) {
        delegation +=
            " (the cgroup holds processes; run peakbench in a delegated scope, e.g. "
            "systemd-run --user --scope -p Delegate=yes peakbench run ...)";
      }
    }
  }
  ::rmdir(probe.c_str());
  if (!has_counter) {
    std::string why = v == CgroupVersion::v1
                          ? "no memory.max_usage_in_bytes in a new cgroup"
                          : "no memory.peak in a new cgroup (memory not in " + parent.string() +
                                "/cgroup.subtree_control, or kernel older than 5.19)" + delegation;
    return {false, why};
  }
  std::string detail = v == CgroupVersion::v1 ? "cgroup v1 memory.max_usage_in_bytes under "
                                              : "cgroup v2 memory.peak under ";
  return {true, detail + parent.string()};
}

}  // namespace

CgroupSupport detect_memory_cgroup(const fs::path& mountinfo, const fs::path& self_cgroup) {
  CgroupSupport support;
  // v1 first: on a hybrid host (this one) the memory controller lives in the v1 hierarchy and the
  // v2 mount has no controllers.
  for (bool v2 : {false, true}) {
    std::optional<Mount> mount = find_mount(mountinfo, v2);
    if (!mount) {
      continue;
    }
    std::optional<std::string> path = own_cgroup_path(self_cgroup, v2);
    if (!path) {
      continue;
    }
    CgroupVersion version = v2 ? CgroupVersion::v2 : CgroupVersion::v1;
    fs::path dir = cgroup_dir(*mount, *path);
    if (v2) {
      std::ifstream controllers(dir / "cgroup.controllers");
      std::string list((std::istreambuf_iterator<char>(controllers)),
                       std::istreambuf_iterator<char>());
      if (list.find("memory") == std::string::npos) {
        support.availability = {false,
                                "cgroup v2 at " + dir.string() + " has no memory controller"};
        continue;
      }
    }
    support.availability = try_create(dir, version);
    if (support.availability.available) {
      support.version = version;
      support.parent_dir = dir;
      return support;
    }
    if (!v2) {
      return support;  // v1 memory was there but refused: that is the reason to give
    }
  }
  if (support.availability.detail.empty()) {
    support.availability = {false, "no memory cgroup controller mounted"};
  }
  return support;
}

const CgroupSupport& memory_cgroup_support() {
  static const CgroupSupport support =
      detect_memory_cgroup("/proc/self/mountinfo", "/proc/self/cgroup");
  return support;
}

Result<MemoryCgroup> MemoryCgroup::create(const CgroupSupport& support) {
  if (!support.availability.available) {
    return Status::Error("memory cgroup unavailable: " + support.availability.detail);
  }
  fs::path dir = support.parent_dir / next_name();
  if (::mkdir(dir.c_str(), 0755) != 0) {
    return Status::Error("cannot create cgroup " + dir.string() + ": " + errno_text());
  }
  MemoryCgroup cgroup(dir, support.version);
  // A fresh cgroup's counter starts at zero; v1 is reset anyway in case the kernel reused state.
  if (support.version == CgroupVersion::v1) {
    Status reset = cgroup.reset_peak();
    if (!reset) {
      return reset;
    }
  }
  return cgroup;
}

MemoryCgroup::MemoryCgroup(MemoryCgroup&& other) noexcept
    : dir_(std::exchange(other.dir_, {})), version_(other.version_) {}

MemoryCgroup& MemoryCgroup::operator=(MemoryCgroup&& other) noexcept {
  if (this != &other) {
    (void)remove();
    dir_ = std::exchange(other.dir_, {});
    version_ = other.version_;
  }
  return *this;
}

MemoryCgroup::~MemoryCgroup() { (void)remove(); }

Result<std::uint64_t> MemoryCgroup::peak_bytes() const {
  if (dir_.empty()) {
    return Status::Error("cgroup: removed");
  }
  return read_number(dir_ / peak_file(version_));
}

Status MemoryCgroup::reset_peak() {
  if (dir_.empty()) {
    return Status::Error("cgroup: removed");
  }
  // v1: writing 0 sets max_usage to the current usage. v2: any write resets memory.peak for
  // this open file only (kernel >= 6.12), so a reader would need the same fd; fresh cgroups per
  // run make it unnecessary.
  return write_text(dir_ / peak_file(version_), "0");
}

Status MemoryCgroup::set_limit(std::uint64_t bytes) {
  if (dir_.empty()) {
    return Status::Error("cgroup: removed");
  }
  const char* file = version_ == CgroupVersion::v1 ? "memory.limit_in_bytes" : "memory.max";
  return write_text(dir_ / file, std::to_string(bytes));
}

Result<std::uint64_t> MemoryCgroup::oom_kills() const {
  if (dir_.empty()) {
    return Status::Error("cgroup: removed");
  }
  const fs::path file =
      dir_ / (version_ == CgroupVersion::v1 ? "memory.oom_control" : "memory.events");
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<std::uint64_t> kills = parse_oom_kill_count(text);
  if (!kills) {
    return Status::Error(kills.message() + " in " + file.string());
  }
  return kills;
}

namespace {

// Calls `on(key, value)` for every "key value" line.
template <typename F>
void for_each_stat(std::string_view text, F on) {
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) {
      continue;
    }
    std::uint64_t value = 0;
    std::string_view digits = line.substr(sp + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc()) {
      on(line.substr(0, sp), value);
    }
  }
}

}  // namespace

Result<std::uint64_t> parse_oom_kill_count(std::string_view text) {
  // Both files are "key value" lines; the key is oom_kill in each.
  std::optional<std::uint64_t> kills;
  for_each_stat(text, [&](std::string_view key, std::uint64_t value) {
    if (key == "oom_kill") {
      kills = value;
    }
  });
  if (!kills) {
    return Status::Error("no oom_kill count");
  }
  return *kills;
}

Result<CgroupMemoryStat> parse_memory_stat(std::string_view text, CgroupVersion version) {
  // v1: the total_* keys include descendant cgroups (a client may make its own); v2's keys are
  // hierarchical already.
  const bool v1 = version == CgroupVersion::v1;
  const std::string_view keys[4] = {v1 ? "rss" : "anon", v1 ? "mapped_file" : "file_mapped",
                                    "shmem", v1 ? "cache" : "file"};
  std::optional<std::uint64_t> own[4];
  std::optional<std::uint64_t> total[4];
  for_each_stat(text, [&](std::string_view key, std::uint64_t value) {
    bool is_total = v1 && key.substr(0, 6) == "total_";
    std::string_view name = is_total ? key.substr(6) : key;
    for (int i = 0; i < 4; ++i) {
      if (name == keys[i]) {
        (is_total ? total[i] : own[i]) = value;
      }
    }
  });
  std::uint64_t v[4];
  for (int i = 0; i < 4; ++i) {
    std::optional<std::uint64_t> got = total[i] ? total[i] : own[i];
    if (!got) {
      return Status::Error("memory.stat has no " + std::string(keys[i]));
    }
    v[i] = *got;
  }
  CgroupMemoryStat stat;
  stat.anon_bytes = v[0];
  stat.shmem_bytes = v[2];
  stat.file_mapped_bytes = v[1] - std::min(v[1], v[2]);
  stat.page_cache_bytes = v[3];
  return stat;
}

Status MemoryCgroup::remove() {
  if (dir_.empty()) {
    return Status::Ok();
  }
  // No v1 force_empty: it reclaims every page charged here, the page cache the run wrote
  // included, which made a warm run after its cold fill read the cache from disk (measured 2x
  // the bare wall time). rmdir leaves those pages cached, charged to the offline cgroup until
  // reclaim frees them, as they would stay cached on a user's machine.
  // A process that just exited may hold the cgroup for a moment.
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (::rmdir(dir_.c_str()) == 0 || errno == ENOENT) {
      dir_.clear();
      return Status::Ok();
    }
    if (errno != EBUSY) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Status failed = Status::Error("cannot remove cgroup " + dir_.string() + ": " + errno_text());
  dir_.clear();
  return failed;
}

}  // namespace peakbench
