#include "reports/table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "base/size.h"
#include "reports/fit.h"

namespace peakbench {
namespace {

// Display width: code points, not bytes ("×" is two bytes and one column).
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string pad(std::string_view text, std::size_t width, Align align) {
  const std::size_t w = display_width(text);
  const std::string fill(width > w ? width - w : 0, ' ');
  return align == Align::right ? fill + std::string(text) : std::string(text) + fill;
}

std::string escape_markdown(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\n") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  return out + "\"";
}

// Phases in the order a reader expects them: cold, warm, revalidate, then any other as seen.
std::vector<std::string> ordered_phases(const std::vector<ScenarioSummary>& summaries) {
  static const std::vector<std::string> kKnown{"cold", "warm", "revalidate"};
  std::vector<std::string> phases;
  for (const std::string& known : kKnown) {
    if (std::any_of(summaries.begin(), summaries.end(),
                    [&](const ScenarioSummary& s) { return s.key.phase == known; })) {
      phases.push_back(known);
    }
  }
  for (const ScenarioSummary& s : summaries) {
    if (std::find(phases.begin(), phases.end(), s.key.phase) == phases.end()) {
      phases.push_back(s.key.phase);
    }
  }
  return phases;
}

// One line saying what was measured where: label, commit, host and allocator.
std::string describe_run(const ReportMeta& meta) {
  std::vector<std::string> parts;
  if (!meta.label.empty() || !meta.git_commit.empty()) {
    parts.push_back(describe_source(meta));
  }
  if (!meta.host.cpu_model.empty()) {
    parts.push_back(fmt::format("{}, {} cores", meta.host.cpu_model, meta.host.cores));
  }
  if (!meta.host.kernel.empty()) {
    parts.push_back(meta.host.kernel);
  }
  if (!meta.allocator.empty()) {
    parts.push_back("allocator " + meta.allocator);
  }
  if (!meta.merged_shards.empty()) {
    parts.push_back(fmt::format("{} shards merged", meta.merged_shards.size()));
  }
  std::string line;
  for (const std::string& part : parts) {
    line += (line.empty() ? "" : "; ") + part;
  }
  return line.empty() ? "Report: (no meta)." : "Report: " + line + ".";
}

}  // namespace

Cell Cell::of_text(std::string text) {
  Cell cell;
  cell.raw = text;
  cell.text = std::move(text);
  return cell;
}

Cell Cell::of_number(std::string text, std::string raw) {
  return Cell{std::move(text), std::move(raw), true};
}

Result<TableFormat> parse_table_format(std::string_view name) {
  if (name == "md" || name == "markdown") {
    return TableFormat::markdown;
  }
  if (name == "csv") {
    return TableFormat::csv;
  }
  if (name == "json") {
    return TableFormat::json;
  }
  return Status::Error(fmt::format("unknown format '{}' (expected md, csv or json)", name));
}

std::string render_markdown(const Table& table) {
  std::vector<std::size_t> widths;
  for (const Column& column : table.columns) {
    widths.push_back(std::max<std::size_t>(3, display_width(escape_markdown(column.title))));
  }
  for (const auto& row : table.rows) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], display_width(escape_markdown(row[c].text)));
    }
  }
  std::string out = "|";
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    out += " " + pad(escape_markdown(table.columns[c].title), widths[c], table.columns[c].align) +
           " |";
  }
  out += "\n|";
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    const std::string dashes(widths[c] - 1, '-');
    out += table.columns[c].align == Align::right ? " " + dashes + ": |" : " :" + dashes + " |";
  }
  out += "\n";
  for (const auto& row : table.rows) {
    out += "|";
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      const std::string text = c < row.size() ? escape_markdown(row[c].text) : "";
      out += " " + pad(text, widths[c], table.columns[c].align) + " |";
    }
    out += "\n";
  }
  if (!table.notes.empty()) {
    out += "\n";
    for (const std::string& note : table.notes) {
      out += note + "\n";
    }
  }
  return out;
}

std::string render_csv(const Table& table) {
  std::string out;
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    out += (c ? "," : "") + csv_field(table.columns[c].title);
  }
  out += "\n";
  for (const auto& row : table.rows) {
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      out += (c ? "," : "") + (c < row.size() ? csv_field(row[c].raw) : std::string());
    }
    out += "\n";
  }
  return out;
}

std::string render_json(const Table& table) {
  nlohmann::ordered_json columns = nlohmann::ordered_json::array();
  for (const Column& column : table.columns) {
    columns.push_back(column.title);
  }
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& row : table.rows) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (std::size_t c = 0; c < table.columns.size() && c < row.size(); ++c) {
      const Cell& cell = row[c];
      if (cell.numeric && !cell.raw.empty()) {
        // Our own spelling of a number, so it parses; a failure would be a builder bug.
        object[table.columns[c].title] = nlohmann::ordered_json::parse(cell.raw, nullptr, false);
      } else if (cell.raw.empty()) {
        object[table.columns[c].title] = nullptr;
      } else {
        object[table.columns[c].title] = cell.raw;
      }
    }
    rows.push_back(std::move(object));
  }
  const nlohmann::ordered_json doc{
      {"columns", std::move(columns)}, {"rows", std::move(rows)}, {"notes", table.notes}};
  return doc.dump(2) + "\n";
}

std::string render(const Table& table, TableFormat format) {
  switch (format) {
    case TableFormat::markdown:
      return render_markdown(table);
    case TableFormat::csv:
      return render_csv(table);
    case TableFormat::json:
      return render_json(table);
  }
  return render_markdown(table);
}

std::string with_thousands(std::int64_t value) {
  const bool negative = value < 0;
  // Through unsigned so that the most negative value has a magnitude too.
  std::uint64_t magnitude =
      negative ? ~static_cast<std::uint64_t>(value) + 1 : static_cast<std::uint64_t>(value);
  std::string digits = std::to_string(magnitude);
  std::string out;
  const std::size_t first = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  out += digits.substr(0, first);
  for (std::size_t i = first; i < digits.size(); i += 3) {
    out += "," + digits.substr(i, 3);
  }
  return negative ? "-" + out : out;
}

std::string format_kb(std::uint64_t bytes) {
  return with_thousands(static_cast<std::int64_t>((bytes + 512) / 1024));
}

std::string format_mib(std::uint64_t bytes) {
  const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  const auto tenths = static_cast<std::int64_t>(std::llround(mib * 10));
  return fmt::format("{}.{}", with_thousands(tenths / 10), tenths % 10);
}

std::string format_multiple(double multiple) { return fmt::format("{:.1f} B", multiple); }

/// What an interpreter and its libraries map of files without any body: pip 24.2 on a warm cache
/// holds 29-34 MiB of RssFile at every body size. Below this a mapped body cannot be told from
/// them by one run.
constexpr std::uint64_t kLibraryFileBytes = 40 * kMiB;

using SplitPart = std::optional<Figure> RunRecord::*;

/// Whether the `part` (sampled file-backed or shmem) of the runs of `key` holds the body. Where
/// the report has two or more sizes of the same subject and phase, by the slope of a fit of the
/// part over them: at least half a byte per body byte. With one size, by one run's growth above
/// its first sample: more than half the body and more than kLibraryFileBytes, so that a 16 MiB
/// body beside an interpreter's 30 MiB of libraries is not called body-sized.
static bool part_holds_body(const Report& report, const ScenarioKey& key, SplitPart part) {
  std::vector<PeakPoint> points;
  std::uint64_t growth_bytes = 0;
  for (const RunRecord& run : report.runs) {
    if (!run.ok || run.subject != key.subject || run.phase != key.phase || !(run.*part)) continue;
    const std::uint64_t bytes = (run.*part)->bytes;
    points.push_back({run.body_bytes, bytes});
    if (run.body_bytes == key.body_bytes && !run.timeline.empty()) {
      const TimelinePoint& first = run.timeline.front();
      const std::uint64_t start =
          part == &RunRecord::sampled_peak_shmem ? first.shmem_bytes : first.file_bytes;
      growth_bytes = std::max(growth_bytes, bytes > start ? bytes - start : 0);
    }
  }
  if (std::optional<PeakFit> fit = fit_peak_vs_body(points)) return fit->per_body_byte >= 0.5;
  return growth_bytes > key.body_bytes / 2 && growth_bytes > kLibraryFileBytes;
}

/// What the runs of `key` say that a reader of the table needs beside the figure: a cache that
/// refused the body ("not cached: WHY", from the run notes), and where the body-sized part of
/// the peak sat when it was a mapping (part_holds_body of the sampled RssShmem or RssFile).
static std::vector<std::string> field_notes(const Report& report, const ScenarioKey& key) {
  std::vector<std::string> out;
  const auto add = [&](std::string note) {
    if (std::find(out.begin(), out.end(), note) == out.end()) out.push_back(std::move(note));
  };
  for (const RunRecord& run : report.runs) {
    if (run.subject != key.subject || run.phase != key.phase || run.body_bytes != key.body_bytes) {
      continue;
    }
    for (const std::string& note : run.notes) {
      if (note.starts_with("not cached: ")) add(note);
    }
    // A tree of concurrent copies sums their shared libraries' pages: not a body's mapping.
    const bool concurrent = std::any_of(run.notes.begin(), run.notes.end(), [](const auto& n) {
      return n.find("copies at once") != std::string::npos;
    });
    if (!run.ok) continue;
    if (!report.meta.packages.empty()) {
      // A dependency tree: what the run asked of the index (the requests per phase).
      auto ok_requests = [&](const char* kind) {
        std::uint64_t n = 0;
        if (auto it = run.requests.find(kind); it != run.requests.end()) {
          for (const auto& [status, count] : it->second) n += status / 100 == 2 ? count : 0;
        }
        return n;
      };
      add(fmt::format("{}/{} wheels, {} metadata, {} pages", ok_requests("wheel"),
                      report.meta.packages.size(), ok_requests("metadata"), ok_requests("page")));
    }
    if (concurrent) continue;
    if (part_holds_body(report, key, &RunRecord::sampled_peak_shmem)) {
      add("body-sized peak in shmem");
    } else if (part_holds_body(report, key, &RunRecord::sampled_peak_file)) {
      add("body-sized peak file-backed");
    }
  }
  return out;
}

Table build_report_table(const Report& report) {
  const std::vector<ScenarioSummary> summaries = report.summarize();
  const std::vector<BodyMultiple> multiples = multiples_of_body(summaries);
  const std::vector<std::string> phases = ordered_phases(summaries);

  // Rows: subjects in first-seen order, each with its sizes ascending.
  std::vector<std::string> subjects;
  std::map<std::string, std::vector<std::uint64_t>> sizes;
  for (const ScenarioSummary& s : summaries) {
    if (std::find(subjects.begin(), subjects.end(), s.key.subject) == subjects.end()) {
      subjects.push_back(s.key.subject);
    }
    auto& list = sizes[s.key.subject];
    if (std::find(list.begin(), list.end(), s.key.body_bytes) == list.end()) {
      list.push_back(s.key.body_bytes);
    }
  }

  Table table;
  table.columns.push_back({"subject", Align::left});
  table.columns.push_back({"body", Align::right});
  for (const std::string& phase : phases) {
    table.columns.push_back({phase + " KB", Align::right});
    table.columns.push_back({phase + " MiB", Align::right});
    table.columns.push_back({phase + " ×B", Align::right});
  }
  table.columns.push_back({"notes", Align::left});

  bool any_downloaded = false;
  bool any_upper_bound = false;
  bool any_excluded = false;
  // Each run's notes, numbered, listed under the table; the row names the numbers.
  std::vector<std::string> run_notes;
  for (const std::string& subject : subjects) {
    auto& list = sizes[subject];
    std::sort(list.begin(), list.end());
    for (std::uint64_t body : list) {
      std::vector<Cell> row;
      row.push_back(Cell::of_text(subject));
      row.push_back(Cell::of_number(format_size(body), std::to_string(body)));
      std::vector<std::string> notes;
      for (const std::string& phase : phases) {
        const ScenarioKey key{subject, phase, body};
        const auto it = std::find_if(summaries.begin(), summaries.end(),
                                     [&](const ScenarioSummary& s) { return s.key == key; });
        if (it == summaries.end()) {
          for (int i = 0; i < 3; ++i) {
            row.push_back(Cell::of_text(""));
          }
          continue;
        }
        const ScenarioSummary& s = *it;
        const BodyMultiple multiple = multiples[static_cast<std::size_t>(it - summaries.begin())];
        // Only a shown multiple needs the note; a scenario whose runs all failed shows none.
        any_upper_bound = any_upper_bound || (!multiple.from_base && s.succeeded());
        if (!s.succeeded()) {
          row.push_back(Cell::of_text("failed"));
          row.push_back(Cell::of_text(""));
          row.push_back(Cell::of_text(""));
        } else {
          const std::uint64_t peak = s.median_peak_rss_bytes;
          row.push_back(Cell::of_number(format_kb(peak), std::to_string((peak + 512) / 1024)));
          row.push_back(Cell::of_number(
              format_mib(peak), fmt::format("{:.1f}", static_cast<double>(peak) / 1048576.0)));
          row.push_back(
              Cell::of_number((multiple.from_base ? "" : "≤ ") + format_multiple(multiple.value),
                              fmt::format("{:.2f}", multiple.value)));
        }
        if (s.failed > 0) {
          notes.push_back(fmt::format("{}: {} of {} runs failed", phase, s.failed, s.runs));
        }
        if (s.excluded > 0) {
          notes.push_back(fmt::format("{}: {} of {} runs not by {}, left out", phase, s.excluded,
                                      s.runs, to_string(s.peak_rss_method)));
          any_excluded = true;
        }
        if (s.warm_downloaded) {
          notes.push_back(fmt::format("{}: downloaded the wheel (cache not used)", phase));
          any_downloaded = true;
        }
        for (std::string& note : field_notes(report, key)) {
          notes.push_back(fmt::format("{}: {}", phase, note));
        }
        std::string marks;
        for (const RunRecord& run : report.runs) {
          if (ScenarioKey{run.subject, run.phase, run.body_bytes} != key) {
            continue;
          }
          for (const std::string& note : run.notes) {
            run_notes.push_back(fmt::format("[{}] {} #{}: {}", run_notes.size() + 1,
                                            key.to_string(), run.repetition + 1, note));
            marks += fmt::format("{}[{}]", marks.empty() ? "" : " ", run_notes.size());
          }
        }
        if (!marks.empty()) {
          notes.push_back(fmt::format("{}: run notes {}", phase, marks));
        }
      }
      std::string joined;
      for (const std::string& note : notes) {
        joined += (joined.empty() ? "" : "; ") + note;
      }
      row.push_back(Cell::of_text(joined));
      table.rows.push_back(std::move(row));
    }
  }

  table.notes.push_back(describe_run(report.meta));
  table.notes.push_back(
      "Peak RSS: median over the successful runs, one method per scenario: a built-in subject's "
      "own VmHWM maximum across its per-phase resets (self), any other client's largest process "
      "of its tree (taskstats, or wait4's kernel-hwm without it). KB = 1024 bytes, as "
      "/usr/bin/time "
      "reports. ×B = (peak - base) / body size, base = the subject's RSS at its start, or for "
      "other clients the intercept of a fit over the body sizes.");
  if (any_upper_bound) {
    table.notes.push_back(
        "≤: no base known (one body size, no start RSS), so peak / body size, an upper bound.");
  }
  if (any_downloaded) {
    table.notes.push_back(
        "A warm run that downloaded measured a cold path: its client did not use its cache.");
  }
  if (any_excluded) {
    table.notes.push_back(
        "Left out: a successful run whose peak was taken by another method than its scenario's "
        "median (a built-in subject that published no report of its own), never mixed in.");
  }
  for (const std::string& note : report.meta.notes) {
    table.notes.push_back("Report note: " + note);
  }
  table.notes.insert(table.notes.end(), run_notes.begin(), run_notes.end());
  return table;
}

}  // namespace peakbench
