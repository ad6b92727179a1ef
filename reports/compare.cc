#include "reports/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace peakbench {
namespace {

const ScenarioSummary* find(const std::vector<ScenarioSummary>& summaries, const ScenarioKey& key) {
  const auto it = std::find_if(summaries.begin(), summaries.end(),
                               [&](const ScenarioSummary& s) { return s.key == key; });
  return it == summaries.end() ? nullptr : &*it;
}

std::string key_list(const std::vector<ScenarioKey>& keys) {
  std::string out;
  for (const ScenarioKey& key : keys) {
    out += (out.empty() ? "" : ", ") + key.to_string();
  }
  return out;
}

}  // namespace

Comparison compare_reports(const Report& before, const Report& after) {
  const std::vector<ScenarioSummary> old_summaries = before.summarize();
  const std::vector<ScenarioSummary> new_summaries = after.summarize();
  Comparison comparison;
  comparison.before_source = describe_source(before.meta);
  comparison.after_source = describe_source(after.meta);
  for (const ScenarioSummary& now : new_summaries) {
    const ScenarioSummary* then = find(old_summaries, now.key);
    if (then == nullptr) {
      comparison.only_after.push_back(now.key);
      continue;
    }
    ScenarioDelta delta;
    delta.key = now.key;
    delta.before = *then;
    delta.after = now;
    delta.failed = !then->succeeded() || !now.succeeded();
    if (!delta.failed) {
      delta.delta_bytes = static_cast<std::int64_t>(now.median_peak_rss_bytes) -
                          static_cast<std::int64_t>(then->median_peak_rss_bytes);
      if (then->median_peak_rss_bytes > 0) {
        delta.ratio = static_cast<double>(now.median_peak_rss_bytes) /
                      static_cast<double>(then->median_peak_rss_bytes);
      }
      const auto floor = static_cast<std::uint64_t>(
          std::ceil(kNoiseFloor * static_cast<double>(then->median_peak_rss_bytes)));
      delta.noise_bytes =
          std::max({floor, kNoiseFloorBytes, then->max_peak_rss_bytes - then->min_peak_rss_bytes,
                    now.max_peak_rss_bytes - now.min_peak_rss_bytes});
      const std::uint64_t distance = delta.delta_bytes < 0
                                         ? static_cast<std::uint64_t>(-delta.delta_bytes)
                                         : static_cast<std::uint64_t>(delta.delta_bytes);
      delta.same = distance <= delta.noise_bytes;
    }
    comparison.rows.push_back(std::move(delta));
  }
  for (const ScenarioSummary& then : old_summaries) {
    if (find(new_summaries, then.key) == nullptr) {
      comparison.only_before.push_back(then.key);
    }
  }
  return comparison;
}

Table build_comparison_table(const Comparison& comparison) {
  Table table;
  table.columns = {{"scenario", Align::left},  {"before KB", Align::right},
                   {"after KB", Align::right}, {"delta KB", Align::right},
                   {"change", Align::right},   {"ratio", Align::right},
                   {"noise", Align::right},    {"verdict", Align::left}};
  for (const ScenarioDelta& d : comparison.rows) {
    std::vector<Cell> row{Cell::of_text(d.key.to_string())};
    auto peak_cell = [](const ScenarioSummary& s) {
      if (!s.succeeded()) {
        return Cell::of_text("failed");
      }
      return Cell::of_number(format_kb(s.median_peak_rss_bytes),
                             std::to_string((s.median_peak_rss_bytes + 512) / 1024));
    };
    row.push_back(peak_cell(d.before));
    row.push_back(peak_cell(d.after));
    if (d.failed) {
      for (int i = 0; i < 4; ++i) {
        row.push_back(Cell::of_text(""));
      }
      row.push_back(Cell::of_text("failed"));
      table.rows.push_back(std::move(row));
      continue;
    }
    // KB rounded from the byte delta, so before + delta = after in the same unit as the columns.
    const std::int64_t delta_kb =
        static_cast<std::int64_t>((d.after.median_peak_rss_bytes + 512) / 1024) -
        static_cast<std::int64_t>((d.before.median_peak_rss_bytes + 512) / 1024);
    row.push_back(Cell::of_number((delta_kb > 0 ? "+" : "") + with_thousands(delta_kb),
                                  std::to_string(delta_kb)));
    if (d.ratio > 0) {
      const double change = (d.ratio - 1) * 100;
      row.push_back(
          Cell::of_number(fmt::format("{:+.1f}%", change), fmt::format("{:.2f}", change)));
      row.push_back(
          Cell::of_number(fmt::format("{:.2f}×", d.ratio), fmt::format("{:.4f}", d.ratio)));
    } else {
      row.push_back(Cell::of_text(""));
      row.push_back(Cell::of_text(""));
    }
    if (d.before.median_peak_rss_bytes > 0) {
      const double noise = static_cast<double>(d.noise_bytes) /
                           static_cast<double>(d.before.median_peak_rss_bytes) * 100;
      row.push_back(Cell::of_number(fmt::format("±{:.1f}%", noise), fmt::format("{:.2f}", noise)));
    } else {
      row.push_back(Cell::of_number(format_kb(d.noise_bytes) + " KB",
                                    std::to_string((d.noise_bytes + 512) / 1024)));
    }
    row.push_back(Cell::of_text(d.same ? "same" : d.delta_bytes < 0 ? "lower" : "higher"));
    table.rows.push_back(std::move(row));
  }
  table.notes.push_back("BEFORE: " + comparison.before_source +
                        ". AFTER: " + comparison.after_source + ".");
  table.notes.push_back(fmt::format(
      "Median peak RSS of the successful runs, one method per scenario (self for built-in "
      "subjects, the largest process for other clients). same: the medians differ "
      "by no more than the noise, the larger of the repetitions' spread (max - min) "
      "in either report, {:.1f}% of BEFORE and {} KiB.",
      kNoiseFloor * 100, kNoiseFloorBytes / 1024));
  for (const ScenarioDelta& d : comparison.rows) {
    if (d.before.failed > 0) {
      table.notes.push_back(fmt::format("{}: {} of {} runs failed in BEFORE.", d.key.to_string(),
                                        d.before.failed, d.before.runs));
    }
    if (d.after.failed > 0) {
      table.notes.push_back(fmt::format("{}: {} of {} runs failed in AFTER.", d.key.to_string(),
                                        d.after.failed, d.after.runs));
    }
  }
  if (!comparison.only_before.empty()) {
    table.notes.push_back("Only in BEFORE: " + key_list(comparison.only_before) + ".");
  }
  if (!comparison.only_after.empty()) {
    table.notes.push_back("Only in AFTER: " + key_list(comparison.only_after) + ".");
  }
  return table;
}

}  // namespace peakbench
