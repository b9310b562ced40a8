// Section 8: the same architectures on several devices: latency on each, rank on each, and the
// rank changes that make a device-specific search worth it; and the searches made for several
// devices at once: their front over every device's latency.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "reports/chart_frame.h"
#include "reports/colours.h"
#include "reports/html.h"
#include "reports/sections.h"
#include "reports/svg.h"

namespace hwnas::reports {
namespace {

// Latency on the first two devices of a search over several, every candidate drawn (thinned), the
// front over all devices highlighted, the budgets as lines.
std::string two_device_chart(const SearchRun& r, const RenderOptions& o) {
  std::vector<const SearchPoint*> pts;
  for (const SearchPoint& p : r.points)
    if (!p.more_ms.empty() && p.latency_ms > 0 && p.more_ms[0] > 0 && std::isfinite(p.latency_ms) &&
        std::isfinite(p.more_ms[0]))
      pts.push_back(&p);
  if (pts.empty()) return {};
  std::vector<bool> keep;
  for (const SearchPoint* p : pts) keep.push_back(p->front || p->measured || p->best);
  const auto shown = thin(pts.size(), o.max_points, keep);
  const SearchRun::Target &a = r.targets[0], &b = r.targets[1];
  double x_lo = a.budget_ms, x_hi = a.budget_ms, y_lo = b.budget_ms, y_hi = b.budget_ms;
  for (const SearchPoint* p : pts) {
    x_lo = std::min(x_lo, p->latency_ms);
    x_hi = std::max(x_hi, p->latency_ms);
    y_lo = std::min(y_lo, p->more_ms[0]);
    y_hi = std::max(y_hi, p->more_ms[0]);
  }
  Frame f = make_frame(x_lo, x_hi, y_lo, y_hi, x_hi / x_lo > 30, y_hi / y_lo > 30, 760, 420);
  Svg svg(f.width, f.height, fmt::format("latency on {} vs {} of search {}", a.label(), b.label(), r.id));
  svg.axes(f.x, f.y, fmt::format("latency on {}, ms", a.label()), fmt::format("latency on {}, ms", b.label()));
  const double bx = f.x.map(a.budget_ms), by = f.y.map(b.budget_ms);
  svg.line(bx, f.y.px_hi, bx, f.y.px_lo, "budget");
  svg.line(f.x.px_lo, by, f.x.px_hi, by, "budget");
  svg.text(bx + 4, f.y.px_hi + 12, fmt::format("budget {}", fmt_ms(a.budget_ms)), "start", "small");
  svg.text(f.x.px_hi - 4, by - 4, fmt::format("budget {}", fmt_ms(b.budget_ms)), "end", "small");
  for (std::size_t i : shown) {
    const SearchPoint& p = *pts[i];
    const double x = f.x.map(p.latency_ms), y = f.y.map(p.more_ms[0]);
    const std::string hover =
        fmt::format("{}{}: {} on {}, {} on {} ({}), {} {}{}", p.hash, p.best ? " (best)" : "", fmt_ms(p.latency_ms),
                    a.label(), fmt_ms(p.more_ms[0]), b.label(), p.measured ? "measured" : "believed", r.objective,
                    p.score ? fmt_sig(*p.score, 4) : "-", p.front ? ", on the front" : "");
    if (p.measured)
      svg.circle(x, y, p.front ? 4.5 : 3.2, p.front ? "#d55e00" : "#0072b2", hover, "dot");
    else
      svg.circle(x, y, p.front ? 3.5 : 2.2, p.front ? "#d55e00" : "#9ecae1", hover, p.front ? "hollow" : "");
    if (p.best) svg.circle(x, y, 8, "none", hover, "preset");
  }
  svg.legend(f.left, 14, {{"measured on every device", "#0072b2"}, {"believed", "#9ecae1"}, {"front", "#d55e00"}});
  return svg.str();
}

// One search over several devices: its front (every device's latency against the score) as a table
// and the first two devices against each other.
void several_devices_block(const SearchRun& r, const RenderOptions& o, Section& sec) {
  std::vector<std::string> columns = {"architecture", r.objective};
  for (const SearchRun::Target& t : r.targets)
    columns.push_back(fmt::format("{} ms (budget {})", t.label(), fmt_ms(t.budget_ms)));
  columns.push_back("");
  Table t("search_devices_" + r.id, fmt::format("Search {}: the front over {} devices", r.id, r.targets.size()),
          columns);
  std::vector<const SearchPoint*> front;
  for (const SearchPoint& p : r.points)
    if (p.front && p.more_ms.size() + 1 == r.targets.size()) front.push_back(&p);
  std::sort(front.begin(), front.end(), [](const SearchPoint* a, const SearchPoint* b) {
    return a->score.value_or(-INFINITY) > b->score.value_or(-INFINITY);
  });
  for (const SearchPoint* p : front) {
    std::vector<Cell> row = {Cell::str(p->hash), p->score ? Cell::num(*p->score, fmt_sig(*p->score, 4)) : Cell::none()};
    row.push_back(Cell::num(p->latency_ms, fmt_ms(p->latency_ms)));
    for (std::size_t d = 0; d < p->more_ms.size(); ++d) {
      Cell c = Cell::num(p->more_ms[d], fmt_ms(p->more_ms[d]));
      if (!p->more_measured[d]) c.hover = "believed (not measured)";
      row.push_back(std::move(c));
    }
    row.push_back(Cell::str(std::string(p->best ? "best" : "") + (p->measured ? "" : " believed")));
    t.rows.push_back(std::move(row));
  }
  if (t.rows.empty()) return;
  std::string devices;
  for (const SearchRun::Target& x : r.targets)
    devices += fmt::format("{}{} ({})", devices.empty() ? "" : ", ", x.label(), x.device.substr(0, 8));
  sec.html += fmt::format("<h3>{}</h3>\n<p>{}</p>\n", escape(t.title),
                          escape(fmt::format("Search {} ({}, {} on {}) targets {} at once: a candidate counts when it "
                                             "fits every budget, and the front is over every device's latency and "
                                             "the accuracy estimate ({}). A search for one device at a time cannot "
                                             "find this front.",
                                             r.id, r.strategy, r.objective, r.space, devices, r.objective)));
  if (const std::string chart = two_device_chart(r, o); !chart.empty())
    sec.html += fmt::format(
        "<figure>{}<figcaption>{}</figcaption></figure>\n", chart,
        escape(fmt::format("Every candidate's latency on {} against {} (measured, or believed: cost model × (1 + "
                           "margin)); the front is over {} devices and the accuracy estimate ({}).",
                           r.targets[0].label(), r.targets[1].label(), r.targets.size(), r.objective)));
  sec.html += table_block(t, o);
  sec.tables.push_back(std::move(t));
}

}  // namespace

std::optional<Section> cross_device_section(const ReportData& d, const RenderOptions& o) {
  // Columns: settings that share batch and dtype with another setting on another device.
  std::map<std::pair<std::int64_t, std::string>, std::set<std::size_t>> devices_of;
  for (const Setting& s : d.settings) devices_of[{s.batch, s.dtype}].insert(s.device);
  Section sec{"cross-device", "Across devices", {}, {}};
  for (const auto& [bd, devices] : devices_of) {
    if (devices.size() < 2) continue;
    std::vector<std::size_t> cols;
    for (std::size_t i = 0; i < d.settings.size(); ++i)
      if (d.settings[i].batch == bd.first && d.settings[i].dtype == bd.second) cols.push_back(i);
    // Archs measured in at least two of the columns, on different devices.
    struct Row {
      const ArchEntry* arch;
      std::vector<std::optional<double>> ms;
    };
    std::vector<Row> rows;
    for (const ArchEntry& a : d.archs) {
      Row r{&a, std::vector<std::optional<double>>(cols.size())};
      std::set<std::size_t> on;
      for (const Latency& l : a.latencies)
        for (std::size_t c = 0; c < cols.size(); ++c)
          if (l.setting == cols[c]) {
            r.ms[c] = l.median_ms;
            on.insert(d.settings[cols[c]].device);
          }
      if (on.size() >= 2) rows.push_back(std::move(r));
    }
    if (rows.size() < 2) continue;
    // Rank per column among the rows measured there (1 = fastest).
    std::vector<std::vector<int>> rank(rows.size(), std::vector<int>(cols.size(), 0));
    for (std::size_t c = 0; c < cols.size(); ++c) {
      std::vector<std::size_t> idx;
      for (std::size_t r = 0; r < rows.size(); ++r)
        if (rows[r].ms[c]) idx.push_back(r);
      std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return *rows[a].ms[c] < *rows[b].ms[c]; });
      for (std::size_t k = 0; k < idx.size(); ++k) rank[idx[k]][c] = static_cast<int>(k) + 1;
    }
    std::vector<std::string> columns = {"architecture"};
    for (std::size_t c : cols) columns.push_back(setting_label(d, c) + " ms");
    for (std::size_t c : cols) columns.push_back("rank on " + setting_label(d, c));
    Table t("cross_device_b" + std::to_string(bd.first) + "_" + bd.second,
            fmt::format("Batch {}, {}", bd.first, bd.second), columns);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      std::vector<Cell> row = {Cell::str(arch_label(*rows[r].arch))};
      for (std::size_t c = 0; c < cols.size(); ++c)
        row.push_back(rows[r].ms[c] ? Cell::num(*rows[r].ms[c], fmt_ms(*rows[r].ms[c])) : Cell::none());
      const int first = rank[r][0];
      for (std::size_t c = 0; c < cols.size(); ++c) {
        if (rank[r][c] == 0) {
          row.push_back(Cell::none());
          continue;
        }
        Cell cell =
            Cell::num(rank[r][c], std::to_string(rank[r][c]), c > 0 && first > 0 && rank[r][c] != first ? "warn" : "");
        if (!cell.css.empty()) cell.hover = fmt::format("rank {} on the first device", first);
        row.push_back(std::move(cell));
      }
      t.rows.push_back(std::move(row));
    }
    // Slope chart: one line per arch from rank on one column to the next.
    const double col_w = 220, top = 30, row_h = 22;
    const double height = top + row_h * static_cast<double>(rows.size()) + 30;
    Svg svg(120 + col_w * static_cast<double>(cols.size() - 1) + 160, height, "rank changes across devices");
    for (std::size_t c = 0; c < cols.size(); ++c) {
      const double x = 120 + col_w * static_cast<double>(c);
      svg.text(x, 16, device_label(d, d.settings[cols[c]].device), "middle", "axis-title");
      svg.line(x, top - 6, x, height - 24, "grid");
    }
    for (std::size_t r = 0; r < rows.size(); ++r) {
      std::vector<std::pair<double, double>> pts;
      bool moved = false;
      for (std::size_t c = 0; c < cols.size(); ++c) {
        if (rank[r][c] == 0) continue;
        pts.emplace_back(120 + col_w * static_cast<double>(c), top + row_h * (rank[r][c] - 1));
        moved = moved || (rank[r][0] != 0 && rank[r][c] != rank[r][0]);
      }
      const std::string colour = moved ? series_colour(r) : "#bbbbbb";
      svg.polyline(pts, colour, moved ? "slope moved" : "slope");
      for (const auto& [x, y] : pts) svg.circle(x, y, 3.5, colour, arch_label(*rows[r].arch));
      if (!pts.empty()) {
        svg.text(pts.front().first - 8, pts.front().second + 4, arch_label(*rows[r].arch), "end", "label");
        svg.text(pts.back().first + 8, pts.back().second + 4, arch_label(*rows[r].arch), "start", "label");
      }
    }
    sec.html += fmt::format(
        "<h3>{}</h3>\n<figure>{}<figcaption>Rank by measured latency on each device (1 = fastest); coloured lines "
        "change rank.</figcaption></figure>\n",
        escape(t.title), svg.str());
    sec.html += table_block(t, o);
    sec.tables.push_back(std::move(t));
  }
  for (const SearchRun& r : d.runs)
    if (r.targets.size() > 1) several_devices_block(r, o, sec);
  if (sec.tables.empty()) return std::nullopt;
  return sec;
}

}  // namespace hwnas::reports
