// The attention-bias geometry against independent constructions: hand-computed relative-position
// rows, and Swin's mask built the way its code builds it (label slices of the map, partition the
// labels into windows, compare).
#include "space/window_geometry.h"

#include <gtest/gtest.h>

namespace hwnas::space {
namespace {

TEST(WindowGeometry, RelPosIndexOfA2x3Grid) {
  // 2×3 grid: table rows (Δrow + 1)·5 + (Δcol + 2), Δ = position(i) − position(j).
  const auto idx = rel_pos_index(2, 3);
  ASSERT_EQ(idx.size(), 36u);
  for (std::int64_t i = 0; i < 6; ++i) EXPECT_EQ(idx[static_cast<std::size_t>(i * 6 + i)], 1 * 5 + 2);  // Δ = 0
  EXPECT_EQ(idx[0 * 6 + 5], (0 - 1 + 1) * 5 + (0 - 2 + 2));  // (0,0) → (1,2): row 0
  EXPECT_EQ(idx[5 * 6 + 0], (1 - 0 + 1) * 5 + (2 - 0 + 2));  // (1,2) → (0,0): the last row, 14
  EXPECT_EQ(idx[1 * 6 + 3], (0 - 1 + 1) * 5 + (1 - 0 + 2));  // (0,1) → (1,0)
}

TEST(WindowGeometry, ShiftMaskIsSwinsSlicedLabelMask) {
  for (auto [h, w, ws] : {std::tuple<std::int64_t, std::int64_t, std::int64_t>{8, 8, 4}, {12, 6, 3}, {14, 14, 7}}) {
    const std::int64_t shift = ws / 2;
    // Labels: slices (0, −ws), (−ws, −shift), (−shift, end) per axis, numbered row-major.
    std::vector<int> label(static_cast<std::size_t>(h * w));
    int next = 0;
    const std::int64_t hs[4] = {0, h - ws, h - shift, h}, vs[4] = {0, w - ws, w - shift, w};
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b, ++next)
        for (std::int64_t r = hs[a]; r < hs[a + 1]; ++r)
          for (std::int64_t c = vs[b]; c < vs[b + 1]; ++c) label[static_cast<std::size_t>(r * w + c)] = next;
    const auto mask = shift_mask(h, w, ws, shift);
    const std::int64_t L = ws * ws, windows = (h / ws) * (w / ws);
    ASSERT_EQ(mask.size(), static_cast<std::size_t>(windows * L * L));
    std::size_t at = 0, crossing = 0;
    for (std::int64_t wr = 0; wr < h / ws; ++wr)
      for (std::int64_t wc = 0; wc < w / ws; ++wc)
        for (std::int64_t a = 0; a < L; ++a)
          for (std::int64_t b = 0; b < L; ++b, ++at) {
            const int la = label[static_cast<std::size_t>((wr * ws + a / ws) * w + wc * ws + a % ws)];
            const int lb = label[static_cast<std::size_t>((wr * ws + b / ws) * w + wc * ws + b % ws)];
            EXPECT_EQ(mask[at], la == lb ? 0.0f : -100.0f);
            crossing += la != lb;
          }
    EXPECT_GT(crossing, 0u);  // the last row/column of windows straddles regions
  }
}

}  // namespace
}  // namespace hwnas::space
