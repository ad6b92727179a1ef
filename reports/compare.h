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
  /// How far apart the medians may be and still be the same: the larger of the two reports'
  /// repetition spreads (max - min), kNoiseFloor of the before median and kNoiseFloorBytes.
  std::uint64_t noise_bytes = 0;
  /// |delta_bytes| <= noise_bytes: the verdict is "same".
  bool same = false;
  /// One side has no successful run: no medians to compare.
  bool failed = false;
};

/// The smallest difference `compare` calls a change: 0.5% of the before median, and at least
/// 512 KiB (two runs of one binary differ by up to 0.4 MB, DESIGN §6; 276 KB at 46 MB was seen).
inline constexpr double kNoiseFloor = 0.005;
inline constexpr std::uint64_t kNoiseFloorBytes = std::uint64_t{512} * 1024;

struct Comparison {
  std::vector<ScenarioDelta> rows;       ///< in the after report's scenario order
  std::vector<ScenarioKey> only_before;  ///< scenarios the after report lacks
  std::vector<ScenarioKey> only_after;   ///< scenarios new in the after report
  std::string before_source;             ///< "label (commit abc1234 on branch)", for the notes
  std::string after_source;
};

Comparison compare_reports(const Report& before, const Report& after);

/// A row per scenario: before and after KB, delta KB, change %, ratio, the noise threshold (±% of
/// before) and a verdict ("lower", "higher", "same" within the threshold, "failed"); notes say
/// how the threshold is made and name the scenarios in one report only.
Table build_comparison_table(const Comparison& comparison);

}  // namespace peakbench
