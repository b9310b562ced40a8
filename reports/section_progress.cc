// Section 7: how the searches got there: best-so-far score and hypervolume of the believed front
// against distinct candidates evaluated, one line per run, runs of the same objective together.
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

using Getter = std::optional<double> (*)(const ProgressPoint&);

std::string chart(const std::vector<const SearchRun*>& runs, Getter get, const std::string& y_title,
                  const RenderOptions& o) {
  double x_hi = 1, y_lo = INFINITY, y_hi = -INFINITY;
  for (const SearchRun* r : runs)
    for (const ProgressPoint& p : r->progress)
      if (auto v = get(p)) {
        x_hi = std::max(x_hi, static_cast<double>(p.evaluations));
        y_lo = std::min(y_lo, *v);
        y_hi = std::max(y_hi, *v);
      }
  if (!(y_lo <= y_hi)) return {};
  Frame f = make_frame(0, x_hi, y_lo, y_hi, false, false, 520, 340);
  f.x.lo = 0;
  Svg svg(f.width, f.height, y_title + " against evaluations");
  svg.axes(f.x, f.y, "distinct candidates evaluated", y_title);
  std::vector<std::pair<std::string, std::string>> legend;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const SearchRun& r = *runs[i];
    std::vector<std::pair<double, double>> pts;
    const std::size_t stride = std::max<std::size_t>(1, r.progress.size() / std::max<std::size_t>(o.max_points, 1));
    for (std::size_t k = 0; k < r.progress.size(); ++k) {
      const ProgressPoint& p = r.progress[k];
      if (k % stride != 0 && k + 1 != r.progress.size()) continue;
      if (auto v = get(p)) pts.emplace_back(f.x.map(static_cast<double>(p.evaluations)), f.y.map(*v));
    }
    const std::string colour = series_colour(i);
    svg.polyline(pts, colour, "series");
    if (!pts.empty())
      svg.circle(pts.back().first, pts.back().second, 3, colour,
                 fmt::format("{} {} seed {}: {}", r.id, r.strategy, r.seed, fmt_sig(*get(r.progress.back()), 4)));
    legend.emplace_back(fmt::format("{} s{} ({})", r.strategy, r.seed, r.id.substr(0, 6)), colour);
  }
  svg.legend(f.left, 14, legend);
  return svg.str();
}

}  // namespace

std::optional<Section> progress_section(const ReportData& d, const RenderOptions& o) {
  std::map<std::string, std::vector<const SearchRun*>> by_question;
  for (const SearchRun& r : d.runs)
    if (!r.progress.empty())
      by_question[fmt::format("{} on {}, budget {}", r.objective, r.space, fmt_ms(r.budget_ms))].push_back(&r);
  if (by_question.empty()) return std::nullopt;
  Section s{"progress", "Search progress", {}, {}};
  Table t("search_progress", "", {"run", "strategy", "seed", "evaluations", "best score", "hypervolume"});
  for (const auto& [question, runs] : by_question) {
    const std::string best = chart(
        runs, [](const ProgressPoint& p) { return p.best_score; }, "best score within budget (believed)", o);
    const std::string hv = chart(
        runs, [](const ProgressPoint& p) { return std::optional<double>(p.hypervolume); }, "hypervolume", o);
    s.html += fmt::format("<h3>{}</h3>\n<div class=\"charts\"><figure>{}</figure><figure>{}</figure></div>\n",
                          escape(question), best, hv);
    for (const SearchRun* r : runs)
      for (const ProgressPoint& p : r->progress)
        t.rows.push_back({Cell::str(r->id), Cell::str(r->strategy),
                          Cell::num(static_cast<double>(r->seed), std::to_string(r->seed)),
                          Cell::num(static_cast<double>(p.evaluations), std::to_string(p.evaluations)),
                          p.best_score ? Cell::num(*p.best_score, fmt_sig(*p.best_score, 4)) : Cell::none(),
                          Cell::num(p.hypervolume, fmt_sig(p.hypervolume, 4))});
  }
  s.html +=
      "<p class=\"note\">Believed latency: measured where measured, else the cost model's prediction × (1 + margin); "
      "hypervolume against the run's reference (budget, reference score). The progress table is in the JSON/CSV "
      "twins.</p>\n";
  s.tables.push_back(std::move(t));
  return s;
}

}  // namespace hwnas::reports
