#include "cost_models/nnls.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace hwnas::cost {

void Normal::add_row(const double* a, double y, double w) {
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] == 0) continue;
    const double wa = w * a[i];
    for (std::size_t j = 0; j < n; ++j) gram[i * n + j] += wa * a[j];
    rhs[i] += wa * y;
  }
}

Normal& Normal::operator+=(const Normal& o) {
  assert(n == o.n);
  for (std::size_t i = 0; i < gram.size(); ++i) gram[i] += o.gram[i];
  for (std::size_t i = 0; i < n; ++i) rhs[i] += o.rhs[i];
  return *this;
}

Normal& Normal::operator-=(const Normal& o) {
  assert(n == o.n);
  for (std::size_t i = 0; i < gram.size(); ++i) gram[i] -= o.gram[i];
  for (std::size_t i = 0; i < n; ++i) rhs[i] -= o.rhs[i];
  return *this;
}

namespace {

// Solves G[P,P]·z = c[P] by Cholesky; false if not positive definite.
bool solve_subset(const std::vector<double>& g, const std::vector<double>& c, std::size_t n,
                  const std::vector<std::size_t>& p, std::vector<double>& z) {
  const std::size_t k = p.size();
  std::vector<double> l(k * k, 0.0);
  for (std::size_t i = 0; i < k; ++i) {
    for (std::size_t j = 0; j <= i; ++j) {
      double s = g[p[i] * n + p[j]];
      for (std::size_t m = 0; m < j; ++m) s -= l[i * k + m] * l[j * k + m];
      if (i == j) {
        if (!(s > 1e-300)) return false;
        l[i * k + i] = std::sqrt(s);
      } else {
        l[i * k + j] = s / l[j * k + j];
      }
    }
  }
  std::vector<double> y(k);
  for (std::size_t i = 0; i < k; ++i) {
    double s = c[p[i]];
    for (std::size_t m = 0; m < i; ++m) s -= l[i * k + m] * y[m];
    y[i] = s / l[i * k + i];
  }
  z.assign(k, 0.0);
  for (std::size_t ii = k; ii-- > 0;) {
    double s = y[ii];
    for (std::size_t m = ii + 1; m < k; ++m) s -= l[m * k + ii] * z[m];
    z[ii] = s / l[ii * k + ii];
  }
  return true;
}

}  // namespace

std::vector<double> nnls(const Normal& eq, double ridge, const std::vector<double>& prior) {
  const std::size_t n = eq.n;
  // Scale columns to a unit diagonal: x = s·u, G' = S·G·S, c' = S·c.
  std::vector<double> s(n, 0.0);
  std::vector<bool> live(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const double gii = eq.gram[i * n + i];
    live[i] = gii > 0;
    s[i] = live[i] ? 1.0 / std::sqrt(gii) : 0.0;
  }
  std::vector<double> g(n * n, 0.0), c(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    if (!live[i]) continue;
    for (std::size_t j = 0; j < n; ++j)
      if (live[j]) g[i * n + j] = s[i] * eq.gram[i * n + j] * s[j];
    c[i] = s[i] * eq.rhs[i];
    // Ridge towards the prior (in scaled units u = x / s), plus a whisker that keeps the system
    // positive definite when columns are collinear.
    const double lambda = ridge + 1e-12;
    const double u_prior = prior.empty() ? 0.0 : std::max(prior[i], 0.0) / s[i];
    g[i * n + i] += lambda;
    c[i] += lambda * u_prior;
  }
  std::vector<double> u(n, 0.0);
  std::vector<bool> passive(n, false);
  const double tol = 1e-12;
  for (int outer = 0; outer < 3 * static_cast<int>(n) + 10; ++outer) {
    // Gradient of the objective at u: w = c − G·u.
    std::size_t best = n;
    double best_w = tol;
    for (std::size_t j = 0; j < n; ++j) {
      if (!live[j] || passive[j]) continue;
      double w = c[j];
      for (std::size_t k = 0; k < n; ++k) w -= g[j * n + k] * u[k];
      if (w > best_w) {
        best_w = w;
        best = j;
      }
    }
    if (best == n) break;
    passive[best] = true;
    for (int inner = 0; inner < 3 * static_cast<int>(n) + 10; ++inner) {
      std::vector<std::size_t> p;
      for (std::size_t j = 0; j < n; ++j)
        if (passive[j]) p.push_back(j);
      std::vector<double> z;
      if (!solve_subset(g, c, n, p, z)) {
        passive[best] = false;
        break;
      }
      bool feasible = true;
      for (double v : z) feasible = feasible && v > 0;
      if (feasible) {
        std::fill(u.begin(), u.end(), 0.0);
        for (std::size_t i = 0; i < p.size(); ++i) u[p[i]] = z[i];
        break;
      }
      // Step from u towards z until the first passive unknown hits 0; it leaves the passive set.
      double alpha = 1.0;
      for (std::size_t i = 0; i < p.size(); ++i)
        if (z[i] <= 0) alpha = std::min(alpha, u[p[i]] / (u[p[i]] - z[i]));
      for (std::size_t i = 0; i < p.size(); ++i) {
        u[p[i]] += alpha * (z[i] - u[p[i]]);
        if (u[p[i]] <= tol) {
          u[p[i]] = 0;
          passive[p[i]] = false;
        }
      }
    }
  }
  std::vector<double> x(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) x[i] = live[i] ? u[i] * s[i] : (prior.empty() ? 0.0 : prior[i]);
  return x;
}

}  // namespace hwnas::cost
