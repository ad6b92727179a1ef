#pragma once
// One table model for every output of `table`, `compare` and `gate` (STYLE: hyperfine's
// export/markup.rs): builders turn report data into rows of cells, renderers turn a Table into
// Markdown, CSV or JSON. Nothing here measures; renderers never look at reports.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "reports/report.h"

namespace peakbench {

/// A cell as people read it (`text`, e.g. "1,583,820") and as programs read it (`raw`, e.g.
/// "1583820"; CSV and JSON use it). `numeric` makes JSON write `raw` as a number.
struct Cell {
  std::string text;
  std::string raw;
  bool numeric = false;

  static Cell of_text(std::string text);
  static Cell of_number(std::string text, std::string raw);
};

enum class Align { left, right };

struct Column {
  std::string title;
  Align align = Align::left;
};

struct Table {
  std::vector<Column> columns;
  std::vector<std::vector<Cell>> rows;  ///< each as long as `columns`
  std::vector<std::string> notes;       ///< lines shown under the table (Markdown, JSON; not CSV)
};

enum class TableFormat { markdown, csv, json };

/// "md" | "markdown" | "csv" | "json".
Result<TableFormat> parse_table_format(std::string_view name);

/// A GitHub-flavoured Markdown table, padded so that it also reads as plain text, then the notes.
std::string render_markdown(const Table& table);
/// RFC 4180 CSV of the raw cells (quoted where needed), header first, CRLF-free ("\n" lines).
std::string render_csv(const Table& table);
/// {"columns": [...], "rows": [{column: raw}], "notes": [...]}, pretty-printed.
std::string render_json(const Table& table);
std::string render(const Table& table, TableFormat format);

// Number spellings shared by the builders.
/// 1583820 -> "1,583,820"; negative values keep their sign.
std::string with_thousands(std::int64_t value);
/// Bytes as KiB rounded to the nearest, the unit of /usr/bin/time's %M: "1,583,820".
std::string format_kb(std::uint64_t bytes);
/// Bytes as MiB with one decimal: "1,546.7".
std::string format_mib(std::uint64_t bytes);
/// A multiple of the body size with one decimal: "3.0 B".
std::string format_multiple(double multiple);

/// The PR #11143 table of one report: a row per subject and body size, for each phase present
/// (cold, warm, then others) peak RSS in KB, MiB and multiples of the body size, and a notes
/// column flagging failed runs and warm runs that downloaded (the client did not use its cache).
Table build_report_table(const Report& report);

}  // namespace peakbench
