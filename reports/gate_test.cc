#include "reports/gate.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/size.h"
#include "reports/junit.h"
#include "reports/step_summary.h"

namespace peakbench {
namespace {

RunRecord run(std::string subject, std::string phase, std::uint64_t body, int rep,
              std::uint64_t peak, std::optional<std::uint64_t> start = std::nullopt) {
  RunRecord r;
  r.subject = std::move(subject);
  r.phase = std::move(phase);
  r.body_bytes = body;
  r.repetition = rep;
  r.ok = true;
  r.peak_rss = {peak, Method::kernel_hwm};
  if (start) r.subject_start_rss = Figure{*start, Method::self_hwm};
  return r;
}

// Streaming flat at start + 1.5 MiB; whole-body at start + 2 copies, 32 and 128 MiB.
Report designs(double streaming_warm_factor = 1.0) {
  Report report;
  for (std::uint64_t body : {32 * kMiB, 128 * kMiB}) {
    for (const char* phase : {"cold", "warm"}) {
      for (int rep = 0; rep < 3; ++rep) {
        const std::uint64_t start = 10 * kMiB;
        report.runs.push_back(run("whole-body", phase, body, rep,
                                  start + 2 * body + static_cast<std::uint64_t>(rep) * 4096,
                                  start));
        const double factor = std::string(phase) == "warm" ? streaming_warm_factor : 1.0;
        report.runs.push_back(run("streaming", phase, body, rep,
                                  static_cast<std::uint64_t>(factor * (start + 1.5 * kMiB)),
                                  start));
      }
    }
  }
  return report;
}

std::vector<GateRule> example_rules() {
  auto rules = parse_gate_rules(R"({"rules": [
    {"name": "streaming-flat", "subject": "streaming", "max_per_body_byte": 0.02},
    {"name": "streaming-small", "subject": "streaming", "phase": "*", "size": "*", "max_over_start": "8MiB"},
    {"name": "whole-body-copies", "subject": "whole-body", "max_per_body_byte": 2.5}
  ]})",
                                "rules.json");
  EXPECT_TRUE(rules.ok()) << rules.message();
  return rules.ok() ? *rules : std::vector<GateRule>{};
}

std::vector<std::string> failed_rules(const GateVerdict& verdict) {
  std::vector<std::string> names;
  for (const GateCheck& c : verdict.checks) {
    if (!c.passed) names.push_back(c.rule + " " + c.scenario);
  }
  return names;
}

TEST(Glob, MatchesStarAndQuestionMarkOverTheWholeText) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "streaming"));
  EXPECT_TRUE(glob_match("stream*", "streaming"));
  EXPECT_TRUE(glob_match("*-body", "whole-body"));
  EXPECT_TRUE(glob_match("w?rm", "warm"));
  EXPECT_TRUE(glob_match("*i*g", "streaming"));
  EXPECT_FALSE(glob_match("stream", "streaming"));
  EXPECT_FALSE(glob_match("*body", "whole-body-2"));
  EXPECT_FALSE(glob_match("?", ""));
}

TEST(ParseIncrease, AcceptsPercentSpellings) {
  EXPECT_DOUBLE_EQ(*parse_increase("+10%"), 0.10);
  EXPECT_DOUBLE_EQ(*parse_increase("10%"), 0.10);
  EXPECT_DOUBLE_EQ(*parse_increase("2.5"), 0.025);
  EXPECT_DOUBLE_EQ(*parse_increase("-5%"), -0.05);
  for (const char* bad : {"", "%", "ten", "10%%", "+"}) {
    EXPECT_FALSE(parse_increase(bad).ok()) << bad;
  }
}

TEST(GateRules, BadRulesAreOneLineNamingFileAndRule) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"rules": [{"subject": "x"}]})", "rules.json: bad rule: rule '#1': no bound"},
      {R"({"rules": [{"name": "r", "max_peak": "64XB"}]})",
       "rules.json: bad rule: rule 'r': max_peak: bad size '64XB'"},
      {R"({"rules": [{"name": "r", "max_peek": "64MiB"}]})",
       "rules.json: bad rule: rule 'r': unknown key 'max_peek'"},
      {R"({"rules": [{"name": "r", "max_increase": "lots"}]})",
       "rules.json: bad rule: rule 'r': max_increase: bad increase 'lots'"},
      {R"({"rules": [{"name": "r", "max_per_body_byte": "0.1"}]})",
       "rules.json: bad rule: rule 'r': max_per_body_byte: expected a number"},
      {R"({"rules": [{"name": "r", "subject": "", "max_peak": 1}]})",
       "rules.json: bad rule: rule 'r': subject: empty"},
      {R"({"rules": [{"name": "r", "max_requests": {"wheels": 0}}]})",
       "rules.json: bad rule: rule 'r': max_requests: expected counts by kind"},
      {R"({"rules": [{"name": "r", "max_requests": {"wheel": -1}}]})",
       "rules.json: bad rule: rule 'r': max_requests: expected counts by kind"},
      {R"({"rule": []})", "rules.json: bad rules: expected {\"rules\": [...]}"},
      {R"({"rules": [)", "rules.json: malformed JSON: "},
  };
  for (const auto& [text, expected] : cases) {
    auto rules = parse_gate_rules(text, "rules.json");
    ASSERT_FALSE(rules.ok()) << text;
    EXPECT_EQ(rules.message().rfind(expected, 0), 0u) << rules.message();
    EXPECT_EQ(rules.message().find('\n'), std::string::npos);
  }
}

TEST(Gate, PassesWhenEveryDesignIsWithinItsBudget) {
  auto verdict = evaluate_gate(designs(), nullptr, example_rules());
  ASSERT_TRUE(verdict.ok()) << verdict.message();
  EXPECT_TRUE(verdict->passed()) << ::testing::PrintToString(failed_rules(*verdict));
  // 8 runs-ok + 2 slopes + 4 over-start + 2 slopes.
  EXPECT_EQ(verdict->checks.size(), 16u);
}

TEST(Gate, FailsWhenWarmPeakExceedsBudget) {
  auto verdict = evaluate_gate(designs(/*streaming_warm_factor=*/2.0), nullptr, example_rules());
  ASSERT_TRUE(verdict.ok());
  EXPECT_FALSE(verdict->passed());
  EXPECT_EQ(failed_rules(*verdict),
            (std::vector<std::string>{"streaming-small streaming/warm/32MiB",
                                      "streaming-small streaming/warm/128MiB"}));
}

TEST(Gate, ASlopeInTheStreamingDesignFailsItsPerBodyByteRule) {
  Report report = designs();
  for (RunRecord& r : report.runs) {
    if (r.subject == "streaming" && r.phase == "cold") {
      r.peak_rss->bytes += r.body_bytes / 4;  // 0.25 B/B
    }
  }
  auto verdict = evaluate_gate(report, nullptr, example_rules());
  ASSERT_TRUE(verdict.ok());
  const auto failed = failed_rules(*verdict);
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed.front(), "streaming-flat streaming/cold/*");
}

TEST(Gate, RelativeRulesNeedABaselineAndCompareMedians) {
  auto rules =
      parse_gate_rules(R"({"rules": [{"name": "no-growth", "max_increase": "+10%"}]})", "r");
  ASSERT_TRUE(rules.ok());
  auto without = evaluate_gate(designs(), nullptr, *rules);
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.message().find("give --baseline"), std::string::npos);

  const Report baseline = designs();
  auto same = evaluate_gate(designs(), &baseline, *rules);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->passed());
  auto doubled = evaluate_gate(designs(2.0), &baseline, *rules);
  ASSERT_TRUE(doubled.ok());
  EXPECT_EQ(doubled->failures(), 2);
}

TEST(Gate, AFailedRunFailsTheGateAndRulesMatchingNothingAreNoted) {
  Report report = designs();
  report.runs[0].ok = false;
  auto rules = parse_gate_rules(
      R"({"rules": [{"name": "typo", "subject": "straeming", "max_peak": "1GiB"}]})", "r");
  ASSERT_TRUE(rules.ok());
  auto verdict = evaluate_gate(report, nullptr, *rules);
  ASSERT_TRUE(verdict.ok());
  EXPECT_EQ(failed_rules(*verdict), (std::vector<std::string>{"runs-ok whole-body/cold/32MiB"}));
  ASSERT_EQ(verdict->notes.size(), 1u);
  EXPECT_EQ(verdict->notes[0], "Rule 'typo' matched no scenario.");
}

TEST(Gate, SizesMatchByGlobOrByValue) {
  auto rules = parse_gate_rules(R"({"rules": [
    {"name": "by-value", "subject": "whole-body", "phase": "cold", "size": "134217728", "max_peak": "1GiB"},
    {"name": "by-glob", "subject": "whole-body", "phase": "cold", "size": "32*", "max_peak": "1GiB"}]})",
                                "r");
  ASSERT_TRUE(rules.ok()) << rules.message();
  auto verdict = evaluate_gate(designs(), nullptr, *rules);
  ASSERT_TRUE(verdict.ok());
  std::vector<std::string> bounded;
  for (const GateCheck& c : verdict->checks) {
    if (c.bound == "max_peak") bounded.push_back(c.rule + " " + c.scenario);
  }
  EXPECT_EQ(bounded, (std::vector<std::string>{"by-value whole-body/cold/128MiB",
                                               "by-glob whole-body/cold/32MiB"}));
}

TEST(Gate, ABaselineMedianTakenByAnotherMethodIsNotComparedAndSaysSo) {
  Report baseline;
  Report report;
  for (int i = 0; i < 3; ++i) {
    RunRecord old_run;
    old_run.subject = "streaming";
    old_run.phase = "cold";
    old_run.body_bytes = 32 << 20;
    old_run.ok = true;
    old_run.peak_rss = Figure{10 << 20, Method::kernel_hwm};
    baseline.runs.push_back(old_run);
    RunRecord new_run = old_run;
    new_run.peak_rss = Figure{9 << 20, Method::self_hwm};  // lower, but not comparable
    report.runs.push_back(new_run);
  }
  auto rules = parse_gate_rules(R"({"rules": [{"name": "up", "max_increase": "+10%"}]})", "r");
  ASSERT_TRUE(rules.ok()) << rules.message();
  auto verdict = evaluate_gate(report, &baseline, *rules);
  ASSERT_TRUE(verdict.ok()) << verdict.message();
  const auto it = std::find_if(verdict->checks.begin(), verdict->checks.end(),
                               [](const GateCheck& c) { return c.bound == "max_increase"; });
  ASSERT_NE(it, verdict->checks.end());
  EXPECT_FALSE(it->passed);
  EXPECT_FALSE(it->actual.has_value());
  EXPECT_EQ(format_actual(*it), "not compared: baseline median by kernel-hwm, this one by self");
  EXPECT_EQ(format_limit(*it), "+10.0%");
}

// A warm run that went to the network for the wheel fails a {"wheel": 0} rule, however small
// its peak; the check names the most any run made. Failed runs are runs-ok's to count.
TEST(Gate, ARequestBoundCountsTheMostAnyRunOfTheScenarioMade) {
  Report report;
  for (int rep = 0; rep < 3; ++rep) {
    RunRecord r = run("pip", "warm", 32 * kMiB, rep, 40 * kMiB);
    r.requests["page"] = {{200, 1}};
    if (rep == 1) r.requests["wheel"] = {{200, 1}, {304, 1}};
    report.runs.push_back(r);
  }
  RunRecord failed = run("pip", "warm", 32 * kMiB, 3, 40 * kMiB);
  failed.ok = false;
  failed.requests["wheel"] = {{200, 9}};
  report.runs.push_back(failed);
  RunRecord old = run("streaming", "warm", 32 * kMiB, 0, 12 * kMiB);  // schema 1: no kinds
  old.file_requests = {{304, 1}};
  report.runs.push_back(old);

  auto rules = parse_gate_rules(
      R"({"rules": [{"name": "offline", "phase": "warm", "max_requests": {"wheel": 0, "page": 1}}]})",
      "rules.json");
  ASSERT_TRUE(rules.ok()) << rules.message();
  auto verdict = evaluate_gate(report, nullptr, *rules);
  ASSERT_TRUE(verdict.ok()) << verdict.message();
  std::vector<std::string> shown;
  for (const GateCheck& c : verdict->checks) {
    if (c.bound != "max_requests") continue;
    shown.push_back(c.scenario + " " + format_limit(c) + " " + format_actual(c) + " " +
                    (c.passed ? "pass" : "FAIL"));
  }
  EXPECT_EQ(shown, (std::vector<std::string>{
                       "pip/warm/32MiB 1 page request 1 page request (most of 3 runs) pass",
                       "pip/warm/32MiB 0 wheel requests 2 wheel requests (most of 3 runs) FAIL",
                       "streaming/warm/32MiB 1 page request 0 page requests (most of 1 run) pass",
                       "streaming/warm/32MiB 0 wheel requests 1 wheel request (most of 1 run) FAIL",
                   }));
}

TEST(Gate, ChecksCarryNumbersThatTheRendererSpells) {
  GateCheck c;
  c.unit = GateUnit::per_body_byte;
  c.limit = 0.02;
  c.actual = 0.0113;
  c.how = "fit over 2 sizes";
  EXPECT_EQ(format_limit(c), "0.020 B/B");
  EXPECT_EQ(format_actual(c), "0.011 B/B (fit over 2 sizes)");
  c.unit = GateUnit::failed_runs;
  c.limit = 0;
  c.actual = 1;
  c.runs = 3;
  EXPECT_EQ(format_limit(c), "0 failed");
  EXPECT_EQ(format_actual(c), "1 of 3 failed");
}

TEST(Gate, JUnitHasOneTestcasePerCheckAndEscapes) {
  GateVerdict verdict;
  auto check = [](std::string rule, std::string scenario, double actual_mib, bool passed) {
    GateCheck c;
    c.rule = std::move(rule);
    c.bound = "max_peak";
    c.scenario = std::move(scenario);
    c.unit = GateUnit::bytes;
    c.limit = 1 << 20;
    c.actual = actual_mib * (1 << 20);
    c.passed = passed;
    return c;
  };
  verdict.checks.push_back(check("a<b", "s/cold/1MiB", 2.0, false));
  verdict.checks.push_back(check("ok", "s/warm/1MiB", 0.5, true));
  const std::string xml = render_junit(verdict, Report{});
  EXPECT_NE(xml.find("tests=\"2\" failures=\"1\""), std::string::npos);
  EXPECT_NE(xml.find("classname=\"peakbench.gate.a&lt;b\""), std::string::npos);
  EXPECT_NE(xml.find("<failure message=\"a&lt;b: max_peak is 2.0 MiB, limit 1MiB\""),
            std::string::npos);
  EXPECT_NE(xml.find("<testcase classname=\"peakbench.gate.ok\" name=\"s/warm/1MiB max_peak\" "
                     "time=\"0.000\"/>"),
            std::string::npos);
  EXPECT_EQ(render_step_summary(verdict).rfind("### peakbench gate: FAILED (1 of 2 checks)", 0),
            0u);
}

}  // namespace
}  // namespace peakbench
