#include "reports/html.h"

#include <fmt/format.h>

#include "base/size.h"
#include "reports/markup.h"
#include "reports/svg.h"
#include "reports/table.h"

namespace peakbench {
namespace {

using markup::xml_escape;

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;
 color:#222;background:#f6f7f9;line-height:1.4}
header{background:#24292f;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#c9d1d9;font-size:14px}
main{padding:8px 32px 32px;max-width:1100px}
section{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:12px 18px;margin:16px 0}
h2{font-size:17px;margin:4px 0 10px}
table{border-collapse:collapse;font-size:13px}
th,td{padding:4px 10px;border-bottom:1px solid #e5e7eb;text-align:left;white-space:nowrap}
th{background:#f0f3f6;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.failed,li.failed,.failed{color:#b42318;font-weight:600}
.notes{font-size:13px;color:#444;margin:8px 0 0;padding-left:18px}
.scenarios{display:grid;grid-template-columns:repeat(auto-fill,minmax(500px,1fr));gap:12px}
figure{margin:0;border:1px solid #e5e7eb;border-radius:4px;padding:6px}
figcaption{font-size:12px;color:#555;padding:2px 6px}
.key span{display:inline-block;width:12px;height:12px;vertical-align:middle;margin:0 4px 0 12px;
 border:1px solid #999}
)";

std::string table_html(const Table& table, const char* id) {
  std::string out = fmt::format("<table id=\"{}\">\n<thead><tr>", id);
  for (const Column& c : table.columns) {
    out += fmt::format("<th{}>{}</th>", c.align == Align::right ? " class=\"num\"" : "",
                       xml_escape(c.title));
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr class=\"row\">";
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      const std::string text = i < row.size() ? row[i].text : "";
      std::string cls = table.columns[i].align == Align::right ? "num" : "";
      if (text == "failed" || text.find("failed") != std::string::npos) cls += " failed";
      out += fmt::format("<td{}>{}</td>", cls.empty() ? "" : " class=\"" + cls + "\"",
                         xml_escape(text));
    }
    out += "</tr>\n";
  }
  out += "</tbody></table>\n";
  if (!table.notes.empty()) {
    out += "<ul class=\"notes\">\n";
    for (const std::string& note : table.notes) out += "<li>" + xml_escape(note) + "</li>\n";
    out += "</ul>\n";
  }
  return out;
}

}  // namespace

std::string render_html_report(const Report& report) {
  const ReportMeta& meta = report.meta;
  const std::string title =
      "peakbench report" + (meta.label.empty() ? std::string() : " — " + meta.label);
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out +=
      "<title>" + xml_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  std::string where = meta.git_commit.empty()
                          ? "no commit recorded"
                          : "commit " + meta.git_commit.substr(0, 12) +
                                (meta.git_dirty ? "+dirty" : "") +
                                (meta.git_branch.empty() ? "" : " on " + meta.git_branch);
  out += fmt::format("<header><h1>{}</h1><p>{}; started {}; peakbench {}</p></header>\n<main>\n",
                     xml_escape(title), xml_escape(where), xml_escape(meta.started_at),
                     xml_escape(meta.peakbench_version));

  const std::vector<svg::Series> series = svg::scenario_series(report);
  std::vector<std::string> failures;
  for (const svg::Series& s : series) {
    for (const std::string& f : s.failures) failures.push_back(s.name + ", " + f);
  }
  if (!failures.empty()) {
    out +=
        fmt::format("<section id=\"failures\"><h2 class=\"failed\">Failed runs ({})</h2>\n<ul>\n",
                    failures.size());
    for (const std::string& f : failures) {
      out += "<li class=\"failed\">" + xml_escape(f) + "</li>\n";
    }
    out += "</ul></section>\n";
  }

  out += "<section><h2>Peak RSS</h2>\n" + table_html(build_report_table(report), "peaks") +
         "</section>\n";

  out +=
      "<section><h2>Timelines</h2>\n<p class=\"key\">The median run of each scenario:"
      "<span style=\"background:#9ecae1\"></span>anon<span style=\"background:#fdd0a2\">"
      "</span>file<span style=\"background:#c7e9c0\"></span>shmem (sampled, stacked); the "
      "dotted line is the kernel's peak, the dot the highest sample; bands are the subject's "
      "phases; a failed run is red and dashed.</p>\n<div class=\"scenarios\">\n";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const svg::Series& s = series[i];
    out += fmt::format("<figure class=\"scenario\" id=\"scenario-{}\">\n", i);
    if (s.run != nullptr && !s.run->timeline.empty()) {
      out += svg::document(500, 260, svg::panel({s}, {0, 0, 500, 260}, s.name, i), s.name);
    } else {
      out += svg::document(500, 60,
                           fmt::format("<text x=\"12\" y=\"34\" fill=\"#b42318\">{}: no timeline"
                                       "</text>\n",
                                       xml_escape(s.name)),
                           s.name);
    }
    std::string caption = fmt::format("{} run{}", s.runs, s.runs == 1 ? "" : "s");
    if (!s.failures.empty()) {
      caption += fmt::format(", {} failed: {}", s.failures.size(), s.failures.front());
    }
    if (s.run != nullptr && !s.run->notes.empty()) caption += "; " + s.run->notes.front();
    out += "<figcaption>" + xml_escape(caption) + "</figcaption>\n</figure>\n";
  }
  out += "</div></section>\n";

  Table methods;
  methods.columns = {{"method", Align::left}, {"available", Align::left}, {"detail", Align::left}};
  for (const auto& [name, m] : meta.methods) {
    methods.rows.push_back(
        {Cell::of_text(name), Cell::of_text(m.available ? "yes" : "no"), Cell::of_text(m.detail)});
  }
  out += "<section><h2>Methods</h2>\n" + table_html(methods, "methods") + "</section>\n";

  Table host;
  host.columns = {{"", Align::left}, {"", Align::left}};
  auto add = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) host.rows.push_back({Cell::of_text(k), Cell::of_text(v)});
  };
  add("host name", meta.host.hostname);
  add("CPU",
      fmt::format(
          "{}, {} cores{}", meta.host.cpu_model, meta.host.cores,
          meta.host.mhz_per_cpu > 0 ? fmt::format(", {:.0f} MHz", meta.host.mhz_per_cpu) : ""));
  add("memory", meta.host.memory_bytes ? format_size(meta.host.memory_bytes) : "");
  add("kernel", meta.host.kernel);
  add("allocator", meta.allocator);
  add("build", meta.build_type);
  add("suite", meta.suite);
  add("sample interval", fmt::format("{} ms", meta.sample_interval_ms));
  for (const std::string& note : meta.notes) add("note", note);
  out += "<section><h2>Host</h2>\n" + table_html(host, "host") + "</section>\n";
  out += "</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace peakbench
