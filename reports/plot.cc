#include "reports/plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "base/safe_text.h"

namespace peakbench {
namespace {

constexpr double kPlotWidth = 600, kMinHeight = 480;
constexpr double kLeft = 70, kTop = 40, kBottom = 50;  // margins around the plot
constexpr double kLegendLine = 18, kCharWidth = 7;     // legend layout, 12 px sans-serif
constexpr std::array<const char*, 10> kColours{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                               "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                               "#9c755f", "#bab0ac"};

struct Series {
  std::string name;
  const RunRecord* run = nullptr;
};

std::string xml_escape(std::string_view text) {
  std::string out;
  // Control characters and broken UTF-8 have no escape in XML 1.0: replaced first.
  for (char c : xml_safe(text)) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '"') {
      out += "&quot;";
    } else {
      out += c;
    }
  }
  return out;
}

// Tick labels without trailing zeros: 0.05, 0.1, 2, 250.
std::string tick_label(double value) {
  std::string text = fmt::format("{:.3f}", value);
  while (text.back() == '0') {
    text.pop_back();
  }
  if (text.back() == '.') {
    text.pop_back();
  }
  return text;
}

}  // namespace

double nice_step(double max_value, int ticks) {
  if (max_value <= 0 || ticks < 1) {
    return 1;
  }
  const double raw = max_value / ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * magnitude) {
      return m * magnitude;
    }
  }
  return 10 * magnitude;
}

Result<std::string> render_timeline_svg(const Report& report) {
  std::vector<Series> series;
  for (const ScenarioSummary& s : report.summarize()) {
    std::vector<const RunRecord*> runs;
    for (const RunRecord& run : report.runs) {
      if (run.ok && !run.timeline.empty() && run.subject == s.key.subject &&
          run.phase == s.key.phase && run.body_bytes == s.key.body_bytes) {
        runs.push_back(&run);
      }
    }
    if (runs.empty()) {
      continue;
    }
    std::stable_sort(runs.begin(), runs.end(), [](const RunRecord* a, const RunRecord* b) {
      return a->peak_rss->bytes < b->peak_rss->bytes;
    });
    series.push_back({s.key.to_string(), runs[(runs.size() - 1) / 2]});
  }
  if (series.empty()) {
    return Status::Error("no run in the report has a timeline to plot");
  }

  double max_t = 0, max_mib = 0;
  for (const Series& s : series) {
    for (const TimelinePoint& p : s.run->timeline) {
      max_t = std::max(max_t, p.t_s);
      max_mib = std::max(max_mib, static_cast<double>(p.rss_bytes) / (1024.0 * 1024.0));
    }
  }
  // The legend sets the right margin and, with many scenarios, the height.
  std::vector<std::string> labels;
  std::size_t longest = 0;
  for (const Series& s : series) {
    labels.push_back(fmt::format("{} (peak {:.1f} MiB)", s.name,
                                 static_cast<double>(s.run->peak_rss->bytes) / (1024.0 * 1024.0)));
    longest = std::max(longest, labels.back().size());
  }
  const double width = kLeft + kPlotWidth + 50 + kCharWidth * static_cast<double>(longest);
  const double height =
      std::max(kMinHeight, kTop + kBottom + kLegendLine * static_cast<double>(series.size() + 1));
  const double x_step = nice_step(max_t, 6), y_step = nice_step(max_mib, 6);
  const double x_max = std::max(x_step, std::ceil(max_t / x_step) * x_step);
  const double y_max = std::max(y_step, std::ceil(max_mib / y_step) * y_step);
  const double plot_w = kPlotWidth, plot_h = height - kTop - kBottom;
  auto x_of = [&](double t) { return kLeft + t / x_max * plot_w; };
  auto y_of = [&](double mib) { return kTop + plot_h - mib / y_max * plot_h; };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n",
      width, height);
  svg += fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"white\"/>\n", width, height);
  std::string title = "RSS over time, median run per scenario";
  if (!report.meta.label.empty()) {
    title += " — " + report.meta.label;
  }
  svg +=
      fmt::format("<text x=\"{}\" y=\"24\" font-size=\"15\">{}</text>\n", kLeft, xml_escape(title));

  // Grid and ticks.
  const int x_ticks = static_cast<int>(std::lround(x_max / x_step));
  const int y_ticks = static_cast<int>(std::lround(y_max / y_step));
  for (int k = 0; k <= x_ticks; ++k) {
    const double t = k * x_step;
    const double x = x_of(t);
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#e0e0e0\"/>\n", x, kTop,
        kTop + plot_h);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x,
                       kTop + plot_h + 18, tick_label(t));
  }
  for (int k = 0; k <= y_ticks; ++k) {
    const double m = k * y_step;
    const double y = y_of(m);
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#e0e0e0\"/>\n", kLeft,
        y, kLeft + plot_w);
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 6,
                       y + 4, tick_label(m));
  }
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n", kLeft,
      kTop, plot_w, plot_h);
  svg += fmt::format(
      "<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">time since spawn (s)</text>\n",
      kLeft + plot_w / 2, height - 12);
  svg += fmt::format(
      "<text x=\"16\" y=\"{0:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 16 "
      "{0:.1f})\">RSS of the "
      "process tree (MiB, sampled)</text>\n",
      kTop + plot_h / 2);

  // Series and legend.
  for (std::size_t i = 0; i < series.size(); ++i) {
    const char* colour = kColours[i % kColours.size()];
    std::string points;
    for (const TimelinePoint& p : series[i].run->timeline) {
      points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", x_of(p.t_s),
                            y_of(static_cast<double>(p.rss_bytes) / (1024.0 * 1024.0)));
    }
    svg +=
        fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n",
                    colour, points);
    const double ly = kTop + 8 + static_cast<double>(i) * kLegendLine;
    const double lx = kLeft + plot_w + 16;
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "stroke-width=\"3\"/>\n",
        lx, ly, lx + 18, ly, colour);
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\">{}</text>\n", lx + 24, ly + 4,
                       xml_escape(labels[i]));
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace peakbench
