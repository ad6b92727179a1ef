#include "harness/run_plan.h"

#include <gtest/gtest.h>

#include <set>

namespace peakbench {
namespace {

RunOptions two_subjects() {
  RunOptions options;
  options.sizes_bytes = {16ull << 20};
  Subject a;
  a.name = "whole-body";
  a.strategy = Strategy::whole_body;
  Subject b;
  b.name = "streaming";
  b.strategy = Strategy::streaming;
  options.subjects = {a, b};
  options.phases = {RunPhase::cold, RunPhase::warm};
  options.repeat = 2;
  return options;
}

std::vector<std::string> described(const std::vector<PlannedRun>& plan, const RunOptions& options) {
  std::vector<std::string> out;
  out.reserve(plan.size());
  for (const PlannedRun& run : plan) {
    out.push_back((run.measured ? "" : "fill ") + run.describe(options));
  }
  return out;
}

TEST(RunPlan, AlternatesSubjectsAcrossRepetitionsColdBeforeWarm) {
  const RunOptions options = two_subjects();
  const auto plan = plan_suite(options, "/w");
  EXPECT_EQ(described(plan, options),
            (std::vector<std::string>{"whole-body cold 16MiB #1", "whole-body warm 16MiB #1",
                                      "streaming cold 16MiB #1", "streaming warm 16MiB #1",
                                      "whole-body cold 16MiB #2", "whole-body warm 16MiB #2",
                                      "streaming cold 16MiB #2", "streaming warm 16MiB #2"}));
  EXPECT_EQ(measured_runs(plan), 8u);
}

TEST(RunPlan, WarmReadsTheCacheItsColdRunFilledAndNothingElseShares) {
  const auto plan = plan_suite(two_subjects(), "/w");
  std::set<std::string> caches;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (plan[i].phase == RunPhase::warm) {
      ASSERT_TRUE(plan[i].needs.has_value());
      EXPECT_EQ(plan[*plan[i].needs].phase, RunPhase::cold);
      EXPECT_EQ(plan[*plan[i].needs].cache_dir, plan[i].cache_dir);
      EXPECT_LT(*plan[i].needs, i);
      EXPECT_TRUE(plan[i].remove_cache_after);
    } else {
      EXPECT_FALSE(plan[i].needs.has_value());
      EXPECT_TRUE(caches.insert(plan[i].cache_dir.string()).second)
          << "cache dirs are not shared across groups";
      EXPECT_EQ(plan[i].cache_dir.parent_path(), "/w");
    }
  }
}

TEST(RunPlan, WarmAloneStillFillsWithAnUnmeasuredColdRun) {
  RunOptions options = two_subjects();
  options.phases = {RunPhase::warm};
  options.repeat = 1;
  const auto plan = plan_suite(options, "/w");
  EXPECT_EQ(described(plan, options),
            (std::vector<std::string>{"fill whole-body cold 16MiB #1", "whole-body warm 16MiB #1",
                                      "fill streaming cold 16MiB #1", "streaming warm 16MiB #1"}));
  EXPECT_EQ(measured_runs(plan), 2u);
}

TEST(RunPlan, RevalidateFillsAStaleCacheOfItsOwn) {
  RunOptions options = two_subjects();
  options.subjects.resize(1);
  options.phases = {RunPhase::cold, RunPhase::revalidate};
  options.repeat = 1;
  const auto plan = plan_suite(options, "/w");
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].variant, ServedVariant::pypi);
  EXPECT_TRUE(plan[0].measured);
  EXPECT_EQ(plan[1].variant, ServedVariant::stale);
  EXPECT_FALSE(plan[1].measured);
  EXPECT_EQ(plan[2].phase, RunPhase::revalidate);
  EXPECT_EQ(plan[2].needs, 1u);
  EXPECT_NE(plan[2].cache_dir, plan[0].cache_dir);
}

TEST(RunPlan, ShardsSplitSubjectSizeGroupsAndTogetherCoverTheSuite) {
  RunOptions options = two_subjects();
  options.sizes_bytes = {16ull << 20, 32ull << 20};
  const auto whole = plan_suite(options, "/w");
  std::multiset<std::string> joined;
  for (int i = 1; i <= 3; ++i) {
    options.shard = Shard{i, 3};
    for (const std::string& what : described(plan_suite(options, "/w"), options)) {
      joined.insert(what);
    }
  }
  options.shard.reset();
  const auto all = described(whole, options);
  EXPECT_EQ(joined, std::multiset<std::string>(all.begin(), all.end()));
  options.shard = Shard{1, 3};
  for (const PlannedRun& run : plan_suite(options, "/w")) {
    if (run.needs) {
      EXPECT_EQ(run.subject_index, plan_suite(options, "/w")[*run.needs].subject_index);
    }
  }
}

TEST(RunPlan, StaleNoStoreAndVaryMissEachReadAFillServedTheirOwnWay) {
  RunOptions options = two_subjects();
  options.subjects.resize(1);
  options.phases = {RunPhase::stale, RunPhase::no_store, RunPhase::vary_miss};
  options.repeat = 1;
  const auto plan = plan_suite(options, "/w");
  ASSERT_EQ(plan.size(), 6u);
  EXPECT_EQ(measured_runs(plan), 3u);
  const std::vector<std::pair<RunPhase, ServedVariant>> expected = {
      {RunPhase::stale, ServedVariant::expired_no_validator},
      {RunPhase::no_store, ServedVariant::no_store},
      {RunPhase::vary_miss, ServedVariant::vary_user_agent}};
  std::set<std::string> caches;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const PlannedRun& fill = plan[2 * i];
    const PlannedRun& measured = plan[2 * i + 1];
    EXPECT_FALSE(fill.measured);
    EXPECT_EQ(fill.phase, RunPhase::cold);
    EXPECT_EQ(fill.variant, expected[i].second);
    EXPECT_EQ(measured.phase, expected[i].first);
    EXPECT_EQ(measured.variant, expected[i].second);
    EXPECT_EQ(measured.needs, 2 * i);
    EXPECT_EQ(measured.cache_dir, fill.cache_dir);
    EXPECT_TRUE(measured.remove_cache_after);
    EXPECT_NE(fill.log_stem, measured.log_stem);
    // Only the vary-miss fill sends its User-Agent differently.
    EXPECT_EQ(fill.vary_fill, expected[i].first == RunPhase::vary_miss);
    EXPECT_FALSE(measured.vary_fill);
    EXPECT_TRUE(caches.insert(fill.cache_dir.string()).second);
  }
}

TEST(RunPlan, ResumeAndChunkedStartFromAnEmptyCacheOfTheirOwn) {
  RunOptions options = two_subjects();
  options.subjects.resize(1);
  options.phases = {RunPhase::cold, RunPhase::resume, RunPhase::chunked};
  options.repeat = 1;
  const auto plan = plan_suite(options, "/w");
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[1].phase, RunPhase::resume);
  EXPECT_EQ(plan[1].variant, ServedVariant::cut_once);
  EXPECT_EQ(plan[2].phase, RunPhase::chunked);
  EXPECT_EQ(plan[2].variant, ServedVariant::chunked);
  for (const PlannedRun& run : plan) {
    EXPECT_TRUE(run.measured);
    EXPECT_FALSE(run.needs.has_value());
    EXPECT_TRUE(run.remove_cache_after);
  }
  EXPECT_NE(plan[1].cache_dir, plan[0].cache_dir);
  EXPECT_NE(plan[2].cache_dir, plan[1].cache_dir);
}

TEST(RunPlan, ExpectedOutcomesFollowCacheControlAndTheStrategy) {
  EXPECT_FALSE(expected_outcome(RunPhase::warm, Strategy::streaming).has_value());
  const auto resumed = expected_outcome(RunPhase::resume, Strategy::streaming);
  ASSERT_TRUE(resumed.has_value());
  EXPECT_EQ(resumed->file_requests, (std::map<int, std::uint64_t>{{200, 1}, {206, 1}}));
  const auto restarted = expected_outcome(RunPhase::resume, Strategy::whole_body);
  EXPECT_EQ(restarted->file_requests, (std::map<int, std::uint64_t>{{200, 2}}));
  const auto no_store = expected_outcome(RunPhase::no_store, std::nullopt);
  EXPECT_FALSE(no_store->body_cached);

  const std::uint64_t body = 16ull << 20;
  EXPECT_FALSE(check_outcome(*resumed, {{200, 1}, {206, 1}}, body + 300, body).has_value());
  EXPECT_FALSE(check_outcome(*no_store, {{200, 1}, {304, 0}}, 0, body).has_value());
  const auto differs = check_outcome(*no_store, {{200, 2}}, body, body);
  ASSERT_TRUE(differs.has_value());
  EXPECT_NE(differs->find("2×200"), std::string::npos) << *differs;
  EXPECT_NE(differs->find("the body stored"), std::string::npos) << *differs;
}

}  // namespace
}  // namespace peakbench
