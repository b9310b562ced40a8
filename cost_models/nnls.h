// Small dense least squares for the cost model's fits (at most a few dozen unknowns): the normal
// equations are accumulated once, so cross-validation folds and refits cost O(n²) each.
#pragma once

#include <cstddef>
#include <vector>

namespace hwnas::cost {

// The normal equations of min ‖A·x − b‖²: gram = AᵀA (n×n, row-major), rhs = Aᵀb.
struct Normal {
  std::size_t n = 0;
  std::vector<double> gram;
  std::vector<double> rhs;

  explicit Normal(std::size_t unknowns = 0) : n(unknowns), gram(unknowns * unknowns, 0.0), rhs(unknowns, 0.0) {}
  // Adds the row a (length n) with target y and weight w: w·(a·x − y)².
  void add_row(const double* a, double y, double w = 1.0);
  Normal& operator+=(const Normal& o);
  Normal& operator-=(const Normal& o);
};

// Non-negative least squares (Lawson–Hanson active set) on the normal equations, with the columns
// scaled to a unit diagonal and a ridge pull ‖x − prior‖² of relative strength `ridge` (0 = none;
// an empty prior pulls towards 0). Unknowns with an empty column stay at their prior (or 0).
std::vector<double> nnls(const Normal& eq, double ridge = 0, const std::vector<double>& prior = {});

}  // namespace hwnas::cost
