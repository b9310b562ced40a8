// The frame every x/y chart of the report shares: plot area inside fixed margins, axes fitted to
// the data, and the thinning rule for large scatters.
#pragma once

#include <cstddef>
#include <vector>

#include "reports/svg.h"

namespace hwnas::reports {

struct Frame {
  double width = 640, height = 380;
  double left = 76, right = 20, top = 26, bottom = 48;
  Axis x, y;
};

// Axes over [x_lo, x_hi] × [y_lo, y_hi], nicely rounded.
Frame make_frame(double x_lo, double x_hi, double y_lo, double y_hi, bool x_log = false, bool y_log = false,
                 double width = 640, double height = 380);

// Indices to draw out of n, at most `max`: every `keep[i]` one, then an even stride over the rest.
std::vector<std::size_t> thin(std::size_t n, std::size_t max, const std::vector<bool>& keep);

}  // namespace hwnas::reports
