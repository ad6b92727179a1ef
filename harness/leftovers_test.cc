#include "harness/leftovers.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "fixtures/test_support.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;

TEST(Leftovers, TheOwnerIsThePidInTheNameAndNothingElse) {
  EXPECT_EQ(owner_pid("peakbench-1234-0"), 1234);
  EXPECT_EQ(owner_pid("peakbench-1234-0-probe"), 1234);
  EXPECT_EQ(owner_pid("peakbench-run-1234.a1B2c3"), 1234);
  // Names of others, and a test's TempDir("run") whose random tail happens to be digits.
  for (const char* name :
       {"peakbench-run-123456", "peakbench-1234", "peakbench-x-1", "peakbench--1-0",
        "peakbench-0-1", "peakbench-run-12.", "other-1234-0", "peakbench-run-ab.c"}) {
    EXPECT_FALSE(owner_pid(name).has_value()) << name;
  }
}

TEST(Leftovers, SweepsTheDirsOfDeadOwnersOnly) {
  testing::TempDir root("leftovers");
  const fs::path proc = root / "proc", tmp = root / "tmp";
  // pid 41 is a live peakbench, pid 42 a live shell, pid 43 gone.
  for (const auto& [pid, comm] : {std::pair{"41", "peakbench"}, std::pair{"42", "bash"}}) {
    fs::create_directories(proc / pid);
    std::ofstream(proc / pid / "comm") << comm << '\n';
  }
  for (const char* name : {"peakbench-run-41.aaaaaa", "peakbench-run-42.bbbbbb",
                           "peakbench-run-43.cccccc", "peakbench-run-43", "unrelated"}) {
    fs::create_directories(tmp / name / "logs");
  }
  const std::vector<Leftover> swept = sweep_leftovers({}, false, tmp, proc);
  ASSERT_EQ(swept.size(), 2u);
  for (const Leftover& l : swept) EXPECT_TRUE(l.removed) << l.path << ": " << l.error;
  EXPECT_TRUE(fs::exists(tmp / "peakbench-run-41.aaaaaa"));
  EXPECT_FALSE(fs::exists(tmp / "peakbench-run-42.bbbbbb"));
  EXPECT_FALSE(fs::exists(tmp / "peakbench-run-43.cccccc"));
  EXPECT_TRUE(fs::exists(tmp / "peakbench-run-43"));
  EXPECT_TRUE(fs::exists(tmp / "unrelated"));
}

}  // namespace
}  // namespace peakbench
