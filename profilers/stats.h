// Order statistics for timing samples: percentiles, the distribution-free 95% CI of the median,
// trimmed mean, coefficient of variation.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace hwnas::prof {

// Linear-interpolated percentile (q in [0, 1]) of sorted values.
double percentile(const std::vector<double>& sorted, double q);
// 95% CI of the median from n sorted samples: [x(j), x(k)] with j = floor(n/2 - 0.98 sqrt(n)),
// k = ceil(n/2 + 1 + 0.98 sqrt(n)) (1-based, clamped) — MEASURE.md step 5.
std::pair<double, double> median_ci95(const std::vector<double>& sorted);
// Mean after dropping `fraction` of the samples at each end (HAT: 0.1).
double trimmed_mean(const std::vector<double>& sorted, double fraction);
double mean(const std::vector<double>& v);
double stddev(const std::vector<double>& v);

}  // namespace hwnas::prof
