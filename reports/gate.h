#pragma once
// `peakbench gate`: memory budgets for CI. Rules (a JSON file, see reports/gates.json) match
// scenarios by globs and bound the median peak (one method per median, report.h); evaluation gives
// a plain verdict, the renderers show it (table, JUnit XML, GitHub step summary), and only the CLI
// turns a failed verdict into exit status 1.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "reports/report.h"
#include "reports/table.h"

namespace peakbench {

/// One rule of a rules file. Globs use `*` and `?`; `size` also accepts a size ("128MiB",
/// "134217728") that matches that body size exactly. At least one bound is set.
struct GateRule {
  std::string name;  ///< from the file, or "#N" (1-based position)
  std::string subject = "*";
  std::string phase = "*";
  std::string size = "*";
  /// Median peak <= this.
  std::optional<std::uint64_t> max_peak_bytes;
  /// Median peak minus the subject's median start RSS <= this (built-in subjects only).
  std::optional<std::uint64_t> max_over_start_bytes;
  /// Slope of median peak against body size, per (subject, phase) over the matched sizes
  /// (least squares; with one size, (peak - start) / body, or peak / body without a start).
  std::optional<double> max_per_body_byte;
  /// Median peak <= baseline median × (1 + this); needs a baseline. 0.10 is "+10%".
  std::optional<double> max_increase;
  /// Requests of the index per run, by kind ("page", "metadata", "wheel"), any status: the most
  /// any successful run of the scenario made <= this. {"wheel": 0} on a warm phase says the
  /// cache answered without the network.
  std::map<std::string, std::uint64_t> max_requests;
};

/// Parses a rules file: {"rules": [{"name", "subject", "phase", "size", "max_peak",
/// "max_over_start", "max_per_body_byte", "max_increase", "max_requests"}, ...]}. Unknown keys, bad
/// sizes and rules without a bound are errors naming `source` and the rule.
Result<std::vector<GateRule>> parse_gate_rules(const std::string& text, const std::string& source);

/// "+10%", "10%" or "10" -> 0.10. Negative increases are allowed ("-5%": must shrink by 5%).
Result<double> parse_increase(std::string_view text);

/// Shell-style glob with `*` and `?` over the whole text.
bool glob_match(std::string_view pattern, std::string_view text);

/// The unit of a check's limit and actual value.
enum class GateUnit {
  failed_runs,    ///< a count of failed runs
  bytes,          ///< a memory figure
  per_body_byte,  ///< bytes of peak per byte of body ("B/B")
  increase,       ///< a fraction over the baseline: 0.10 is +10%
  requests,       ///< a count of requests of one kind (GateCheck::how) in one run
};

/// One bound of one rule applied to one scenario (or, for slopes, to one subject and phase).
/// Numbers only; format_limit() and format_actual() spell them.
struct GateCheck {
  std::string rule;      ///< the rule's name
  std::string bound;     ///< "max_peak" | "max_over_start" | "max_per_body_byte" | "max_increase" |
                         ///< "max_requests" | "runs_ok"
  std::string scenario;  ///< "streaming/warm/32MiB", or "streaming/warm/*" for a slope
  GateUnit unit = GateUnit::bytes;
  double limit = 0;  ///< in `unit`
  /// In `unit`; absent when the figure could not be had, and then `missing` says why (no start
  /// RSS, or a baseline median taken by another method) and the check fails.
  std::optional<double> actual;
  std::string missing;
  int runs = 0;  ///< failed_runs: the scenario's runs
  /// increase: the baseline's and this report's median peaks.
  std::uint64_t before_bytes = 0;
  std::uint64_t after_bytes = 0;
  /// per_body_byte: how the slope was had ("fit over 3 sizes", ...); requests: the kind.
  std::string how;
  bool passed = false;
};

/// The limit as shown: "0 failed", "64MiB", "0.050 B/B", "+10.0%", "0 wheel requests".
std::string format_limit(const GateCheck& check);
/// The actual value as shown: "1 of 3 failed", "12.1 MiB", "0.011 B/B (fit over 2 sizes)",
/// "+2.3% (12.0 MiB -> 12.3 MiB)", "1 wheel request (most of 3 runs)", or why there is none.
std::string format_actual(const GateCheck& check);

struct GateVerdict {
  std::vector<GateCheck> checks;
  std::vector<std::string> notes;  ///< rules that matched nothing, scenarios without a baseline
  bool passed() const;
  int failures() const;
};

/// Applies `rules` to `report` (and `baseline`, when given), plus an implicit "runs-ok" check per
/// scenario: a failed run fails the gate. An error when a rule needs a baseline and none is given.
/// A baseline median taken by another method than the report's is not compared: its check fails
/// and says so.
Result<GateVerdict> evaluate_gate(const Report& report, const Report* baseline,
                                  const std::vector<GateRule>& rules);

/// rule | bound | scenario | limit | actual | result ("pass" / "FAIL").
Table build_gate_table(const GateVerdict& verdict);
// JUnit XML: reports/junit.h; the step summary: reports/step_summary.h.

}  // namespace peakbench
