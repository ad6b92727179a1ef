#include "reports/report.h"

#include <algorithm>
#include <array>
#include <utility>

#include "base/median.h"
#include "base/size.h"

namespace peakbench {
namespace {

constexpr std::array<std::pair<Method, std::string_view>, 6> kMethodNames{{
    {Method::kernel_hwm, "kernel-hwm"},
    {Method::cgroup, "cgroup"},
    {Method::sampled, "sampled"},
    {Method::jemalloc, "jemalloc"},
    {Method::self_hwm, "self"},
    {Method::taskstats, "taskstats"},
}};

bool downloaded_a_file(const RunRecord& run) {
  for (const auto& [status, count] : run.file_requests) {
    if ((status == 200 || status == 206) && count > 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string ScenarioKey::to_string() const {
  return subject + "/" + phase + "/" + format_size(body_bytes);
}

std::string describe_source(const ReportMeta& meta) {
  std::string where;
  if (!meta.git_commit.empty()) {
    where = "commit " + meta.git_commit.substr(0, 7) + (meta.git_dirty ? "+dirty" : "");
    if (!meta.git_branch.empty()) {
      where += " on " + meta.git_branch;
    }
  }
  if (meta.label.empty()) {
    return where.empty() ? "unlabelled report" : where;
  }
  return where.empty() ? meta.label : meta.label + ", " + where;
}

std::string to_string(Method method) {
  for (const auto& [m, name] : kMethodNames) {
    if (m == method) {
      return std::string(name);
    }
  }
  return "unknown";
}

std::optional<Method> parse_method(std::string_view name) {
  for (const auto& [m, spelled] : kMethodNames) {
    if (spelled == name) {
      return m;
    }
  }
  return std::nullopt;
}

std::vector<ScenarioSummary> Report::summarize() const {
  // Group in first-seen order; a report holds tens of scenarios, so a linear search is fine.
  std::vector<ScenarioSummary> summaries;
  std::vector<std::vector<const RunRecord*>> members;
  for (const RunRecord& run : runs) {
    const ScenarioKey key{run.subject, run.phase, run.body_bytes};
    auto it = std::find_if(summaries.begin(), summaries.end(),
                           [&](const ScenarioSummary& s) { return s.key == key; });
    if (it == summaries.end()) {
      ScenarioSummary summary;
      summary.key = key;
      summary.subject_kind = run.subject_kind;
      summaries.push_back(std::move(summary));
      members.emplace_back();
      it = summaries.end() - 1;
    }
    members[static_cast<std::size_t>(it - summaries.begin())].push_back(&run);
  }

  for (std::size_t i = 0; i < summaries.size(); ++i) {
    ScenarioSummary& summary = summaries[i];
    // The median's one method: the one most successful runs were measured by.
    std::vector<std::pair<Method, int>> votes;
    for (const RunRecord* run : members[i]) {
      if (!run->ok || !run->peak_rss) {
        continue;
      }
      auto it = std::find_if(votes.begin(), votes.end(),
                             [&](const auto& vote) { return vote.first == run->peak_rss->method; });
      if (it == votes.end()) {
        votes.emplace_back(run->peak_rss->method, 1);
      } else {
        ++it->second;
      }
    }
    if (!votes.empty()) {
      summary.peak_rss_method =
          std::max_element(votes.begin(), votes.end(), [](const auto& a, const auto& b) {
            return a.second < b.second;
          })->first;
    }
    std::vector<std::uint64_t> peaks;
    std::vector<std::uint64_t> charged;
    std::vector<std::uint64_t> starts;
    std::vector<double> walls;
    for (const RunRecord* run : members[i]) {
      ++summary.runs;
      if (summary.key.phase == "warm" && downloaded_a_file(*run)) {
        summary.warm_downloaded = true;
      }
      if (!run->ok || !run->peak_rss) {
        ++summary.failed;
        continue;
      }
      if (run->peak_rss->method != summary.peak_rss_method) {
        ++summary.excluded;
        continue;
      }
      peaks.push_back(run->peak_rss->bytes);
      walls.push_back(run->wall_s);
      if (run->charged_peak) {
        charged.push_back(run->charged_peak->bytes);
      }
      if (run->subject_start_rss) {
        starts.push_back(run->subject_start_rss->bytes);
      }
    }
    if (peaks.empty()) {
      continue;
    }
    summary.median_peak_rss_bytes = median_of(peaks);
    summary.min_peak_rss_bytes = *std::min_element(peaks.begin(), peaks.end());
    summary.max_peak_rss_bytes = *std::max_element(peaks.begin(), peaks.end());
    summary.median_wall_s = median_of(walls);
    if (summary.key.body_bytes > 0) {
      summary.peak_per_body_byte = static_cast<double>(summary.median_peak_rss_bytes) /
                                   static_cast<double>(summary.key.body_bytes);
    }
    // Only when every successful run had a cgroup: a median over some of them would mislead.
    if (charged.size() == peaks.size()) {
      summary.median_charged_bytes = median_of(charged);
    }
    if (starts.size() == peaks.size()) {
      summary.median_start_rss_bytes = median_of(starts);
    }
  }
  return summaries;
}

}  // namespace peakbench
