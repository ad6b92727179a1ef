#include "reports/gate.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/safe_text.h"
#include "base/size.h"
#include "reports/fit.h"

namespace peakbench {
namespace {

bool succeeded(const ScenarioSummary& s) { return s.failed < s.runs; }

std::string mib(double bytes) { return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0)); }

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

std::string xml_escape(std::string_view text) {
  std::string out;
  // Control characters and broken UTF-8 have no escape in XML 1.0: replaced first.
  for (char c : xml_safe(text)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
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
      "name",           "subject",           "phase",        "size",   "max_peak",
      "max_over_start", "max_per_body_byte", "max_increase", "comment"};
  for (const auto& [key, value] : j.items()) {
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      throw BadRule{
          fmt::format("rule '{}': unknown key '{}' (expected subject, phase, size, max_peak, "
                      "max_over_start, max_per_body_byte or max_increase)",
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
  if (!rule.max_peak_bytes && !rule.max_over_start_bytes && !rule.max_per_body_byte &&
      !rule.max_increase) {
    throw BadRule{
        fmt::format("rule '{}': no bound (give max_peak, max_over_start, max_per_body_byte or "
                    "max_increase)",
                    rule.name)};
  }
  return rule;
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
    verdict.checks.push_back({"runs-ok", "runs_ok", s.key.to_string(), "0 failed",
                              fmt::format("{} of {} failed", s.failed, s.runs), s.failed == 0});
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
      if (!succeeded(*s)) {
        continue;  // runs-ok already fails it; there is no peak to bound
      }
      const auto peak = static_cast<double>(s->median_peak_rss_bytes);
      if (rule.max_peak_bytes) {
        verdict.checks.push_back({rule.name, "max_peak", s->key.to_string(),
                                  format_size(*rule.max_peak_bytes), mib(peak),
                                  s->median_peak_rss_bytes <= *rule.max_peak_bytes});
      }
      if (rule.max_over_start_bytes) {
        if (s->median_start_rss_bytes) {
          const double over = peak - static_cast<double>(*s->median_start_rss_bytes);
          verdict.checks.push_back({rule.name, "max_over_start", s->key.to_string(),
                                    format_size(*rule.max_over_start_bytes), mib(over),
                                    over <= static_cast<double>(*rule.max_over_start_bytes)});
        } else {
          verdict.checks.push_back({rule.name, "max_over_start", s->key.to_string(),
                                    format_size(*rule.max_over_start_bytes), "no start RSS",
                                    false});
        }
      }
      if (rule.max_increase) {
        const auto it = std::find_if(base_summaries.begin(), base_summaries.end(),
                                     [&](const ScenarioSummary& b) { return b.key == s->key; });
        if (it == base_summaries.end() || !succeeded(*it) || it->median_peak_rss_bytes == 0) {
          verdict.notes.push_back(
              fmt::format("Rule '{}': no baseline for {}.", rule.name, s->key.to_string()));
        } else {
          const double increase = peak / static_cast<double>(it->median_peak_rss_bytes) - 1;
          verdict.checks.push_back(
              {rule.name, "max_increase", s->key.to_string(), percent(*rule.max_increase),
               fmt::format("{} ({} -> {})", percent(increase),
                           mib(static_cast<double>(it->median_peak_rss_bytes)), mib(peak)),
               increase <= *rule.max_increase + 1e-12});
        }
      }
    }
    if (rule.max_per_body_byte) {
      std::vector<SlopeGroup> groups;
      for (const ScenarioSummary* s : matched) {
        if (!succeeded(*s)) {
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
        verdict.checks.push_back({rule.name, "max_per_body_byte", scenario,
                                  fmt::format("{:.3f} B/B", *rule.max_per_body_byte),
                                  fmt::format("{:.3f} B/B ({})", slope, how),
                                  slope <= *rule.max_per_body_byte});
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

Table build_gate_table(const GateVerdict& verdict) {
  Table table;
  table.columns = {{"rule", Align::left},   {"bound", Align::left},   {"scenario", Align::left},
                   {"limit", Align::right}, {"actual", Align::right}, {"result", Align::left}};
  for (const GateCheck& c : verdict.checks) {
    table.rows.push_back({Cell::of_text(c.rule), Cell::of_text(c.bound), Cell::of_text(c.scenario),
                          Cell::of_text(c.limit), Cell::of_text(c.actual),
                          Cell::of_text(c.passed ? "pass" : "FAIL")});
  }
  table.notes = verdict.notes;
  table.notes.push_back(verdict.passed()
                            ? fmt::format("Gate passed: {} checks.", verdict.checks.size())
                            : fmt::format("Gate FAILED: {} of {} checks.", verdict.failures(),
                                          verdict.checks.size()));
  return table;
}

std::string render_junit(const GateVerdict& verdict) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"peakbench gate\" tests=\"{}\" failures=\"{}\">\n",
                     verdict.checks.size(), verdict.failures());
  out += fmt::format(
      "  <testsuite name=\"peakbench gate\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
      "skipped=\"0\">\n",
      verdict.checks.size(), verdict.failures());
  for (const GateCheck& c : verdict.checks) {
    const std::string name = xml_escape(c.scenario + " " + c.bound);
    const std::string classname = xml_escape("peakbench.gate." + c.rule);
    if (c.passed) {
      out += fmt::format("    <testcase classname=\"{}\" name=\"{}\"/>\n", classname, name);
    } else {
      out += fmt::format("    <testcase classname=\"{}\" name=\"{}\">\n", classname, name);
      out += fmt::format(
          "      <failure message=\"{}\" type=\"memory-budget\"/>\n",
          xml_escape(fmt::format("{}: {} is {}, limit {}", c.rule, c.bound, c.actual, c.limit)));
      out += "    </testcase>\n";
    }
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

std::string render_step_summary(const GateVerdict& verdict) {
  std::string heading =
      verdict.passed()
          ? fmt::format("### peakbench gate: passed ({} checks)\n\n", verdict.checks.size())
          : fmt::format("### peakbench gate: FAILED ({} of {} checks)\n\n", verdict.failures(),
                        verdict.checks.size());
  return heading + render_markdown(build_gate_table(verdict)) + "\n";
}

}  // namespace peakbench
