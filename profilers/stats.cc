#include "profilers/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hwnas::prof {

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

std::pair<double, double> median_ci95(const std::vector<double>& sorted) {
  if (sorted.empty()) return {0.0, 0.0};
  const double n = static_cast<double>(sorted.size());
  const double half = 0.98 * std::sqrt(n);
  auto j = static_cast<long>(std::floor(n / 2 - half));
  auto k = static_cast<long>(std::ceil(n / 2 + 1 + half));
  j = std::clamp(j, 1L, static_cast<long>(sorted.size()));
  k = std::clamp(k, 1L, static_cast<long>(sorted.size()));
  return {sorted[static_cast<std::size_t>(j - 1)], sorted[static_cast<std::size_t>(k - 1)]};
}

double trimmed_mean(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0.0;
  const auto cut = static_cast<std::size_t>(std::floor(fraction * static_cast<double>(sorted.size())));
  if (2 * cut >= sorted.size()) return percentile(sorted, 0.5);
  const double sum =
      std::accumulate(sorted.begin() + static_cast<long>(cut), sorted.end() - static_cast<long>(cut), 0.0);
  return sum / static_cast<double>(sorted.size() - 2 * cut);
}

double mean(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

}  // namespace hwnas::prof
