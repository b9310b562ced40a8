// Section 4: where the time goes, unit by unit (each unit timed alone on its real input), as
// stacked bars on one scale, with the end-to-end time marked and the gap to the sum stated.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "reports/colours.h"
#include "reports/html.h"
#include "reports/sections.h"
#include "reports/svg.h"

namespace hwnas::reports {

std::optional<Section> breakdown_section(const ReportData& d, const RenderOptions& o) {
  struct Bar {
    const ArchEntry* arch;
    const Breakdown* b;
    double sum_ms;
  };
  std::vector<Bar> bars;
  for (const ArchEntry& a : d.archs)
    for (const Breakdown& b : a.breakdowns) {
      if (b.units.empty()) continue;
      double sum = 0;
      for (const UnitTime& u : b.units) sum += u.ms;
      bars.push_back({&a, &b, sum});
    }
  if (bars.empty()) return std::nullopt;
  Section s{"breakdown", "Per-block latency", {}, {}};
  const bool capped = bars.size() > o.max_bars;
  if (capped) bars.resize(o.max_bars);

  // Bars of one setting share a scale; settings are drawn apart (a GPU bar next to a CPU bar says nothing).
  std::map<std::size_t, std::vector<Bar>> by_setting;
  for (const Bar& b : bars) by_setting[b.b->setting].push_back(b);
  Table t("breakdown", "Units and their share",
          {"architecture", "setting", "unit", "kind", "what", "ms", "share of sum"});
  Table gaps("breakdown_gap", "End to end vs sum of units",
             {"architecture", "setting", "end to end", "sum of units", "gap", "units"});
  for (const auto& [setting, group] : by_setting) {
    double scale_ms = 0;
    for (const Bar& b : group) scale_ms = std::max({scale_ms, b.sum_ms, b.b->end_to_end_ms});
    const double label_w = 150, plot_w = 600, row_h = 26, top = 34;
    Svg svg(label_w + plot_w + 110, top + row_h * static_cast<double>(group.size()) + 40,
            "per-unit latency, " + setting_label(d, setting));
    const Axis x{0, scale_ms * 1.02, label_w, label_w + plot_w, false};
    for (double tick : x.ticks(6)) {
      svg.line(x.map(tick), top - 4, x.map(tick), top + row_h * static_cast<double>(group.size()), "grid");
      svg.text(x.map(tick), top + row_h * static_cast<double>(group.size()) + 14, fmt_sig(tick), "middle", "tick");
    }
    svg.text(label_w + plot_w / 2, top + row_h * static_cast<double>(group.size()) + 32,
             "ms (units timed alone, stacked)", "middle", "axis-title");
    std::map<std::string, std::string> legend;
    for (std::size_t i = 0; i < group.size(); ++i) {
      const Bar& b = group[i];
      const double y = top + row_h * static_cast<double>(i);
      svg.text(label_w - 8, y + 15, arch_label(*b.arch), "end", "label");
      double acc = 0;
      for (const UnitTime& u : b.b->units) {
        const std::string colour = unit_colour(u.kind, u.mixer);
        legend.emplace(u.kind == "block" ? u.mixer : u.kind, colour);
        svg.rect(x.map(acc), y + 3, x.map(acc + u.ms) - x.map(acc), row_h - 8, colour,
                 fmt::format("{} {}: {} ({} of the sum){}", arch_label(*b.arch), u.label, fmt_ms(u.ms),
                             fmt_pct(u.ms / b.sum_ms), u.detail.empty() ? "" : " — " + u.detail));
        acc += u.ms;
        t.rows.push_back({Cell::str(arch_label(*b.arch)), Cell::str(setting_label(d, setting)), Cell::str(u.label),
                          Cell::str(u.kind), Cell::str(u.detail), Cell::num(u.ms, fmt_sig(u.ms, 4)),
                          Cell::num(u.ms / b.sum_ms, fmt_pct(u.ms / b.sum_ms))});
      }
      if (b.b->end_to_end_ms > 0) {
        const double ex = x.map(b.b->end_to_end_ms);
        svg.line(ex, y, ex, y + row_h - 2, "e2e");
        const double gap = b.sum_ms / b.b->end_to_end_ms - 1;
        svg.text(label_w + plot_w + 8, y + 15, fmt::format("{:+.1f}%", 100 * gap), "start", "small");
        gaps.rows.push_back({Cell::str(arch_label(*b.arch)), Cell::str(setting_label(d, setting)),
                             Cell::num(b.b->end_to_end_ms, fmt_ms(b.b->end_to_end_ms)),
                             Cell::num(b.sum_ms, fmt_ms(b.sum_ms)),
                             Cell::num(gap, fmt::format("{:+.1f}%", 100 * gap), std::abs(gap) > 0.15 ? "warn" : ""),
                             Cell::num(static_cast<double>(b.b->units.size()), std::to_string(b.b->units.size()))});
      }
    }
    std::vector<std::pair<std::string, std::string>> items(legend.begin(), legend.end());
    svg.legend(label_w, 16, items);
    s.html += fmt::format(
        "<figure>{}<figcaption>{}: each bar is the sum of the units measured alone, coloured by unit (blocks by their "
        "mixer); the black tick is the network measured end to end, and the figure at the right the gap "
        "(sum / end-to-end − 1).</figcaption></figure>\n",
        svg.str(), escape(setting_label(d, setting)));
  }
  if (capped) s.html += fmt::format("<p class=\"note\">First {} bars shown.</p>\n", o.max_bars);
  s.html += table_block(gaps, o);
  s.tables.push_back(std::move(gaps));
  s.html += table_block(t, o);
  s.tables.push_back(std::move(t));
  return s;
}

}  // namespace hwnas::reports
