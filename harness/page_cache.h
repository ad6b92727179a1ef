#pragma once
// Whether a warm run reads its cache from memory or from disk is a stated condition of the run
// (`run --page-cache keep|drop`), not an accident of what the kernel kept. keep (the default)
// leaves the pages the cold run wrote in the page cache, as on a user's machine between two
// installs; drop evicts them before each run that reads a filled cache.

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "base/status.h"

namespace peakbench {

enum class PageCachePolicy { keep, drop };
std::string_view to_string(PageCachePolicy policy);
Result<PageCachePolicy> parse_page_cache_policy(std::string_view name);

/// Evicts every regular file under `dir` from the page cache: fdatasync (dirty pages cannot be
/// dropped), then posix_fadvise(POSIX_FADV_DONTNEED). Unprivileged; pages another process has
/// mapped stay. Returns the number of files evicted; an error names the first file that failed.
Result<std::uint64_t> evict_page_cache(const std::filesystem::path& dir);

/// Pages of `file` resident in the page cache, by mincore over a read-only mapping (for tests and
/// the perturbation benchmark's checks).
Result<std::uint64_t> resident_page_cache_bytes(const std::filesystem::path& file);

}  // namespace peakbench
