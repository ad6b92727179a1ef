#pragma once
// `peakbench report REPORT.json --out report.html`: one self-contained HTML page (inline CSS and
// SVG, no script, nothing fetched) with the peak table, each scenario's timeline (reports/svg.h),
// the failed runs and their reasons, the methods and the host. Text only; the CLI writes it.

#include <string>

#include "reports/report.h"

namespace peakbench {

std::string render_html_report(const Report& report);

}  // namespace peakbench
