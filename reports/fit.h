#pragma once
// How a peak grows with the body size: the number that tells the two cache designs apart
// (whole-body: copies x B; streaming: none). Pure arithmetic on summaries; used by the tables and
// by the gate's per-body-byte rules.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "reports/report.h"

namespace peakbench {

/// peak ≈ base_bytes + per_body_byte × body_bytes.
struct PeakFit {
  double base_bytes = 0;
  double per_body_byte = 0;  ///< the slope: bytes of peak per byte of body
};

struct PeakPoint {
  std::uint64_t body_bytes = 0;
  std::uint64_t peak_bytes = 0;
};

/// Least-squares line through the points; nothing with fewer than two distinct body sizes.
std::optional<PeakFit> fit_peak_vs_body(std::span<const PeakPoint> points);

struct BodyMultiple {
  double value = 0;
  /// False when no base was known (one size, no start RSS): then `value` is peak / body, an upper
  /// bound of the copies the design makes.
  bool from_base = false;
};

/// The peak of each summary in multiples of its body size, counted from a base: the subject's own
/// start RSS when the summary has it, else the intercept of a fit over the sizes of the same
/// subject and phase (clamped to [0, smallest peak]), else 0. Zero for a summary with no successful
/// run or an empty body. Indexed like `summaries`.
std::vector<BodyMultiple> multiples_of_body(const std::vector<ScenarioSummary>& summaries);

}  // namespace peakbench
