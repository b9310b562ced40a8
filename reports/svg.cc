#include "reports/svg.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "reports/html.h"

namespace hwnas::reports {
namespace {

// Fixed precision for coordinates: small files, stable output.
std::string px(double v) {
  if (!std::isfinite(v)) v = 0;
  std::string s = fmt::format("{:.1f}", v);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s == "-0" ? "0" : s;
}

std::string attr(std::string_view name, std::string_view value) {
  return value.empty() ? std::string() : fmt::format(" {}=\"{}\"", name, escape(value));
}

std::string with_title(std::string_view element, std::string_view hover) {
  if (hover.empty()) return std::string(element) + "/>";
  return fmt::format("{}><title>{}</title></{}>", element, escape(hover), element.substr(1, element.find(' ') - 1));
}

double nice_step(double span, int target) {
  const double raw = span / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  return nice * mag;
}

// Tick labels with the precision of the step: "5", "0.25", "1.5e-05".
std::string tick_label(double v, double step, bool log) {
  if (v == 0) return "0";
  if (log || std::abs(v) >= 1e6 || step < 1e-3) {
    std::string s = fmt::format("{:.3g}", v);
    return s;
  }
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  return fmt::format("{:.{}f}", v, decimals);
}

}  // namespace

double Axis::map(double v) const {
  double t = 0;
  if (log) {
    const double l = std::log10(std::max(lo, 1e-300)), h = std::log10(std::max(hi, 1e-300));
    t = h == l ? 0.5 : (std::log10(std::max(v, 1e-300)) - l) / (h - l);
  } else {
    t = hi == lo ? 0.5 : (v - lo) / (hi - lo);
  }
  return px_lo + t * (px_hi - px_lo);
}

std::vector<double> Axis::ticks(int target) const {
  std::vector<double> out;
  if (!(hi > lo)) return {lo};
  if (log) {
    const int e0 = static_cast<int>(std::floor(std::log10(lo))), e1 = static_cast<int>(std::ceil(std::log10(hi)));
    const int decades = e1 - e0;
    // 1-2-5 per decade when few decades, powers of ten otherwise.
    const std::vector<double> mult = decades <= 2 ? std::vector<double>{1, 2, 5} : std::vector<double>{1};
    for (int e = e0; e <= e1; ++e)
      for (double m : mult) {
        const double v = m * std::pow(10.0, e);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
      }
    return out;
  }
  const double step = nice_step(hi - lo, target);
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

std::pair<double, double> nice_range(double lo, double hi, bool log) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {log ? 1.0 : 0.0, log ? 10.0 : 1.0};
  if (lo > hi) std::swap(lo, hi);
  if (log) {
    lo = std::max(lo, 1e-12);
    hi = std::max(hi, lo);
    if (hi / lo < 1.5) {
      lo /= 1.25;
      hi *= 1.25;
    }
    return {lo / 1.08, hi * 1.08};
  }
  if (hi == lo) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double step = nice_step(hi - lo, 6);
  const double margin = (hi - lo) * 0.04;
  return {std::floor((lo - margin) / step) * step, std::ceil((hi + margin) / step) * step};
}

Svg::Svg(double width, double height, std::string_view label) : width_(width), height_(height), label_(label) {}

void Svg::rect(double x, double y, double w, double h, std::string_view fill, std::string_view hover,
               std::string_view css) {
  body_ += with_title(fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{}{}", px(x), px(y),
                                  px(std::max(w, 0.0)), px(std::max(h, 0.0)), attr("fill", fill), attr("class", css)),
                      hover) +
           "\n";
}

void Svg::line(double x1, double y1, double x2, double y2, std::string_view css) {
  body_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"{}/>\n", px(x1), px(y1), px(x2), px(y2),
                       attr("class", css));
}

void Svg::circle(double cx, double cy, double r, std::string_view fill, std::string_view hover, std::string_view css) {
  body_ += with_title(fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\"{}{}", px(cx), px(cy), px(r), attr("fill", fill),
                                  attr("class", css)),
                      hover) +
           "\n";
}

void Svg::polyline(const std::vector<std::pair<double, double>>& pts, std::string_view stroke, std::string_view css) {
  if (pts.empty()) return;
  std::string points;
  for (const auto& [x, y] : pts) {
    if (!points.empty()) points += ' ';
    points += px(x);
    points += ',';
    points += px(y);
  }
  body_ +=
      fmt::format("<polyline points=\"{}\" fill=\"none\"{}{}/>\n", points, attr("stroke", stroke), attr("class", css));
}

void Svg::text(double x, double y, std::string_view s, std::string_view anchor, std::string_view css, double rotate) {
  const std::string transform =
      rotate == 0 ? std::string() : fmt::format(" transform=\"rotate({} {} {})\"", px(rotate), px(x), px(y));
  body_ += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"{}\"{}{}>{}</text>\n", px(x), px(y), escape(anchor),
                       attr("class", css), transform, escape(s));
}

void Svg::axes(const Axis& x, const Axis& y, std::string_view x_title, std::string_view y_title) {
  const double left = std::min(x.px_lo, x.px_hi), right = std::max(x.px_lo, x.px_hi);
  const double top = std::min(y.px_lo, y.px_hi), bottom = std::max(y.px_lo, y.px_hi);
  const auto xt = x.ticks(), yt = y.ticks(5);
  const double x_step = xt.size() > 1 ? xt[1] - xt[0] : 1, y_step = yt.size() > 1 ? yt[1] - yt[0] : 1;
  for (double t : xt) {
    const double p = x.map(t);
    line(p, top, p, bottom, "grid");
    text(p, bottom + 14, tick_label(t, x_step, x.log), "middle", "tick");
  }
  for (double t : yt) {
    const double p = y.map(t);
    line(left, p, right, p, "grid");
    text(left - 6, p + 4, tick_label(t, y_step, y.log), "end", "tick");
  }
  rect(left, top, right - left, bottom - top, "none", {}, "frame");
  text((left + right) / 2, bottom + 32, x_title, "middle", "axis-title");
  text(12, (top + bottom) / 2, y_title, "middle", "axis-title", -90);
}

double Svg::legend(double x, double y, const std::vector<std::pair<std::string, std::string>>& name_colour) {
  const double x0 = x;
  for (const auto& [name, colour] : name_colour) {
    const double w = 24 + 6.5 * static_cast<double>(name.size());
    if (x > x0 && x + w > width_) {
      x = x0;
      y += kLegendRowPx;
    }
    rect(x, y - 9, 10, 10, colour, {}, "swatch");
    text(x + 14, y, name, "start", "legend");
    x += w;
  }
  return y + kLegendRowPx;
}

int Svg::legend_rows(double x, double width, const std::vector<std::pair<std::string, std::string>>& name_colour) {
  int rows = name_colour.empty() ? 0 : 1;
  const double x0 = x;
  for (const auto& item : name_colour) {
    const double w = 24 + 6.5 * static_cast<double>(item.first.size());
    if (x > x0 && x + w > width) {
      x = x0;
      ++rows;
    }
    x += w;
  }
  return rows;
}

std::string Svg::str() const {
  return fmt::format(
      "<svg class=\"chart\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" "
      "role=\"img\" aria-label=\"{}\">\n{}</svg>\n",
      px(width_), px(height_), px(width_), px(height_), escape(label_), body_);
}

}  // namespace hwnas::reports
