#pragma once
// `peakbench merge`: joins the reports of the shards of one run.

#include <string>
#include <vector>

#include "harness/report.h"

namespace peakbench {

struct NamedReport {
  std::string source;  ///< file name, used when the report has no shard
  Report report;
};

/// Meta from the first input, with `shard` cleared and `merged_shards` listing each input's shard
/// (or source); runs concatenated in input order, a later run with the same (scenario,
/// repetition) as an earlier one dropped. Requires at least one input.
Report merge_reports(const std::vector<NamedReport>& inputs);

}  // namespace peakbench
