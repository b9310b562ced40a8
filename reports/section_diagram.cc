// Section 5: architectures drawn to scale, one row each on a common scale: a block's width is
// proportional to its embedding dim, its height to the side of its token grid; blocks coloured by
// mixer, with a strip for the FFN; stems, downsamples and heads as narrow bars.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "reports/colours.h"
#include "reports/html.h"
#include "reports/sections.h"
#include "reports/svg.h"
#include "space/ops.h"

namespace hwnas::reports {
namespace {

struct Piece {
  std::string kind, mixer, ffn, hover;
  double dim = 0, side = 0;  // side of the token grid (√tokens)
};

std::vector<Piece> pieces_of(const space::Arch& arch) {
  std::vector<Piece> out;
  auto lowered = space::lower(arch);
  if (!lowered) return out;
  for (const space::Unit& u : lowered->units) {
    Piece p;
    p.kind = std::string(space::name_of(u.kind));
    p.dim = static_cast<double>(u.out_dim);
    p.side = std::sqrt(static_cast<double>(std::max<std::int64_t>(u.out.total(), 1)));
    const std::string mixer = space::describe_mixer(arch, u), ffn = space::describe_ffn(arch, u);
    if (u.kind == space::UnitKind::block) {
      const space::Block& b = arch.stages[static_cast<std::size_t>(u.stage)].blocks[static_cast<std::size_t>(u.block)];
      p.mixer = std::string(space::name_of(b.mixer.kind));
      p.ffn = std::string(space::name_of(b.ffn.kind));
    }
    p.hover = fmt::format("{}: {}{}{}, dim {}, {} tokens", u.label, mixer, ffn.empty() ? "" : " + ", ffn, u.out_dim,
                          u.out.total());
    out.push_back(std::move(p));
  }
  return out;
}

constexpr double kThin = 6, kGap = 2;  // px: stems, downsamples, heads; between pieces

}  // namespace

std::optional<Section> diagram_section(const ReportData& d, const RenderOptions& o) {
  struct Row {
    const ArchEntry* arch;
    std::vector<Piece> pieces;
  };
  std::vector<Row> rows;
  for (const ArchEntry& a : d.archs) {
    if (!a.arch || rows.size() >= o.max_bars) continue;
    auto p = pieces_of(*a.arch);
    if (!p.empty()) rows.push_back({&a, std::move(p)});
  }
  if (rows.empty()) return std::nullopt;
  // One scale for all rows: the widest network fills the plot.
  double widest_dims = 0, fixed_widest = 0, max_side = 1;
  for (const Row& r : rows) {
    double dims = 0, fixed = 0;
    for (const Piece& p : r.pieces) {
      if (p.kind == "block")
        dims += p.dim;
      else
        fixed += kThin;
      fixed += kGap;
      max_side = std::max(max_side, p.side);
    }
    if (dims > widest_dims) {
      widest_dims = dims;
      fixed_widest = fixed;
    }
  }
  const double label_w = 150, plot_w = 720, max_h = 64, row_gap = 22;
  const double px_per_dim = (plot_w - fixed_widest) / std::max(widest_dims, 1.0);
  const double row_h = max_h + row_gap;
  std::map<std::string, std::string> legend;
  for (const Row& r : rows)
    for (const Piece& p : r.pieces) {
      if (p.kind != "block") {
        legend.emplace(p.kind, unit_colour(p.kind, ""));
        continue;
      }
      legend.emplace("mixer " + p.mixer, mixer_colour(p.mixer));
      legend.emplace("ffn " + p.ffn, ffn_colour(p.ffn));
    }
  const std::vector<std::pair<std::string, std::string>> items(legend.begin(), legend.end());
  const double width = label_w + plot_w + 20;
  const double top = 24 + Svg::kLegendRowPx * Svg::legend_rows(label_w, width, items);
  Svg svg(width, top + row_h * static_cast<double>(rows.size()), "architecture diagrams");
  svg.legend(label_w, 16, items);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double base = top + row_h * static_cast<double>(i) + max_h;  // bottom line of the row
    svg.text(label_w - 8, base - max_h / 2 + 4, arch_label(*rows[i].arch), "end", "label");
    double x = label_w;
    for (const Piece& p : rows[i].pieces) {
      const double h = std::max(4.0, max_h * p.side / max_side);
      if (p.kind == "block") {
        const double w = std::max(1.0, p.dim * px_per_dim);
        const std::string mc = mixer_colour(p.mixer), fc = ffn_colour(p.ffn);
        svg.rect(x, base - h, w, h * 0.72, mc, p.hover);
        svg.rect(x, base - h * 0.28, w, h * 0.28, fc, p.hover);
        x += w + kGap;
      } else {
        svg.rect(x, base - h, kThin, h, unit_colour(p.kind, ""), p.hover);
        x += kThin + kGap;
      }
    }
  }
  Section s{"diagrams", "Architecture diagrams", {}, {}};
  s.html = fmt::format(
      "<figure>{}<figcaption>One scale for every row: block width ∝ embedding dim ({} px per 100 channels), height ∝ "
      "√tokens (the side of the token grid); top part: the token mixer, bottom strip: the FFN. Hover a block for its "
      "definition.</figcaption></figure>\n",
      svg.str(), fmt_sig(100 * px_per_dim, 2));
  return s;
}

}  // namespace hwnas::reports
