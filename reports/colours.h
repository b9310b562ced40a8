// One palette for every chart: a colour per mixer kind (blocks, diagrams) and per unit kind
// (stem, downsample, head), a colour per series (runs, devices). Colour-blind-safe (Okabe–Ito based).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hwnas::reports {

std::string mixer_colour(std::string_view mixer_kind);  // msa, hilo, window, sra, bconv, none, skip …
std::string unit_colour(std::string_view unit_kind, std::string_view mixer_kind);
std::string ffn_colour(std::string_view ffn_kind);  // mlp, convffn, none
std::string series_colour(std::size_t i);

}  // namespace hwnas::reports
