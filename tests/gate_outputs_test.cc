// What `gate` writes for CI besides its exit status: JUnit XML (checked with xmllint) and the
// GitHub step summary, on a report with an out-of-memory kill.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "base/atomic_file.h"
#include "reports/gate.h"
#include "reports/step_summary.h"
#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

using testing::golden;
using testing::run_peakbench;
using testing::slurp;
using testing::source_path;
using testing::TempDir;

TEST(GateJUnit, HasTimeHostTimestampPropertiesAndEachFailuresReason) {
  TempDir dir("junit");
  const std::string junit = (dir / "junit.xml").string();
  const auto result = run_peakbench(
      {"gate", golden("oom.json"), "--rules", golden("gates.json"), "--junit", junit});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  const std::string xml = slurp(junit);
  EXPECT_NE(xml.find("timestamp=\"2026-11-25T14:10:03\" hostname=\"ci-runner-7\""),
            std::string::npos)
      << xml;
  EXPECT_NE(
      xml.find("<property name=\"commit\" value=\"3f2c1a9e0b7d4c6a8e5f1d2b9c0a7e6f5d4c3b2a\"/>"),
      std::string::npos);
  EXPECT_NE(xml.find("<property name=\"allocator\" value=\"glibc\"/>"), std::string::npos);
  EXPECT_NE(xml.find("name=\"whole-body/cold/128MiB runs_ok\" time=\"0.430\""), std::string::npos)
      << xml;
  EXPECT_NE(xml.find("message=\"runs-ok: runs_ok is 2 of 2 failed, limit 0 failed: killed by the "
                     "out-of-memory killer"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("repetition 1: killed by the out-of-memory killer (killed by signal 9 "
                     "(SIGKILL)); the run cgroup hit its limit of 96MiB"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("&lt;limit&gt; &amp; friends"), std::string::npos);  // the label, escaped
  if (std::system("command -v xmllint >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "xmllint (Debian libxml2-utils) is not installed";
  }
  const int status = std::system(("xmllint --noout " + junit).c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(GateStepSummary, EscapesMarkdownAndHtmlAndListsTheNotes) {
  GateVerdict verdict;
  GateCheck check;
  check.rule = "*bold*_rule";
  check.bound = "max_peak";
  check.scenario = "<b>x</b>/cold/1MiB";
  check.limit = 1 << 20;
  check.missing = "2.0 MiB `tick` & more";  // shown in place of a figure
  verdict.checks.push_back(check);
  verdict.notes = {"Rule 'a_b' matched no scenario.", "second <note>"};
  const std::string md = render_step_summary(verdict);
  EXPECT_NE(md.find("\\*bold\\*\\_rule"), std::string::npos) << md;
  EXPECT_NE(md.find("&lt;b&gt;x&lt;/b&gt;/cold/1MiB"), std::string::npos) << md;
  EXPECT_NE(md.find("2.0 MiB \\`tick\\` &amp; more"), std::string::npos) << md;
  EXPECT_NE(md.find("\n\n- Rule 'a\\_b' matched no scenario.\n- second &lt;note&gt;\n"),
            std::string::npos)
      << md;
  EXPECT_EQ(md.find("<b>"), std::string::npos);
}

TEST(GateStepSummary, AnUnwritableSummaryIsAWarningNotAFailingStatus) {
  const auto result =
      run_peakbench({"gate", golden("report.json"), "--rules", golden("gates.json")},
                    {"GITHUB_STEP_SUMMARY=/proc/no-such-dir/summary.md"});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_NE(result.err.find("peakbench: warning: cannot append the summary to "
                            "GITHUB_STEP_SUMMARY (/proc/no-such-dir/summary.md)"),
            std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace peakbench
