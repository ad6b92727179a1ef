// The streaming design: pip's SafeFileCache over CacheControl's SeparateBodyBaseCache (pip 23.3+,
// `http-v2/`). The metadata entry carries an empty body; the body is `{key}.body`, written as it
// downloads and read back in fixed chunks. Nothing body-sized is ever in memory (copy count 0×B,
// cold, warm and 304): the resident cost is one libcurl buffer or one kChunkBytes read buffer.
// No mmap: a mapping of the body would count in RSS as it is touched.

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <vector>

#include "base/atomic_file.h"
#include "scenarios/cache_store.h"

namespace peakbench {
namespace {

// Metadata is a few hundred bytes; anything near this size is not an entry of this design, and
// reading it whole would break the design's promise of no body-sized buffer.
constexpr std::uint64_t kMaxMetadataBytes = 1 << 20;

class StreamingEntry final : public LoadedEntry {
 public:
  StreamingEntry(CachedResponse response, UniqueFd body, std::uint64_t body_bytes,
                 std::filesystem::path body_path)
      : response_(std::move(response)),
        body_(std::move(body)),
        body_bytes_(body_bytes),
        body_path_(std::move(body_path)) {}
  const CachedResponse& response() const override { return response_; }
  std::uint64_t body_bytes() const override { return body_bytes_; }

  Status serve(const ChunkSink& sink) override {
    std::vector<std::byte> chunk(kChunkBytes);
    std::uint64_t offset = 0;
    while (offset < body_bytes_) {
      const ssize_t n =
          ::pread(body_.get(), chunk.data(), chunk.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::Error(
            fmt::format("cannot read {}: {}", body_path_.string(), std::strerror(errno)));
      }
      if (n == 0) {
        return Status::Error(
            fmt::format("{} ended after {} of {} bytes", body_path_.string(), offset, body_bytes_));
      }
      offset += static_cast<std::uint64_t>(n);
      if (Status s = sink(std::span(chunk.data(), static_cast<std::size_t>(n))); !s) return s;
    }
    return Status::Ok();
  }

 private:
  CachedResponse response_;
  UniqueFd body_;
  std::uint64_t body_bytes_;
  std::filesystem::path body_path_;
};

class StreamingStore;

class StreamingWriter final : public BodyWriter {
 public:
  StreamingWriter(StreamingStore& store, AtomicFile file) : store_(store), file_(std::move(file)) {}
  Status write(std::span<const std::byte> bytes) override;
  Status commit(const CachedResponse& response) override;
  Status read_back(const ChunkSink& sink) const override {
    return file_.read_back(kChunkBytes, sink);
  }

 private:
  StreamingStore& store_;
  AtomicFile file_;
};

class StreamingStore final : public CacheStore {
 public:
  StreamingStore(const std::filesystem::path& cache_dir, const std::string& key_hex,
                 PhaseProbe& probe)
      : root_(cache_dir),
        metadata_path_(entry_path(cache_dir / kStreamingDir, key_hex)),
        body_path_(std::filesystem::path(metadata_path_) += ".body"),
        probe_(probe) {}

  std::unique_ptr<LoadedEntry> load(const WarningSink& warn) override {
    // Both files are opened first (without following a symlink, without blocking on a FIFO), so
    // that one broken entry gives one warning, whichever half is broken.
    auto metadata = open_cache_file(root_, metadata_path_);
    auto body = open_cache_file(root_, body_path_);
    if (!metadata || !body) {
      warn(fmt::format("cache entry ignored: {}", !metadata ? metadata.message() : body.message()));
      return nullptr;
    }
    if (!metadata->has_value() && !body->has_value()) return nullptr;
    if (!body->has_value()) {
      warn(fmt::format("half cache entry ignored: {} has no body file", metadata_path_.string()));
      return nullptr;
    }
    if (!metadata->has_value()) {
      warn(fmt::format("half cache entry ignored: {} has no metadata", body_path_.string()));
      return nullptr;
    }
    metadata->reset();  // read_whole_file opens it again, the same way
    auto bytes = read_whole_file(root_, metadata_path_, kMaxMetadataBytes);
    if (!bytes || !bytes->has_value()) {
      warn(fmt::format(
          "cache entry ignored: {}",
          bytes ? fmt::format("{} vanished", metadata_path_.string()) : bytes.message()));
      return nullptr;
    }
    auto decoded = decode_entry(**bytes);
    if (!decoded) {
      warn(fmt::format("cache entry {} ignored: {}", metadata_path_.string(), decoded.message()));
      return nullptr;
    }
    const std::uint64_t size = (*body)->size_bytes;
    const std::optional<std::uint64_t> announced = announced_length(decoded->response);
    if (announced && *announced != size) {
      warn(fmt::format("cache entry ignored: {} has {} bytes, its metadata announces {}",
                       body_path_.string(), size, *announced));
      return nullptr;
    }
    UniqueFd fd = std::move((*body)->fd);
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    return std::make_unique<StreamingEntry>(std::move(decoded->response), std::move(fd), size,
                                            body_path_);
  }

  Result<std::unique_ptr<BodyWriter>> begin_store(const ResponseHead&) override {
    if (Status s = ensure_parent(root_, body_path_); !s) return s;
    auto file = AtomicFile::create(body_path_);
    if (!file) return file.status();
    return std::unique_ptr<BodyWriter>(std::make_unique<StreamingWriter>(*this, std::move(*file)));
  }

  Status refresh(LoadedEntry&, const CachedResponse& response) override {
    // The body file is untouched: only the metadata changes on a 304.
    return write_metadata(response);
  }

  void remove() override {
    ::unlink(metadata_path_.c_str());
    ::unlink(body_path_.c_str());
  }
  std::uint64_t bytes_written() const override { return bytes_written_; }
  std::filesystem::path metadata_path() const override { return metadata_path_; }
  std::filesystem::path body_path() const override { return body_path_; }

  Status write_metadata(const CachedResponse& response) {
    if (Status s = ensure_parent(root_, metadata_path_); !s) return s;
    msgpack::sbuffer packed(kEntryPrefix.size() + metadata_bytes_bound(response));
    if (Status s = encode_entry(response, {}, packed); !s) return s;
    if (Status s =
            write_file_atomically(metadata_path_, std::string_view(packed.data(), packed.size()));
        !s) {
      return s;
    }
    count_written(packed.size());
    return Status::Ok();
  }

  void count_written(std::uint64_t bytes) {
    bytes_written_ += bytes;
    probe_.add_bytes_written(bytes);
  }

 private:
  std::filesystem::path root_;
  std::filesystem::path metadata_path_;
  std::filesystem::path body_path_;
  PhaseProbe& probe_;
  std::uint64_t bytes_written_ = 0;
};

Status StreamingWriter::write(std::span<const std::byte> bytes) {
  if (Status s = file_.write(bytes); !s) return s;
  store_.count_written(bytes.size());
  return Status::Ok();
}

Status StreamingWriter::commit(const CachedResponse& response) {
  // The body goes into place first, then the metadata: pip treats a metadata file without its
  // body as a miss, so there is no moment when new metadata points at a missing body.
  if (Status s = file_.commit(); !s) return s;
  if (Status s = store_.write_metadata(response); !s) {
    ::unlink(store_.body_path().c_str());  // no half entry left behind
    return s;
  }
  return Status::Ok();
}

}  // namespace

std::unique_ptr<CacheStore> make_streaming_store(const std::filesystem::path& cache_dir,
                                                 const std::string& key_hex, PhaseProbe& probe) {
  return std::make_unique<StreamingStore>(cache_dir, key_hex, probe);
}

std::unique_ptr<CacheStore> make_store(Strategy strategy, const std::filesystem::path& cache_dir,
                                       const std::string& key_hex, PhaseProbe& probe) {
  if (strategy == Strategy::whole_body) return make_whole_body_store(cache_dir, key_hex, probe);
  return make_streaming_store(cache_dir, key_hex, probe);
}

}  // namespace peakbench
