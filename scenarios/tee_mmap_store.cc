// The tee-mmap design: CacheControl 0.13+ as pip 23.3+ ships it (`http-v2/`). The reading side
// is the streaming store's (the same files); the writing side follows CallbackFileWrapper and
// SeparateBodyFileCache: every chunk read goes to the consumer and to an unlinked-on-close
// temporary file in the client's temp dir; when the body is complete that file is mmapped whole
// (read-only, shared) and `{key}.body` is written from the mapping in one write, after the
// metadata (`_cache_set`: `set()` then `set_body()`). Copy count: cold 1×B, all of it the
// mapping: file-backed RSS on a disk temp dir, shmem on a tmpfs one; warm and 304 0×B.

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "scenarios/cache_store.h"

namespace peakbench {
namespace {

class TeeMmapStore;

/// The temporary file of CallbackFileWrapper (`NamedTemporaryFile(delete=True)`): a named file in
/// the temp dir, removed when it is closed, whatever happened.
class TempFile {
 public:
  static Result<TempFile> create(const std::filesystem::path& dir) {
    std::string pattern = (dir / "tmpXXXXXX").string();
    UniqueFd fd(::mkostemp(pattern.data(), O_CLOEXEC));
    if (!fd) {
      return Status::Error(fmt::format("cannot create a temporary file in {}: {}", dir.string(),
                                       std::strerror(errno)));
    }
    return TempFile(std::move(pattern), std::move(fd));
  }
  TempFile(TempFile&& other) noexcept : path_(std::move(other.path_)), fd_(std::move(other.fd_)) {}
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile() {
    if (fd_) ::unlink(path_.c_str());  // then ~UniqueFd closes it
  }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  TempFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;
};

class TeeMmapWriter final : public BodyWriter {
 public:
  TeeMmapWriter(TeeMmapStore& store, TempFile temp) : store_(store), temp_(std::move(temp)) {}
  Status write(std::span<const std::byte> bytes) override {
    const auto* p = reinterpret_cast<const char*>(bytes.data());
    std::size_t left = bytes.size();
    while (left > 0) {
      const ssize_t n = ::write(temp_.fd(), p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::Error(
            fmt::format("cannot write {}: {}", temp_.path(), std::strerror(errno)));
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    size_ += bytes.size();
    return Status::Ok();
  }
  Status commit(const CachedResponse& response) override;

 private:
  TeeMmapStore& store_;
  TempFile temp_;
  std::uint64_t size_ = 0;
};

class TeeMmapStore final : public CacheStore {
 public:
  TeeMmapStore(const std::filesystem::path& cache_dir, const std::string& key_hex,
               std::filesystem::path temp_dir, PhaseProbe& probe)
      : files_(make_streaming_store(cache_dir, key_hex, probe)),
        root_(cache_dir),
        temp_dir_(std::move(temp_dir)),
        probe_(probe) {}

  std::unique_ptr<LoadedEntry> load(const WarningSink& warn) override { return files_->load(warn); }
  Result<std::unique_ptr<BodyWriter>> begin_store(const ResponseHead&) override {
    // CallbackFileWrapper opens its temporary file as the response starts, before any byte.
    auto temp = TempFile::create(temp_dir_);
    if (!temp) return temp.status();
    return std::unique_ptr<BodyWriter>(std::make_unique<TeeMmapWriter>(*this, std::move(*temp)));
  }
  Status refresh(LoadedEntry& entry, const CachedResponse& response) override {
    return files_->refresh(entry, response);
  }
  void remove() override { files_->remove(); }
  std::uint64_t bytes_written() const override { return files_->bytes_written() + written_; }
  std::filesystem::path metadata_path() const override { return files_->metadata_path(); }
  std::filesystem::path body_path() const override { return files_->body_path(); }

  Status write_metadata(const CachedResponse& response) {
    const std::filesystem::path path = metadata_path();
    if (Status s = ensure_parent(root_, path); !s) return s;
    msgpack::sbuffer packed(kEntryPrefix.size() + metadata_bytes_bound(response));
    if (Status s = encode_entry(response, {}, packed); !s) return s;
    if (Status s = write_file_atomically(path, std::string_view(packed.data(), packed.size()));
        !s) {
      return s;
    }
    count_written(packed.size());
    return Status::Ok();
  }
  void count_written(std::uint64_t bytes) {
    written_ += bytes;
    probe_.add_bytes_written(bytes);
  }

 private:
  std::unique_ptr<CacheStore> files_;
  std::filesystem::path root_;  ///< nothing is opened or made outside it
  std::filesystem::path temp_dir_;
  PhaseProbe& probe_;
  std::uint64_t written_ = 0;
};

Status TeeMmapWriter::commit(const CachedResponse& response) {
  if (Status s = store_.write_metadata(response); !s) return s;
  const std::filesystem::path body_path = store_.body_path();
  auto body = AtomicFile::create(body_path);
  if (!body) {
    ::unlink(store_.metadata_path().c_str());
    return body.status();
  }
  Status written = Status::Ok();
  if (size_ > 0) {
    // `memoryview(mmap.mmap(fileno, 0, access=ACCESS_READ))` handed to `os.write(fd, data)`: the
    // kernel copies out of the mapping, faulting every page of it in; they stay mapped (and
    // counted in RSS) until the mapping goes.
    void* map = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, temp_.fd(), 0);
    if (map == MAP_FAILED) {
      written = Status::Error(fmt::format("cannot map {}: {}", temp_.path(), std::strerror(errno)));
    } else {
      written = body->write(std::span(static_cast<const std::byte*>(map), size_));
      ::munmap(map, size_);
    }
  }
  if (written) written = body->commit();
  if (!written) {
    ::unlink(store_.metadata_path().c_str());  // no half entry left behind
    return written;
  }
  store_.count_written(size_);
  return Status::Ok();
}

}  // namespace

std::unique_ptr<CacheStore> make_tee_mmap_store(const std::filesystem::path& cache_dir,
                                                const std::string& key_hex,
                                                const std::filesystem::path& temp_dir,
                                                PhaseProbe& probe) {
  return std::make_unique<TeeMmapStore>(cache_dir, key_hex, temp_dir, probe);
}

}  // namespace peakbench
