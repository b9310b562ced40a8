// Where attention biases read their tables, defined once for every consumer (engines, exports):
// the relative-position index of a grid (Swin, LIT) and Swin's shifted-window mask (SEEDS.md).
#pragma once

#include <cstdint>
#include <vector>

namespace hwnas::space {

// For tokens i, j of a gh×gw grid (row-major), the row of the relative-position table
// [(2gh-1)(2gw-1), heads] that biases i attending to j: (Δrow + gh - 1)(2gw - 1) + (Δcol + gw - 1).
// Returns [gh·gw, gh·gw] indices, row-major.
std::vector<std::int64_t> rel_pos_index(std::int64_t gh, std::int64_t gw);

// Swin's mask for ws×ws windows of an h×w map rolled by -shift: [windows, ws², ws²] (windows and
// tokens row-major), 0 where both tokens lie in the same region of the rolled map and -100
// otherwise; regions per axis are [0, n - ws), [n - ws, n - shift), [n - shift, n).
std::vector<float> shift_mask(std::int64_t h, std::int64_t w, std::int64_t ws, std::int64_t shift);

}  // namespace hwnas::space
