#include "reports/report.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/atomic_file.h"
#include "reports/fit.h"

namespace peakbench {
namespace {

RunRecord make_run(std::string subject, std::string phase, std::uint64_t body, int rep,
                   std::uint64_t peak) {
  RunRecord run;
  run.subject = std::move(subject);
  run.subject_kind = "builtin";
  run.phase = std::move(phase);
  run.body_bytes = body;
  run.repetition = rep;
  run.ok = true;
  run.peak_rss = {peak, Method::kernel_hwm};
  return run;
}

Report full_report() {
  Report report;
  report.meta.peakbench_version = "0.1.0";
  report.meta.git_commit = "abc";
  report.meta.git_branch = "main";
  report.meta.git_dirty = true;
  report.meta.label = "a \"quoted\" label";
  report.meta.host = {"Linux 6.1", "EPYC", 2, 8u << 30, "box", 2596.1, {{"Data", 1, 32768, 2}}};
  report.meta.build_type = "RelWithDebInfo";
  report.meta.allocator = "jemalloc";
  report.meta.methods["cgroup"] = {false, "no permission"};
  report.meta.methods["kernel-hwm"] = {true, "wait4"};
  report.meta.started_at = "2026-11-25T14:00:00Z";
  report.meta.suite = "scenarios/default.json";
  report.meta.sample_interval_ms = 5;
  report.meta.shard = "2/3";
  report.meta.merged_shards = {"1/3", "2/3"};

  RunRecord run = make_run("streaming", "cold", 32u << 20, 0, 12u << 20);
  run.command = "peakbench fetch 'a b'";
  run.exit_status = 0;
  run.subject_peak_rss = Figure{11u << 20, Method::self_hwm};
  run.subject_start_rss = Figure{10u << 20, Method::self_hwm};
  run.charged_peak = Figure{45u << 20, Method::cgroup};
  run.sampled_peak_rss = Figure{11u << 20, Method::sampled};
  run.sampled_peak_anon = Figure{9u << 20, Method::sampled};
  run.sampled_peak_file = Figure{2u << 20, Method::sampled};
  run.sampled_peak_shmem = Figure{4096, Method::sampled};
  run.phases.push_back(
      {"download", {11u << 20, Method::self_hwm}, Figure{1u << 20, Method::jemalloc}, 0.001, 0.25});
  run.wall_s = 0.3;
  run.user_s = 0.05;
  run.system_s = 0.125;
  run.bytes_received = 32u << 20;
  run.bytes_written = 32u << 20;
  run.cache_outcome = "miss";
  run.file_requests = {{200, 1}, {304, 2}};
  run.cache_bytes_on_disk = (32u << 20) + 4096;
  run.timeline = {{0, 1, 2, 3, 4}, {0.125, 10, 6, 3, 1}};
  report.runs.push_back(run);

  RunRecord failed = make_run("streaming", "warm", 32u << 20, 0, 3u << 20);
  failed.ok = false;
  failed.exit_status = 137;
  failed.signal = 9;
  failed.error = "killed by signal 9";
  report.runs.push_back(failed);
  return report;
}

void expect_same(const RunRecord& a, const RunRecord& b) {
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.subject_kind, b.subject_kind);
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.body_bytes, b.body_bytes);
  EXPECT_EQ(a.repetition, b.repetition);
  EXPECT_EQ(a.command, b.command);
  EXPECT_EQ(a.ok, b.ok);
  EXPECT_EQ(a.exit_status, b.exit_status);
  EXPECT_EQ(a.signal, b.signal);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.peak_rss->bytes, b.peak_rss->bytes);
  EXPECT_EQ(a.peak_rss->method, b.peak_rss->method);
  EXPECT_EQ(a.subject_start_rss.has_value(), b.subject_start_rss.has_value());
  EXPECT_EQ(a.charged_peak.has_value(), b.charged_peak.has_value());
  EXPECT_EQ(a.sampled_peak_shmem.has_value(), b.sampled_peak_shmem.has_value());
  ASSERT_EQ(a.phases.size(), b.phases.size());
  for (std::size_t i = 0; i < a.phases.size(); ++i) {
    EXPECT_EQ(a.phases[i].phase, b.phases[i].phase);
    EXPECT_EQ(a.phases[i].heap_peak.has_value(), b.phases[i].heap_peak.has_value());
    EXPECT_EQ(a.phases[i].end_s, b.phases[i].end_s);
  }
  EXPECT_EQ(a.wall_s, b.wall_s);
  EXPECT_EQ(a.file_requests, b.file_requests);
  EXPECT_EQ(a.cache_bytes_on_disk, b.cache_bytes_on_disk);
  ASSERT_EQ(a.timeline.size(), b.timeline.size());
  for (std::size_t i = 0; i < a.timeline.size(); ++i) {
    EXPECT_EQ(a.timeline[i].t_s, b.timeline[i].t_s);
    EXPECT_EQ(a.timeline[i].rss_bytes, b.timeline[i].rss_bytes);
    EXPECT_EQ(a.timeline[i].shmem_bytes, b.timeline[i].shmem_bytes);
  }
}

TEST(ReportJson, RoundTripsEveryField) {
  const Report report = full_report();
  const std::string text = to_json_text(report);
  auto parsed = parse_report(text, "mem.json");
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  EXPECT_EQ(parsed->meta.label, report.meta.label);
  EXPECT_EQ(parsed->meta.git_dirty, true);
  EXPECT_EQ(parsed->meta.host.memory_bytes, report.meta.host.memory_bytes);
  EXPECT_EQ(parsed->meta.host.hostname, "box");
  EXPECT_DOUBLE_EQ(parsed->meta.host.mhz_per_cpu, 2596.1);
  ASSERT_EQ(parsed->meta.host.caches.size(), 1u);
  EXPECT_EQ(parsed->meta.host.caches[0].size_bytes, 32768u);
  EXPECT_EQ(parsed->meta.host.caches[0].num_sharing, 2);
  EXPECT_EQ(parsed->meta.build_type, "RelWithDebInfo");
  EXPECT_EQ(parsed->meta.methods.at("cgroup").detail, "no permission");
  EXPECT_EQ(parsed->meta.merged_shards, report.meta.merged_shards);
  EXPECT_EQ(parsed->meta.shard, "2/3");
  ASSERT_EQ(parsed->runs.size(), report.runs.size());
  for (std::size_t i = 0; i < report.runs.size(); ++i) expect_same(parsed->runs[i], report.runs[i]);
  // Same text again: the writer is a function of the model alone.
  EXPECT_EQ(to_json_text(*parsed), text);
}

TEST(ReportJson, TextThatIsNotUtf8NeverStopsTheWriter) {
  // The CLI rejects such text where it enters; the writer is the last resort and must not throw.
  Report report = full_report();
  report.meta.label = "bad \xff label";
  report.runs[0].command = "cmd \xc3";
  const std::string text = to_json_text(report);
  auto parsed = parse_report(text, "mem.json");
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  EXPECT_EQ(parsed->meta.label, "bad \xef\xbf\xbd label");
  EXPECT_EQ(parsed->runs[0].command, "cmd \xef\xbf\xbd");
}

TEST(ReportJson, EveryMemoryFigureNamesItsMethod) {
  const std::string text = to_json_text(full_report());
  EXPECT_NE(text.find(R"("peak_rss": {
        "bytes": 12582912,
        "method": "kernel-hwm")"),
            std::string::npos);
  EXPECT_NE(text.find(R"("method": "cgroup")"), std::string::npos);
  EXPECT_NE(text.find(R"("method": "self")"), std::string::npos);
  EXPECT_NE(text.find(R"("method": "jemalloc")"), std::string::npos);
  EXPECT_NE(text.find(R"("method": "sampled")"), std::string::npos);
}

TEST(ReportJson, RejectsAnUnknownSchemaVersionNamingFileAndVersion) {
  std::string text = to_json_text(full_report());
  text.replace(text.find("\"schema_version\": 2"), 19, "\"schema_version\": 7");
  auto parsed = parse_report(text, "future.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.message(),
            "future.json: unknown schema_version 7 (this peakbench reads 1 to 2)");
}

TEST(ReportJson, MalformedJsonIsOneLineNamingTheFile) {
  auto parsed = parse_report("{\"schema_version\": 1,\n \"meta\": ", "broken.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.message().rfind("broken.json: malformed JSON: ", 0), 0u) << parsed.message();
  EXPECT_EQ(parsed.message().find('\n'), std::string::npos);
}

TEST(ReportJson, AMissingOrMistypedFieldIsNamedWithItsPath) {
  std::string text = to_json_text(full_report());
  const auto at = text.find("\"body_bytes\": 33554432");
  auto missing =
      parse_report(std::string(text).replace(at, 22, "\"body_byte\": 33554432"), "r.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.message(), "r.json: bad report: runs[0].body_bytes: missing required field");

  auto negative = parse_report(std::string(text).replace(at, 22, "\"body_bytes\": -1"), "r.json");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.message(),
            "r.json: bad report: runs[0].body_bytes: expected a non-negative integer");

  const auto method = text.find("\"method\": \"kernel-hwm\"");
  auto unknown =
      parse_report(std::string(text).replace(method, 22, "\"method\": \"guess\""), "r.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("runs[0].peak_rss.method: unknown method 'guess'"),
            std::string::npos);

  auto no_version = parse_report("{}", "empty.json");
  EXPECT_EQ(no_version.message(), "empty.json: bad report: schema_version: missing required field");
  auto array = parse_report("[]", "array.json");
  EXPECT_EQ(array.message(), "array.json: bad report: the top level: expected an object");
}

TEST(ReportFiles, WriteIsAtomicAndReadNamesAMissingFile) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("peakbench-report-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "r.json";
  ASSERT_TRUE(write_report(path, full_report()).ok());
  auto back = read_report(path);
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_EQ(back->runs.size(), 2u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);  // no temporary left
  auto missing = read_report(dir / "nope.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("nope.json"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Summarize, MedianMinMaxOverSuccessfulRunsInFirstSeenOrder) {
  Report report;
  report.runs.push_back(make_run("whole-body", "cold", 100, 0, 330));
  report.runs.push_back(make_run("streaming", "cold", 100, 0, 12));
  report.runs.push_back(make_run("whole-body", "cold", 100, 1, 310));
  report.runs.push_back(make_run("whole-body", "cold", 100, 2, 320));
  RunRecord failed = make_run("whole-body", "cold", 100, 3, 5);
  failed.ok = false;
  report.runs.push_back(failed);

  const auto summaries = report.summarize();
  ASSERT_EQ(summaries.size(), 2u);
  EXPECT_EQ(summaries[0].key.to_string(), "whole-body/cold/100B");
  EXPECT_EQ(summaries[0].runs, 4);
  EXPECT_EQ(summaries[0].failed, 1);
  EXPECT_EQ(summaries[0].median_peak_rss_bytes, 320u);
  EXPECT_EQ(summaries[0].min_peak_rss_bytes, 310u);
  EXPECT_EQ(summaries[0].max_peak_rss_bytes, 330u);
  EXPECT_DOUBLE_EQ(summaries[0].peak_per_body_byte, 3.2);
  EXPECT_EQ(summaries[1].key.subject, "streaming");
}

TEST(Summarize, AWarmRunThatFetchedTheFileDownloaded) {
  Report report;
  RunRecord warm = make_run("pip", "warm", 1 << 20, 0, 10);
  warm.file_requests = {{304, 1}};
  report.runs.push_back(warm);
  EXPECT_FALSE(report.summarize()[0].warm_downloaded);
  report.runs[0].file_requests[206] = 1;
  EXPECT_TRUE(report.summarize()[0].warm_downloaded);
  report.runs[0].phase = "cold";
  EXPECT_FALSE(report.summarize()[0].warm_downloaded);
}

TEST(ScenarioKey, SpellsSizesTheWayTheCliDoes) {
  EXPECT_EQ((ScenarioKey{"streaming", "warm", 500u << 20}.to_string()), "streaming/warm/500MiB");
  EXPECT_EQ(to_string(Method::self_hwm), "self");
  EXPECT_EQ(parse_method("kernel-hwm"), Method::kernel_hwm);
  EXPECT_FALSE(parse_method("nope").has_value());
}

TEST(Fit, FindsTheSlopeAndBaseOfPeakAgainstBodySize) {
  const std::vector<PeakPoint> points{{100, 1000 + 300}, {200, 1000 + 600}, {400, 1000 + 1200}};
  auto fit = fit_peak_vs_body(points);
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->per_body_byte, 3.0, 1e-9);
  EXPECT_NEAR(fit->base_bytes, 1000.0, 1e-6);
  const std::vector<PeakPoint> one_size{{100, 5}, {100, 6}};
  EXPECT_FALSE(fit_peak_vs_body(one_size).has_value());
}

}  // namespace
}  // namespace peakbench
