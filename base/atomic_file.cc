#include "base/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace peakbench {
namespace {
std::atomic<unsigned> g_tmp_counter{0};
}  // namespace

Result<AtomicFile> AtomicFile::create(const std::filesystem::path& path) {
  std::filesystem::path tmp = path;
  tmp += fmt::format(".tmp-{}-{}", ::getpid(), g_tmp_counter++);
  UniqueFd fd(::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) {
    return Status::Error(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
  }
  return AtomicFile(path, std::move(tmp), std::move(fd));
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      tmp_(std::move(other.tmp_)),
      fd_(std::move(other.fd_)),
      written_(other.written_) {
  other.tmp_.clear();
}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    abandon();
    path_ = std::move(other.path_);
    tmp_ = std::move(other.tmp_);
    fd_ = std::move(other.fd_);
    written_ = other.written_;
    other.tmp_.clear();
  }
  return *this;
}

AtomicFile::~AtomicFile() { abandon(); }

Status AtomicFile::write(std::span<const std::byte> bytes) {
  if (!fd_) return Status::Error(fmt::format("cannot write {}: file closed", path_.string()));
  const std::byte* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Error(
          fmt::format("cannot write {}: {}", path_.string(), std::strerror(errno)));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  written_ += bytes.size();
  return Status::Ok();
}

Status AtomicFile::read_back(std::size_t chunk_bytes,
                             const std::function<Status(std::span<const std::byte>)>& sink) const {
  if (!fd_) return Status::Error(fmt::format("cannot read back {}: file closed", path_.string()));
  std::vector<std::byte> chunk(chunk_bytes);
  std::uint64_t offset = 0;
  while (offset < written_) {
    const ssize_t n = ::pread(fd_.get(), chunk.data(), chunk.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Error(
          fmt::format("cannot read back {}: {}", tmp_.string(), std::strerror(errno)));
    }
    if (n == 0) {
      return Status::Error(fmt::format("cannot read back {}: it ended after {} of {} bytes",
                                       tmp_.string(), offset, written_));
    }
    offset += static_cast<std::uint64_t>(n);
    if (Status s = sink(std::span(chunk.data(), static_cast<std::size_t>(n))); !s) return s;
  }
  return Status::Ok();
}

Status AtomicFile::commit() {
  if (!fd_) return Status::Error(fmt::format("cannot write {}: file closed", path_.string()));
  UniqueFd fd = std::move(fd_);
  // As pip's adjacent_tmp_file: the bytes reach the disk before the name points at them, so a
  // power cut leaves the old file or the whole new one, never a new name over missing data.
  if (::fsync(fd.get()) != 0) {
    const int err = errno;
    fd.reset();
    ::unlink(tmp_.c_str());
    return Status::Error(fmt::format("cannot write {}: {}", path_.string(), std::strerror(err)));
  }
  // close() reports a failed delayed write, so its result is checked: closed here, not by
  // ~UniqueFd.
  if (::close(fd.release()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    return Status::Error(fmt::format("cannot write {}: {}", path_.string(), std::strerror(err)));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    return Status::Error(
        fmt::format("cannot rename into {}: {}", path_.string(), std::strerror(err)));
  }
  tmp_.clear();
  // And the rename itself reaches the disk: the directory's entry is data too. A failure here
  // leaves a complete file in place; it only weakens durability, so it is not an error.
  const std::filesystem::path dir = path_.has_parent_path() ? path_.parent_path() : ".";
  const UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd) (void)::fsync(dir_fd.get());
  return Status::Ok();
}

void AtomicFile::abandon() {
  fd_.reset();
  if (!tmp_.empty()) {
    ::unlink(tmp_.c_str());
    tmp_.clear();
  }
}

Status write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  auto file = AtomicFile::create(path);
  if (!file) return file.status();
  if (Status s = file->write(contents); !s) return s;
  return file->commit();
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Status::Error(fmt::format("cannot read {}", path.string()));
  return std::move(buffer).str();
}

}  // namespace peakbench
