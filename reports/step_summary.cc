#include "reports/step_summary.h"

#include <fmt/format.h>

#include "reports/markup.h"
#include "reports/table.h"

namespace peakbench {

std::string render_step_summary(const GateVerdict& verdict) {
  std::string out =
      verdict.passed()
          ? fmt::format("### peakbench gate: passed ({} checks)\n\n", verdict.checks.size())
          : fmt::format("### peakbench gate: FAILED ({} of {} checks)\n\n", verdict.failures(),
                        verdict.checks.size());
  Table table = build_gate_table(verdict);
  for (auto& row : table.rows) {
    for (Cell& cell : row) {
      cell.text = markup::markdown_escape(cell.text);
    }
  }
  std::vector<std::string> notes = std::move(table.notes);
  table.notes.clear();
  out += render_markdown(table);
  if (!notes.empty()) {
    out += "\n";
    for (const std::string& note : notes) {
      out += "- " + markup::markdown_escape(note) + "\n";
    }
  }
  return out + "\n";
}

}  // namespace peakbench
