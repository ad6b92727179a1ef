// fetch() in-process with a recording PhaseProbe: the phases a harness probe will see, in order,
// and the byte counts it is told.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fixtures/server.h"
#include "fixtures/test_support.h"
#include "tests/fetch_support.h"

namespace peakbench {
namespace {

class RecordingProbe final : public PhaseProbe {
 public:
  void begin(SubjectPhase phase) override {
    EXPECT_FALSE(open_) << "phases do not nest";
    open_ = true;
    phases.push_back(name(phase));
  }
  void end(SubjectPhase phase) override {
    EXPECT_TRUE(open_);
    EXPECT_EQ(phases.back(), name(phase));
    open_ = false;
  }
  void add_bytes_received(std::uint64_t bytes) override { received_bytes += bytes; }
  void add_bytes_written(std::uint64_t bytes) override { written_bytes += bytes; }
  bool closed() const { return !open_; }

  std::vector<std::string> phases;
  std::uint64_t received_bytes = 0;
  std::uint64_t written_bytes = 0;

 private:
  static std::string name(SubjectPhase phase) {
    switch (phase) {
      case SubjectPhase::download:
        return "download";
      case SubjectPhase::cache_write:
        return "cache_write";
      case SubjectPhase::cache_read:
        return "cache_read";
    }
    return "?";
  }
  bool open_ = false;
};

class FetchProbeTest : public ::testing::TestWithParam<Strategy> {
 protected:
  void SetUp() override {
    server_ = testing::start_server((std::uint64_t{1} << 20) + 17);
    ASSERT_TRUE(server_);
  }

  Result<FetchResult> run(RecordingProbe& probe) {
    FetchOptions options;
    options.strategy = GetParam();
    options.cache_dir = dir_.path() / "cache";
    options.url = server_->file_url();
    auto result = fetch(options, probe);
    EXPECT_TRUE(probe.closed());
    return result;
  }

  testing::TempDir dir_;
  std::unique_ptr<FixtureServer> server_;
};

TEST_P(FetchProbeTest, ColdWarmAndRevalidatedRunsBracketTheirPhases) {
  const std::uint64_t body = server_->wheel()->size_bytes();
  HeaderVariant stale;
  stale.file_cache_control = "max-age=0";

  RecordingProbe cold;
  auto cold_result = run(cold);
  ASSERT_TRUE(cold_result.ok()) << cold_result.message();
  EXPECT_EQ(cold_result->outcome, CacheOutcome::miss_stored);
  EXPECT_EQ(cold.phases, (std::vector<std::string>{"cache_read", "download", "cache_write"}));
  EXPECT_EQ(cold.received_bytes, body);
  EXPECT_EQ(cold.written_bytes, cold_result->cache_bytes_written);
  EXPECT_GE(cold.written_bytes, body);

  RecordingProbe warm;
  auto warm_result = run(warm);
  ASSERT_TRUE(warm_result.ok()) << warm_result.message();
  EXPECT_EQ(warm_result->outcome, CacheOutcome::hit);
  EXPECT_EQ(warm.phases, (std::vector<std::string>{"cache_read"}));
  EXPECT_EQ(warm.received_bytes, 0u);
  EXPECT_EQ(warm.written_bytes, 0u);

  server_->set_variant(stale);
  std::filesystem::remove_all(dir_.path() / "cache");
  RecordingProbe first;
  ASSERT_TRUE(run(first).ok());
  RecordingProbe revalidated;
  auto revalidated_result = run(revalidated);
  ASSERT_TRUE(revalidated_result.ok()) << revalidated_result.message();
  EXPECT_EQ(revalidated_result->outcome, CacheOutcome::revalidated);
  EXPECT_EQ(revalidated.phases, (std::vector<std::string>{"cache_read", "download", "cache_read",
                                                          "cache_write", "cache_read"}));
  EXPECT_EQ(revalidated.received_bytes, 0u);
  if (GetParam() == Strategy::streaming) {
    EXPECT_LT(revalidated.written_bytes, 4096u);  // metadata only
  } else {
    EXPECT_GE(revalidated.written_bytes, body);  // the whole entry again
  }
}

INSTANTIATE_TEST_SUITE_P(BothStrategies, FetchProbeTest,
                         ::testing::Values(Strategy::whole_body, Strategy::streaming),
                         [](const ::testing::TestParamInfo<Strategy>& info) {
                           return info.param == Strategy::whole_body ? "WholeBody" : "Streaming";
                         });

}  // namespace
}  // namespace peakbench
