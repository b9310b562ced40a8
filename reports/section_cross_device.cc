// Section 8: the same architectures on several devices: latency on each, rank on each, and the
// rank changes that make a device-specific search worth it.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "reports/colours.h"
#include "reports/html.h"
#include "reports/sections.h"
#include "reports/svg.h"

namespace hwnas::reports {

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
  if (sec.tables.empty()) return std::nullopt;
  return sec;
}

}  // namespace hwnas::reports
