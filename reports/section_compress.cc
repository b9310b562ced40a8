// Section 9: compression runs (hwnas compress). Per run: the blocks before and after as two rows of
// cells (top: the token mixer, bottom: the FFN, its height the share of width kept; FinerCut's
// removal step written in each removed sublayer), the distance of the outputs against latency
// (FinerCut: the removal order, predicted; SPViT: the predicted front and the finalists run for
// real), and the original and the result measured.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "reports/chart_frame.h"
#include "reports/colours.h"
#include "reports/html.h"
#include "reports/sections.h"

namespace hwnas::reports {
namespace {

std::string mixer_of(const std::string& choice) {
  return choice.substr(0, choice.find('/'));
}

// Two rows (before, after) of one cell per block.
std::string blocks_diagram(const CompressRun& r) {
  const double label_w = 70, cell = std::clamp(720.0 / std::max(1.0, static_cast<double>(r.blocks.size())), 12.0, 48.0),
               h_mixer = 26, h_ffn = 18, row_gap = 14;
  const double width = label_w + cell * static_cast<double>(r.blocks.size()) + 20;
  const std::vector<std::pair<std::string, std::string>> legend = {
      {"msa", mixer_colour("msa")},   {"bconv (carved conv)", mixer_colour("bconv")},
      {"skip", mixer_colour("skip")}, {"other mixer", mixer_colour("hilo")},
      {"mlp", ffn_colour("mlp")},     {"FFN removed", ffn_colour("none")}};
  const double top = 22 + Svg::kLegendRowPx * Svg::legend_rows(label_w, width, legend);
  const double row_h = h_mixer + h_ffn + row_gap;
  Svg svg(width, top + 2 * row_h + 14, "blocks before and after compression");
  svg.legend(label_w, 14, legend);
  for (int row = 0; row < 2; ++row) {
    const double y = top + row_h * static_cast<double>(row);
    svg.text(label_w - 6, y + (h_mixer + h_ffn) / 2 + 4, row == 0 ? "before" : "after", "end", "label");
    for (std::size_t i = 0; i < r.blocks.size(); ++i) {
      const CompressBlock& b = r.blocks[i];
      const double x = label_w + cell * static_cast<double>(i);
      const std::string mixer = row == 0 ? mixer_of(b.before) : b.mixer_after;
      const std::string before_ffn = b.before.substr(b.before.find('/') + 1);
      const std::string ffn = row == 0 ? before_ffn.substr(0, before_ffn.find('(')) : b.ffn_after;
      const std::string hover =
          fmt::format("{}: {} → {}{}{}", b.label, b.before, b.after,
                      b.mixer_step > 0 ? fmt::format("; mixer removed at step {}", b.mixer_step) : "",
                      b.ffn_step > 0 ? fmt::format("; FFN removed at step {}", b.ffn_step) : "");
      const std::string mc = mixer == "msa" || mixer == "bconv" || mixer == "skip" || mixer == "normskip"
                                 ? mixer_colour(mixer)
                                 : mixer_colour("hilo");
      svg.rect(x + 1, y, cell - 2, h_mixer, mc, hover);
      const double kept = row == 0 ? 1.0 : b.ffn_kept;
      svg.rect(x + 1, y + h_mixer + 2, cell - 2, h_ffn, ffn_colour("none"), hover);
      if (ffn != "none" && kept > 0)
        svg.rect(x + 1, y + h_mixer + 2 + h_ffn * (1 - kept), cell - 2, h_ffn * kept, ffn_colour(ffn), hover);
      if (row == 1) {
        if (b.mixer_step > 0)
          svg.text(x + cell / 2, y + h_mixer / 2 + 4, std::to_string(b.mixer_step), "middle", "label");
        if (b.mixer_after == "bconv")
          svg.text(x + cell / 2, y + h_mixer / 2 + 4, b.after.find("1x1") != std::string::npos ? "1" : "3", "middle",
                   "label");
        if (b.ffn_step > 0)
          svg.text(x + cell / 2, y + h_mixer + h_ffn - 2, std::to_string(b.ffn_step), "middle", "label");
      }
    }
  }
  for (std::size_t i = 0; i < r.blocks.size(); i += std::max<std::size_t>(1, r.blocks.size() / 12))
    svg.text(label_w + cell * (static_cast<double>(i) + 0.5), top + 2 * row_h + 8, std::to_string(i), "middle",
             "label");
  return svg.str();
}

// Distance against latency.
std::string curve(const CompressRun& r, const RenderOptions& o) {
  if (r.points.empty()) return {};
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = 0, y_hi = -INFINITY;
  for (const CompressPoint& p : r.points) {
    x_lo = std::min(x_lo, p.latency_ms);
    x_hi = std::max(x_hi, p.latency_ms);
    y_hi = std::max(y_hi, p.distance);
  }
  if (r.budget_ms > 0) {
    x_lo = std::min(x_lo, r.budget_ms);
    x_hi = std::max(x_hi, r.budget_ms);
  }
  if (!(x_lo <= x_hi) || !(y_hi >= 0)) return {};
  const std::vector<std::pair<std::string, std::string>> legend = {
      {r.method.starts_with("finercut") ? "removal order (predicted)" : "predicted front (sum of single changes)",
       series_colour(0)},
      {"run for real (predicted latency)", series_colour(2)},
      {"measured", series_colour(1)}};
  Frame f = make_frame(x_lo, x_hi, y_lo, std::max(y_hi, 1e-12), false, false, 560, 360);
  const double extra = Svg::kLegendRowPx * (Svg::legend_rows(f.left, f.width, legend) - 1);
  f.height += extra;
  f.y.px_lo += extra;
  f.y.px_hi += extra;
  Svg svg(f.width, f.height, "distance against latency");
  svg.axes(f.x, f.y, fmt::format("latency (ms, batch {}, {} threads)", r.batch, r.threads),
           "distance of the outputs (" + r.metric + ")");
  std::vector<std::pair<double, double>> line;
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < r.points.size(); ++i)
    if (r.points[i].role == "step" || r.points[i].role == "front" ||
        (r.points[i].role == "original" && !r.points[i].measured))
      order.push_back(i);
  if (!r.method.starts_with("finercut"))
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return r.points[a].latency_ms < r.points[b].latency_ms; });
  const std::size_t stride = std::max<std::size_t>(1, order.size() / std::max<std::size_t>(1, o.max_points));
  for (std::size_t k = 0; k < order.size(); k += stride) {
    const CompressPoint& p = r.points[order[k]];
    line.emplace_back(f.x.map(p.latency_ms), f.y.map(p.distance));
    svg.circle(line.back().first, line.back().second, 2.5, series_colour(0), p.hover);
  }
  svg.polyline(line, series_colour(0), "series");
  if (r.budget_ms > 0) {
    const double bx = f.x.map(r.budget_ms);
    svg.line(bx, f.y.map(y_lo), bx, f.y.map(f.y.hi), "budget");
    svg.text(bx + 4, f.y.map(f.y.hi) + 12, "budget " + fmt_ms(r.budget_ms), "start", "label");
  }
  for (const CompressPoint& p : r.points) {
    if (p.role != "finalist" && p.role != "chosen" && !p.measured) continue;
    svg.circle(f.x.map(p.latency_ms), f.y.map(p.distance), p.role == "chosen" ? 6 : 4,
               p.measured ? series_colour(1) : series_colour(2), p.hover);
  }
  svg.legend(f.left, 14, legend);
  return svg.str();
}

}  // namespace

std::optional<Section> compress_section(const ReportData& d, const RenderOptions& o) {
  if (d.compress_runs.empty()) return std::nullopt;
  Section s{"compression", "Compression runs", {}, {}};
  Table runs(
      "compress_runs", "Compression runs: the original and the result, measured",
      {"run", "method", "original", "result", "device", "budget", "original ms", "result ms", "saved", "distance"});
  Table blocks("compress_blocks", "",
               {"run", "block", "before", "after", "mixer removed at step", "FFN removed at step", "FFN width kept"});
  for (const CompressRun& r : d.compress_runs) {
    const double saved = r.original_ms > 0 ? 1 - r.result_ms / r.original_ms : 0;
    runs.rows.push_back({Cell::str(r.id), Cell::str(r.method), Cell::str(r.original), Cell::str(r.result),
                         Cell::str(r.device),
                         r.budget_ms > 0 ? Cell::num(r.budget_ms, fmt_ms(r.budget_ms)) : Cell::none(),
                         Cell::num(r.original_ms, fmt_ms(r.original_ms)), Cell::num(r.result_ms, fmt_ms(r.result_ms)),
                         Cell::num(saved, fmt::format("{:.1f}%", 100 * saved), saved > 0 ? "good" : ""),
                         Cell::num(r.distance, fmt_sig(r.distance, 3))});
    for (const CompressBlock& b : r.blocks)
      blocks.rows.push_back({Cell::str(r.id), Cell::str(b.label), Cell::str(b.before), Cell::str(b.after),
                             b.mixer_step > 0 ? Cell::num(b.mixer_step, std::to_string(b.mixer_step)) : Cell::none(),
                             b.ffn_step > 0 ? Cell::num(b.ffn_step, std::to_string(b.ffn_step)) : Cell::none(),
                             Cell::num(b.ffn_kept, fmt::format("{:.0f}%", 100 * b.ffn_kept))});
    s.html += fmt::format(
        "<h3>{} of {} → {} ({})</h3>\n<p>{} on {}: measured {} → {} ({:.1f}% saved){}, distance {} ({}).{}</p>\n"
        "<div class=\"charts\"><figure>{}<figcaption>Blocks before and after: top the token mixer (1/3: the "
        "carved conv's kernel; a number: FinerCut's removal step), bottom the FFN, filled to the share of its "
        "width kept. Hover a block.</figcaption></figure><figure>{}<figcaption>Distance of the outputs from the "
        "original's against latency.</figcaption></figure></div>\n",
        escape(r.method), escape(r.original), escape(r.result), escape(r.id), escape(r.created_at), escape(r.device),
        fmt_ms(r.original_ms), fmt_ms(r.result_ms), 100 * saved,
        r.budget_ms > 0 ? ", budget " + fmt_ms(r.budget_ms) : std::string(), fmt_sig(r.distance, 3), escape(r.metric),
        r.note.empty() ? "" : " " + escape(r.note), blocks_diagram(r), curve(r, o));
  }
  s.html += table_block(runs, o);
  s.tables.push_back(std::move(runs));
  s.html += "<p class=\"note\">Per-block choices of every run are in the JSON/CSV twins (compress_blocks).</p>\n";
  s.tables.push_back(std::move(blocks));
  return s;
}

}  // namespace hwnas::reports
