// The built-in strategies read the caches this machine's real pips write, and the pips read
// theirs: pip 24.2 (CacheControl 0.14, `http-v2/`) for streaming, pip 23.2.1 (CacheControl
// 0.12.11, `http/`) for whole-body. The server's file-request count is the witness of a hit.
//
// pip requests the file URL without its `#sha256=` fragment (Link.url split at '#'), and
// CacheControl keys on that URL normalized (scheme and host lowercased, fragment dropped): the
// same key parse_fetch_url() computes from the fragment-bearing URL the index links to.

#include <gtest/gtest.h>
#include <unistd.h>

#include "fixtures/server.h"
#include "fixtures/test_support.h"
#include "scenarios/cache_entry.h"
#include "scenarios/cache_store.h"
#include "tests/fetch_support.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;
using testing::FetchRun;
using testing::run_fetch;

struct PipCase {
  const char* name;
  const char* python;  ///< interpreter whose `-m pip` is the version named
  Strategy strategy;   ///< the design that pip's cache uses
};

void PrintTo(const PipCase& pip, std::ostream* os) { *os << pip.name; }

const PipCase kPip24{"Pip24_2", "/root/.pyenv/versions/3.13.0/bin/python", Strategy::streaming};
const PipCase kPip23{"Pip23_2_1", "/root/.pyenv/versions/3.11.7/bin/python", Strategy::whole_body};

class PipInteropTest : public ::testing::TestWithParam<PipCase> {
 protected:
  void SetUp() override {
    if (::access(GetParam().python, X_OK) != 0) {
      GTEST_SKIP() << GetParam().python << " is missing: no real pip to check against";
    }
    server_ = testing::start_server(4 * 1024 * 1024 + 77, 5);
    ASSERT_TRUE(server_);
    cache_ = dir_.path() / "cache";
    auto parsed = parse_fetch_url(server_->file_url());
    ASSERT_TRUE(parsed.ok());
    const bool streaming = GetParam().strategy == Strategy::streaming;
    entry_ = entry_path(cache_ / (streaming ? kStreamingDir : kWholeBodyDir), parsed->key_hex);
  }

  /// The PR's pip command (DESIGN §5), into a fresh target directory.
  testing::ChildRun pip_install(const std::string& target) {
    return testing::spawn_and_wait(
        {GetParam().python, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check",
         "--quiet", "--index-url", server_->index_url(), "--trusted-host", server_->trusted_host(),
         "--cache-dir", cache_.string(), "--target", (dir_.path() / target).string(),
         server_->wheel()->spec().name},
        {"PIP_NO_INPUT=1", "PIP_ROOT_USER_ACTION=ignore", "PIP_CONFIG_FILE=/dev/null"});
  }

  testing::TempDir dir_;
  std::unique_ptr<FixtureServer> server_;
  fs::path cache_;
  fs::path entry_;
};

TEST_P(PipInteropTest, FetchHitsTheEntryPipWrote) {
  const testing::ChildRun pip = pip_install("work");
  ASSERT_EQ(pip.exit_code, 0) << pip.err;
  ASSERT_EQ(server_->counts().file_requests(200), 1u);
  // pip hashed the URL without its fragment: the entry is where our key says.
  ASSERT_TRUE(fs::exists(entry_)) << entry_;

  server_->reset_counts();
  const FetchRun run = run_fetch(GetParam().strategy, cache_, server_->file_url());
  ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  EXPECT_EQ(run.stats["outcome"], "hit");
  EXPECT_EQ(run.stats["sha256"], server_->wheel()->sha256_hex());
  EXPECT_TRUE(run.warnings.empty()) << run.child.err;
  EXPECT_EQ(server_->counts().file_requests(), 0u);
}

TEST_P(PipInteropTest, PipInstallsFromTheEntryFetchWrote) {
  const FetchRun run = run_fetch(GetParam().strategy, cache_, server_->file_url());
  ASSERT_EQ(run.child.exit_code, 0) << run.child.err;
  ASSERT_EQ(run.stats["outcome"], "miss-stored");
  ASSERT_TRUE(fs::exists(entry_));

  server_->reset_counts();
  const testing::ChildRun pip = pip_install("work");
  ASSERT_EQ(pip.exit_code, 0) << pip.err;
  EXPECT_EQ(server_->counts().file_requests(), 0u) << "pip downloaded the file again";
  EXPECT_TRUE(fs::exists(dir_.path() / "work" / server_->wheel()->spec().name / "__init__.py"));
}

INSTANTIATE_TEST_SUITE_P(RealPips, PipInteropTest, ::testing::Values(kPip24, kPip23),
                         [](const ::testing::TestParamInfo<PipCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace peakbench
