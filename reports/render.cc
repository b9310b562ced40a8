#include "reports/render.h"

#include <fmt/format.h>

#include "reports/html.h"

namespace hwnas::reports {
namespace {

constexpr const char* kStyle = R"CSS(
:root { --fg:#1d1d1f; --muted:#6e6e73; --line:#d2d2d7; --bg:#ffffff; --panel:#f5f5f7; --good:#1b7837; --bad:#b2182b; --warn:#a6611a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { padding: 18px 28px 10px; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: var(--muted); }
nav { padding: 8px 28px; border-bottom: 1px solid var(--line); background: var(--panel); position: sticky; top: 0; z-index: 1; }
nav a { margin-right: 16px; color: #0b57d0; text-decoration: none; }
section { padding: 6px 28px 18px; border-bottom: 1px solid var(--line); }
h2 { font-size: 18px; margin: 16px 0 8px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
p.note, .muted { color: var(--muted); }
p.note { font-size: 12.5px; margin: 4px 0 10px; }
table.data { border-collapse: collapse; margin: 6px 0; font-size: 12.5px; font-variant-numeric: tabular-nums; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 3px 8px; text-align: left; white-space: nowrap; }
table.data th { background: var(--panel); cursor: pointer; user-select: none; position: relative; }
table.data th.sorted-asc::after { content: " \25B2"; font-size: 9px; }
table.data th.sorted-desc::after { content: " \25BC"; font-size: 9px; }
table.data td[data-v] { text-align: right; }
td.good { color: var(--good); font-weight: 600; }
td.bad { color: var(--bad); font-weight: 600; }
td.warn { background: #fdf0d5; }
td.muted { color: var(--muted); }
dl.kv { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; margin: 6px 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
figure { margin: 6px 0; }
figcaption { font-size: 12.5px; color: var(--muted); max-width: 760px; }
svg.chart { background: #fff; font-size: 11px; overflow: visible; }
svg.chart .grid { stroke: #ececec; stroke-width: 1; }
svg.chart .frame { stroke: #9a9a9a; fill: none; }
svg.chart .tick { fill: #555; font-size: 10.5px; }
svg.chart .axis-title { fill: #333; font-size: 12px; }
svg.chart .legend { fill: #333; font-size: 11px; }
svg.chart .label { fill: #222; font-size: 10.5px; }
svg.chart .small { fill: #555; font-size: 9.5px; }
svg.chart .budget { stroke: #b2182b; stroke-width: 1.5; stroke-dasharray: 5 4; }
svg.chart .ideal { stroke: #444; stroke-width: 1; }
svg.chart .band { stroke: #999; stroke-width: 1; stroke-dasharray: 4 3; }
svg.chart .e2e { stroke: #000; stroke-width: 2; }
svg.chart .front { stroke-width: 1.8; }
svg.chart .series { stroke-width: 1.6; }
svg.chart .slope { stroke-width: 1.4; opacity: .8; }
svg.chart .moved { stroke-width: 2.6; }
svg.chart .hollow { fill-opacity: 0; stroke-width: 1.2; }
svg.chart .dot { stroke: #fff; stroke-width: .5; }
svg.chart .preset { stroke: #000; stroke-width: 1; }
svg.chart .swatch { stroke: #888; stroke-width: .5; }
svg.chart rect:hover, svg.chart circle:hover { opacity: .75; }
)CSS";

// Sorting by a column (numbers by data-v, text otherwise); errors are recorded on <body> for tests.
constexpr const char* kScript = R"JS(
(function () {
  'use strict';
  window.addEventListener('error', function (e) { document.body.setAttribute('data-js-error', String(e.message)); });
  function key(td, num) { if (!td) return num ? -Infinity : ''; return num ? parseFloat(td.getAttribute('data-v') || '-Infinity') : td.textContent; }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener('click', function () {
        var num = th.getAttribute('data-type') === 'num';
        var asc = !th.classList.contains('sorted-asc');
        Array.prototype.forEach.call(heads, function (h) { h.classList.remove('sorted-asc', 'sorted-desc'); });
        th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col], num), y = key(b.cells[col], num);
          var c = num ? (x - y) : String(x).localeCompare(String(y));
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  document.body.setAttribute('data-ready', String(document.querySelectorAll('table.sortable').length));
})();
)JS";

}  // namespace

std::string table_block(Table& t, const RenderOptions& o) {
  if (t.shown == 0 && t.rows.size() > o.max_rows) t.shown = o.max_rows;
  std::string out;
  if (!t.title.empty()) out += "<h3>" + escape(t.title) + "</h3>\n";
  return out + to_html(t);
}

Rendered render(const ReportData& d, const RenderOptions& o) {
  using Builder = std::optional<Section> (*)(const ReportData&, const RenderOptions&);
  constexpr Builder kSections[] = {summary_section,   comparison_section,   pareto_section,
                                   breakdown_section, diagram_section,      accuracy_section,
                                   progress_section,  cross_device_section, compress_section};
  std::vector<Section> shown;
  for (Builder b : kSections)
    if (auto s = b(d, o)) shown.push_back(std::move(*s));

  Rendered r;
  std::string nav, body;
  for (Section& s : shown) {
    r.sections.push_back(s.id);
    nav += fmt::format("<a href=\"#{}\">{}</a>", escape(s.id), escape(s.title));
    body += fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n{}</section>\n", escape(s.id), escape(s.title), s.html);
    for (Table& t : s.tables) r.tables.push_back(std::move(t));
  }
  const std::string subtitle = fmt::format("generated {} by hwnas {} from {}", d.generated_at, d.tool_version,
                                           d.source.empty() ? "-" : d.source);
  r.html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{}</style>\n"
      "</head>\n<body>\n<header><h1>{}</h1><p>{}</p></header>\n<nav>{}</nav>\n<main>\n{}</main>\n<script>{}</script>\n"
      "</body>\n</html>\n",
      escape(d.title), kStyle, escape(d.title), escape(subtitle), nav,
      shown.empty() ? "<section><p>The store holds nothing to report for this selection.</p></section>\n" : body,
      kScript);
  return r;
}

}  // namespace hwnas::reports
