#include "reports/table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "base/size.h"

namespace peakbench {
namespace {

TEST(Numbers, AreSpelledLikeThePrTable) {
  EXPECT_EQ(with_thousands(0), "0");
  EXPECT_EQ(with_thousands(999), "999");
  EXPECT_EQ(with_thousands(1583820), "1,583,820");
  EXPECT_EQ(with_thousands(-1027008), "-1,027,008");
  EXPECT_EQ(with_thousands(INT64_MIN), "-9,223,372,036,854,775,808");
  EXPECT_EQ(format_kb(1583820ull * 1024), "1,583,820");
  EXPECT_EQ(format_kb(1535), "1");  // rounded to the nearest KiB
  EXPECT_EQ(format_kb(1536), "2");
  EXPECT_EQ(format_mib(1583820ull * 1024), "1,546.7");
  EXPECT_EQ(format_mib(0), "0.0");
  EXPECT_EQ(format_multiple(3.04), "3.0 B");
}

Table sample() {
  Table table;
  table.columns = {{"name", Align::left}, {"KB", Align::right}};
  table.rows.push_back({Cell::of_text("a|b"), Cell::of_number("1,234", "1234")});
  table.rows.push_back({Cell::of_text("say \"hi\", then"), Cell::of_number("5", "5")});
  table.notes = {"A note."};
  return table;
}

TEST(Render, MarkdownIsPaddedAlignedAndEscaped) {
  EXPECT_EQ(render_markdown(sample()),
            "| name           |    KB |\n"
            "| :------------- | ----: |\n"
            "| a\\|b           | 1,234 |\n"
            "| say \"hi\", then |     5 |\n"
            "\n"
            "A note.\n");
}

TEST(Render, CsvUsesRawCellsAndQuotes) {
  EXPECT_EQ(render_csv(sample()), "name,KB\na|b,1234\n\"say \"\"hi\"\", then\",5\n");
}

TEST(Render, JsonWritesNumbersAsNumbers) {
  const std::string json = render_json(sample());
  EXPECT_NE(json.find("\"KB\": 1234"), std::string::npos);
  EXPECT_NE(json.find("\"name\": \"a|b\""), std::string::npos);
  EXPECT_NE(json.find("\"notes\": [\n    \"A note.\"\n  ]"), std::string::npos);
}

TEST(Render, FormatsAreNamedOnTheCommandLine) {
  EXPECT_EQ(*parse_table_format("md"), TableFormat::markdown);
  EXPECT_EQ(*parse_table_format("csv"), TableFormat::csv);
  EXPECT_EQ(*parse_table_format("json"), TableFormat::json);
  EXPECT_FALSE(parse_table_format("html").ok());
}

TEST(ReportTable, FlagsFailedRunsAndWarmDownloads) {
  Report report;
  for (int rep = 0; rep < 2; ++rep) {
    RunRecord r;
    r.subject = "pip";
    r.phase = "warm";
    r.body_bytes = 1 << 20;
    r.repetition = rep;
    r.ok = rep == 0;
    r.peak_rss = {3u << 20, Method::kernel_hwm};
    r.file_requests[200] = 1;
    report.runs.push_back(r);
  }
  const Table table = build_report_table(report);
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].back().text,
            "warm: 1 of 2 runs failed; warm: downloaded the wheel (cache not used)");
  EXPECT_EQ(table.rows[0][2].text, "3,072");
  EXPECT_EQ(table.rows[0][4].text, "≤ 3.0 B");  // one size, no start RSS: an upper bound
}

RunRecord mapped_run(std::string subject, std::uint64_t body_mib, std::uint64_t file_mib) {
  RunRecord r;
  r.subject = std::move(subject);
  r.phase = "warm";
  r.body_bytes = body_mib * kMiB;
  r.ok = true;
  r.peak_rss = {(file_mib + 30) * kMiB, Method::kernel_hwm};
  r.sampled_peak_file = Figure{file_mib * kMiB, Method::sampled};
  r.sampled_peak_shmem = Figure{0, Method::sampled};
  r.timeline = {TimelinePoint{0.0, kMiB, 0, kMiB, 0}};
  return r;
}

std::string notes_cell(const Table& table, std::size_t row) { return table.rows[row].back().text; }

// The body-sized note is for a body in a mapping, not for an interpreter's libraries: with one
// size it needs growth past 40 MiB, with several a part that grows with the body.
TEST(ReportTable, ABodySizedMappingIsToldFromAnInterpretersLibraries) {
  Report one_small;
  one_small.runs = {mapped_run("pip", 16, 34)};  // pip 24.2 warm: its libraries, no body
  EXPECT_EQ(notes_cell(build_report_table(one_small), 0), "");

  Report one_large;
  one_large.runs = {mapped_run("tee", 128, 131)};
  EXPECT_EQ(notes_cell(build_report_table(one_large), 0), "warm: body-sized peak file-backed");

  Report flat;  // two sizes, the same mapped files at both: none of it is the body
  flat.runs = {mapped_run("pip", 16, 34), mapped_run("pip", 128, 33)};
  const Table flat_table = build_report_table(flat);
  EXPECT_EQ(notes_cell(flat_table, 0), "");
  EXPECT_EQ(notes_cell(flat_table, 1), "");

  Report growing;  // two sizes, a byte of mapping per body byte: the small size is named too
  growing.runs = {mapped_run("pip", 16, 27), mapped_run("pip", 64, 75)};
  const Table growing_table = build_report_table(growing);
  EXPECT_EQ(notes_cell(growing_table, 0), "warm: body-sized peak file-backed");
  EXPECT_EQ(notes_cell(growing_table, 1), "warm: body-sized peak file-backed");
}

TEST(ReportTable, FlagsRunsWithNotesAndListsTheNotesBelow) {
  Report report;
  report.meta.notes = {"one CPU: the sampler shares it with the subject (no pinning)"};
  for (int rep = 0; rep < 3; ++rep) {
    RunRecord r;
    r.subject = "streaming";
    r.phase = "cold";
    r.body_bytes = 16 << 20;
    r.repetition = rep;
    r.ok = true;
    // The last run published no report of its own: another method, left out of the median.
    r.peak_rss = {(rep == 2 ? 90u : 12u + rep) << 20,
                  rep == 2 ? Method::kernel_hwm : Method::self_hwm};
    if (rep == 1) r.notes = {"the sampler started 2 samples of 40 late"};
    report.runs.push_back(r);
  }
  const Table table = build_report_table(report);
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0].back().text,
            "cold: 1 of 3 runs not by self, left out; cold: run notes [1]");
  EXPECT_EQ(table.rows[0][2].text, "12,800");  // median of 12 and 13 MiB; 90 MiB left out
  ASSERT_GE(table.notes.size(), 2u);
  EXPECT_EQ(table.notes.back(),
            "[1] streaming/cold/16MiB #2: the sampler started 2 samples of 40 late");
  EXPECT_NE(std::find(table.notes.begin(), table.notes.end(),
                      "Report note: one CPU: the sampler shares it with the subject (no pinning)"),
            table.notes.end());
}

}  // namespace
}  // namespace peakbench
