#include "harness/host_info.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace peakbench {
namespace {

TEST(HostInfoTest, ReadsKernelCpuCoresAndMemory) {
  HostInfo host = read_host_info();
  EXPECT_EQ(host.kernel.rfind("Linux ", 0), 0u) << host.kernel;
  EXPECT_FALSE(host.cpu_model.empty());
  EXPECT_GE(host.cores, 1);
  EXPECT_GT(host.memory_bytes, 0u);
}

TEST(HostInfoTest, ReadsCachesAsSysfsSpellsThem) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("peakbench-caches-" + std::to_string(::getpid()));
  auto put = [&](const std::string& index, const std::string& file, const std::string& text) {
    std::filesystem::create_directories(dir / index);
    std::ofstream(dir / index / file) << text << "\n";
  };
  put("index0", "size", "48K");
  put("index0", "type", "Data");
  put("index0", "level", "1");
  put("index0", "shared_cpu_list", "0-1");
  put("index1", "size", "32M");
  put("index1", "type", "Unified");
  put("index1", "level", "3");
  put("index1", "shared_cpu_list", "0-3,8,10-11");
  const std::vector<CpuCache> caches = read_cpu_caches(dir);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(caches.size(), 2u);
  EXPECT_EQ(caches[0].type, "Data");
  EXPECT_EQ(caches[0].level, 1);
  EXPECT_EQ(caches[0].size_bytes, 48u << 10);
  EXPECT_EQ(caches[0].num_sharing, 2);
  EXPECT_EQ(caches[1].size_bytes, 32u << 20);
  EXPECT_EQ(caches[1].num_sharing, 7);
  EXPECT_TRUE(read_cpu_caches(dir).empty());
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
