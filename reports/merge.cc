#include "reports/merge.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace peakbench {

Report merge_reports(const std::vector<NamedReport>& inputs) {
  Report merged;
  if (inputs.empty()) {
    return merged;
  }
  merged.meta = inputs.front().report.meta;
  merged.meta.shard.clear();
  merged.meta.merged_shards.clear();
  // Repetitions taken so far, per scenario. Where a later input repeats one (alternating
  // single-repetition runs, as scripts/compare-branches makes), its run takes the next free number.
  // The same run given twice (a shard named twice) is kept once.
  std::set<std::pair<ScenarioKey, int>> taken;
  std::map<ScenarioKey, int> next_free;
  std::set<std::tuple<ScenarioKey, int, std::uint64_t, double, std::string>> seen;
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
      if (!seen.emplace(key, run.repetition, run.peak_rss ? run.peak_rss->bytes : 0, run.wall_s,
                        run.command)
               .second) {
        continue;
      }
      RunRecord copy = run;
      if (taken.contains({key, copy.repetition})) copy.repetition = next_free[key];
      taken.insert({key, copy.repetition});
      next_free[key] = std::max(next_free[key], copy.repetition + 1);
      merged.runs.push_back(std::move(copy));
    }
  }
  return merged;
}

}  // namespace peakbench
