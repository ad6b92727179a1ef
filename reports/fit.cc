#include "reports/fit.h"

#include <algorithm>

namespace peakbench {

std::optional<PeakFit> fit_peak_vs_body(std::span<const PeakPoint> points) {
  if (points.size() < 2) {
    return std::nullopt;
  }
  // Centred sums: body sizes of GiB squared would lose precision uncentred.
  double mean_x = 0, mean_y = 0;
  for (const PeakPoint& p : points) {
    mean_x += static_cast<double>(p.body_bytes);
    mean_y += static_cast<double>(p.peak_bytes);
  }
  mean_x /= static_cast<double>(points.size());
  mean_y /= static_cast<double>(points.size());
  double sxx = 0, sxy = 0;
  for (const PeakPoint& p : points) {
    const double dx = static_cast<double>(p.body_bytes) - mean_x;
    sxx += dx * dx;
    sxy += dx * (static_cast<double>(p.peak_bytes) - mean_y);
  }
  if (sxx <= 0) {
    return std::nullopt;  // one distinct size only
  }
  const double slope = sxy / sxx;
  return PeakFit{mean_y - slope * mean_x, slope};
}

std::vector<BodyMultiple> multiples_of_body(const std::vector<ScenarioSummary>& summaries) {
  std::vector<BodyMultiple> multiples(summaries.size());
  for (std::size_t i = 0; i < summaries.size(); ++i) {
    const ScenarioSummary& s = summaries[i];
    if (!s.succeeded() || s.key.body_bytes == 0) {
      continue;
    }
    double base = 0;
    bool from_base = false;
    if (s.median_start_rss_bytes) {
      base = static_cast<double>(*s.median_start_rss_bytes);
      from_base = true;
    } else {
      std::vector<PeakPoint> points;
      std::uint64_t smallest = s.median_peak_rss_bytes;
      for (const ScenarioSummary& other : summaries) {
        if (other.key.subject != s.key.subject || other.key.phase != s.key.phase) {
          continue;
        }
        if (!other.succeeded()) {
          continue;
        }
        points.push_back({other.key.body_bytes, other.median_peak_rss_bytes});
        smallest = std::min(smallest, other.median_peak_rss_bytes);
      }
      if (auto fit = fit_peak_vs_body(points)) {
        base = std::clamp(fit->base_bytes, 0.0, static_cast<double>(smallest));
        from_base = true;
      }
    }
    // A peak a little under its base (noise) shows as 0, never as a negative number of copies.
    multiples[i].value = std::max(0.0, (static_cast<double>(s.median_peak_rss_bytes) - base) /
                                           static_cast<double>(s.key.body_bytes));
    multiples[i].from_base = from_base;
  }
  return multiples;
}

}  // namespace peakbench
