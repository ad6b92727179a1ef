#include "reports/plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "reports/markup.h"
#include "reports/svg.h"

namespace peakbench {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / kMiB; }

double peak_mib(const svg::Series& s) {
  if (s.run->peak_rss) return static_cast<double>(s.run->peak_rss->bytes) / kMiB;
  double top = 0;
  for (const TimelinePoint& p : s.run->timeline) top = std::max(top, mib(p.rss_bytes));
  return top;
}

std::string describe(const svg::Series& s) {
  std::string text = fmt::format("{}: peak {:.1f} MiB", s.name, peak_mib(s));
  const auto& tl = s.run->timeline;
  if (!tl.empty()) {
    const auto top = std::max_element(tl.begin(), tl.end(), [](const auto& a, const auto& b) {
      return a.rss_bytes < b.rss_bytes;
    });
    text += fmt::format(" (anon {:.1f}, file {:.1f}, shmem {:.1f})", mib(top->anon_bytes),
                        mib(top->file_bytes), mib(top->shmem_bytes));
  }
  if (!s.failures.empty()) {
    text += fmt::format("; {} of {} runs failed: {}", s.failures.size(), s.runs, s.failures[0]);
  }
  return text;
}

}  // namespace

double nice_step(double max_value, int ticks) { return svg::nice_step(max_value, ticks); }

bool needs_small_multiples(const std::vector<double>& peaks) {
  double low = 0, high = 0;
  for (double p : peaks) {
    if (p <= 0) continue;
    low = low == 0 ? p : std::min(low, p);
    high = std::max(high, p);
  }
  return low > 0 && high > 10 * low;
}

Result<std::string> render_timeline_svg(const Report& report) {
  std::vector<svg::Series> series;
  std::vector<std::string> without;  // scenarios with nothing to draw
  for (svg::Series& s : svg::scenario_series(report)) {
    if (s.run != nullptr && !s.run->timeline.empty()) {
      series.push_back(std::move(s));
    } else if (!s.failures.empty()) {
      without.push_back(fmt::format("{}: {} of {} runs failed, no timeline: {}", s.name,
                                    s.failures.size(), s.runs, s.failures[0]));
    }
  }
  if (series.empty()) {
    return Status::Error("no run in the report has a timeline to plot");
  }
  std::vector<double> peaks;
  peaks.reserve(series.size());
  for (const svg::Series& s : series) peaks.push_back(peak_mib(s));
  std::string title = "RSS over time, median run per scenario";
  if (!report.meta.label.empty()) title += " — " + report.meta.label;

  std::string body;
  double width = 0, height = 0;
  std::vector<std::string> legend;
  if (needs_small_multiples(peaks)) {
    constexpr double kW = 470, kH = 250;
    const std::size_t columns = series.size() == 1 ? 1 : 2;
    const std::size_t rows = (series.size() + columns - 1) / columns;
    width = kW * static_cast<double>(columns) + 20;
    for (std::size_t i = 0; i < series.size(); ++i) {
      const std::size_t column = i % columns;
      const std::size_t row = i / columns;
      const svg::Box box{10 + kW * static_cast<double>(column), 40 + kH * static_cast<double>(row),
                         kW - 10, kH - 10};
      body += svg::panel({series[i]}, box,
                         fmt::format("{} — peak {:.1f} MiB", series[i].name, peaks[i]), i);
      if (!series[i].failures.empty()) legend.push_back(describe(series[i]));
    }
    height = 40 + kH * static_cast<double>(rows);
    title += " (peaks differ by more than 10×: a scale each)";
  } else {
    width = 1120;
    const double panel_h = 420;
    body += svg::panel(series, {10, 40, 640, panel_h}, "all scenarios, one scale");
    for (std::size_t i = 0; i < series.size(); ++i) {
      const double y = 70 + 34 * static_cast<double>(i);
      const char* colour = series[i].run->ok ? svg::colour_of(i) : "#c0392b";
      body += fmt::format(
          "<line x1=\"664\" y1=\"{0:.1f}\" x2=\"684\" y2=\"{0:.1f}\" stroke=\"{1}\" "
          "stroke-width=\"3\"/>\n<text x=\"690\" y=\"{2:.1f}\" font-size=\"11\">{3}</text>\n"
          "<text x=\"690\" y=\"{4:.1f}\" font-size=\"10\" fill=\"#555\">{5}</text>\n",
          y, colour, y + 4, markup::xml_escape(series[i].name), y + 17,
          markup::xml_escape(describe(series[i]).substr(series[i].name.size() + 2)));
    }
    height = std::max(40 + panel_h + 10, 80 + 34 * static_cast<double>(series.size()));
  }
  for (const std::string& line : without) legend.push_back(line);
  body = fmt::format("<text x=\"20\" y=\"24\" font-size=\"15\">{}</text>\n",
                     markup::xml_escape(title)) +
         body;
  for (std::size_t i = 0; i < legend.size(); ++i) {
    body += fmt::format(
        "<text class=\"failed\" x=\"20\" y=\"{:.1f}\" font-size=\"12\" "
        "fill=\"#c0392b\">{}</text>\n",
        height + 18 * static_cast<double>(i) + 4, markup::xml_escape(legend[i]));
  }
  height += 18 * static_cast<double>(legend.size()) + 10;
  return svg::document(width, height, body, title);
}

}  // namespace peakbench
