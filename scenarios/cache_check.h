#pragma once
// A consistency check of a pip-layout cache directory after clients have used it, possibly at
// the same time (`run --concurrency`): every entry complete and readable, nothing half-written.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace peakbench {

struct CacheCheck {
  int entries = 0;                    ///< complete, readable entries (http/ and http-v2/)
  std::uint64_t body_bytes = 0;       ///< body bytes they hold
  std::vector<std::string> problems;  ///< one line each: a half entry, a leftover temp file...
  bool ok() const { return problems.empty(); }
};

/// Reads every entry under `cache_dir`/http and `cache_dir`/http-v2: the metadata must decode
/// (`cc=4,` msgpack), a whole-body entry's body and a `.body` file must have the announced
/// Content-Length, a metadata file needs its `.body` and the other way round, and any other file
/// there (a temporary name, a lock) is a problem. Files elsewhere in `cache_dir` are not looked at.
CacheCheck check_cache_dir(const std::filesystem::path& cache_dir);

}  // namespace peakbench
