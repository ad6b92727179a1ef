#include "reports/plot.h"

#include <gtest/gtest.h>

namespace peakbench {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(NiceStep, IsOneTwoOrFiveTimesAPowerOfTen) {
  EXPECT_DOUBLE_EQ(nice_step(10, 5), 2);
  EXPECT_DOUBLE_EQ(nice_step(0.35, 6), 0.1);
  EXPECT_DOUBLE_EQ(nice_step(700, 6), 200);
  EXPECT_DOUBLE_EQ(nice_step(0, 6), 1);
}

TEST(Plot, DrawsTheMedianRunOfEachScenario) {
  Report report;
  report.meta.label = "a <label>";
  for (int rep = 0; rep < 3; ++rep) {
    for (const char* subject : {"whole-body", "streaming"}) {
      RunRecord r;
      r.subject = subject;
      r.phase = "cold";
      r.body_bytes = 32u << 20;
      r.repetition = rep;
      r.ok = true;
      r.peak_rss = {(10u + rep) << 20, Method::kernel_hwm};
      r.timeline = {{0, 1u << 20}, {0.1, (10u + rep) << 20}, {0.2, 2u << 20}};
      report.runs.push_back(r);
    }
  }
  auto svg = render_timeline_svg(report);
  ASSERT_TRUE(svg.ok()) << svg.message();
  EXPECT_EQ(svg->rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(count(*svg, "<polyline"), 2u);
  EXPECT_NE(svg->find("whole-body/cold/32MiB (peak 11.0 MiB)"), std::string::npos);  // the median
  EXPECT_NE(svg->find("a &lt;label&gt;"), std::string::npos);
  EXPECT_NE(svg->find("time since spawn (s)"), std::string::npos);
  EXPECT_EQ(svg->substr(svg->size() - 7), "</svg>\n");
}

TEST(Plot, AReportWithoutTimelinesIsAnError) {
  Report report;
  RunRecord r;
  r.ok = true;
  report.runs.push_back(r);
  auto svg = render_timeline_svg(report);
  ASSERT_FALSE(svg.ok());
  EXPECT_EQ(svg.message(), "no run in the report has a timeline to plot");
}

}  // namespace
}  // namespace peakbench
