#pragma once
// The gate's verdict as GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY (the CLI appends it).

#include <string>

#include "reports/gate.h"

namespace peakbench {

/// A heading with the outcome, the checks as a table, then the notes as a list. Every cell and note
/// is escaped (markup::markdown_escape; `|` by the table), so names with `*`, `_`, backticks or
/// HTML show as typed.
std::string render_step_summary(const GateVerdict& verdict);

}  // namespace peakbench
