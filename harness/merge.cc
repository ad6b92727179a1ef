#include "harness/merge.h"

#include <set>
#include <tuple>

namespace peakbench {

Report merge_reports(const std::vector<NamedReport>& inputs) {
  Report merged;
  if (inputs.empty()) {
    return merged;
  }
  merged.meta = inputs.front().report.meta;
  merged.meta.shard.clear();
  merged.meta.merged_shards.clear();
  std::set<std::tuple<ScenarioKey, int>> seen;
  for (const NamedReport& input : inputs) {
    const ReportMeta& meta = input.report.meta;
    if (!meta.merged_shards.empty()) {
      // Merging merged reports: keep the original shards, not an intermediate file's name.
      merged.meta.merged_shards.insert(merged.meta.merged_shards.end(), meta.merged_shards.begin(),
                                       meta.merged_shards.end());
    } else {
      merged.meta.merged_shards.push_back(meta.shard.empty() ? input.source : meta.shard);
    }
    for (const RunRecord& run : input.report.runs) {
      const ScenarioKey key{run.subject, run.phase, run.body_bytes};
      if (seen.emplace(key, run.repetition).second) {
        merged.runs.push_back(run);
      }
    }
  }
  return merged;
}

}  // namespace peakbench
