// Inline SVG charts without a plotting library: a builder for the few primitives the report draws
// and axes with "nice" ticks (linear or log). Everything is written as attributes with fixed
// precision, no external references, text escaped; hover titles are <title> children.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hwnas::reports {

// A data range mapped onto pixels; log axes need lo > 0.
struct Axis {
  double lo = 0, hi = 1;
  double px_lo = 0, px_hi = 1;  // pixel of lo and of hi (hi < lo for a y axis)
  bool log = false;

  double map(double v) const;
  std::vector<double> ticks(int target = 6) const;  // within [lo, hi]
};

// [lo, hi] widened to cover values with a small margin; rounded to nice numbers (linear) or to
// powers of ten's neighbours (log). A degenerate range is widened around its value.
std::pair<double, double> nice_range(double lo, double hi, bool log);

class Svg {
 public:
  Svg(double width, double height, std::string_view label);  // label: aria-label of the chart

  void rect(double x, double y, double w, double h, std::string_view fill, std::string_view hover = {},
            std::string_view css = {});
  void line(double x1, double y1, double x2, double y2, std::string_view css);
  void circle(double cx, double cy, double r, std::string_view fill, std::string_view hover = {},
              std::string_view css = {});
  void polyline(const std::vector<std::pair<double, double>>& pts, std::string_view stroke, std::string_view css = {});
  // anchor: start, middle, end; rotate: degrees about (x, y).
  void text(double x, double y, std::string_view s, std::string_view anchor = "start", std::string_view css = {},
            double rotate = 0);
  // A framed plot area with grid lines, tick labels and axis titles.
  void axes(const Axis& x, const Axis& y, std::string_view x_title, std::string_view y_title);
  // Colour swatches from (x, y), wrapped at the chart's width; returns the baseline below them.
  static constexpr double kLegendRowPx = 16;
  double legend(double x, double y, const std::vector<std::pair<std::string, std::string>>& name_colour);
  // Rows legend() takes from x in a chart `width` wide.
  static int legend_rows(double x, double width, const std::vector<std::pair<std::string, std::string>>& name_colour);

  double width() const { return width_; }
  double height() const { return height_; }
  std::string str() const;

 private:
  double width_, height_;
  std::string label_, body_;
};

}  // namespace hwnas::reports
