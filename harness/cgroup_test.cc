#include "harness/cgroup.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace peakbench {
namespace {

namespace fs = std::filesystem;

class CgroupDetection : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("peakbench-cgroup-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  fs::path dir_;
};

TEST_F(CgroupDetection, SaysSoWhenNoMemoryControllerIsMounted) {
  fs::path mountinfo =
      write("mountinfo",
            "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw\n"
            "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n");
  fs::path self = write("cgroup", "1:cpu:/\n");
  CgroupSupport support = detect_memory_cgroup(mountinfo, self);
  EXPECT_FALSE(support.availability.available);
  EXPECT_EQ(support.availability.detail, "no memory cgroup controller mounted");
  EXPECT_FALSE(MemoryCgroup::create(support).ok());
}

TEST_F(CgroupDetection, SaysWhyWhenACgroupCannotBeMade) {
  // A v1 memory hierarchy "mounted" on a directory that does not exist.
  fs::path mountinfo = write("mountinfo", "35 31 0:32 / " + (dir_ / "absent").string() +
                                              " rw,relatime - cgroup cgroup rw,memory\n");
  fs::path self = write("cgroup", "4:memory:/x\n");
  CgroupSupport support = detect_memory_cgroup(mountinfo, self);
  EXPECT_FALSE(support.availability.available);
  EXPECT_NE(support.availability.detail.find("cannot create a cgroup under"), std::string::npos)
      << support.availability.detail;
}

TEST_F(CgroupDetection, FindsOurV2CgroupAndSaysWhenChildrenGetNoMemoryController) {
  // A v2 hierarchy "mounted" on a plain directory: mkdir works, but a new directory has no
  // memory.peak, as when memory is not in the parent's cgroup.subtree_control.
  fs::create_directories(dir_ / "v2" / "user.slice");
  write("v2/user.slice/cgroup.controllers", "cpu io memory pids\n");
  fs::path mountinfo =
      write("mountinfo", "41 31 0:38 / " + (dir_ / "v2").string() + " rw - cgroup2 cgroup2 rw\n");
  fs::path self = write("cgroup", "0::/user.slice\n");
  CgroupSupport support = detect_memory_cgroup(mountinfo, self);
  EXPECT_FALSE(support.availability.available);
  EXPECT_NE(support.availability.detail.find("no memory.peak"), std::string::npos)
      << support.availability.detail;
  EXPECT_NE(support.availability.detail.find((dir_ / "v2" / "user.slice").string()),
            std::string::npos)
      << support.availability.detail;
}

TEST(MemoryCgroupTest, IsMadeAndRemovedWhereAvailable) {
  const CgroupSupport& support = memory_cgroup_support();
  if (!support.availability.available) {
    GTEST_SKIP() << support.availability.detail;
  }
  Result<MemoryCgroup> cgroup = MemoryCgroup::create(support);
  ASSERT_TRUE(cgroup.ok()) << cgroup.message();
  fs::path dir = cgroup->dir();
  EXPECT_TRUE(fs::exists(cgroup->procs_file()));
  EXPECT_NE(dir.filename().string().find("peakbench-" + std::to_string(::getpid()) + "-"),
            std::string::npos);
  Result<std::uint64_t> peak = cgroup->peak_bytes();
  ASSERT_TRUE(peak.ok()) << peak.message();
  EXPECT_EQ(*peak, 0u);
  { MemoryCgroup moved = std::move(cgroup).value(); }  // the destructor removes it
  EXPECT_FALSE(fs::exists(dir));
}

}  // namespace
}  // namespace peakbench
