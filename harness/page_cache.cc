#include "harness/page_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "base/unique_fd.h"

namespace peakbench {
namespace fs = std::filesystem;

std::string_view to_string(PageCachePolicy policy) {
  return policy == PageCachePolicy::keep ? "keep" : "drop";
}

Result<PageCachePolicy> parse_page_cache_policy(std::string_view name) {
  if (name == "keep") return PageCachePolicy::keep;
  if (name == "drop") return PageCachePolicy::drop;
  return Status::Error("bad --page-cache '" + std::string(name) + "': choose keep or drop");
}

Result<std::uint64_t> evict_page_cache(const fs::path& dir) {
  std::uint64_t evicted = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    const UniqueFd file(::open(it->path().c_str(), O_RDONLY | O_CLOEXEC));
    if (!file) {
      return Status::Error("cannot open " + it->path().string() + ": " + std::strerror(errno));
    }
    // Dirty pages are not dropped; write them first.
    ::fdatasync(file.get());
    int rc = ::posix_fadvise(file.get(), 0, 0, POSIX_FADV_DONTNEED);
    if (rc != 0) {
      return Status::Error("cannot evict " + it->path().string() + ": " + std::strerror(rc));
    }
    ++evicted;
  }
  if (ec) {
    return Status::Error("cannot list " + dir.string() + ": " + ec.message());
  }
  return evicted;
}

Result<std::uint64_t> resident_page_cache_bytes(const fs::path& path) {
  const UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file) {
    return Status::Error("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) {
    return Status::Error("cannot stat " + path.string() + ": " + std::strerror(errno));
  }
  if (st.st_size == 0) return std::uint64_t{0};
  const std::size_t length = static_cast<std::size_t>(st.st_size);
  void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, file.get(), 0);
  if (map == MAP_FAILED) {
    return Status::Error("cannot map " + path.string() + ": " + std::strerror(errno));
  }
  const long page = ::sysconf(_SC_PAGESIZE);
  std::vector<unsigned char> pages((length + page - 1) / page);
  int rc = ::mincore(map, length, pages.data());
  int why = errno;
  ::munmap(map, length);
  if (rc != 0) {
    return Status::Error("mincore " + path.string() + ": " + std::strerror(why));
  }
  std::uint64_t resident = 0;
  for (unsigned char p : pages) resident += (p & 1) ? page : 0;
  return resident;
}

}  // namespace peakbench
