#pragma once
// `peakbench compare`: the difference between two reports as plain data (like google/benchmark's
// tools/gbench/report.py get_difference_report), apart from the table that shows it.

#include <cstdint>
#include <string>
#include <vector>

#include "reports/report.h"
#include "reports/table.h"

namespace peakbench {

/// One scenario present in both reports, by its median peak (one method each, report.h).
struct ScenarioDelta {
  ScenarioKey key;
  ScenarioSummary before;
  ScenarioSummary after;
  std::int64_t delta_bytes = 0;  ///< after - before (medians)
  double ratio = 0;              ///< after / before; 0 when before is 0
  /// The min-max ranges of the repetitions overlap: the difference may be noise.
  bool within_noise = false;
  /// One side has no successful run: no medians to compare.
  bool failed = false;
};

struct Comparison {
  std::vector<ScenarioDelta> rows;       ///< in the after report's scenario order
  std::vector<ScenarioKey> only_before;  ///< scenarios the after report lacks
  std::vector<ScenarioKey> only_after;   ///< scenarios new in the after report
  std::string before_source;             ///< "label (commit abc1234 on branch)", for the notes
  std::string after_source;
};

Comparison compare_reports(const Report& before, const Report& after);


/// A row per scenario: before and after KB, delta KB, change %, ratio and a verdict ("lower",
/// "higher", "same", "within noise", "failed"); notes name the scenarios in one report only.
Table build_comparison_table(const Comparison& comparison);

}  // namespace peakbench
