#include "reports/gate.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/safe_text.h"
#include "base/size.h"
#include "base/text.h"
#include "reports/fit.h"

namespace peakbench {
namespace {

std::string mib(double bytes) { return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0)); }

/// "0 wheel requests", "1 page request".
std::string count_of_requests(double n, const std::string& kind) {
  return fmt::format("{:.0f} {} request{}", n, kind, n == 1 ? "" : "s");
}

std::string percent(double fraction) { return fmt::format("{:+.1f}%", fraction * 100); }

bool size_matches(const std::string& pattern, std::uint64_t body_bytes) {
  if (auto exact = parse_size(pattern)) {
    return *exact == body_bytes;
  }
  return glob_match(pattern, format_size(body_bytes));
}

bool matches(const GateRule& rule, const ScenarioKey& key) {
  return glob_match(rule.subject, key.subject) && glob_match(rule.phase, key.phase) &&
         size_matches(rule.size, key.body_bytes);
}

// Thrown by read_rule and caught in parse_gate_rules, never outside this file.
struct BadRule {
  std::string message;
};

// Reads one rule; throws BadRule naming what is wrong.
GateRule read_rule(const nlohmann::json& j, std::size_t index) {
  GateRule rule;
  rule.name = fmt::format("#{}", index + 1);
  if (!j.is_object()) {
    throw BadRule{fmt::format("{}: expected an object", rule.name)};
  }
  if (j.contains("name")) {
    if (!j["name"].is_string()) {
      throw BadRule{fmt::format("{}: name: expected a string", rule.name)};
    }
    rule.name = j["name"].get<std::string>();
  }
  static const std::vector<std::string> kKeys{
      "name",           "subject",           "phase",        "size",         "max_peak",
      "max_over_start", "max_per_body_byte", "max_increase", "max_requests", "comment"};
  for (const auto& [key, value] : j.items()) {
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      throw BadRule{
          fmt::format("rule '{}': unknown key '{}' (expected subject, phase, size, max_peak, "
                      "max_over_start, max_per_body_byte, max_increase or max_requests)",
                      rule.name, key)};
    }
  }
  auto text = [&](const char* key, std::string& out) {
    if (!j.contains(key)) {
      return;
    }
    if (!j[key].is_string()) {
      throw BadRule{fmt::format("rule '{}': {}: expected a string", rule.name, key)};
    }
    out = j[key].get<std::string>();
    if (out.empty()) {
      throw BadRule{fmt::format("rule '{}': {}: empty (use \"*\" for any)", rule.name, key)};
    }
  };
  text("subject", rule.subject);
  text("phase", rule.phase);
  text("size", rule.size);
  auto size_bound = [&](const char* key, std::optional<std::uint64_t>& out) {
    if (!j.contains(key)) {
      return;
    }
    const nlohmann::json& v = j[key];
    if (v.is_number_unsigned()) {
      out = v.get<std::uint64_t>();
    } else if (v.is_string()) {
      auto size = parse_size(v.get<std::string>());
      if (!size) {
        throw BadRule{fmt::format("rule '{}': {}: {}", rule.name, key, size.message())};
      }
      out = *size;
    } else {
      throw BadRule{
          fmt::format("rule '{}': {}: expected a size such as \"64MiB\"", rule.name, key)};
    }
  };
  size_bound("max_peak", rule.max_peak_bytes);
  size_bound("max_over_start", rule.max_over_start_bytes);
  if (j.contains("max_per_body_byte")) {
    const nlohmann::json& v = j["max_per_body_byte"];
    if (!v.is_number() || v.get<double>() < 0) {
      throw BadRule{fmt::format("rule '{}': max_per_body_byte: expected a number >= 0 such as 0.05",
                                rule.name)};
    }
    rule.max_per_body_byte = v.get<double>();
  }
  if (j.contains("max_increase")) {
    const nlohmann::json& v = j["max_increase"];
    if (!v.is_string()) {
      throw BadRule{
          fmt::format("rule '{}': max_increase: expected a string such as \"+10%\"", rule.name)};
    }
    auto increase = parse_increase(v.get<std::string>());
    if (!increase) {
      throw BadRule{fmt::format("rule '{}': max_increase: {}", rule.name, increase.message())};
    }
    rule.max_increase = *increase;
  }
  if (j.contains("max_requests")) {
    const nlohmann::json& v = j["max_requests"];
    const std::string expected = fmt::format(
        "rule '{}': max_requests: expected counts by kind such as {{\"wheel\": 0}} (kinds: "
        "page, metadata, wheel)",
        rule.name);
    if (!v.is_object() || v.empty()) throw BadRule{expected};
    for (const auto& [kind, count] : v.items()) {
      if (!is_request_kind(kind) || !count.is_number_unsigned()) throw BadRule{expected};
      rule.max_requests[kind] = count.get<std::uint64_t>();
    }
  }
  if (!rule.max_peak_bytes && !rule.max_over_start_bytes && !rule.max_per_body_byte &&
      !rule.max_increase && rule.max_requests.empty()) {
    throw BadRule{
        fmt::format("rule '{}': no bound (give max_peak, max_over_start, max_per_body_byte, "
                    "max_increase or max_requests)",
                    rule.name)};
  }
  return rule;
}

/// The requests of `kind` one run made, any status. A report without per-kind counts (schema v1)
/// still has the primary wheel's file requests, which stand for "wheel".
std::uint64_t requests_of(const RunRecord& run, const std::string& kind) {
  std::uint64_t n = 0;
  if (run.requests.empty() && kind == "wheel") {
    for (const auto& [status, count] : run.file_requests) n += count;
    return n;
  }
  if (auto it = run.requests.find(kind); it != run.requests.end()) {
    for (const auto& [status, count] : it->second) n += count;
  }
  return n;
}

struct SlopeGroup {
  std::string subject;
  std::string phase;
  std::vector<const ScenarioSummary*> members;
};

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point for the last '*': linear in practice.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

Result<double> parse_increase(std::string_view text) {
  const std::string_view original = text;
  if (!text.empty() && text.back() == '%') {
    text.remove_suffix(1);
  }
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    // "+-5%" is no percentage: one sign only.
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) text = {};
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    return Status::Error(
        fmt::format("bad increase '{}': expected a percentage such as +10%", original));
  }
  return value / 100;
}

Result<std::vector<GateRule>> parse_gate_rules(const std::string& text, const std::string& source) {
  try {
    const nlohmann::json doc = nlohmann::json::parse(text);
    if (!doc.is_object() || !doc.contains("rules") || !doc["rules"].is_array()) {
      return Status::Error(fmt::format("{}: bad rules: expected {{\"rules\": [...]}}", source));
    }
    std::vector<GateRule> rules;
    for (std::size_t i = 0; i < doc["rules"].size(); ++i) {
      rules.push_back(read_rule(doc["rules"][i], i));
    }
    return rules;
  } catch (const BadRule& e) {
    return Status::Error(fmt::format("{}: bad rule: {}", source, e.message));
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    return Status::Error(fmt::format("{}: malformed JSON: {}", source, what));
  }
}

bool GateVerdict::passed() const { return failures() == 0; }

int GateVerdict::failures() const {
  return static_cast<int>(
      std::count_if(checks.begin(), checks.end(), [](const GateCheck& c) { return !c.passed; }));
}

Result<GateVerdict> evaluate_gate(const Report& report, const Report* baseline,
                                  const std::vector<GateRule>& rules) {
  for (const GateRule& rule : rules) {
    if (rule.max_increase && baseline == nullptr) {
      return Status::Error(fmt::format(
          "rule '{}' bounds the increase over a baseline: give --baseline FILE", rule.name));
    }
  }
  const std::vector<ScenarioSummary> summaries = report.summarize();
  const std::vector<ScenarioSummary> base_summaries =
      baseline ? baseline->summarize() : std::vector<ScenarioSummary>{};
  GateVerdict verdict;

  for (const ScenarioSummary& s : summaries) {
    GateCheck check;
    check.rule = "runs-ok";
    check.bound = "runs_ok";
    check.scenario = s.key.to_string();
    check.unit = GateUnit::failed_runs;
    check.actual = s.failed;
    check.runs = s.runs;
    check.passed = s.failed == 0;
    verdict.checks.push_back(std::move(check));
  }

  for (const GateRule& rule : rules) {
    std::vector<const ScenarioSummary*> matched;
    for (const ScenarioSummary& s : summaries) {
      if (matches(rule, s.key)) {
        matched.push_back(&s);
      }
    }
    if (matched.empty()) {
      verdict.notes.push_back(fmt::format("Rule '{}' matched no scenario.", rule.name));
      continue;
    }
    for (const ScenarioSummary* s : matched) {
      if (!s->succeeded()) {
        continue;  // runs-ok already fails it; there is no peak to bound
      }
      const auto peak = static_cast<double>(s->median_peak_rss_bytes);
      auto check = [&](std::string bound, GateUnit unit, double limit) {
        GateCheck c;
        c.rule = rule.name;
        c.bound = std::move(bound);
        c.scenario = s->key.to_string();
        c.unit = unit;
        c.limit = limit;
        return c;
      };
      if (rule.max_peak_bytes) {
        GateCheck c = check("max_peak", GateUnit::bytes, static_cast<double>(*rule.max_peak_bytes));
        c.actual = peak;
        c.passed = s->median_peak_rss_bytes <= *rule.max_peak_bytes;
        verdict.checks.push_back(std::move(c));
      }
      if (rule.max_over_start_bytes) {
        GateCheck c = check("max_over_start", GateUnit::bytes,
                            static_cast<double>(*rule.max_over_start_bytes));
        if (s->median_start_rss_bytes) {
          c.actual = peak - static_cast<double>(*s->median_start_rss_bytes);
          c.passed = *c.actual <= c.limit;
        } else {
          c.missing = "no start RSS";
        }
        verdict.checks.push_back(std::move(c));
      }
      for (const auto& [kind, most] : rule.max_requests) {
        GateCheck c = check("max_requests", GateUnit::requests, static_cast<double>(most));
        c.how = kind;
        std::uint64_t worst = 0;
        for (const RunRecord& run : report.runs) {
          if (!run.ok || !(ScenarioKey{run.subject, run.phase, run.body_bytes} == s->key)) continue;
          worst = std::max(worst, requests_of(run, kind));
          ++c.runs;
        }
        c.actual = static_cast<double>(worst);
        c.passed = worst <= most;
        verdict.checks.push_back(std::move(c));
      }
      if (rule.max_increase) {
        const auto it = std::find_if(base_summaries.begin(), base_summaries.end(),
                                     [&](const ScenarioSummary& b) { return b.key == s->key; });
        if (it == base_summaries.end() || !it->succeeded() || it->median_peak_rss_bytes == 0) {
          verdict.notes.push_back(
              fmt::format("Rule '{}': no baseline for {}.", rule.name, s->key.to_string()));
          continue;
        }
        GateCheck c = check("max_increase", GateUnit::increase, *rule.max_increase);
        c.before_bytes = it->median_peak_rss_bytes;
        c.after_bytes = s->median_peak_rss_bytes;
        if (it->peak_rss_method != s->peak_rss_method) {
          // Two methods measure different things (self is the subject's own maximum, kernel-hwm
          // the largest process at exit): their ratio is no increase.
          c.missing = fmt::format("not compared: baseline median by {}, this one by {}",
                                  to_string(it->peak_rss_method), to_string(s->peak_rss_method));
        } else {
          c.actual = peak / static_cast<double>(it->median_peak_rss_bytes) - 1;
          c.passed = *c.actual <= *rule.max_increase + 1e-12;
        }
        verdict.checks.push_back(std::move(c));
      }
    }
    if (rule.max_per_body_byte) {
      std::vector<SlopeGroup> groups;
      for (const ScenarioSummary* s : matched) {
        if (!s->succeeded()) {
          continue;
        }
        auto it = std::find_if(groups.begin(), groups.end(), [&](const SlopeGroup& g) {
          return g.subject == s->key.subject && g.phase == s->key.phase;
        });
        if (it == groups.end()) {
          groups.push_back({s->key.subject, s->key.phase, {}});
          it = groups.end() - 1;
        }
        it->members.push_back(s);
      }
      for (const SlopeGroup& g : groups) {
        std::vector<PeakPoint> points;
        for (const ScenarioSummary* s : g.members) {
          points.push_back({s->key.body_bytes, s->median_peak_rss_bytes});
        }
        double slope = 0;
        std::string how;
        if (auto fit = fit_peak_vs_body(points)) {
          slope = fit->per_body_byte;
          how = fmt::format("fit over {} sizes", points.size());
        } else {
          const ScenarioSummary& s = *g.members.front();
          const double base =
              s.median_start_rss_bytes ? static_cast<double>(*s.median_start_rss_bytes) : 0;
          slope = (static_cast<double>(s.median_peak_rss_bytes) - base) /
                  static_cast<double>(std::max<std::uint64_t>(s.key.body_bytes, 1));
          how = s.median_start_rss_bytes ? "one size, from start" : "one size, peak/body";
        }
        const std::string scenario = g.members.size() == 1 ? g.members.front()->key.to_string()
                                                           : g.subject + "/" + g.phase + "/*";
        GateCheck c;
        c.rule = rule.name;
        c.bound = "max_per_body_byte";
        c.scenario = scenario;
        c.unit = GateUnit::per_body_byte;
        c.limit = *rule.max_per_body_byte;
        c.actual = slope;
        c.how = std::move(how);
        c.passed = slope <= *rule.max_per_body_byte;
        verdict.checks.push_back(std::move(c));
      }
    }
  }

  if (baseline != nullptr) {
    for (const ScenarioSummary& b : base_summaries) {
      const bool present = std::any_of(summaries.begin(), summaries.end(),
                                       [&](const ScenarioSummary& s) { return s.key == b.key; });
      if (!present) {
        verdict.notes.push_back(fmt::format("{} is in the baseline only.", b.key.to_string()));
      }
    }
  }
  return verdict;
}

std::string format_limit(const GateCheck& check) {
  switch (check.unit) {
    case GateUnit::failed_runs:
      return fmt::format("{:.0f} failed", check.limit);
    case GateUnit::bytes:
      return format_size(static_cast<std::uint64_t>(check.limit));
    case GateUnit::per_body_byte:
      return fmt::format("{:.3f} B/B", check.limit);
    case GateUnit::increase:
      return percent(check.limit);
    case GateUnit::requests:
      return count_of_requests(check.limit, check.how);
  }
  return {};
}

std::string format_actual(const GateCheck& check) {
  if (!check.actual) {
    return check.missing;
  }
  const double actual = *check.actual;
  switch (check.unit) {
    case GateUnit::failed_runs:
      return fmt::format("{:.0f} of {} failed", actual, check.runs);
    case GateUnit::bytes:
      return mib(actual);
    case GateUnit::per_body_byte:
      return fmt::format("{:.3f} B/B ({})", actual, check.how);
    case GateUnit::increase:
      return fmt::format("{} ({} -> {})", percent(actual),
                         mib(static_cast<double>(check.before_bytes)),
                         mib(static_cast<double>(check.after_bytes)));
    case GateUnit::requests:
      return fmt::format(
          "{} (most of {})", count_of_requests(actual, check.how),
          check.runs == 1 ? std::string("1 run") : fmt::format("{} runs", check.runs));
  }
  return {};
}

Table build_gate_table(const GateVerdict& verdict) {
  Table table;
  table.columns = {{"rule", Align::left},   {"bound", Align::left},   {"scenario", Align::left},
                   {"limit", Align::right}, {"actual", Align::right}, {"result", Align::left}};
  for (const GateCheck& c : verdict.checks) {
    table.rows.push_back({Cell::of_text(c.rule), Cell::of_text(c.bound), Cell::of_text(c.scenario),
                          Cell::of_text(format_limit(c)), Cell::of_text(format_actual(c)),
                          Cell::of_text(c.passed ? "pass" : "FAIL")});
  }
  table.notes = verdict.notes;
  table.notes.push_back(verdict.passed()
                            ? fmt::format("Gate passed: {} checks.", verdict.checks.size())
                            : fmt::format("Gate FAILED: {} of {} checks.", verdict.failures(),
                                          verdict.checks.size()));
  return table;
}

}  // namespace peakbench
