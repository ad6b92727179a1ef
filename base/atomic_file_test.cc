#include "base/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace peakbench {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("peakbench-atomic-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }
  fs::path dir_;
};

TEST_F(AtomicFileTest, TheFinalNameAppearsOnlyOnCommit) {
  const fs::path target = dir_ / "report.json";
  auto file = AtomicFile::create(target);
  ASSERT_TRUE(file.ok()) << file.message();
  ASSERT_TRUE(file->write("{\"a\": 1}").ok());
  EXPECT_FALSE(fs::exists(target));
  ASSERT_TRUE(file->commit().ok());
  EXPECT_EQ(*read_file(target), "{\"a\": 1}");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFileTest, AnAbandonedFileLeavesThePreviousVersionAndNoTemporary) {
  const fs::path target = dir_ / "entry";
  ASSERT_TRUE(write_file_atomically(target, "old").ok());
  {
    auto file = AtomicFile::create(target);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file->write("half of the new").ok());
  }  // destroyed without commit
  EXPECT_EQ(*read_file(target), "old");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFileTest, AMissingDirectoryIsAOneLineError) {
  auto file = AtomicFile::create(dir_ / "no" / "such" / "dir" / "x");
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.message().find("cannot write"), std::string::npos);
  auto missing = read_file(dir_ / "absent.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("absent.json"), std::string::npos);
}

}  // namespace
}  // namespace peakbench
