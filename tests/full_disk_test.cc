// `peakbench run` on a full disk: a small tmpfs mounted for the test (root only) holds the work
// dir or the report. A cold run that stored nothing is a failed fill; a report that cannot be
// written still leaves its table on stdout.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "reports/report.h"
#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::run_peakbench;
using testing::TempDir;

/// A tmpfs of `size` (mount's spelling, "4m") at a temp dir, unmounted on scope exit.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& size) : dir_("small-disk") {
    const std::string options = "size=" + size + ",mode=0755";
    mounted_ = ::geteuid() == 0 &&
               ::mount("peakbench-test", dir_.path().c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool mounted() const { return mounted_; }
  fs::path operator/(const std::string& name) const { return dir_ / name; }

 private:
  TempDir dir_;
  bool mounted_ = false;
};

TEST(FullDisk, AColdRunThatStoredNothingIsAFailedFill) {
  SmallDisk disk("4m");
  if (!disk.mounted()) GTEST_SKIP() << "needs root to mount a tmpfs";
  TempDir out("full-disk-report");
  for (const std::string strategy : {"whole-body", "streaming"}) {
    const fs::path report_path = out / (strategy + ".json");
    const CliResult r = run_peakbench({"run", "--strategy", strategy, "--size", "16MiB", "--phase",
                                       "cold,warm", "--repeat", "1", "--work-dir",
                                       (disk / strategy).string(), "--out", report_path.string()});
    EXPECT_EQ(r.exit_status, 1) << strategy << ": " << r.err;
    EXPECT_NE(r.err.find("a failed cache fill"), std::string::npos) << r.err;
    auto report = read_report(report_path);
    ASSERT_TRUE(report.ok()) << report.message();
    ASSERT_EQ(report->runs.size(), 2u);
    for (const RunRecord& run : report->runs) {
      EXPECT_FALSE(run.ok) << strategy << " " << run.phase;
      if (run.phase == "cold") {
        EXPECT_NE(run.error.find("a failed cache fill"), std::string::npos) << run.error;
        // The log of stderr is on the same full disk: the reason comes through the report pipe.
        EXPECT_NE(run.error.find("No space left on device"), std::string::npos) << run.error;
      }
      if (run.phase == "warm") {
        EXPECT_EQ(run.error.find("not run: "), 0u) << run.error;
        EXPECT_TRUE(run.file_requests.empty()) << "the warm run was measured";
      }
    }
  }
}

TEST(FullDisk, AReportThatCannotBeWrittenStillLeavesItsTable) {
  // Room for the first, empty report (a few KB) but not for one with a run's timeline.
  SmallDisk disk("12k");
  if (!disk.mounted()) GTEST_SKIP() << "needs root to mount a tmpfs";
  const fs::path report_path = disk / "report.json";
  const CliResult r = run_peakbench({"run", "--strategy", "streaming", "--size", "16MiB", "--phase",
                                     "cold,warm", "--repeat", "2", "--out", report_path.string()});
  EXPECT_EQ(r.exit_status, 2) << r.err;
  EXPECT_NE(r.out.find("streaming"), std::string::npos) << "no table:\n" << r.out;
  const auto last =
      r.err.rfind("peakbench: error: the report was not written to " + report_path.string());
  EXPECT_NE(last, std::string::npos) << r.err;
  // What was written last is still a whole report (the writes are atomic).
  auto report = read_report(report_path);
  EXPECT_TRUE(report.ok()) << report.message();
}

}  // namespace
}  // namespace peakbench
