#pragma once
// Files that are either whole or absent: reports and cache entries are written to a temporary
// name in the same directory and renamed, so a crash or a failed download loses nothing.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/unique_fd.h"

namespace peakbench {

class AtomicFile {
 public:
  /// Creates `path.tmp-PID-N` beside `path` (the directory must exist).
  static Result<AtomicFile> create(const std::filesystem::path& path);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  /// Removes the temporary file unless commit() succeeded.
  ~AtomicFile();

  Status write(std::span<const std::byte> bytes);
  Status write(std::string_view text) { return write(std::as_bytes(std::span(text))); }
  /// Bytes written so far.
  std::uint64_t size_bytes() const { return written_; }
  /// Hands what was written so far to `sink`, in order, in pieces of at most `chunk_bytes`
  /// (one buffer of that size: nothing file-sized is read into memory).
  Status read_back(std::size_t chunk_bytes,
                   const std::function<Status(std::span<const std::byte>)>& sink) const;
  /// fsyncs and closes the temporary file, renames it to the final path, and fsyncs the
  /// directory (as pip's adjacent_tmp_file does): after a power cut, the old file or the new one.
  Status commit();
  /// Closes and removes the temporary file.
  void abandon();

  const std::filesystem::path& path() const { return path_; }

 private:
  AtomicFile(std::filesystem::path path, std::filesystem::path tmp, UniqueFd fd)
      : path_(std::move(path)), tmp_(std::move(tmp)), fd_(std::move(fd)) {}
  std::filesystem::path path_;
  std::filesystem::path tmp_;
  UniqueFd fd_;
  std::uint64_t written_ = 0;
};

/// Writes `contents` to `path` atomically (temporary name, then rename).
Status write_file_atomically(const std::filesystem::path& path, std::string_view contents);

/// Reads a whole file; the message names the file and the reason when it cannot.
Result<std::string> read_file(const std::filesystem::path& path);

}  // namespace peakbench
