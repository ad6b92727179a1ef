#include "harness/shard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "reports/merge.h"

namespace peakbench {
namespace {

TEST(ParseShard, AcceptsIOverN) {
  auto shard = parse_shard("2/4");
  ASSERT_TRUE(shard.ok());
  EXPECT_EQ(shard->index, 2);
  EXPECT_EQ(shard->count, 4);
  for (const char* bad : {"", "1", "0/2", "3/2", "1/0", "a/b", "1/2/3", "-1/2", "1/ 2"}) {
    auto parsed = parse_shard(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.message().find("bad shard"), std::string::npos);
  }
}

TEST(SelectShard, TheShardsPartitionTheOrderedList) {
  for (int size : {0, 1, 5, 8, 13}) {
    std::vector<std::string> scenarios;
    scenarios.reserve(size);
    for (int i = 0; i < size; ++i) scenarios.push_back("scenario-" + std::to_string(i));
    for (int count : {1, 2, 3, 4, 7, 20}) {
      std::vector<std::string> all;
      std::multiset<std::string> seen;
      for (int index = 1; index <= count; ++index) {
        const auto part = select_shard(scenarios, Shard{index, count});
        // Round-robin keeps shards within one of each other in size.
        EXPECT_LE(part.size(), static_cast<std::size_t>((size + count - 1) / count));
        all.insert(all.end(), part.begin(), part.end());
        seen.insert(part.begin(), part.end());
      }
      std::sort(all.begin(), all.end());
      auto sorted = scenarios;
      std::sort(sorted.begin(), sorted.end());
      EXPECT_EQ(all, sorted) << size << " in " << count;  // union is everything, no overlap
      for (const auto& s : scenarios) EXPECT_EQ(seen.count(s), 1u);
    }
  }
  const std::vector<int> items{10, 11, 12, 13, 14};
  EXPECT_EQ(select_shard(items, Shard{2, 2}), (std::vector<int>{11, 13}));
  EXPECT_EQ(select_shard(items, 1, 2), (std::vector<int>{10, 12, 14}));
  EXPECT_TRUE(select_shard(items, Shard{3, 2}).empty());  // invalid shard selects nothing
}

RunRecord run(std::string subject, int rep, std::uint64_t peak) {
  RunRecord r;
  r.subject = std::move(subject);
  r.phase = "cold";
  r.body_bytes = 1 << 20;
  r.repetition = rep;
  r.ok = true;
  r.peak_rss = {peak, Method::kernel_hwm};
  return r;
}

TEST(Merge, ConcatenatesRunsRenumbersRepeatsAndNotesShards) {
  Report a, b;
  a.meta.label = "nightly";
  a.meta.shard = "1/2";
  a.runs = {run("x", 0, 1), run("x", 1, 2)};
  b.meta.label = "other";
  b.meta.shard = "2/2";
  b.runs = {run("y", 0, 3), run("x", 1, 99)};  // x#1 again: kept, as the next repetition
  const Report merged = merge_reports({{"a.json", a}, {"b.json", b}});
  EXPECT_EQ(merged.meta.label, "nightly");
  EXPECT_EQ(merged.meta.shard, "");
  EXPECT_EQ(merged.meta.merged_shards, (std::vector<std::string>{"1/2", "2/2"}));
  ASSERT_EQ(merged.runs.size(), 4u);
  EXPECT_EQ(merged.runs[1].peak_rss->bytes, 2u);
  EXPECT_EQ(merged.runs[2].subject, "y");
  EXPECT_EQ(merged.runs[2].repetition, 0);
  EXPECT_EQ(merged.runs[3].peak_rss->bytes, 99u);
  EXPECT_EQ(merged.runs[3].repetition, 2);

  Report unsharded;
  unsharded.runs = {run("z", 0, 1)};
  const Report again = merge_reports({{"merged.json", merged}, {"z.json", unsharded}});
  EXPECT_EQ(again.meta.merged_shards, (std::vector<std::string>{"1/2", "2/2", "z.json"}));
}

}  // namespace
}  // namespace peakbench
