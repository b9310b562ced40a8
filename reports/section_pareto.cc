// Section 3: latency against the accuracy estimate for each search run (front highlighted, budget
// line, presets as labelled reference points); without a search, latency against MACs.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "reports/chart_frame.h"
#include "reports/colours.h"
#include "reports/html.h"
#include "reports/sections.h"

namespace hwnas::reports {
namespace {

std::string run_chart(const SearchRun& r, const RenderOptions& o, std::size_t* drawn) {
  std::vector<const SearchPoint*> pts;
  for (const SearchPoint& p : r.points)
    if (p.score && std::isfinite(*p.score) && std::isfinite(p.latency_ms) && p.latency_ms > 0) pts.push_back(&p);
  if (pts.empty()) return {};
  std::vector<bool> keep;
  for (const SearchPoint* p : pts) keep.push_back(p->front || p->measured || p->best);
  const auto shown = thin(pts.size(), o.max_points, keep);
  *drawn = shown.size();

  double x_lo = r.budget_ms, x_hi = r.budget_ms, y_lo = INFINITY, y_hi = -INFINITY;
  for (const SearchPoint* p : pts) {
    x_lo = std::min(x_lo, p->latency_ms);
    x_hi = std::max(x_hi, p->latency_ms);
    y_lo = std::min(y_lo, *p->score);
    y_hi = std::max(y_hi, *p->score);
  }
  for (const PresetPoint& p : r.presets)
    if (p.score) {
      x_lo = std::min(x_lo, p.latency_ms);
      x_hi = std::max(x_hi, p.latency_ms);
      y_lo = std::min(y_lo, *p.score);
      y_hi = std::max(y_hi, *p.score);
    }
  if (x_lo <= 0) x_lo = x_hi / 100;
  const bool x_log = x_hi / x_lo > 30;
  Frame f = make_frame(x_lo, x_hi, y_lo, y_hi, x_log, false, 760, 420);
  Svg svg(f.width, f.height, fmt::format("latency vs {} of search {}", r.objective, r.id));
  svg.axes(f.x, f.y, fmt::format("latency, ms ({}; measured or believed)", x_log ? "log" : "linear"), r.objective);
  const double bx = f.x.map(r.budget_ms);
  svg.line(bx, f.y.px_hi, bx, f.y.px_lo, "budget");
  svg.text(bx + 4, f.y.px_hi + 12, fmt::format("budget {}", fmt_ms(r.budget_ms)), "start", "small");

  std::vector<std::pair<double, double>> front;
  for (std::size_t i : shown) {
    const SearchPoint& p = *pts[i];
    const double x = f.x.map(p.latency_ms), y = f.y.map(*p.score);
    const std::string hover =
        fmt::format("{}{}: {} {} ({}), {} {}{}", p.hash, p.best ? " (best)" : "", fmt_ms(p.latency_ms),
                    p.measured ? "measured" : "believed", "evaluation " + std::to_string(p.index), r.objective,
                    fmt_sig(*p.score, 4), p.front ? ", on the front" : "");
    if (p.front) front.emplace_back(x, y);
    if (p.measured)
      svg.circle(x, y, p.front ? 4.5 : 3.2, p.front ? "#d55e00" : "#0072b2", hover, "dot");
    else
      svg.circle(x, y, p.front ? 3.5 : 2.2, p.front ? "#d55e00" : "#9ecae1", hover, p.front ? "hollow" : "");
    if (p.best) svg.circle(x, y, 8, "none", hover, "preset");
  }
  std::sort(front.begin(), front.end());
  // Over several devices the front is not a staircase in this projection: its points only.
  if (front.size() > 1 && r.targets.size() <= 1) svg.polyline(front, "#d55e00", "front");
  for (const PresetPoint& p : r.presets) {
    if (!p.score) continue;
    const double x = f.x.map(p.latency_ms), y = f.y.map(*p.score);
    svg.rect(x - 4, y - 4, 8, 8, "#ffffff",
             fmt::format("{}: {} measured, {} {}", p.name, fmt_ms(p.latency_ms), r.objective, fmt_sig(*p.score, 4)),
             "preset");
    svg.text(x + 7, y - 5, p.name, "start", "label");
  }
  svg.legend(f.left, 14,
             {{"measured", "#0072b2"},
              {"predicted (believed)", "#9ecae1"},
              {"front", "#d55e00"},
              {"preset (measured)", "#ffffff"}});
  return svg.str();
}

// No search: the selected archs of the most populated setting, latency vs MACs.
std::string macs_chart(const ReportData& d, const RenderOptions& o, std::string* caption) {
  std::map<std::size_t, std::size_t> per_setting;
  for (const ArchEntry& a : d.archs)
    for (const Latency& l : a.latencies) ++per_setting[l.setting];
  if (per_setting.empty()) return {};
  const std::size_t setting = std::max_element(per_setting.begin(), per_setting.end(), [](auto& a, auto& b) {
                                return a.second < b.second;
                              })->first;
  struct P {
    const ArchEntry* a;
    double ms;
  };
  std::vector<P> pts;
  for (const ArchEntry& a : d.archs)
    for (const Latency& l : a.latencies)
      if (l.setting == setting && a.macs > 0) pts.push_back({&a, l.median_ms});
  if (pts.empty()) return {};
  std::vector<bool> keep;
  for (const P& p : pts) keep.push_back(p.a->is_preset);
  const auto shown = thin(pts.size(), o.max_points, keep);
  double x_lo = INFINITY, x_hi = 0, y_lo = INFINITY, y_hi = 0;
  for (const P& p : pts) {
    x_lo = std::min(x_lo, p.ms);
    x_hi = std::max(x_hi, p.ms);
    y_lo = std::min(y_lo, static_cast<double>(p.a->macs) / 1e9);
    y_hi = std::max(y_hi, static_cast<double>(p.a->macs) / 1e9);
  }
  Frame f = make_frame(x_lo, x_hi, y_lo, y_hi, x_hi / x_lo > 30, false, 760, 400);
  Svg svg(f.width, f.height, "latency vs MACs");
  svg.axes(f.x, f.y, "measured latency, ms", "GMACs per image");
  for (std::size_t i : shown) {
    const P& p = pts[i];
    const double x = f.x.map(p.ms), y = f.y.map(static_cast<double>(p.a->macs) / 1e9);
    const std::string hover =
        fmt::format("{}: {}, {} MACs", arch_label(*p.a), fmt_ms(p.ms), fmt_count(static_cast<double>(p.a->macs)));
    if (p.a->is_preset) {
      svg.rect(x - 4, y - 4, 8, 8, "#ffffff", hover, "preset");
      svg.text(x + 7, y - 5, arch_label(*p.a), "start", "label");
    } else {
      svg.circle(x, y, 4, "#0072b2", hover, "dot");
    }
  }
  *caption = "No search run selected: measured latency against MACs in " + setting_label(d, setting) +
             "; presets are the labelled squares." +
             (shown.size() < pts.size() ? fmt::format(" {} of {} points drawn.", shown.size(), pts.size()) : "");
  return svg.str();
}

}  // namespace

std::optional<Section> pareto_section(const ReportData& d, const RenderOptions& o) {
  Section s{"pareto", "Pareto front", {}, {}};
  // Every candidate of every run, for the twins (the page draws them).
  Table cands("search_candidates", "", {"run", "index", "hash", "latency ms", "measured", "score", "front", "best"});
  for (const SearchRun& r : d.runs)
    for (const SearchPoint& p : r.points)
      cands.rows.push_back({Cell::str(r.id), Cell::num(static_cast<double>(p.index), std::to_string(p.index)),
                            Cell::str(p.hash), Cell::num(p.latency_ms, fmt_sig(p.latency_ms, 4)),
                            Cell::str(p.measured ? "measured" : "believed"),
                            p.score ? Cell::num(*p.score, fmt_sig(*p.score, 4)) : Cell::none(),
                            Cell::str(p.front ? "yes" : ""), Cell::str(p.best ? "yes" : "")});
  if (!cands.rows.empty()) s.tables.push_back(std::move(cands));
  for (const SearchRun& r : d.runs) {
    std::size_t drawn = 0;
    const std::string chart = run_chart(r, o, &drawn);
    if (chart.empty()) continue;
    std::size_t with_score = 0;
    for (const SearchPoint& p : r.points) with_score += p.score ? 1 : 0;
    s.html += fmt::format(
        "<figure>{}<figcaption>Search {} ({}, {} on {}): every candidate with a score; filled dots were measured on "
        "the "
        "device, light ones are believed (cost model × (1 + margin)). The front is over measured points within the "
        "budget when there are any. {}{}</figcaption></figure>\n",
        chart, escape(r.id), escape(r.strategy), escape(r.objective), escape(r.space),
        r.targets.size() > 1 ? escape(fmt::format("Latency on {} of the run's {} devices; the front is over all of "
                                                  "them (see Across devices). ",
                                                  r.targets[0].label(), r.targets.size()))
                             : "",
        drawn < with_score
            ? escape(fmt::format("{} of {} points drawn (thinned evenly; front, measured and best kept).", drawn,
                                 with_score))
            : "");
  }
  if (s.html.empty()) {
    std::string caption;
    const std::string chart = macs_chart(d, o, &caption);
    if (chart.empty()) return std::nullopt;
    s.html = fmt::format("<figure>{}<figcaption>{}</figcaption></figure>\n", chart, escape(caption));
  }
  return s;
}

}  // namespace hwnas::reports
