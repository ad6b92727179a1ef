#include "scenarios/cache_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

#include "scenarios/cache_entry.h"
#include "scenarios/cache_store.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMaxMetadataBytes = 1 << 20;
constexpr std::uint64_t kMaxEntryBytes = std::uint64_t{1} << 33;

bool is_key(std::string_view name) {
  return name.size() == 56 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

void check_dir(const fs::path& dir, bool separate_body, CacheCheck& out) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  std::set<fs::path> metadata, bodies;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec)) continue;
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    if (!it->is_regular_file(type_ec)) {
      out.problems.push_back(fmt::format("{}: not a regular file", path.string()));
    } else if (is_key(name)) {
      metadata.insert(path);
    } else if (separate_body && name.size() == 61 && name.ends_with(".body") &&
               is_key(std::string_view(name).substr(0, 56))) {
      bodies.insert(path);
    } else {
      out.problems.push_back(fmt::format("{}: left over (not an entry)", path.string()));
    }
  }
  if (ec) out.problems.push_back(fmt::format("cannot list {}: {}", dir.string(), ec.message()));
  for (const fs::path& path : metadata) {
    auto bytes = read_whole_file(dir, path, separate_body ? kMaxMetadataBytes : kMaxEntryBytes);
    if (!bytes || !bytes->has_value()) {
      out.problems.push_back(fmt::format("{}: unreadable", path.string()));
      continue;
    }
    auto decoded = decode_entry(**bytes);
    if (!decoded) {
      out.problems.push_back(fmt::format("{}: {}", path.string(), decoded.message()));
      continue;
    }
    const std::optional<std::uint64_t> announced = announced_length(decoded->response);
    std::uint64_t body = decoded->body.size();
    if (separate_body) {
      fs::path body_path = path;
      body_path += ".body";
      if (!bodies.erase(body_path)) {
        out.problems.push_back(fmt::format("{}: metadata without its .body", path.string()));
        continue;
      }
      body = fs::file_size(body_path, ec);
      if (ec) {
        out.problems.push_back(fmt::format("{}: unreadable", body_path.string()));
        continue;
      }
    }
    if (announced && *announced != body) {
      out.problems.push_back(
          fmt::format("{}: body of {} bytes, Content-Length {}", path.string(), body, *announced));
      continue;
    }
    ++out.entries;
    out.body_bytes += body;
  }
  for (const fs::path& orphan : bodies) {
    out.problems.push_back(fmt::format("{}: .body without its metadata", orphan.string()));
  }
}

}  // namespace

CacheCheck check_cache_dir(const fs::path& cache_dir) {
  CacheCheck out;
  check_dir(cache_dir / kWholeBodyDir, false, out);
  check_dir(cache_dir / kStreamingDir, true, out);
  return out;
}

}  // namespace peakbench
