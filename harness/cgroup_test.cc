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

// memory.stat as the kernels write it (v1 text recorded on this host, v2 per the kernel's
// cgroup-v2 documentation), written to files and read back as a sampler would.
TEST_F(CgroupDetection, ReadsTheTreeSplitFromAV1MemoryStat) {
  fs::path file = write("v1.stat",
                        "cache 69206016\nrss 7069696\nrss_huge 0\nshmem 67108864\n"
                        "mapped_file 67112960\ndirty 0\nwriteback 0\nswap 0\n"
                        "hierarchical_memory_limit 9223372036854771712\n"
                        "total_cache 69210112\ntotal_rss 7073792\ntotal_shmem 67108864\n"
                        "total_mapped_file 67117056\n");
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<CgroupMemoryStat> stat = parse_memory_stat(text, CgroupVersion::v1);
  ASSERT_TRUE(stat.ok()) << stat.message();
  EXPECT_EQ(stat->anon_bytes, 7073792u);  // the hierarchical total_* wins
  EXPECT_EQ(stat->shmem_bytes, 67108864u);
  EXPECT_EQ(stat->file_mapped_bytes, 67117056u - 67108864u);  // mapped shmem taken off
  EXPECT_EQ(stat->page_cache_bytes, 69210112u);
  EXPECT_FALSE(parse_memory_stat("cache 1\nrss 2\n", CgroupVersion::v1).ok());
}

TEST_F(CgroupDetection, ReadsTheTreeSplitFromAV2MemoryStat) {
  fs::path file = write("v2.stat",
                        "anon 35553280\nfile 13451264\nkernel 2134016\nkernel_stack 98304\n"
                        "pagetables 450560\nsock 0\nshmem 4096\nzswap 0\nfile_mapped 12992512\n"
                        "file_dirty 0\nfile_writeback 0\nanon_thp 0\ninactive_anon 35549184\n");
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<CgroupMemoryStat> stat = parse_memory_stat(text, CgroupVersion::v2);
  ASSERT_TRUE(stat.ok()) << stat.message();
  EXPECT_EQ(stat->anon_bytes, 35553280u);
  EXPECT_EQ(stat->shmem_bytes, 4096u);
  EXPECT_EQ(stat->file_mapped_bytes, 12992512u - 4096u);
  EXPECT_EQ(stat->page_cache_bytes, 13451264u);
  // v1 keys are not v2's.
  EXPECT_FALSE(
      parse_memory_stat("rss 1\nmapped_file 2\nshmem 0\ncache 3\n", CgroupVersion::v2).ok());
}

TEST_F(CgroupDetection, CountsOutOfMemoryKillsInV1OomControlAndV2Events) {
  EXPECT_EQ(*parse_oom_kill_count("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"), 2u);
  EXPECT_EQ(*parse_oom_kill_count("low 0\nhigh 0\nmax 17\noom 1\noom_kill 1\n"
                                  "oom_group_kill 0\n"),
            1u);
  EXPECT_FALSE(parse_oom_kill_count("low 0\nhigh 0\n").ok());
}

}  // namespace
}  // namespace peakbench
