// The exports as their consumers read them (docs/exports.md): Bencher's BMF JSON schema,
// github-action-benchmark's entry type for customSmallerIsBetter, Google Benchmark's compare.py
// (Debian libbenchmark-tools), on a report with an out-of-memory-killed scenario. A failed
// scenario must stay visible in every export, and `table` must say so on stderr but exit 0.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "base/atomic_file.h"
#include "tests/run_peakbench.h"

namespace peakbench {
namespace {

using testing::golden;
using testing::run_peakbench;
using testing::source_path;
using testing::TempDir;

// The schema Bencher publishes for BMF (draft-07): benchmarks -> measures -> {value, lower_value,
// upper_value}, value required, all numbers.
constexpr const char* kBmfSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema",
  "type": "object",
  "patternProperties": {".+": {"type": "object", "patternProperties": {".+": {
    "type": "object",
    "properties": {"value": {"type": "number"}, "lower_value": {"type": "number"},
                   "upper_value": {"type": "number"}},
    "required": ["value"]}}}}
})";

// github-action-benchmark v1.22.0's BenchmarkResult (zod): name, value, unit; range and extra
// optional. Its zod types coerce; this is stricter: the fields must already be of the type.
constexpr const char* kCustomSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema",
  "type": "array", "minItems": 1,
  "items": {"type": "object", "required": ["name", "value", "unit"],
            "properties": {"name": {"type": "string"}, "value": {"type": "number"},
                           "unit": {"type": "string"}, "range": {"type": "string"},
                           "extra": {"type": "string"}}}
})";

std::string python_with(const std::string& module) {
  for (const char* python : {"/usr/bin/python3", "python3"}) {
    const std::string probe = std::string(python) + " -c 'import " + module + "' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return python;
  }
  return "";
}

int exit_status_of(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int validate(const std::string& python, const std::string& schema, const std::string& document) {
  return exit_status_of(python +
                        " -c 'import json, sys, jsonschema; "
                        "jsonschema.validate(json.load(open(sys.argv[2])), "
                        "json.load(open(sys.argv[1])))' " +
                        schema + " " + document + " >/dev/null 2>&1");
}

std::string export_of(const std::string& report, const std::string& format) {
  const auto result = run_peakbench({"table", golden(report), "--format", format});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  return result.out;
}

TEST(Exports, TableSaysOnStderrThatScenariosFailedButExitsZero) {
  for (const char* format : {"md", "gbench", "bmf", "custom-smaller"}) {
    const auto result = run_peakbench({"table", golden("oom.json"), "--format", format});
    EXPECT_EQ(result.exit_status, 0) << format;
    EXPECT_NE(result.err.find("has 2 scenarios with failed runs"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("whole-body/cold/128MiB: 2 of 2 runs failed (killed by the "
                              "out-of-memory killer"),
              std::string::npos)
        << result.err;
  }
  EXPECT_EQ(run_peakbench({"table", golden("report.json")}).err, "");
}

TEST(Exports, AFailedScenarioIsAFailedRunsMetricInBmfAndCustomSmaller) {
  const auto bmf = nlohmann::json::parse(export_of("oom.json", "bmf"));
  EXPECT_EQ(bmf["whole-body/cold/128MiB"], nlohmann::json::parse(R"({"runs-failed":{"value":2}})"));
  EXPECT_EQ(bmf["whole-body/warm/32MiB"]["runs-failed"]["value"], 1);
  EXPECT_EQ(bmf["streaming/cold/32MiB"]["runs-failed"]["value"], 0);
  EXPECT_EQ(bmf["streaming/cold/32MiB"]["peak-rss"]["value"], 12853248);

  const auto custom = nlohmann::json::parse(export_of("oom.json", "custom-smaller"));
  bool found = false;
  for (const auto& entry : custom) {
    if (entry["name"] == "whole-body/cold/128MiB runs failed") {
      found = true;
      EXPECT_EQ(entry["value"], 2);
      EXPECT_EQ(entry["unit"], "runs");
      EXPECT_NE(entry["extra"].get<std::string>().find("out-of-memory killer"), std::string::npos);
    }
    EXPECT_NE(entry["name"], "whole-body/cold/128MiB peak RSS");  // no figure to give
  }
  EXPECT_TRUE(found);
}

TEST(Exports, GbenchHasAggregatesDistinctIndicesMemoryAndErrors) {
  const auto doc = nlohmann::json::parse(export_of("oom.json", "gbench"));
  EXPECT_EQ(doc["context"]["host_name"], "ci-runner-7");
  EXPECT_EQ(doc["context"]["library_build_type"], "release");
  EXPECT_EQ(doc["context"]["mhz_per_cpu"], 2596);
  EXPECT_EQ(doc["context"]["caches"].size(), 2u);
  std::vector<std::string> aggregates;
  int errors = 0;
  for (const auto& b : doc["benchmarks"]) {
    if (b["run_type"] == "aggregate") {
      if (b["run_name"] == "whole-body/warm/32MiB") {
        aggregates.push_back(b["aggregate_name"]);
      }
      if (b["aggregate_name"] == "cv") {
        EXPECT_EQ(b["aggregate_unit"], "percentage");
      }
      continue;
    }
    if (b.value("error_occurred", false)) {
      ++errors;
      EXPECT_FALSE(b["error_message"].get<std::string>().empty());
    } else {
      EXPECT_EQ(b["max_bytes_used"], b["peak_rss_bytes"]);
    }
  }
  EXPECT_EQ(errors, 3);
  EXPECT_EQ(aggregates,
            (std::vector<std::string>{"mean", "median", "stddev", "cv", "runs_failed"}));
  // whole-body/cold and whole-body/warm are two families; 32MiB and 128MiB two instances.
  const auto full = nlohmann::json::parse(export_of("report.json", "gbench"));
  std::set<std::tuple<int, int, int>> seen;
  for (const auto& b : full["benchmarks"]) {
    if (b["run_type"] != "iteration") continue;
    const std::tuple<int, int, int> index{b["family_index"].get<int>(),
                                          b["per_family_instance_index"].get<int>(),
                                          b["repetition_index"].get<int>()};
    EXPECT_TRUE(seen.insert(index).second) << b.dump();
  }
  EXPECT_EQ(seen.size(), 24u);
  const auto only = nlohmann::json::parse(export_of("report.json", "gbench-aggregates"));
  std::set<std::string> names;
  for (const auto& b : only["benchmarks"]) {
    EXPECT_EQ(b["run_type"], "aggregate");
    EXPECT_TRUE(names.insert(b["name"].get<std::string>()).second) << "twice: " << b["name"];
  }
  EXPECT_EQ(names.size(), 8u * 5);
}

TEST(Exports, BmfAndCustomSmallerValidateAgainstTheirConsumersSchemas) {
  const std::string python = python_with("jsonschema");
  if (python.empty()) GTEST_SKIP() << "python3-jsonschema is not installed (scripts/bootstrap)";
  TempDir dir("exports");
  const std::string bmf_schema = (dir / "bmf.schema.json").string();
  const std::string custom_schema = (dir / "custom.schema.json").string();
  ASSERT_TRUE(write_file_atomically(bmf_schema, kBmfSchema).ok());
  ASSERT_TRUE(write_file_atomically(custom_schema, kCustomSchema).ok());
  for (const char* report : {"report.json", "oom.json"}) {
    const std::string bmf = (dir / "bmf.json").string();
    const std::string custom = (dir / "custom.json").string();
    ASSERT_TRUE(write_file_atomically(bmf, export_of(report, "bmf")).ok());
    ASSERT_TRUE(write_file_atomically(custom, export_of(report, "custom-smaller")).ok());
    EXPECT_EQ(validate(python, bmf_schema, bmf), 0) << report;
    EXPECT_EQ(validate(python, custom_schema, custom), 0) << report;
    // The schemas have teeth: a BMF measure without a value, an entry without a unit.
    EXPECT_EQ(validate(python, bmf_schema, custom), 1);
    EXPECT_EQ(validate(python, custom_schema, bmf), 1);
  }
}

TEST(Exports, GoogleBenchmarksComparePyReadsTheGbenchExport) {
  const char* compare_py = "/usr/share/benchmark/compare.py";
  if (!std::filesystem::exists(compare_py) || python_with("scipy").empty()) {
    GTEST_SKIP() << "compare.py (Debian libbenchmark-tools, python3-scipy) is not installed";
  }
  TempDir dir("gbench");
  const std::string before = (dir / "before.json").string();
  const std::string after = (dir / "after.json").string();
  const std::string out = (dir / "out.txt").string();
  ASSERT_TRUE(write_file_atomically(before, export_of("report.json", "gbench")).ok());
  ASSERT_TRUE(write_file_atomically(after, export_of("oom.json", "gbench")).ok());
  EXPECT_EQ(exit_status_of(python_with("scipy") + " " + compare_py + " --no-color benchmarks " +
                           before + " " + after + " > " + out + " 2>&1"),
            0)
      << testing::slurp(out);
  const std::string table = testing::slurp(out);
  EXPECT_NE(table.find("streaming/cold/32MiB_median"), std::string::npos) << table;
  EXPECT_NE(table.find("streaming/cold/32MiB_runs_failed"), std::string::npos) << table;
}

}  // namespace
}  // namespace peakbench
