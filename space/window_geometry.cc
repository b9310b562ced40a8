#include "space/window_geometry.h"

#include <cstddef>

namespace hwnas::space {

std::vector<std::int64_t> rel_pos_index(std::int64_t gh, std::int64_t gw) {
  const std::int64_t n = gh * gw;
  std::vector<std::int64_t> idx(static_cast<std::size_t>(n * n));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      idx[static_cast<std::size_t>(i * n + j)] = (i / gw - j / gw + gh - 1) * (2 * gw - 1) + (i % gw - j % gw + gw - 1);
  return idx;
}

std::vector<float> shift_mask(std::int64_t h, std::int64_t w, std::int64_t ws, std::int64_t shift) {
  auto region = [&](std::int64_t pos, std::int64_t n) { return pos < n - ws ? 0 : (pos < n - shift ? 1 : 2); };
  const std::int64_t cols = w / ws, windows = (h / ws) * cols, L = ws * ws;
  std::vector<float> mask(static_cast<std::size_t>(windows * L * L));
  for (std::int64_t win = 0; win < windows; ++win)
    for (std::int64_t a = 0; a < L; ++a)
      for (std::int64_t b = 0; b < L; ++b) {
        const std::int64_t ra = (win / cols) * ws + a / ws, ca = (win % cols) * ws + a % ws;
        const std::int64_t rb = (win / cols) * ws + b / ws, cb = (win % cols) * ws + b % ws;
        const bool same = region(ra, h) == region(rb, h) && region(ca, w) == region(cb, w);
        mask[static_cast<std::size_t>((win * L + a) * L + b)] = same ? 0.0f : -100.0f;
      }
  return mask;
}

}  // namespace hwnas::space
