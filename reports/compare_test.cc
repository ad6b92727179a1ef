#include "reports/compare.h"

#include <gtest/gtest.h>

#include "base/size.h"

namespace peakbench {
namespace {

RunRecord run(std::string subject, std::string phase, int rep, std::uint64_t peak, bool ok = true) {
  RunRecord r;
  r.subject = std::move(subject);
  r.phase = std::move(phase);
  r.body_bytes = 1 << 20;
  r.repetition = rep;
  r.ok = ok;
  r.peak_rss = {peak, Method::kernel_hwm};
  return r;
}

Report of(std::vector<RunRecord> runs) {
  Report report;
  report.runs = std::move(runs);
  return report;
}

TEST(Compare, GivesDeltaRatioAndNoiseFromMedians) {
  const Report before = of({run("s", "cold", 0, 1000 * kMiB), run("s", "cold", 1, 1010 * kMiB),
                            run("s", "cold", 2, 990 * kMiB)});
  const Report after = of({run("s", "cold", 0, 500 * kMiB), run("s", "cold", 1, 505 * kMiB),
                           run("s", "cold", 2, 495 * kMiB)});
  const Comparison c = compare_reports(before, after);
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_EQ(c.rows[0].delta_bytes, -500 * static_cast<std::int64_t>(kMiB));
  EXPECT_DOUBLE_EQ(c.rows[0].ratio, 0.5);
  EXPECT_FALSE(c.rows[0].same);
  EXPECT_EQ(c.rows[0].noise_bytes, 20 * kMiB);  // the before spread, above 0.5% of 1000 MiB

  const Table table = build_comparison_table(c);
  ASSERT_EQ(table.rows.size(), 1u);
  const auto& row = table.rows[0];
  EXPECT_EQ(row[1].text, "1,024,000");
  EXPECT_EQ(row[2].text, "512,000");
  EXPECT_EQ(row[3].text, "-512,000");
  EXPECT_EQ(row[4].text, "-50.0%");
  EXPECT_EQ(row[5].text, "0.50×");
  EXPECT_EQ(row[6].text, "±2.0%");
  EXPECT_EQ(row[7].text, "lower");
}

TEST(Compare, ADifferenceWithinTheRepetitionsSpreadIsTheSame) {
  const Report before = of({run("s", "warm", 0, 100 * kMiB), run("s", "warm", 1, 110 * kMiB),
                            run("s", "warm", 2, 120 * kMiB)});
  const Report after = of({run("s", "warm", 0, 118 * kMiB), run("s", "warm", 1, 125 * kMiB),
                           run("s", "warm", 2, 130 * kMiB)});
  const Comparison c = compare_reports(before, after);
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_EQ(c.rows[0].noise_bytes, 20 * kMiB);
  EXPECT_TRUE(c.rows[0].same);  // +15 MiB, spread 20 MiB
  const Table table = build_comparison_table(c);
  EXPECT_EQ(table.rows[0][6].text, "±18.2%");
  EXPECT_EQ(table.rows[0][7].text, "same");
}

TEST(Compare, SingleRunsWithinTheFloorAreTheSameAndPastItAChange) {
  const std::uint64_t mib500 = 500u << 20;
  // 0.1% apart, one run each: no spread, the 0.5% floor decides (issue: A/A said lower/higher).
  Comparison c = compare_reports(of({run("s", "cold", 0, mib500)}),
                                 of({run("s", "cold", 0, mib500 + mib500 / 1000)}));
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_TRUE(c.rows[0].same);
  EXPECT_EQ(build_comparison_table(c).rows[0][6].text, "±0.5%");
  c = compare_reports(of({run("s", "cold", 0, mib500)}),
                      of({run("s", "cold", 0, mib500 + mib500 / 100)}));
  EXPECT_FALSE(c.rows[0].same);
  EXPECT_EQ(build_comparison_table(c).rows[0][7].text, "higher");
  // Small peaks: 400 KiB apart at 16 MiB is 2.4%, yet within the 512 KiB floor.
  c = compare_reports(of({run("s", "cold", 0, 16u << 20)}),
                      of({run("s", "cold", 0, (16u << 20) + (400u << 10))}));
  EXPECT_TRUE(c.rows[0].same);
  EXPECT_EQ(c.rows[0].noise_bytes, 512u << 10);
}

TEST(Compare, ScenariosInOneReportOnlyAreNotedAndFailuresShown) {
  const Report before =
      of({run("s", "cold", 0, 100), run("gone", "cold", 0, 100), run("f", "cold", 0, 5, false)});
  const Report after =
      of({run("s", "cold", 0, 100), run("new", "warm", 0, 100), run("f", "cold", 0, 7)});
  const Comparison c = compare_reports(before, after);
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.only_before.size(), 1u);
  EXPECT_EQ(c.only_after.size(), 1u);
  EXPECT_TRUE(c.rows[1].failed);
  const Table table = build_comparison_table(c);
  EXPECT_EQ(table.rows[0][7].text, "same");
  EXPECT_EQ(table.rows[1][1].text, "failed");
  EXPECT_EQ(table.rows[1][7].text, "failed");
  const std::string md = render_markdown(table);
  EXPECT_NE(md.find("Only in BEFORE: gone/cold/1MiB."), std::string::npos);
  EXPECT_NE(md.find("Only in AFTER: new/warm/1MiB."), std::string::npos);
  EXPECT_NE(md.find("f/cold/1MiB: 1 of 1 runs failed in BEFORE."), std::string::npos);
}

TEST(DescribeSource, UsesLabelCommitAndBranch) {
  ReportMeta meta;
  EXPECT_EQ(describe_source(meta), "unlabelled report");
  meta.git_commit = "0123456789abcdef";
  meta.git_branch = "main";
  EXPECT_EQ(describe_source(meta), "commit 0123456 on main");
  meta.label = "nightly";
  meta.git_dirty = true;
  EXPECT_EQ(describe_source(meta), "nightly, commit 0123456+dirty on main");
}

}  // namespace
}  // namespace peakbench
