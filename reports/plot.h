#pragma once
// `peakbench plot`: the sampled RSS timelines of a report as an SVG (hand-written text; no
// measuring, no files: the CLI writes the result atomically).

#include <string>

#include "base/status.h"
#include "reports/report.h"

namespace peakbench {

/// One polyline per scenario: the timeline of its median run (the successful run with a timeline
/// whose peak is the median). x = seconds since spawn, y = tree RSS in MiB; axes with
/// ticks, a legend with each scenario's peak. An error when no run has a timeline.
Result<std::string> render_timeline_svg(const Report& report);

/// A "nice" tick step (1, 2 or 5 × 10^k) giving about `ticks` ticks up to `max_value`.
double nice_step(double max_value, int ticks);

}  // namespace peakbench
