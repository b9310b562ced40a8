// Seed-method search spaces built from a base architecture (SEEDS.md §4, §5): the per-block choices
// of SPViT and FinerCut applied to a preset or arch file, as ordinary SearchSpaces.
//   spvit:BASE     every block's MSA may become SPViT's skip (x + LN(x), `normskip`), a 1×1 or 3×3
//                  bottleneck conv carved from it (`bconv`), or stay MSA; every FFN keeps a share of
//                  its hidden width (SPViT gates single neurons; the space offers 1/8 steps).
//   finercut:BASE  every attention and every FFN sublayer may be removed (FinerCut's 2L candidates).
// Depths, widths, heads, stem, downsamples and head stay those of BASE.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "space/arch.h"
#include "space/result.h"
#include "space/search_space.h"

namespace hwnas::space {

std::vector<std::string> seed_method_names();  // spvit, finercut
Result<SearchSpace> seed_space(std::string_view method, const Arch& base, const std::string& base_name);
// "spvit:deit-small" or "finercut:my_arch.json"; an error when `spec` has no known "METHOD:" prefix.
Result<SearchSpace> parse_seed_space(const std::string& spec);
bool is_seed_space_spec(const std::string& spec);

}  // namespace hwnas::space
