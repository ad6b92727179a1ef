#pragma once
// Running `peakbench fetch` as the child it is in a measurement, for the strategy tests.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "fixtures/server.h"
#include "fixtures/test_support.h"
#include "scenarios/cache_entry.h"
#include "scenarios/cache_store.h"
#include "scenarios/strategy.h"
#include "tests/spawn.h"

namespace peakbench {

/// Test names and failure messages show the strategy's name rather than its bytes.
inline void PrintTo(Strategy strategy, std::ostream* os) { *os << to_string(strategy); }

}  // namespace peakbench

namespace peakbench::testing {

// nlohmann::json's noexcept move calls assert_invariant(), which clang-tidy cannot prove
// does not throw; the implicit moves here throw nothing.
struct FetchRun {  // NOLINT(bugprone-exception-escape)
  ChildRun child;
  nlohmann::json stats;               ///< the `--stats` line; null when the run failed
  std::vector<std::string> warnings;  ///< stderr lines that are warnings
  std::vector<std::string> errors;    ///< stderr lines that are errors
};

struct FetchExtras {
  std::filesystem::path out;      ///< `--out`, when not empty
  std::vector<std::string> args;  ///< more `peakbench fetch` arguments
  /// When not 0, run under timeout(1): a hang then fails the test (exit 124) instead of
  /// blocking the suite.
  int timeout_s = 0;
};

/// `peakbench fetch --stats --strategy S --cache-dir DIR [EXTRAS] URL`, its `--stats` line
/// parsed and its warning and error lines sorted out of stderr.
inline FetchRun run_fetch(Strategy strategy, const std::filesystem::path& cache_dir,
                          const std::string& url, const FetchExtras& extras = {}) {
  std::vector<std::string> argv;
  if (extras.timeout_s > 0) argv = {"/usr/bin/timeout", std::to_string(extras.timeout_s)};
  argv.insert(argv.end(), {PEAKBENCH_EXE, "fetch", "--stats", "--strategy",
                           std::string(to_string(strategy)), "--cache-dir", cache_dir.string()});
  if (!extras.out.empty()) {
    argv.push_back("--out");
    argv.push_back(extras.out.string());
  }
  argv.insert(argv.end(), extras.args.begin(), extras.args.end());
  argv.push_back(url);
  FetchRun run;
  run.child = spawn_and_wait(argv);
  const std::vector<std::string> out_lines = lines_of(run.child.out);
  if (run.child.exit_code == 0 && !out_lines.empty()) {
    run.stats = nlohmann::json::parse(out_lines.back(), nullptr, /*allow_exceptions=*/false);
  }
  for (const std::string& line : lines_of(run.child.err)) {
    if (line.starts_with("peakbench: warning: ")) run.warnings.push_back(line);
    if (line.starts_with("peakbench: error: ")) run.errors.push_back(line);
  }
  return run;
}

/// run_fetch with `--out OUT` (none when `out` is empty).
inline FetchRun run_fetch(Strategy strategy, const std::filesystem::path& cache_dir,
                          const std::string& url, const std::filesystem::path& out) {
  FetchExtras extras;
  extras.out = out;
  return run_fetch(strategy, cache_dir, url, extras);
}

/// The fixture of the cache-state tests: a fixture server with one wheel, its URL and cache
/// key, and a cache directory, for the strategy that is the test's parameter. A derived SetUp
/// calls start().
class FetchCacheTest : public ::testing::TestWithParam<Strategy> {
 protected:
  void start(std::uint64_t wheel_bytes, std::uint64_t seed) {
    server_ = start_server(wheel_bytes, seed);
    ASSERT_TRUE(server_);
    url_ = server_->file_url();
    auto parsed = parse_fetch_url(url_);
    ASSERT_TRUE(parsed.ok()) << parsed.message();
    key_hex_ = parsed->key_hex;
    cache_ = dir_.path() / "cache";
  }

  Strategy strategy() const { return GetParam(); }
  std::filesystem::path store_dir() const {
    return cache_ / (strategy() == Strategy::whole_body ? kWholeBodyDir : kStreamingDir);
  }
  std::filesystem::path entry_file() const { return entry_path(store_dir(), key_hex_); }
  std::filesystem::path body_file() const { return std::filesystem::path(entry_file()) += ".body"; }
  std::uint64_t file_requests(int status) const { return server_->counts().file_requests(status); }
  const std::string& wheel_sha256() const { return server_->wheel()->sha256_hex(); }

  TempDir dir_;
  std::unique_ptr<FixtureServer> server_;
  std::string url_;
  std::string key_hex_;
  std::filesystem::path cache_;
};

/// Regular files under `dir`, recursively, sorted (an absent dir has none).
inline std::vector<std::filesystem::path> files_under(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// Inode number of a file (a changed inode means the file was replaced by a rename).
inline ino_t inode_of(const std::filesystem::path& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

}  // namespace peakbench::testing
