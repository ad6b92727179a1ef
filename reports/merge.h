#pragma once
// `peakbench merge`: joins the reports of the shards of one run.

#include <string>
#include <vector>

#include "reports/report.h"

namespace peakbench {

struct NamedReport {
  std::string source;  ///< file name, used when the report has no shard
  Report report;
};

/// Meta from the first input, with `shard` cleared and `merged_shards` listing each input's shard
/// (or source); runs concatenated in input order. Shards hold disjoint scenarios; where inputs
/// share a scenario (repeated runs of one suite), the later input's repetitions are renumbered
/// after the earlier ones, so no run is lost; a run given twice (same scenario, repetition,
/// peak, wall time and command) is kept once. Requires at least one input.
Report merge_reports(const std::vector<NamedReport>& inputs);

}  // namespace peakbench
