#include "harness/host_info.h"

#include <gtest/gtest.h>

namespace peakbench {
namespace {

TEST(HostInfoTest, ReadsKernelCpuCoresAndMemory) {
  HostInfo host = read_host_info();
  EXPECT_EQ(host.kernel.rfind("Linux ", 0), 0u) << host.kernel;
  EXPECT_FALSE(host.cpu_model.empty());
  EXPECT_GE(host.cores, 1);
  EXPECT_GT(host.memory_bytes, 0u);
}

TEST(GitInfoTest, ReadsTheCheckoutAndNothingOutsideOne) {
  GitInfo here = read_git_info(PEAKBENCH_SOURCE_DIR);
  if (here.commit.empty()) {
    GTEST_SKIP() << "the sources are not a git checkout";
  }
  EXPECT_EQ(here.commit.size(), 40u);
  EXPECT_FALSE(here.branch.empty());
  GitInfo nowhere = read_git_info("/proc");
  EXPECT_TRUE(nowhere.commit.empty());
  EXPECT_TRUE(nowhere.branch.empty());
  EXPECT_FALSE(nowhere.dirty);
}

TEST(Iso8601Test, WritesUtcWithSecondsAndZ) {
  EXPECT_EQ(iso8601_utc(std::chrono::system_clock::time_point{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso8601_utc(std::chrono::system_clock::from_time_t(1764083045)),
            "2025-11-25T15:04:05Z");
}

}  // namespace
}  // namespace peakbench

namespace peakbench {
namespace {

TEST(PreloadLoads, FindsJemallocByItsSonameAndNotAMissingLibrary) {
  // libjemalloc2 comes with libjemalloc-dev (scripts/bootstrap); the soname, not the -dev symlink.
  EXPECT_TRUE(preload_loads("libjemalloc.so.2"));
  EXPECT_FALSE(preload_loads("libpeakbench-no-such-library.so.7"));
  EXPECT_FALSE(preload_loads(""));
}

}  // namespace
}  // namespace peakbench
