// The whole-body design: CacheControl's FileCache as pip used it before 23.3 (`http/`). The body
// lives inside the msgpack entry, so every write builds the whole entry in memory and every read
// loads it whole. Copy count: 2×B cold, 2×B warm, 2×B on a 304 (see cache_store.h).

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <new>
#include <vector>

#include "base/atomic_file.h"
#include "scenarios/cache_store.h"

namespace peakbench {
namespace {

// An entry is never larger than msgpack's bin 32 limit plus its metadata.
constexpr std::uint64_t kMaxEntryBytes = std::uint64_t{1} << 33;
// msgpack's bin 32 holds fewer than 2^32 bytes: CacheControl's serializer fails on a larger body
// (`ValueError: Memoryview is too large`, pip #13225) and pip goes on without caching it.
constexpr std::uint64_t kMaxBinBytes = (std::uint64_t{1} << 32) - 1;
constexpr std::string_view kTooLargeForBin = "body of 4 GiB or more (msgpack bin 32)";

class WholeBodyEntry final : public LoadedEntry {
 public:
  explicit WholeBodyEntry(DecodedEntry decoded) : decoded_(std::move(decoded)) {}
  const CachedResponse& response() const override { return decoded_.response; }
  std::uint64_t body_bytes() const override { return decoded_.body.size(); }
  std::span<const std::byte> body() const { return decoded_.body; }
  Status serve(const ChunkSink& sink) override {
    // The body is already in memory; hand it on in the pieces a reader of a BytesIO would take.
    for (std::size_t at = 0; at < decoded_.body.size(); at += kChunkBytes) {
      const std::size_t n = std::min(kChunkBytes, decoded_.body.size() - at);
      if (Status s = sink(decoded_.body.subspan(at, n)); !s) return s;
    }
    return Status::Ok();
  }

 private:
  DecodedEntry decoded_;
};

class WholeBodyStore;

// Copy 1 of 2 (cold): the body, buffered whole while it downloads.
class WholeBodyWriter final : public BodyWriter {
 public:
  WholeBodyWriter(WholeBodyStore& store, std::vector<std::byte> buffer)
      : store_(store), body_(std::move(buffer)) {}
  Status write(std::span<const std::byte> bytes) override {
    try {
      body_.insert(body_.end(), bytes.begin(), bytes.end());
    } catch (const std::bad_alloc&) {
      return Status::Error(fmt::format("out of memory buffering a body of {} bytes", body_.size()));
    }
    return Status::Ok();
  }
  Status commit(const CachedResponse& response) override;

 private:
  WholeBodyStore& store_;
  std::vector<std::byte> body_;
};

class WholeBodyStore final : public CacheStore {
 public:
  WholeBodyStore(const std::filesystem::path& cache_dir, const std::string& key_hex,
                 PhaseProbe& probe)
      : root_(cache_dir), path_(entry_path(cache_dir / kWholeBodyDir, key_hex)), probe_(probe) {}

  std::unique_ptr<LoadedEntry> load(const WarningSink& warn) override {
    // Copy 1 of 2 (warm): the entry file, read whole.
    auto bytes = read_whole_file(root_, path_, kMaxEntryBytes);
    if (!bytes) {
      warn(fmt::format("cache entry ignored: {}", bytes.message()));
      return nullptr;
    }
    if (!bytes->has_value()) return nullptr;
    // Copy 2 of 2 (warm): the body, unpacked out of the file bytes into the decoder's zone.
    auto decoded = decode_entry(**bytes);
    if (!decoded) {
      warn(fmt::format("cache entry {} ignored: {}", path_.string(), decoded.message()));
      return nullptr;
    }
    bytes->reset();  // the file bytes go as soon as they are unpacked, as in CacheControl
    // A body cut short (or grown) behind its stored Content-Length is not the response stored.
    const std::optional<std::uint64_t> announced = announced_length(decoded->response);
    if (announced && *announced != decoded->body.size()) {
      warn(fmt::format("cache entry {} ignored: its body has {} bytes, its Content-Length says {}",
                       path_.string(), decoded->body.size(), *announced));
      return nullptr;
    }
    return std::make_unique<WholeBodyEntry>(std::move(*decoded));
  }

  Result<std::unique_ptr<BodyWriter>> begin_store(const ResponseHead& head) override {
    std::vector<std::byte> buffer;
    // The design buffers the whole body anyway. Reserving the announced length (the one place
    // a buffer is sized from Content-Length) keeps that buffer at exactly B; growing by doubling
    // would briefly hold old and new buffers while copying, and make the figure depend on where
    // B falls between powers of two. Without a Content-Length the vector grows as it must.
    if (head.content_length && *head.content_length <= kMaxEntryBytes) {
      try {
        buffer.reserve(*head.content_length);
      } catch (const std::bad_alloc&) {
        return Status::Error(
            fmt::format("out of memory for a body of {} bytes", *head.content_length));
      }
    }
    return std::unique_ptr<BodyWriter>(std::make_unique<WholeBodyWriter>(*this, std::move(buffer)));
  }

  Status refresh(LoadedEntry& entry, const CachedResponse& response) override {
    // As CacheControl did on a 304: serialize the whole entry again, body included.
    return write_entry(response, static_cast<WholeBodyEntry&>(entry).body());
  }

  void remove() override { ::unlink(path_.c_str()); }
  std::uint64_t bytes_written() const override { return bytes_written_; }
  std::filesystem::path metadata_path() const override { return path_; }
  std::filesystem::path body_path() const override { return {}; }

  // Copy 2 of 2 (cold and 304): the packed entry, built beside the body, then written.
  Status write_entry(const CachedResponse& response, std::span<const std::byte> body) {
    // As in CacheControl, the body was buffered whole (copy 1) before packing finds it too large;
    // the packed copy is never made.
    if (body.size() > kMaxBinBytes) return Status::Error(std::string(kTooLargeForBin));
    CachedResponse stored = response;
    stored.strict = stored.strict.value_or(0);  // CacheControl 0.12 writes `strict`
    if (Status s = ensure_parent(root_, path_); !s) return s;
    try {
      // Sized once so the packer never regrows (and never briefly holds two partial copies).
      msgpack::sbuffer packed(kEntryPrefix.size() + body.size() + metadata_bytes_bound(stored));
      if (Status s = encode_entry(stored, body, packed); !s) return s;
      auto file = AtomicFile::create(path_);
      if (!file) return file.status();
      if (Status s = file->write(std::as_bytes(std::span(packed.data(), packed.size()))); !s) {
        return s;
      }
      if (Status s = file->commit(); !s) return s;
      bytes_written_ += packed.size();
      probe_.add_bytes_written(packed.size());
    } catch (const std::bad_alloc&) {
      return Status::Error(fmt::format("out of memory packing an entry of {} bytes", body.size()));
    }
    return Status::Ok();
  }

 private:
  std::filesystem::path root_;
  std::filesystem::path path_;
  PhaseProbe& probe_;
  std::uint64_t bytes_written_ = 0;
};

Status WholeBodyWriter::commit(const CachedResponse& response) {
  return store_.write_entry(response, body_);
}

}  // namespace

std::unique_ptr<CacheStore> make_whole_body_store(const std::filesystem::path& cache_dir,
                                                  const std::string& key_hex, PhaseProbe& probe) {
  return std::make_unique<WholeBodyStore>(cache_dir, key_hex, probe);
}

}  // namespace peakbench
