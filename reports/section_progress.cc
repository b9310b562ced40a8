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
  // One colour per strategy (the question is "which strategy"), one line per run.
  std::vector<std::string> strategies;
  for (const SearchRun* r : runs)
    if (std::find(strategies.begin(), strategies.end(), r->strategy) == strategies.end())
      strategies.push_back(r->strategy);
  std::vector<std::pair<std::string, std::string>> legend;
  for (std::size_t k = 0; k < strategies.size(); ++k) {
    const auto n =
        std::count_if(runs.begin(), runs.end(), [&](const SearchRun* r) { return r->strategy == strategies[k]; });
    legend.emplace_back(fmt::format("{} ({} run{})", strategies[k], n, n == 1 ? "" : "s"), series_colour(k));
  }
  Frame f = make_frame(0, x_hi, y_lo, y_hi, false, false, 480, 340);
  f.x.lo = 0;
  // Room above the plot for the legend.
  const double extra = Svg::kLegendRowPx * (Svg::legend_rows(f.left, f.width, legend) - 1);
  f.height += extra;
  f.y.px_lo += extra;
  f.y.px_hi += extra;
  Svg svg(f.width, f.height, y_title + " against evaluations");
  svg.axes(f.x, f.y, "distinct candidates evaluated", y_title);
  for (const SearchRun* run : runs) {
    const SearchRun& r = *run;
    std::vector<std::pair<double, double>> pts;
    const std::size_t stride = std::max<std::size_t>(1, r.progress.size() / std::max<std::size_t>(o.max_points, 1));
    for (std::size_t k = 0; k < r.progress.size(); ++k) {
      const ProgressPoint& p = r.progress[k];
      if (k % stride != 0 && k + 1 != r.progress.size()) continue;
      if (auto v = get(p)) pts.emplace_back(f.x.map(static_cast<double>(p.evaluations)), f.y.map(*v));
    }
    const auto k =
        static_cast<std::size_t>(std::find(strategies.begin(), strategies.end(), r.strategy) - strategies.begin());
    const std::string colour = series_colour(k);
    svg.polyline(pts, colour, "series");
    if (!pts.empty())
      svg.circle(pts.back().first, pts.back().second, 3, colour,
                 fmt::format("{} {} seed {}: {}", r.id, r.strategy, r.seed, fmt_sig(*get(r.progress.back()), 4)));
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
  Table summary(
      "strategy_summary", "Per strategy (final values of each run)",
      {"question", "strategy", "runs", "evaluations (mean)", "hypervolume mean", "hypervolume sd", "best score mean"});
  for (const auto& [question, runs] : by_question) {
    const std::string best_chart = chart(
        runs, [](const ProgressPoint& p) { return p.best_score; }, "best score within budget (believed)", o);
    const std::string hv_chart = chart(
        runs, [](const ProgressPoint& p) { return std::optional<double>(p.hypervolume); }, "hypervolume", o);
    s.html += fmt::format("<h3>{}</h3>\n<div class=\"charts\"><figure>{}</figure><figure>{}</figure></div>\n",
                          escape(question), best_chart, hv_chart);
    for (const SearchRun* r : runs)
      for (const ProgressPoint& p : r->progress)
        t.rows.push_back({Cell::str(r->id), Cell::str(r->strategy),
                          Cell::num(static_cast<double>(r->seed), std::to_string(r->seed)),
                          Cell::num(static_cast<double>(p.evaluations), std::to_string(p.evaluations)),
                          p.best_score ? Cell::num(*p.best_score, fmt_sig(*p.best_score, 4)) : Cell::none(),
                          Cell::num(p.hypervolume, fmt_sig(p.hypervolume, 4))});
    std::map<std::string, std::vector<const SearchRun*>> by_strategy;
    for (const SearchRun* r : runs) by_strategy[r->strategy].push_back(r);
    for (const auto& [strategy, group] : by_strategy) {
      double n = 0, evals = 0, hv = 0, hv2 = 0, best = 0, with_best = 0;
      for (const SearchRun* r : group) {
        const ProgressPoint& last = r->progress.back();
        n += 1;
        evals += static_cast<double>(last.evaluations);
        hv += last.hypervolume;
        hv2 += last.hypervolume * last.hypervolume;
        if (last.best_score) {
          best += *last.best_score;
          with_best += 1;
        }
      }
      const double mean = hv / n, sd = n > 1 ? std::sqrt(std::max(0.0, (hv2 - n * mean * mean) / (n - 1))) : 0;
      summary.rows.push_back(
          {Cell::str(question), Cell::str(strategy), Cell::num(n, fmt_int(static_cast<long long>(n))),
           Cell::num(evals / n, fmt_sig(evals / n)), Cell::num(mean, fmt_sig(mean, 4)), Cell::num(sd, fmt_sig(sd, 2)),
           with_best > 0 ? Cell::num(best / with_best, fmt_sig(best / with_best, 4)) : Cell::none()});
    }
  }
  s.html += table_block(summary, o);
  s.tables.push_back(std::move(summary));
  s.html +=
      "<p class=\"note\">Believed latency: measured where measured, else the cost model's prediction × (1 + margin); "
      "hypervolume against the run's reference (budget, reference score). The progress table is in the JSON/CSV "
      "twins.</p>\n";
  s.tables.push_back(std::move(t));
  return s;
}

}  // namespace hwnas::reports
