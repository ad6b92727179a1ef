// `peakbench report`: one self-contained HTML page, loaded in a real browser (headless Chromium,
// Debian's `chromium`, installed by scripts/bootstrap): the DOM has the table's rows and one SVG
// per scenario, the console has nothing to say, and a screenshot is written
// (PEAKBENCH_SCREENSHOT=FILE keeps it; docs/exports.md shows it).

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

using testing::run_peakbench;
using testing::slurp;
using testing::source_path;
using testing::TempDir;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string chromium() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    if (std::system(("command -v " + std::string(name) + " >/dev/null 2>&1").c_str()) == 0) {
      return name;
    }
  }
  return "";
}

// Headless, offline, with a profile of its own (the flags keep it from calling home).
int run_chromium(const std::string& browser, const TempDir& dir, const std::string& args,
                 const std::string& out, const std::string& err) {
  const std::string command =
      browser +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--hide-scrollbars --user-data-dir=" +
      (dir / "profile").string() + " " + args + " >" + out + " 2>" + err;
  const int status = std::system(("timeout 120 " + command).c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(HtmlReport, IsOneSelfContainedFile) {
  TempDir dir("html");
  const std::string html = (dir / "report.html").string();
  const auto result =
      run_peakbench({"report", source_path("reports/golden/oom.json").string(), "--out", html});
  ASSERT_EQ(result.exit_status, 0) << result.err;
  const std::string page = slurp(html);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count(page, "<script"), 0u);  // readable without JavaScript
  EXPECT_EQ(count(page, "<link"), 0u);
  EXPECT_EQ(count(page, "https://"), 0u);
  EXPECT_EQ(count(page, "http://"), count(page, "http://www.w3.org/2000/svg"));  // SVG namespaces
  EXPECT_EQ(count(page, "<svg"), 3u);                                            // one per scenario
  EXPECT_NE(page.find("killed by the out-of-memory killer"), std::string::npos);
  EXPECT_NE(page.find("oom &lt;limit&gt; &amp; friends"), std::string::npos);
  EXPECT_NE(page.find("ci-runner-7"), std::string::npos);
  EXPECT_NE(page.find("<td>kernel-hwm</td>"), std::string::npos);
  EXPECT_EQ(
      run_peakbench({"report", source_path("reports/golden/nope.json").string(), "--out", html})
          .exit_status,
      2);
}

TEST(HtmlReport, LoadsInHeadlessChromiumWithRowsAnSvgPerScenarioAndNoConsoleErrors) {
  const std::string browser = chromium();
  if (browser.empty()) GTEST_SKIP() << "no Chromium installed (scripts/bootstrap installs it)";
  TempDir dir("html-chromium");
  const std::string html = (dir / "report.html").string();
  ASSERT_EQ(
      run_peakbench({"report", source_path("reports/golden/oom.json").string(), "--out", html})
          .exit_status,
      0);
  const std::string dom = (dir / "dom.html").string(), log = (dir / "log.txt").string();
  ASSERT_EQ(run_chromium(browser, dir, "--enable-logging=stderr --v=0 --dump-dom file://" + html,
                         dom, log),
            0)
      << slurp(log);
  const std::string parsed = slurp(dom);
  EXPECT_EQ(count(parsed, "<tr class=\"row\">"), 16u) << "3 peak rows, 5 methods, 8 host rows";
  EXPECT_EQ(count(parsed, "<figure class=\"scenario\""), 3u);
  EXPECT_EQ(count(parsed, "<svg"), 3u);
  EXPECT_EQ(count(parsed, "class=\"phase\""), 4u);  // download+cache-write, download, cache-read
  EXPECT_EQ(count(parsed, "class=\"peak\""), 3u);
  EXPECT_EQ(count(parsed, "class=\"split\""), 9u);  // anon, file, shmem in each
  EXPECT_NE(parsed.find("FAILED: killed by the out-of-memory killer"), std::string::npos);
  const std::string console = slurp(log);
  EXPECT_EQ(console.find("CONSOLE"), std::string::npos) << console;
  EXPECT_EQ(console.find("Uncaught"), std::string::npos) << console;

  const char* keep = std::getenv("PEAKBENCH_SCREENSHOT");
  const std::string png = keep != nullptr && *keep != '\0' ? keep : (dir / "report.png").string();
  ASSERT_EQ(
      run_chromium(browser, dir, "--window-size=1200,1900 --screenshot=" + png + " file://" + html,
                   (dir / "shot.out").string(), (dir / "shot.err").string()),
      0)
      << slurp(dir / "shot.err");
  const std::string image = slurp(png);
  ASSERT_GT(image.size(), 10000u);
  EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

}  // namespace
}  // namespace peakbench
