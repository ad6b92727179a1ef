#pragma once
// `peakbench plot`: the sampled RSS timelines of a report as an SVG (drawn by reports/svg.h, which
// the HTML report shares; no measuring, no files: the CLI writes the result atomically).

#include <string>

#include "base/status.h"
#include "reports/report.h"

namespace peakbench {

/// The median run of each scenario (a failed run when none succeeded, drawn red and dashed with its
/// reason), with phase bands, the kernel's peak marked and the anon/file/shmem split. One panel
/// for all when their peaks are within 10× of each other; otherwise small multiples, a panel per
/// scenario on its own scale, so small lines are not squashed under large ones. An error when no
/// run has a timeline.
Result<std::string> render_timeline_svg(const Report& report);

/// True when the largest peak is more than 10× the smallest (positive) one.
bool needs_small_multiples(const std::vector<double>& peaks);

/// A "nice" tick step (1, 2 or 5 × 10^k) giving about `ticks` ticks up to `max_value`.
double nice_step(double max_value, int ticks);

}  // namespace peakbench
