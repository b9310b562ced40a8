// Accuracy of latency predictions against measurements: relative errors and rank agreement.
#pragma once

#include <cstdint>
#include <vector>

namespace hwnas::cost {

struct Metrics {
  std::int64_t n = 0;
  double mape = 0;      // mean |p − m| / m
  double rmspe = 0;     // sqrt(mean ((p − m) / m)²)
  double within5 = 0;   // share with |p − m| / m ≤ 5%
  double within10 = 0;  // ≤ 10%
  double kendall_tau = 0;
  double spearman_rho = 0;
};

// predicted[i] against measured[i] (> 0); sizes must match.
Metrics metrics(const std::vector<double>& predicted, const std::vector<double>& measured);

// Kendall's τ-b (ties in either list handled); 0 for fewer than 2 points or a constant list.
double kendall_tau(const std::vector<double>& a, const std::vector<double>& b);
// Spearman's ρ: Pearson correlation of the ranks, ties given their average rank.
double spearman_rho(const std::vector<double>& a, const std::vector<double>& b);
// Ranks 1..n, ties averaged.
std::vector<double> ranks(const std::vector<double>& v);
// Linear-interpolated quantile of v (q in [0, 1]); 0 for an empty v.
double quantile(std::vector<double> v, double q);

}  // namespace hwnas::cost
