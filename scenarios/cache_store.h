#pragma once
// The two on-disk cache designs behind one small interface, so that fetch() decides freshness
// and talks HTTP once for both. Each store holds one key (one URL).
//
// Copy counts (body-sized buffers alive at the peak; B = body size). Tests hold the subjects to
// these; scenarios/README.md explains them.
//   whole-body  cold 2×B: the body buffered whole while it downloads, plus the packed entry
//                         (`cc=4,` + msgpack with the body as bin) built from it before the write.
//               warm 2×B: the entry file read whole into memory, plus the body unpacked out of it
//                         (msgpack copies a bin out of its input, in Python and in msgpack-cxx
//                         by default); the file bytes are freed once unpacked.
//               304  2×B: the stored entry reloaded (2×B, then B) and repacked with new headers.
//   streaming   cold 0×B, warm 0×B, 304 0×B: one libcurl buffer (kCurlBufferBytes) or one read
//                         chunk (kChunkBytes) at a time; the body lives in `{key}.body`.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "scenarios/cache_entry.h"
#include "scenarios/http_client.h"
#include "scenarios/phase_probe.h"
#include "scenarios/strategy.h"

namespace peakbench {

/// Reads of a cached body file go in pieces of this size (streaming: the whole resident cost).
inline constexpr std::size_t kChunkBytes = std::size_t{64} * 1024;

/// Where the stores put their files under the cache directory (pip's names).
inline constexpr std::string_view kWholeBodyDir = "http";
inline constexpr std::string_view kStreamingDir = "http-v2";

using WarningSink = std::function<void(std::string)>;
using ChunkSink = std::function<Status(std::span<const std::byte>)>;

/// A stored response, loaded and checked.
class LoadedEntry {
 public:
  virtual ~LoadedEntry() = default;
  virtual const CachedResponse& response() const = 0;
  /// Body bytes stored with it.
  virtual std::uint64_t body_bytes() const = 0;
  /// Hands the whole body to `sink`, in order, in pieces of at most kChunkBytes.
  virtual Status serve(const ChunkSink& sink) = 0;
};

/// Takes a body as it downloads; abandons everything it wrote unless commit() succeeds.
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  virtual Status write(std::span<const std::byte> bytes) = 0;
  /// Writes the entry for `response` with the body written so far.
  virtual Status commit(const CachedResponse& response) = 0;
  /// Hands the body written so far back to `sink` in kChunkBytes pieces, for a design that keeps
  /// it in a file (streaming); the others say they cannot.
  virtual Status read_back(const ChunkSink& sink) const {
    (void)sink;
    return Status::Error("this cache design keeps no body file to read back");
  }
};

class CacheStore {
 public:
  virtual ~CacheStore() = default;
  /// The stored entry, or nullptr on a miss. A corrupt, truncated or half entry is a miss that
  /// sends exactly one line to `warn`.
  virtual std::unique_ptr<LoadedEntry> load(const WarningSink& warn) = 0;
  /// Starts storing a new body for the response `head`.
  virtual Result<std::unique_ptr<BodyWriter>> begin_store(const ResponseHead& head) = 0;
  /// After a 304: rewrites `entry` with the refreshed `response` (whole-body: the whole entry,
  /// body included; streaming: the metadata only).
  virtual Status refresh(LoadedEntry& entry, const CachedResponse& response) = 0;
  /// Deletes the entry's files; absent files are fine.
  virtual void remove() = 0;
  /// Cache bytes written so far (entries, body files).
  virtual std::uint64_t bytes_written() const = 0;
  /// The metadata file (whole-body: the entry) and, for streaming, the body file.
  virtual std::filesystem::path metadata_path() const = 0;
  virtual std::filesystem::path body_path() const = 0;  ///< empty for whole-body
};

/// The store of `strategy` for the key `key_hex` (sha224 of the cache URL) under `cache_dir`.
std::unique_ptr<CacheStore> make_store(Strategy strategy, const std::filesystem::path& cache_dir,
                                       const std::string& key_hex, PhaseProbe& probe);
std::unique_ptr<CacheStore> make_whole_body_store(const std::filesystem::path& cache_dir,
                                                  const std::string& key_hex, PhaseProbe& probe);
std::unique_ptr<CacheStore> make_streaming_store(const std::filesystem::path& cache_dir,
                                                 const std::string& key_hex, PhaseProbe& probe);
/// tee-mmap (tee_mmap_store.cc): reads as streaming does; writes through a temporary file in
/// `temp_dir` that is mmapped whole to write `{key}.body`. Copy count: cold 1×B (the mapping).
std::unique_ptr<CacheStore> make_tee_mmap_store(const std::filesystem::path& cache_dir,
                                                const std::string& key_hex,
                                                const std::filesystem::path& temp_dir,
                                                PhaseProbe& probe);

// Helpers shared by the two stores (cache_store.cc). Every path they take lies under `root`, the
// cache directory: `root` itself may be a symlink (a user's choice), nothing below it is followed.

/// A cache file open for reading: a regular file reached without following a symlink.
struct CacheFile {
  UniqueFd fd;
  std::uint64_t size_bytes = 0;
};

/// Opens `path` (under `root`) for reading without blocking and without following a symlink in
/// any component below `root`. nullopt when it or a directory on its path does not exist (a miss,
/// as pip treats it). An error (one line) for a symlink, a FIFO, a directory or another
/// non-regular file where the file should be: the caller's miss with one warning.
Result<std::optional<CacheFile>> open_cache_file(const std::filesystem::path& root,
                                                 const std::filesystem::path& path);

/// Reads a whole file into one exactly sized buffer (as Python's `f.read()` does: one allocation
/// of the file's size). nullopt when the file or a directory on its path does not exist; errors
/// as open_cache_file().
Result<std::optional<std::vector<std::byte>>> read_whole_file(const std::filesystem::path& root,
                                                              const std::filesystem::path& path,
                                                              std::uint64_t max_bytes);

/// Makes `path` (under `root`) writable by a rename: creates its parent directories, replacing a
/// symlink or a file where a directory should be, and removes whatever non-regular file (a
/// directory, a FIFO, a symlink) stands at `path` itself, so that a broken entry heals.
Status ensure_parent(const std::filesystem::path& root, const std::filesystem::path& path);

/// The Content-Length a stored response announces, when it holds a valid one.
std::optional<std::uint64_t> announced_length(const CachedResponse& response);

}  // namespace peakbench
