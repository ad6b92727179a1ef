#include "reports/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "reports/markup.h"

namespace peakbench::svg {
namespace {

using markup::xml_escape;

constexpr std::array<const char*, 10> kColours{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                               "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                               "#9c755f", "#bab0ac"};
constexpr const char* kFailed = "#c0392b";
constexpr double kMiB = 1024.0 * 1024.0;
// The split: anon (heap), file-backed, shmem.
constexpr const char* kAnon = "#9ecae1";
constexpr const char* kFile = "#fdd0a2";
constexpr const char* kShmem = "#c7e9c0";

const char* phase_colour(const std::string& phase) {
  if (phase == "download") return "#dbe9f6";
  if (phase == "cache-write") return "#fde9d9";
  if (phase == "cache-read") return "#e2f0d9";
  return "#eeeeee";
}

std::string tick_label(double value) {
  std::string text = fmt::format("{:.3f}", value);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / kMiB; }

}  // namespace

const char* colour_of(std::size_t index) { return kColours[index % kColours.size()]; }

double nice_step(double max_value, int ticks) {
  if (max_value <= 0 || ticks < 1) return 1;
  const double raw = max_value / ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * magnitude) return m * magnitude;
  }
  return 10 * magnitude;
}

std::vector<Series> scenario_series(const Report& report) {
  std::vector<Series> out;
  for (const ScenarioSummary& s : report.summarize()) {
    Series series;
    series.name = s.key.to_string();
    series.runs = s.runs;
    std::vector<const RunRecord*> ok;
    const RunRecord* first_failed = nullptr;
    for (const RunRecord& run : report.runs) {
      if (run.subject != s.key.subject || run.phase != s.key.phase ||
          run.body_bytes != s.key.body_bytes) {
        continue;
      }
      if (run.ok && run.peak_rss) {
        ok.push_back(&run);
      } else if (!run.ok) {
        if (first_failed == nullptr) first_failed = &run;
        series.failures.push_back(fmt::format("repetition {}: {}", run.repetition,
                                              run.error.empty() ? "failed" : run.error));
      }
    }
    if (!ok.empty()) {
      std::stable_sort(ok.begin(), ok.end(), [](const RunRecord* a, const RunRecord* b) {
        return a->peak_rss->bytes < b->peak_rss->bytes;
      });
      series.run = ok[(ok.size() - 1) / 2];
    } else {
      series.run = first_failed;
    }
    out.push_back(std::move(series));
  }
  return out;
}

std::string document(double width, double height, const std::string& body,
                     const std::string& label) {
  return fmt::format(
             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
             "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" "
             "aria-label=\"{2}\">\n<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n",
             width, height, xml_escape(label)) +
         body + "</svg>\n";
}

std::string panel(const std::vector<Series>& series, Box box, const std::string& title,
                  std::size_t colour) {
  const bool single = series.size() == 1;
  std::size_t lanes = 0;
  for (const Series& s : series) {
    if (s.run != nullptr && !s.run->phases.empty()) ++lanes;
  }
  constexpr double kLeft = 58, kTop = 26, kRight = 12, kBottom = 34, kLane = 7;
  const double lane_h = single ? 0 : kLane * static_cast<double>(lanes);
  const double px = box.x + kLeft, py = box.y + kTop;
  const double pw = box.w - kLeft - kRight, ph = box.h - kTop - kBottom - lane_h;

  double max_t = 0, max_mib = 0;
  for (const Series& s : series) {
    if (s.run == nullptr) continue;
    for (const TimelinePoint& p : s.run->timeline) {
      max_t = std::max(max_t, p.t_s);
      max_mib = std::max(max_mib, mib(p.rss_bytes));
    }
    for (const PhasePeak& phase : s.run->phases) max_t = std::max(max_t, phase.end_s);
    if (s.run->peak_rss) max_mib = std::max(max_mib, mib(s.run->peak_rss->bytes));
  }
  const double x_step = nice_step(max_t, 5), y_step = nice_step(max_mib, 5);
  const double x_max = std::max(x_step, std::ceil(max_t / x_step) * x_step);
  const double y_max = std::max(y_step, std::ceil(max_mib * 1.08 / y_step) * y_step);
  auto x_of = [&](double t) { return px + t / x_max * pw; };
  auto y_of = [&](double m) { return py + ph - m / y_max * ph; };

  std::string out = fmt::format(
      "<g class=\"panel\">\n<text x=\"{:.1f}\" y=\"{:.1f}\" "
      "font-size=\"13\" font-weight=\"bold\">{}</text>\n",
      px, box.y + 16, xml_escape(title));
  // Phase bands behind everything (one series) or lanes under the axis (several).
  std::size_t lane = 0;
  for (const Series& s : series) {
    if (s.run == nullptr || s.run->phases.empty()) continue;
    for (const PhasePeak& phase : s.run->phases) {
      const double x0 = x_of(phase.start_s), x1 = x_of(std::max(phase.end_s, phase.start_s));
      if (single) {
        out += fmt::format(
            "<rect class=\"phase\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
            "fill=\"{}\"><title>{} {:.3f}-{:.3f} s, peak {:.1f} MiB (self)</title></rect>\n",
            x0, py, std::max(x1 - x0, 0.5), ph, phase_colour(phase.phase), xml_escape(phase.phase),
            phase.start_s, phase.end_s, mib(phase.peak_rss.bytes));
        if (x1 - x0 > 46) {
          out += fmt::format(
              "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" fill=\"#555\" "
              "text-anchor=\"middle\">{}</text>\n",
              (x0 + x1) / 2, py + 12, xml_escape(phase.phase));
        }
      } else {
        const double ly = py + ph + 22 + kLane * static_cast<double>(lane);
        out += fmt::format(
            "<rect class=\"phase\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" "
            "fill=\"{}\" stroke=\"{}\" stroke-width=\"0.6\"><title>{}: {}</title></rect>\n",
            x0, ly, std::max(x1 - x0, 0.5), kLane - 2, phase_colour(phase.phase),
            colour_of(colour + static_cast<std::size_t>(&s - series.data())), xml_escape(s.name),
            xml_escape(phase.phase));
      }
    }
    ++lane;
  }
  // Grid and ticks.
  const int x_ticks = static_cast<int>(std::lround(x_max / x_step));
  const int y_ticks = static_cast<int>(std::lround(y_max / y_step));
  for (int k = 0; k <= x_ticks; ++k) {
    const double x = x_of(k * x_step);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e6e6e6\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\" font-size=\"11\">{4}</text>\n",
        x, py, py + ph, py + ph + 14, tick_label(k * x_step));
  }
  for (int k = 0; k <= y_ticks; ++k) {
    const double y = y_of(k * y_step);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e6e6e6\"/>\n"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\" font-size=\"11\">{5}</text>\n",
        px, y, px + pw, px - 5, y + 4, tick_label(k * y_step));
  }
  out += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#444\">"
      "seconds since spawn</text>\n",
      px + pw / 2, box.y + box.h - 4);
  out += fmt::format(
      "<text transform=\"translate({:.1f} {:.1f}) rotate(-90)\" text-anchor=\"middle\" "
      "font-size=\"11\" fill=\"#444\">RSS MiB</text>\n",
      box.x + 14, py + ph / 2);

  for (std::size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    if (s.run == nullptr) continue;
    const RunRecord& run = *s.run;
    const bool failed = !run.ok;
    const char* line_colour = failed ? kFailed : colour_of(colour + i);
    const auto& tl = run.timeline;
    if (single && !tl.empty()) {
      // The split as stacked areas: anon at the bottom, then file, then shmem.
      auto area = [&](auto lower, auto upper, const char* fill, const char* name) {
        std::string points;
        for (const TimelinePoint& p : tl) {
          points += fmt::format("{:.1f},{:.1f} ", x_of(p.t_s), y_of(upper(p)));
        }
        for (auto it = tl.rbegin(); it != tl.rend(); ++it) {
          points += fmt::format("{:.1f},{:.1f} ", x_of(it->t_s), y_of(lower(*it)));
        }
        points.pop_back();
        out += fmt::format(
            "<polygon class=\"split\" fill=\"{}\" fill-opacity=\"0.85\" points=\"{}\">"
            "<title>{}</title></polygon>\n",
            fill, points, name);
      };
      auto anon = [](const TimelinePoint& p) { return mib(p.anon_bytes); };
      auto file = [](const TimelinePoint& p) { return mib(p.anon_bytes + p.file_bytes); };
      auto shmem = [](const TimelinePoint& p) {
        return mib(p.anon_bytes + p.file_bytes + p.shmem_bytes);
      };
      area([](const TimelinePoint&) { return 0.0; }, anon, kAnon, "anon");
      area(anon, file, kFile, "file");
      area(file, shmem, kShmem, "shmem");
    }
    if (!tl.empty()) {
      std::string points;
      for (const TimelinePoint& p : tl) {
        points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", x_of(p.t_s),
                              y_of(mib(p.rss_bytes)));
      }
      out += fmt::format(
          "<polyline class=\"rss\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"{} "
          "points=\"{}\"/>\n",
          line_colour, failed ? " stroke-dasharray=\"5 3\"" : "", points);
      // The sample of highest RSS, marked.
      const auto top = std::max_element(tl.begin(), tl.end(), [](const auto& a, const auto& b) {
        return a.rss_bytes < b.rss_bytes;
      });
      out += fmt::format(
          "<circle class=\"sampled-peak\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\">"
          "<title>highest sample {:.1f} MiB at {:.3f} s: anon {:.1f}, file {:.1f}, shmem {:.1f} "
          "MiB</title></circle>\n",
          x_of(top->t_s), y_of(mib(top->rss_bytes)), line_colour, mib(top->rss_bytes), top->t_s,
          mib(top->anon_bytes), mib(top->file_bytes), mib(top->shmem_bytes));
    }
    if (run.peak_rss) {
      // The kernel's mark: what the tables report; samples can miss a short peak.
      const double y = y_of(mib(run.peak_rss->bytes));
      const double label_y = y - 4 < py + 26 ? y + 13 : y - 4;  // clear of the phase labels
      out += fmt::format(
          "<line class=\"peak\" x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
          "stroke=\"{}\" stroke-dasharray=\"2 3\" stroke-width=\"1.2\"/>\n",
          px, y, px + pw, y, line_colour);
      if (single) {
        out += fmt::format(
            "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" font-size=\"11\" fill=\"{}\">"
            "{}peak {:.1f} MiB ({})</text>\n",
            px + pw - 4, label_y, line_colour, failed ? "at the kill: " : "",
            mib(run.peak_rss->bytes), to_string(run.peak_rss->method));
      }
    }
    if (failed && single) {
      // The reason without its parenthesised detail, which the caption gives in full.
      std::string reason = run.error.empty() ? "failed" : run.error;
      if (const auto paren = reason.find(" ("); paren != std::string::npos) reason.resize(paren);
      out += fmt::format(
          "<text class=\"failed\" x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" fill=\"{}\" "
          "font-weight=\"bold\">FAILED: {}</text>\n",
          px + 6, py + ph * 0.4, kFailed, xml_escape(reason));
    }
  }
  out += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
      "stroke=\"#555\"/>\n</g>\n",
      px, py, pw, ph);
  return out;
}

}  // namespace peakbench::svg
