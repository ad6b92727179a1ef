#include "scenarios/cache_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <system_error>

namespace peakbench {

Result<std::optional<std::vector<std::byte>>> read_whole_file(const std::filesystem::path& path,
                                                              std::uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    // Absent, or a path component is not a directory: no entry (pip treats both as a miss).
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::vector<std::byte>>();
    return Status::Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    return Status::Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  const auto size = static_cast<std::uint64_t>(info.st_size);
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
  return std::optional<std::vector<std::byte>>(std::move(bytes));
}

Status ensure_parent(const std::filesystem::path& path) {
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) {
    return Status::Error(
        fmt::format("cannot create {}: {}", path.parent_path().string(), error.message()));
  }
  return Status::Ok();
}

}  // namespace peakbench
