// The CLI contract of the report commands (DESIGN §5), through the real binary: exit 0 / 1 / 2,
// one line on stderr naming the problem, and only `gate` failing a build.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <tuple>

#include "base/atomic_file.h"
#include "harness/shard.h"
#include "reports/report.h"
#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

using testing::golden;
using testing::run_peakbench;
using testing::source_path;
using testing::TempDir;

Report golden_report() {
  auto report = read_report(golden("report.json"));
  EXPECT_TRUE(report.ok()) << report.message();
  return report.ok() ? *report : Report{};
}

void expect_one_line_error(const testing::CliResult& result, const std::string& start) {
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err.rfind("peakbench: error: " + start, 0), 0u) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST(ReportCli, MalformedJsonIsExit2WithOneLineNamingTheFile) {
  TempDir dir("cli");
  const std::string bad = (dir / "bad.json").string();
  ASSERT_TRUE(write_file_atomically(bad, "{\"schema_version\": 1,\n\"meta\": [").ok());
  for (const std::vector<std::string>& args : {std::vector<std::string>{"table", bad},
                                               {"compare", bad, golden("after.json")},
                                               {"gate", bad, "--rules", golden("gates.json")},
                                               {"merge", "--out", (dir / "m.json").string(), bad},
                                               {"plot", bad, "--out", (dir / "p.svg").string()}}) {
    expect_one_line_error(run_peakbench(args), bad + ": malformed JSON: ");
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "m.json"));
  EXPECT_FALSE(std::filesystem::exists(dir / "p.svg"));
}

TEST(ReportCli, UnknownSchemaVersionIsExit2NamingFileAndVersion) {
  TempDir dir("cli");
  std::string text = testing::slurp(golden("report.json"));
  text.replace(text.find("\"schema_version\": 2"), 19, "\"schema_version\": 3");
  const std::string future = (dir / "future.json").string();
  ASSERT_TRUE(write_file_atomically(future, text).ok());
  expect_one_line_error(run_peakbench({"gate", future, "--rules", golden("gates.json")}),
                        future + ": unknown schema_version 3 (this peakbench reads 1 to 2)");
  expect_one_line_error(run_peakbench({"table", future}), future + ": unknown schema_version 3");
}

TEST(ReportCli, ABadRuleIsExit2NamingTheRule) {
  TempDir dir("cli");
  const std::string rules = (dir / "rules.json").string();
  ASSERT_TRUE(
      write_file_atomically(
          rules, R"({"rules": [{"name": "tiny", "subject": "streaming", "max_peak": "big"}]})")
          .ok());
  expect_one_line_error(run_peakbench({"gate", golden("report.json"), "--rules", rules}),
                        rules + ": bad rule: rule 'tiny': max_peak: bad size 'big'");
  expect_one_line_error(run_peakbench({"gate", golden("report.json")}), "nothing to gate");
  expect_one_line_error(run_peakbench({"gate", golden("report.json"), "--rules",
                                       golden("gates.json"), "--max-increase", "5%"}),
                        "--max-increase needs --baseline FILE");
  expect_one_line_error(run_peakbench({"gate", golden("report.json"), "--baseline",
                                       golden("report.json"), "--max-increase", "lots"}),
                        "--max-increase: bad increase 'lots'");
  expect_one_line_error(run_peakbench({"table", golden("report.json"), "--format", "html"}),
                        "unknown format 'html'");
}

TEST(ReportCli, GatePassesOnAReportAgainstItself) {
  const auto result = run_peakbench({"gate", golden("report.json"), "--rules",
                                     source_path("reports/gates.json").string(), "--baseline",
                                     golden("report.json")});
  EXPECT_EQ(result.exit_status, 0) << result.err << result.out;
  EXPECT_EQ(result.err, "");
  EXPECT_NE(result.out.find("Gate passed"), std::string::npos);
}

TEST(ReportCli, GateFailsWhenStreamingWarmDoublesAndNamesTheRule) {
  Report doctored = golden_report();
  for (RunRecord& run : doctored.runs) {
    if (run.subject == "streaming" && run.phase == "warm") run.peak_rss->bytes *= 2;
  }
  TempDir dir("cli");
  const std::string path = (dir / "doctored.json").string();
  const std::string junit = (dir / "junit.xml").string();
  ASSERT_TRUE(write_report(path, doctored).ok());
  const auto result = run_peakbench({"gate", path, "--rules", golden("gates.json"), "--baseline",
                                     golden("report.json"), "--junit", junit});
  EXPECT_EQ(result.exit_status, 1);
  EXPECT_EQ(result.err.rfind(
                "peakbench: error: gate failed: 4 of 28 checks: streaming-small max_over_start "
                "on streaming/warm/32MiB",
                0),
            0u)
      << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1);
  EXPECT_NE(result.out.find("| streaming-small    | max_over_start    | streaming/warm/128MiB  |"),
            std::string::npos);
  EXPECT_NE(result.out.find("Gate FAILED: 4 of 28 checks."), std::string::npos);
  const std::string xml = testing::slurp(junit);
  EXPECT_NE(xml.find("failures=\"4\""), std::string::npos);
  EXPECT_NE(xml.find("<failure message=\"--max-increase: max_increase is +100.0%"),
            std::string::npos);
}

TEST(ReportCli, ControlCharactersInAReportStillMakeValidXml) {
  if (std::system("python3 -c 'import xml.dom.minidom' 2>/dev/null") != 0) {
    GTEST_SKIP() << "python3 is not installed";
  }
  Report doctored = golden_report();
  for (RunRecord& run : doctored.runs) {
    run.subject += "\x01\x1b[31m";
  }
  TempDir dir("cli-xml");
  const std::string path = (dir / "doctored.json").string();
  const std::string junit = (dir / "junit.xml").string();
  const std::string svg = (dir / "plot.svg").string();
  ASSERT_TRUE(write_report(path, doctored).ok());
  const auto gate = run_peakbench({"gate", path, "--baseline", path, "--junit", junit});
  EXPECT_EQ(gate.exit_status, 0) << gate.err;
  EXPECT_NE(testing::slurp(junit).find("streaming\xef\xbf\xbd\xef\xbf\xbd[31m"), std::string::npos);
  const auto plot = run_peakbench({"plot", path, "--out", svg});
  EXPECT_EQ(plot.exit_status, 0) << plot.err;
  for (const std::string& file : {junit, svg}) {
    const std::string parse =
        "python3 -c 'import sys, xml.dom.minidom; "
        "xml.dom.minidom.parse(sys.argv[1])' " +
        file;
    EXPECT_EQ(std::system(parse.c_str()), 0) << file << ":\n" << testing::slurp(file);
  }
}

TEST(ReportCli, CompareNeverFailsABuildEvenOnARegression) {
  // After and before swapped: everything got worse, and compare still exits 0.
  const auto result = run_peakbench({"compare", golden("after.json"), golden("before.json")});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_NE(result.out.find("higher"), std::string::npos);
}

TEST(ReportCli, MergingTheShardsOfARunGivesTheUnshardedRun) {
  const Report whole = golden_report();
  std::vector<ScenarioKey> scenarios;
  for (const ScenarioSummary& s : whole.summarize()) scenarios.push_back(s.key);

  TempDir dir("merge");
  std::vector<std::string> args{"merge", "--out", (dir / "merged.json").string()};
  constexpr int kShards = 3;
  for (int index = 1; index <= kShards; ++index) {
    const auto mine = select_shard(scenarios, Shard{index, kShards});
    Report shard = whole;
    shard.meta.shard = std::to_string(index) + "/" + std::to_string(kShards);
    shard.runs.clear();
    for (const RunRecord& run : whole.runs) {
      if (std::find(mine.begin(), mine.end(),
                    ScenarioKey{run.subject, run.phase, run.body_bytes}) != mine.end()) {
        shard.runs.push_back(run);
      }
    }
    const std::string path = (dir / ("shard" + std::to_string(index) + ".json")).string();
    ASSERT_TRUE(write_report(path, shard).ok());
    args.push_back(path);
  }
  args.push_back((dir / "shard2.json").string());  // a shard given twice adds nothing
  const auto result = run_peakbench(args);
  ASSERT_EQ(result.exit_status, 0) << result.err;
  auto merged = read_report(dir / "merged.json");
  ASSERT_TRUE(merged.ok()) << merged.message();

  EXPECT_EQ(merged->meta.merged_shards, (std::vector<std::string>{"1/3", "2/3", "3/3", "2/3"}));
  EXPECT_EQ(merged->meta.shard, "");
  using RunId = std::tuple<ScenarioKey, int, std::uint64_t>;
  auto ids = [](const Report& r) {
    std::multiset<RunId> out;
    for (const RunRecord& run : r.runs) {
      out.emplace(ScenarioKey{run.subject, run.phase, run.body_bytes}, run.repetition,
                  run.peak_rss->bytes);
    }
    return out;
  };
  EXPECT_EQ(ids(*merged), ids(whole));
  auto summaries = [](const Report& r) {
    std::vector<std::tuple<ScenarioKey, std::uint64_t, std::uint64_t, std::uint64_t>> out;
    for (const ScenarioSummary& s : r.summarize()) {
      out.emplace_back(s.key, s.median_peak_rss_bytes, s.min_peak_rss_bytes, s.max_peak_rss_bytes);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(summaries(*merged), summaries(whole));
}

// The schema in reports/schema describes what the writer writes: checked with Python's
// jsonschema (Debian python3-jsonschema, installed by scripts/bootstrap).
std::string python_with_jsonschema() {
  for (const char* python : {"/usr/bin/python3", "python3"}) {
    const std::string probe = std::string(python) + " -c 'import jsonschema' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return python;
  }
  return "";
}

int validate(const std::string& python, const std::string& document) {
  const std::string script =
      "import json, sys, jsonschema\n"
      "schema = json.load(open(sys.argv[1]))\n"
      "jsonschema.Draft202012Validator.check_schema(schema)\n"
      "jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))\n";
  const std::string command = python + " -c '" + script + "' " +
                              source_path("reports/schema/report-v2.schema.json").string() + " " +
                              document + " >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ReportSchema, WrittenReportsValidateAgainstTheSchemaFile) {
  const std::string python = python_with_jsonschema();
  if (python.empty()) {
    GTEST_SKIP() << "python3-jsonschema is not installed (scripts/bootstrap installs it)";
  }
  TempDir dir("schema");
  Report report = golden_report();
  report.meta.merged_shards = {"1/2", "2/2"};
  report.runs[0].signal = 9;
  report.runs[0].ok = false;
  report.runs[0].error = "killed";
  report.runs[1].charged_peak = Figure{1, Method::cgroup};
  report.runs[1].phases[0].heap_peak = Figure{2, Method::jemalloc};
  const std::string path = (dir / "r.json").string();
  ASSERT_TRUE(write_report(path, report).ok());
  EXPECT_EQ(validate(python, path), 0);
  for (const char* name : {"report.json", "before.json", "after.json", "oom.json"}) {
    EXPECT_EQ(validate(python, golden(name)), 0) << name;
  }

  // And the schema has teeth: a figure without its method is rejected.
  std::string text = to_json_text(report);
  text.replace(text.find("\"method\": \"kernel-hwm\""), 22, "\"methd\": \"kernel-hwm\"");
  const std::string broken = (dir / "broken.json").string();
  ASSERT_TRUE(write_file_atomically(broken, text).ok());
  EXPECT_EQ(validate(python, broken), 1);
}

}  // namespace
}  // namespace peakbench
