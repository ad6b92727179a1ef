#include "reports/plot.h"

#include <gtest/gtest.h>

#include <tuple>

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
  EXPECT_EQ(count(*svg, "class=\"panel\""), 1u);  // peaks within 10x: one scale
  EXPECT_NE(svg->find(">whole-body/cold/32MiB</text>"), std::string::npos);
  EXPECT_NE(svg->find("peak 11.0 MiB"), std::string::npos);  // the median run's
  EXPECT_NE(svg->find("a &lt;label&gt;"), std::string::npos);
  EXPECT_NE(svg->find("seconds since spawn"), std::string::npos);
  EXPECT_EQ(svg->substr(svg->size() - 7), "</svg>\n");
}

TEST(Plot, ScalesApartByMoreThanTenTimesGetSmallMultiplesWithBandsSplitAndFailures) {
  Report report;
  for (const auto& [subject, mib, ok] :
       {std::tuple{"small", 10u, true}, std::tuple{"large", 200u, true},
        std::tuple{"killed", 150u, false}}) {
    RunRecord r;
    r.subject = subject;
    r.phase = "cold";
    r.body_bytes = 32u << 20;
    r.ok = ok;
    r.error = ok ? "" : "killed by the out-of-memory killer (signal 9)";
    r.peak_rss = {std::uint64_t{mib} << 20, Method::kernel_hwm};
    r.phases = {{"download", {std::uint64_t{mib} << 20, Method::self_hwm}, {}, 0.0, 0.1}};
    r.timeline = {
        {0, 1u << 20, 1u << 20, 0, 0},
        {0.1, std::uint64_t{mib} << 20, std::uint64_t{mib} << 19, std::uint64_t{mib} << 19, 0}};
    report.runs.push_back(r);
  }
  auto svg = render_timeline_svg(report);
  ASSERT_TRUE(svg.ok()) << svg.message();
  EXPECT_EQ(count(*svg, "class=\"panel\""), 3u);
  EXPECT_EQ(count(*svg, "class=\"phase\""), 3u);
  EXPECT_EQ(count(*svg, "class=\"split\""), 9u);
  EXPECT_EQ(count(*svg, "class=\"peak\""), 3u);
  EXPECT_NE(svg->find("FAILED: killed by the out-of-memory killer"), std::string::npos);
  EXPECT_NE(svg->find("killed/cold/32MiB: peak 150.0 MiB"), std::string::npos);
  EXPECT_NE(svg->find("stroke-dasharray=\"5 3\""), std::string::npos);  // the failed run's line
  EXPECT_TRUE(needs_small_multiples({10, 101}));
  EXPECT_FALSE(needs_small_multiples({10, 100, 0}));
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
