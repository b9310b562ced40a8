#include "reports/colours.h"

#include <array>

namespace hwnas::reports {

std::string mixer_colour(std::string_view k) {
  if (k == "msa") return "#0072b2";
  if (k == "hilo") return "#e69f00";
  if (k == "window") return "#cc79a7";
  if (k == "sra") return "#009e73";
  if (k == "bconv") return "#d55e00";
  if (k == "none") return "#8fb8a8";  // attention-free (LIT): MLP only
  if (k == "skip" || k == "normskip") return "#d9d9d9";
  return "#999999";
}

std::string unit_colour(std::string_view unit_kind, std::string_view mixer_kind) {
  if (unit_kind == "stem") return "#4d4d4d";
  if (unit_kind == "downsample") return "#f0e442";
  if (unit_kind == "head") return "#7f2704";
  return mixer_colour(mixer_kind);
}

std::string ffn_colour(std::string_view k) {
  if (k == "mlp") return "#56b4e9";
  if (k == "convffn") return "#1b7837";
  return "#f2f2f2";
}

std::string series_colour(std::size_t i) {
  static constexpr std::array<const char*, 8> kColours = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                                          "#e69f00", "#56b4e9", "#7f2704", "#4d4d4d"};
  return kColours[i % kColours.size()];
}

}  // namespace hwnas::reports
