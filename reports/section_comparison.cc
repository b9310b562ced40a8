// Section 2: every selected architecture in every setting it was measured in, side by side.
#include <cmath>

#include <fmt/format.h>

#include "reports/html.h"
#include "reports/sections.h"

namespace hwnas::reports {
namespace {

double peak_of(const ReportData& d, const Setting& s) {
  if (s.device >= d.devices.size()) return 0;
  const Device& dev = d.devices[s.device];
  return s.dtype == "f32" ? dev.peak_f32_gflops : dev.peak_bf16_gflops;  // f16 runs at the bf16 rate
}

}  // namespace

std::optional<Section> comparison_section(const ReportData& d, const RenderOptions& o) {
  if (d.archs.empty()) return std::nullopt;
  Section s{"comparison", "Architectures compared", {}, {}};
  Table t("comparison", "",
          {"architecture", "hash", "origin", "params", "MACs", "setting", "median", "p90", "predicted", "pred. error",
           "throughput img/s", "GFLOP/s", "% of peak", "accuracy est."});
  for (const ArchEntry& a : d.archs) {
    std::vector<Cell> base = {Cell::str(arch_label(a)), Cell::str(a.hash), Cell::str(a.origin),
                              Cell::num(static_cast<double>(a.params), fmt_count(static_cast<double>(a.params))),
                              Cell::num(static_cast<double>(a.macs), fmt_count(static_cast<double>(a.macs)))};
    base[3].hover = fmt_int(a.params) + " parameters";
    base[4].hover = fmt_int(a.macs) + " multiply-accumulates per image";
    const Cell score =
        a.score ? Cell::num(*a.score, fmt_sig(*a.score, 4) + (a.score_name.empty() ? "" : " " + a.score_name))
                : Cell::none();
    if (a.latencies.empty()) {
      auto row = base;
      row.push_back(Cell::str("not measured", "muted"));
      for (int i = 0; i < 7; ++i) row.push_back(Cell::none());
      row.push_back(score);
      t.rows.push_back(std::move(row));
      continue;
    }
    for (const Latency& l : a.latencies) {
      auto row = base;
      const Setting& st = d.settings.at(l.setting);
      Cell median = Cell::num(l.median_ms, fmt_ms(l.median_ms), l.noisy ? "warn" : "");
      if (l.noisy) median.hover = "flagged noisy by the noise gate or the time cap";
      row.push_back(Cell::str(setting_label(d, l.setting)));
      row.push_back(std::move(median));
      row.push_back(l.p90_ms > 0 ? Cell::num(l.p90_ms, fmt_ms(l.p90_ms)) : Cell::none());
      if (l.predicted_ms) {
        const double err = *l.predicted_ms / l.median_ms - 1;
        row.push_back(Cell::num(*l.predicted_ms, fmt_ms(*l.predicted_ms)));
        row.push_back(Cell::num(err, fmt::format("{:+.1f}%", 100 * err), std::abs(err) > 0.1 ? "bad" : "good"));
      } else {
        row.push_back(Cell::none());
        row.push_back(Cell::none());
      }
      const double img_s = static_cast<double>(st.batch) * 1000 / l.median_ms;
      const double gflops = 2.0 * static_cast<double>(a.macs) * static_cast<double>(st.batch) / (l.median_ms * 1e6);
      const double peak = peak_of(d, st);
      row.push_back(Cell::num(img_s, fmt_sig(img_s)));
      row.push_back(Cell::num(gflops, fmt_sig(gflops)));
      row.push_back(peak > 0 ? Cell::num(gflops / peak, fmt_pct(gflops / peak)) : Cell::none());
      row.push_back(score);
      t.rows.push_back(std::move(row));
    }
  }
  t.note =
      "median: the protocol's figure per call (highlighted when flagged noisy); predicted: the stored cost model of "
      "the "
      "same setting; GFLOP/s = 2·MACs·batch / median; % of peak against the device's measured GEMM peak for the dtype. "
      "Click a column to sort.";
  s.html += table_block(t, o);
  s.tables.push_back(std::move(t));
  return s;
}

}  // namespace hwnas::reports
