#pragma once
// SVG drawing shared by `peakbench plot` and the HTML report (`peakbench report`): a timeline panel
// per scenario or for several at once, with the phases of the built-in subjects as bands, the
// kernel's peak marked, the anon/file/shmem split of the samples, and failed runs shown as such.
// Text only: no measuring, no files.

#include <cstddef>
#include <string>
#include <vector>

#include "reports/report.h"

namespace peakbench::svg {

/// What a panel draws for one scenario.
struct Series {
  std::string name;                   ///< "streaming/cold/32MiB"
  const RunRecord* run = nullptr;     ///< the median successful run, else the first failed one
  int runs = 0;                       ///< runs of the scenario
  std::vector<std::string> failures;  ///< "repetition 0: killed by the out-of-memory killer"
};

/// Per scenario, in the report's order: the successful run whose kernel-hwm peak is the median,
/// or, when none succeeded, the first failed run (drawn red, its reason in the caption).
std::vector<Series> scenario_series(const Report& report);

struct Box {
  double x = 0, y = 0, w = 0, h = 0;
};

/// One timeline panel inside `box` (title, axes with ticks, the plot). With one series: the split
/// as stacked areas (anon, file, shmem), the total as a line, the phases as labelled bands, the
/// peak as a dashed line. With several: a line each on a shared scale, the peaks marked and the
/// phases as lanes under the axis. `colour` picks the first series' colour.
std::string panel(const std::vector<Series>& series, Box box, const std::string& title,
                  std::size_t colour = 0);

/// The colour of series number `index` (cycled).
const char* colour_of(std::size_t index);

/// `<svg>` of `width` × `height` around `body`, white background, sans-serif text.
std::string document(double width, double height, const std::string& body,
                     const std::string& label);

/// A "nice" tick step (1, 2 or 5 × 10^k) giving about `ticks` ticks up to `max_value`.
double nice_step(double max_value, int ticks);

}  // namespace peakbench::svg
