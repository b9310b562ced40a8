// Section 6: how far the cost model can be trusted: predicted vs measured on the held-out archs
// (log-log, ±10% band), the error histogram, and the metrics next to the baselines.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "reports/chart_frame.h"
#include "reports/html.h"
#include "reports/sections.h"

namespace hwnas::reports {
namespace {

std::string scatter(const ModelAccuracy& m, const RenderOptions& o) {
  double lo = INFINITY, hi = 0;
  for (const auto& r : m.rows) {
    lo = std::min({lo, r.measured_ms, r.predicted_ms});
    hi = std::max({hi, r.measured_ms, r.predicted_ms});
  }
  Frame f = make_frame(lo, hi, lo, hi, true, true, 460, 420);
  // Same range on both axes: the diagonal is y = x.
  f.y.lo = f.x.lo;
  f.y.hi = f.x.hi;
  Svg svg(f.width, f.height, "predicted vs measured: " + m.title);
  svg.axes(f.x, f.y, "measured latency, ms (log)", "predicted, ms (log)");
  svg.line(f.x.map(f.x.lo), f.y.map(f.x.lo), f.x.map(f.x.hi), f.y.map(f.x.hi), "ideal");
  for (const double band : {1.1, 1 / 1.1}) {
    // y = band·x, clipped to the plot.
    const double x0 = std::max(f.x.lo, f.y.lo / band), x1 = std::min(f.x.hi, f.y.hi / band);
    svg.line(f.x.map(x0), f.y.map(x0 * band), f.x.map(x1), f.y.map(x1 * band), "band");
  }
  std::vector<bool> keep;
  for (const auto& r : m.rows) keep.push_back(!r.name.empty());
  for (std::size_t i : thin(m.rows.size(), o.max_points, keep)) {
    const auto& r = m.rows[i];
    const double err = r.predicted_ms / r.measured_ms - 1;
    const bool in = std::abs(err) <= 0.1;
    svg.circle(f.x.map(r.measured_ms), f.y.map(r.predicted_ms), r.name.empty() ? 3 : 4.5, in ? "#0072b2" : "#d55e00",
               fmt::format("{}: measured {}, predicted {} ({:+.1f}%)", r.name.empty() ? r.hash : r.name,
                           fmt_ms(r.measured_ms), fmt_ms(r.predicted_ms), 100 * err),
               "dot");
    if (!in)
      svg.text(f.x.map(r.measured_ms) + 6, f.y.map(r.predicted_ms) + 4, r.name.empty() ? r.hash.substr(0, 8) : r.name,
               "start", "small");
  }
  svg.legend(f.left, 14, {{"within ±10%", "#0072b2"}, {"outside", "#d55e00"}});
  return svg.str();
}

std::string histogram(const ModelAccuracy& m) {
  constexpr double kBin = 0.025;  // 2.5% wide bins, errors clipped to ±30%
  constexpr int kBins = 24;
  std::vector<int> count(kBins, 0);
  for (const auto& r : m.rows) {
    const double err = std::clamp(r.predicted_ms / r.measured_ms - 1, -0.3, 0.2999);
    ++count[static_cast<std::size_t>(std::floor((err + 0.3) / kBin))];
  }
  const int top = *std::max_element(count.begin(), count.end());
  Frame f = make_frame(-30, 30, 0, top, false, false, 460, 420);
  f.x.lo = -30;
  f.x.hi = 30;
  f.y.lo = 0;
  Svg svg(f.width, f.height, "prediction error histogram: " + m.title);
  svg.axes(f.x, f.y, "prediction error, % (clipped to ±30)", "held-out archs");
  for (int b = 0; b < kBins; ++b) {
    const double x0 = -30 + 100 * kBin * b, x1 = x0 + 100 * kBin;
    const double within = std::max(std::abs(x0), std::abs(x1)) <= 10 + 1e-9;
    svg.rect(f.x.map(x0) + 0.5, f.y.map(count[static_cast<std::size_t>(b)]), f.x.map(x1) - f.x.map(x0) - 1,
             f.y.map(0) - f.y.map(count[static_cast<std::size_t>(b)]), within ? "#0072b2" : "#d55e00",
             fmt::format("{:+.1f}% to {:+.1f}%: {}", x0, x1, count[static_cast<std::size_t>(b)]));
  }
  for (const double v : {-10.0, 10.0}) svg.line(f.x.map(v), f.y.px_hi, f.x.map(v), f.y.px_lo, "band");
  return svg.str();
}

}  // namespace

std::optional<Section> accuracy_section(const ReportData& d, const RenderOptions& o) {
  Section s{"accuracy", "Cost-model accuracy", {}, {}};
  Table metrics("cost_model_metrics", "Held-out metrics",
                {"model", "predictor", "n", "MAPE", "RMSPE", "within ±5%", "within ±10%", "Kendall τ", "Spearman ρ"});
  Table rows("cost_model_rows", "", {"model", "architecture", "measured ms", "predicted ms", "error"});
  for (const ModelAccuracy& m : d.models) {
    for (const Metrics& x : m.metrics) {
      if (x.n == 0) continue;
      metrics.rows.push_back(
          {Cell::str(m.title), Cell::str(x.name), Cell::num(static_cast<double>(x.n), std::to_string(x.n)),
           Cell::num(x.mape, fmt_pct(x.mape)), Cell::num(x.rmspe, fmt_pct(x.rmspe)),
           Cell::num(x.within5, fmt_pct(x.within5)),
           Cell::num(x.within10, fmt_pct(x.within10),
                     x.name == "cost model" ? (x.within10 >= 0.9 ? "good" : "bad") : ""),
           Cell::num(x.kendall_tau, fmt_sig(x.kendall_tau)), Cell::num(x.spearman_rho, fmt_sig(x.spearman_rho))});
    }
    for (const auto& r : m.rows)
      rows.rows.push_back({Cell::str(m.title), Cell::str(r.name.empty() ? r.hash : r.name),
                           Cell::num(r.measured_ms, fmt_sig(r.measured_ms, 4)),
                           Cell::num(r.predicted_ms, fmt_sig(r.predicted_ms, 4)),
                           Cell::num(r.predicted_ms / r.measured_ms - 1,
                                     fmt::format("{:+.1f}%", 100 * (r.predicted_ms / r.measured_ms - 1)))});
    if (m.rows.empty()) continue;
    s.html += fmt::format(
        "<h3>{}</h3>\n<div class=\"charts\"><figure>{}</figure><figure>{}</figure></div>\n<p class=\"note\">{} "
        "held-out "
        "architectures (never used for fitting); fitted {} from {} measurements{}. Dashed: ±10%.</p>\n",
        escape(m.title), scatter(m, o), histogram(m), m.rows.size(), escape(m.created_at), fmt_int(m.measurements),
        m.calibration_min > 0 ? fmt::format(" ({:.1f} min of calibration)", m.calibration_min) : "");
  }
  if (metrics.rows.empty() && rows.rows.empty()) return std::nullopt;
  s.html += table_block(metrics, o);
  s.tables.push_back(std::move(metrics));
  rows.title = "Held-out predictions";
  s.html += table_block(rows, o);
  s.tables.push_back(std::move(rows));
  return s;
}

}  // namespace hwnas::reports
