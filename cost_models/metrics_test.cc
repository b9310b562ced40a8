#include "cost_models/metrics.h"

#include <cmath>

#include <gtest/gtest.h>

namespace hwnas::cost {
namespace {

TEST(Metrics, RelativeErrorsAndShares) {
  const std::vector<double> measured = {100, 200, 400, 1000};
  const std::vector<double> predicted = {104, 180, 400, 1200};  // +4%, −10%, 0%, +20%
  const Metrics m = metrics(predicted, measured);
  EXPECT_EQ(m.n, 4);
  EXPECT_NEAR(m.mape, (0.04 + 0.10 + 0.0 + 0.20) / 4, 1e-12);
  EXPECT_NEAR(m.rmspe, std::sqrt((0.0016 + 0.01 + 0.0 + 0.04) / 4), 1e-12);
  EXPECT_DOUBLE_EQ(m.within5, 0.5);    // +4% and 0%
  EXPECT_DOUBLE_EQ(m.within10, 0.75);  // and −10%
  EXPECT_DOUBLE_EQ(m.kendall_tau, 1.0);
  EXPECT_DOUBLE_EQ(m.spearman_rho, 1.0);
}

TEST(Metrics, RankCorrelationsOfOneSwap) {
  // One discordant pair of six: τ = (5 − 1) / 6; Σd² = 2: ρ = 1 − 6·2 / (4·15).
  const std::vector<double> a = {1, 2, 3, 4}, b = {10, 30, 20, 40};
  EXPECT_NEAR(kendall_tau(a, b), 4.0 / 6.0, 1e-12);
  EXPECT_NEAR(spearman_rho(a, b), 0.8, 1e-12);
  const std::vector<double> reversed = {40, 30, 20, 10};
  EXPECT_NEAR(kendall_tau(a, reversed), -1.0, 1e-12);
  EXPECT_NEAR(spearman_rho(a, reversed), -1.0, 1e-12);
}

TEST(Metrics, TiesGetAverageRanksAndTauB) {
  EXPECT_EQ(ranks({5, 1, 5, 3}), (std::vector<double>{3.5, 1, 3.5, 2}));
  // a has one tied pair: τ-b = (C − D) / sqrt((n0 − n1)(n0 − n2)) = 5 / sqrt(5·6).
  const std::vector<double> a = {1, 2, 2, 3}, b = {1, 2, 3, 4};
  EXPECT_NEAR(kendall_tau(a, b), 5.0 / std::sqrt(30.0), 1e-12);
}

TEST(Metrics, Quantiles) {
  EXPECT_DOUBLE_EQ(quantile({3, 1, 2, 4, 5}, 0.5), 3);
  EXPECT_DOUBLE_EQ(quantile({1, 2}, 0.25), 1.25);
  EXPECT_DOUBLE_EQ(quantile({}, 0.5), 0);
}

}  // namespace
}  // namespace hwnas::cost
