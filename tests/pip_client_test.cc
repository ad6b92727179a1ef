// External clients (issue 5): peakbench measures the machine's real pips on its own index, and
// agrees with /usr/bin/time on the same command.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "fixtures/server.h"
#include "fixtures/test_support.h"
#include "harness/client_template.h"
#include "reports/report.h"
#include "tests/report_support.h"
#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

namespace fs = std::filesystem;
constexpr std::uint64_t kBody = 32ull << 20;

using testing::find_run;
using testing::pyenv_python;

/// `/usr/bin/time -f %M` of the pip preset against `server`, in bytes (time reports KiB).
std::uint64_t time_pip(const fs::path& python, const FixtureServer& server, const fs::path& cache,
                       const fs::path& target) {
  TemplateValues values;
  values.index_url = server.index_url();
  values.trusted_host = server.trusted_host();
  values.cache_dir = cache.string();
  values.work_dir = target.string();
  values.package = server.wheel()->spec().name + "==" + server.wheel()->spec().version;
  values.python = python.string();
  auto argv = expand_template(kPipTemplate, values);
  EXPECT_TRUE(argv.ok());
  std::string command = "/usr/bin/time -f %M -o " + (target.parent_path() / "time.txt").string();
  for (const std::string& word : *argv) command += " '" + word + "'";
  fs::remove_all(target);
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  const std::string kib = testing::read_all(target.parent_path() / "time.txt");
  return std::stoull(kib) * 1024;
}

TEST(PipClients, PeakbenchAgreesWithUsrBinTimeAndTheOldCacheHoldsTheBodyOverAndOver) {
#ifdef PEAKBENCH_SANITIZE
  GTEST_SKIP() << "ASan changes peakbench, not pip; this test is about pip's figures";
#endif
  const fs::path old_pip = pyenv_python("3.11.7");  // pip 23.2.1: whole-body cache
  const fs::path new_pip = pyenv_python("3.13.0");  // pip 24.2: streaming cache
  if (old_pip.empty() || new_pip.empty()) {
    GTEST_SKIP() << "pyenv's Python 3.11.7 and 3.13.0 are needed";
  }
  if (!fs::exists("/usr/bin/time")) {
    GTEST_SKIP() << "/usr/bin/time is not installed (scripts/bootstrap installs it)";
  }

  peakbench::testing::TempDir dir("pip-clients");
  const auto result = peakbench::testing::run_peakbench(
      {"run", "--strategy", "none", "--pip", "old=" + old_pip.string(), "--pip",
       "new=" + new_pip.string(), "--size", "32MiB", "--phase", "cold,warm", "--repeat", "1",
       "--out", (dir / "report.json").string()});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  auto report = read_report(dir / "report.json");
  ASSERT_TRUE(report.ok()) << report.message();

  // The same wheel (same name, size and seed as the runner's) on a server of the test's own.
  ServerOptions options;
  WheelSpec spec;
  spec.name = "peakbench_32MiB";
  spec.size_bytes = kBody;
  options.wheels.push_back(spec);
  auto server = FixtureServer::start(options);
  ASSERT_TRUE(server.ok()) << server.message();

  for (const auto& [name, python] : {std::pair{"old", old_pip}, std::pair{"new", new_pip}}) {
    const fs::path cache = dir / (std::string(name) + "-cache");
    const fs::path target = dir / (std::string(name) + "-work") / "target";
    fs::create_directories(target.parent_path());
    const std::uint64_t timed_cold = time_pip(python, **server, cache, target);
    const std::uint64_t timed_warm = time_pip(python, **server, cache, target);
    for (const auto& [phase, timed] :
         {std::pair{"cold", timed_cold}, std::pair{"warm", timed_warm}}) {
      const RunRecord* run = find_run(*report, name, phase);
      ASSERT_NE(run, nullptr) << name << " " << phase;
      ASSERT_TRUE(run->ok) << run->error;
      // The tree's largest process: pip itself (it vforks lsb_release, a smaller process).
      EXPECT_EQ(run->peak_rss->method, report->meta.methods.at("taskstats").available
                                           ? Method::taskstats
                                           : Method::kernel_hwm);
      const double ratio = static_cast<double>(run->peak_rss->bytes) / static_cast<double>(timed);
      EXPECT_NEAR(ratio, 1.0, 0.01)
          << name << " " << phase << ": peakbench " << run->peak_rss->bytes << " B, /usr/bin/time "
          << timed << " B";
    }
    const RunRecord* warm = find_run(*report, name, "warm");
    EXPECT_TRUE(warm->file_requests.empty() || warm->file_requests.count(200) == 0)
        << name << "'s warm run downloaded the wheel again";
  }
  const std::uint64_t old_warm = find_run(*report, "old", "warm")->peak_rss->bytes;
  const std::uint64_t new_warm = find_run(*report, "new", "warm")->peak_rss->bytes;
  EXPECT_GE(old_warm, new_warm + 4 * kBody)
      << "pip 23.2.1 warm " << old_warm << " B, pip 24.2 warm " << new_warm << " B";
}

TEST(PipClients, AFailingClientIsAFailedRunNotACrash) {
  peakbench::testing::TempDir dir("pip-failing");
  const auto result = peakbench::testing::run_peakbench(
      {"run", "--strategy", "none", "--client", "broken=sh -c 'echo no such package >&2; exit 3'",
       "--size", "16MiB", "--phase", "cold", "--repeat", "1", "--out",
       (dir / "report.json").string()});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  auto report = read_report(dir / "report.json");
  ASSERT_TRUE(report.ok()) << report.message();
  ASSERT_EQ(report->runs.size(), 1u);
  EXPECT_FALSE(report->runs[0].ok);
  EXPECT_EQ(report->runs[0].exit_status, 3);
  EXPECT_NE(report->runs[0].error.find("no such package"), std::string::npos)
      << report->runs[0].error;
  EXPECT_NE(result.out.find("broken"), std::string::npos)
      << "the table still shows the failed client";
}

}  // namespace
}  // namespace peakbench
