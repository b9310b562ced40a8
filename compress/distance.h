// How far a compressed network's outputs are from the original's (SEEDS.md §5), over a batch of
// logits [n, classes], row-major, computed in double:
//   finercut-js  FinerCut's "JS divergence" as its code computes it: M = (P_a + P_b)/2 and
//                (KL(M‖P_a) + KL(M‖P_b))/2 with each KL averaged over all n·classes elements
//                (F.kl_div(log P, M, reduction="mean")); symmetric, zero for equal inputs, unbounded.
//   js           the textbook Jensen–Shannon divergence (KL(P_a‖M) + KL(P_b‖M))/2, summed over the
//                classes and averaged over the n inputs; bounded by ln 2.
//   angular      mean over inputs of arccos(clamp(cos(a, b), 0, 1)), in radians.
//   rel-l2       ‖a − b‖ / ‖a‖ over the whole batch.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace hwnas::compress {

enum class Distance : std::uint8_t { finercut_js, js, angular, rel_l2 };

std::string_view name_of(Distance d);
std::optional<Distance> distance_from(std::string_view s);
std::string distance_names();  // "finercut-js, js, angular, rel-l2"

// a: the original's logits, b: the candidate's; both n·classes values.
double distance(Distance d, std::span<const float> a, std::span<const float> b, std::int64_t classes);

}  // namespace hwnas::compress
