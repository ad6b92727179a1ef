#include "scenarios/cache_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <new>
#include <system_error>

namespace peakbench {
namespace {

namespace fs = std::filesystem;

// The components of `path` below `root`; nullopt when `path` is not under it.
std::optional<std::vector<std::string>> components_below(const fs::path& root,
                                                         const fs::path& path) {
  const fs::path relative = path.lexically_relative(root);
  if (relative.empty()) return std::nullopt;
  std::vector<std::string> parts;
  for (const fs::path& part : relative) {
    if (part == ".." || part == "." || part.empty()) return std::nullopt;
    parts.push_back(part.string());
  }
  return parts;
}

std::string describe_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symlink";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

Status not_a_file(const fs::path& path, mode_t mode) {
  return Status::Error(
      fmt::format("{} is {}, not a regular file", path.string(), describe_type(mode)));
}

}  // namespace

Result<std::optional<CacheFile>> open_cache_file(const fs::path& root, const fs::path& path) {
  using Opened = std::optional<CacheFile>;
  const auto parts = components_below(root, path);
  if (!parts) {
    return Status::Error(fmt::format("{} is outside the cache {}", path.string(), root.string()));
  }
  // The cache directory itself may be a symlink; below it, nothing is followed.
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    if (errno == ENOENT || errno == ENOTDIR) return Opened();
    return Status::Error(fmt::format("cannot read {}: {}", root.string(), std::strerror(errno)));
  }
  fs::path reached = root;
  for (std::size_t i = 0; i + 1 < parts->size(); ++i) {
    reached /= (*parts)[i];
    UniqueFd next(
        ::openat(dir.get(), (*parts)[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      const int err = errno;
      struct stat info {};
      if (err == ENOENT) return Opened();
      if ((err == ENOTDIR || err == ELOOP) &&
          ::fstatat(dir.get(), (*parts)[i].c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0) {
        // A regular file where a directory should be: no entry, as pip sees it. A symlink: the
        // cache would be left through it.
        if (S_ISREG(info.st_mode)) return Opened();
        return Status::Error(fmt::format("{} is {}, not a directory of the cache", reached.string(),
                                         describe_type(info.st_mode)));
      }
      return Status::Error(fmt::format("cannot read {}: {}", reached.string(), std::strerror(err)));
    }
    dir = std::move(next);
  }
  // O_NONBLOCK: opening a FIFO must not wait for a writer; a regular file ignores the flag.
  UniqueFd fd(::openat(dir.get(), parts->back().c_str(),
                       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT) return Opened();
    struct stat info {};
    if (::fstatat(dir.get(), parts->back().c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
        !S_ISREG(info.st_mode)) {
      return not_a_file(path, info.st_mode);
    }
    return Status::Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(err)));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    return Status::Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) return not_a_file(path, info.st_mode);
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  return Opened(CacheFile{std::move(fd), static_cast<std::uint64_t>(info.st_size)});
}

Result<std::optional<std::vector<std::byte>>> read_whole_file(const fs::path& root,
                                                              const fs::path& path,
                                                              std::uint64_t max_bytes) {
  using Bytes = std::optional<std::vector<std::byte>>;
  auto opened = open_cache_file(root, path);
  if (!opened) return opened.status();
  if (!opened->has_value()) return Bytes();
  const int fd = (*opened)->fd.get();
  const std::uint64_t size = (*opened)->size_bytes;
  if (size > max_bytes) {
    return Status::Error(
        fmt::format("{} has {} bytes, more than the {} allowed", path.string(), size, max_bytes));
  }
  std::vector<std::byte> bytes;
  try {
    // One allocation of the file's size; vector value-initializes it, which touches the pages
    // read() is about to fill anyway.
    bytes.resize(size);
  } catch (const std::bad_alloc&) {
    return Status::Error(
        fmt::format("cannot read {}: out of memory for {} bytes", path.string(), size));
  }
  std::uint64_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, bytes.data() + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
    }
    if (n == 0) break;
    done += static_cast<std::uint64_t>(n);
  }
  if (done != size) {
    return Status::Error(fmt::format("{} shrank while being read", path.string()));
  }
  return Bytes(std::move(bytes));
}

Status ensure_parent(const fs::path& root, const fs::path& path) {
  const auto parts = components_below(root, path);
  if (!parts) {
    return Status::Error(fmt::format("{} is outside the cache {}", path.string(), root.string()));
  }
  std::error_code error;
  fs::create_directories(root, error);
  if (error) {
    return Status::Error(fmt::format("cannot create {}: {}", root.string(), error.message()));
  }
  // Each directory below the cache root must be a real directory: a symlink or a file in its
  // place is removed (the link, never its target) and the directory made.
  fs::path reached = root;
  for (std::size_t i = 0; i < parts->size(); ++i) {
    reached /= (*parts)[i];
    const bool last = i + 1 == parts->size();
    const fs::file_status status = fs::symlink_status(reached, error);
    if (error && error != std::errc::no_such_file_or_directory) {
      return Status::Error(fmt::format("cannot create {}: {}", reached.string(), error.message()));
    }
    error.clear();
    const bool exists = fs::exists(status);
    if (last) {
      // What stands where the file goes must let a rename replace it.
      if (exists && !fs::is_regular_file(status)) fs::remove_all(reached, error);
    } else if (!exists || !fs::is_directory(status)) {
      if (exists) fs::remove_all(reached, error);
      error.clear();
      fs::create_directory(reached, error);
    }
    if (error) {
      return Status::Error(fmt::format("cannot create {}: {}", reached.string(), error.message()));
    }
  }
  return Status::Ok();
}

std::optional<std::uint64_t> announced_length(const CachedResponse& response) {
  const std::string* text = response.headers.find("content-length");
  if (text == nullptr) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

}  // namespace peakbench
