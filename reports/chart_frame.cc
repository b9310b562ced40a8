#include "reports/chart_frame.h"

#include <algorithm>

namespace hwnas::reports {

Frame make_frame(double x_lo, double x_hi, double y_lo, double y_hi, bool x_log, bool y_log, double width,
                 double height) {
  Frame f;
  f.width = width;
  f.height = height;
  const auto [xl, xh] = nice_range(x_lo, x_hi, x_log);
  const auto [yl, yh] = nice_range(y_lo, y_hi, y_log);
  f.x = Axis{xl, xh, f.left, width - f.right, x_log};
  f.y = Axis{yl, yh, height - f.bottom, f.top, y_log};
  return f;
}

std::vector<std::size_t> thin(std::size_t n, std::size_t max, const std::vector<bool>& keep) {
  std::vector<std::size_t> out, rest;
  for (std::size_t i = 0; i < n; ++i) (i < keep.size() && keep[i] ? out : rest).push_back(i);
  const std::size_t room = max > out.size() ? max - out.size() : 0;
  if (rest.size() <= room) {
    out.insert(out.end(), rest.begin(), rest.end());
  } else if (room > 0) {
    for (std::size_t k = 0; k < room; ++k) out.push_back(rest[k * rest.size() / room]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace hwnas::reports
