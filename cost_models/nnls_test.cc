#include "cost_models/nnls.h"

#include <gtest/gtest.h>

namespace hwnas::cost {
namespace {

Normal system(const std::vector<std::vector<double>>& rows, const std::vector<double>& y) {
  Normal eq(rows.front().size());
  for (std::size_t i = 0; i < rows.size(); ++i) eq.add_row(rows[i].data(), y[i]);
  return eq;
}

TEST(Nnls, ExactSystemIsSolved) {
  // y = 2·a + 3·b + 0.5 on four rows: a unique non-negative solution.
  const std::vector<std::vector<double>> rows = {{1, 0, 1}, {0, 1, 1}, {1, 1, 1}, {2, 5, 1}};
  std::vector<double> y;
  for (const auto& r : rows) y.push_back(2 * r[0] + 3 * r[1] + 0.5 * r[2]);
  const auto x = nnls(system(rows, y));
  EXPECT_NEAR(x[0], 2, 1e-8);
  EXPECT_NEAR(x[1], 3, 1e-8);
  EXPECT_NEAR(x[2], 0.5, 1e-8);
}

TEST(Nnls, NegativeUnconstrainedSolutionIsClampedToTheBoundary) {
  // Unconstrained least squares gives y = 3·a − 1·b exactly; with x ≥ 0 the best is b = 0 and the
  // one-variable fit of a: a = Σ a·y / Σ a² over the rows.
  const std::vector<std::vector<double>> rows = {{1, 1}, {2, 1}, {3, 1}};
  const std::vector<double> y = {2, 5, 8};
  const auto x = nnls(system(rows, y));
  EXPECT_EQ(x[1], 0.0);
  EXPECT_NEAR(x[0], (2 + 10 + 24) / 14.0, 1e-8);
}

TEST(Nnls, EmptyColumnKeepsItsPriorAndRidgePullsTowardsIt) {
  const std::vector<std::vector<double>> rows = {{1, 0}, {2, 0}};
  const std::vector<double> y = {1, 2};
  const auto x = nnls(system(rows, y), 0, {5, 7});
  EXPECT_NEAR(x[0], 1, 1e-8);
  EXPECT_EQ(x[1], 7);  // no data: the prior
  // A strong ridge towards a prior of 5 moves the data's answer (1) most of the way there.
  const auto pulled = nnls(system(rows, y), 100, {5, 7});
  EXPECT_GT(pulled[0], 4.5);
  EXPECT_LT(pulled[0], 5.0);
}

TEST(Nnls, WeightsAreRelativeErrors) {
  // Two inconsistent rows for one unknown: weights 1/y² balance the relative errors.
  Normal eq(1);
  const double a = 1;
  eq.add_row(&a, 10, 1.0 / 100);
  eq.add_row(&a, 20, 1.0 / 400);
  const auto x = nnls(eq);
  // min (x/10 − 1)² + (x/20 − 1)²  →  x = (1/10 + 1/20) / (1/100 + 1/400) = 12.
  EXPECT_NEAR(x[0], 12, 1e-8);
}

}  // namespace
}  // namespace hwnas::cost
