#include "search/ranking.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "space/rng.h"

namespace hwnas::search {
namespace {

Individual feasible(double latency_ms, double score) {
  Individual ind;
  ind.latency_ms = latency_ms;
  ind.score = score;
  ind.scored = true;
  return ind;
}

Individual over_budget(double latency_ms, double violation_ms) {
  Individual ind = feasible(latency_ms, 100);
  ind.violation_ms = violation_ms;
  return ind;
}

Individual unscored(double latency_ms) {
  Individual ind;
  ind.latency_ms = latency_ms;
  ind.violation_ms = Individual::kUnscored;
  return ind;
}

TEST(Ranking, ConstrainedDomination) {
  // Feasible beats infeasible whatever the figures.
  EXPECT_TRUE(constrained_dominates(feasible(9, 1), over_budget(1, 0.1)));
  EXPECT_FALSE(constrained_dominates(over_budget(1, 0.1), feasible(9, 1)));
  EXPECT_TRUE(constrained_dominates(feasible(9, 1), unscored(1)));
  // Two infeasible: the smaller violation, whatever the figures; equal violations: neither.
  EXPECT_TRUE(constrained_dominates(over_budget(9, 0.5), over_budget(1, 2)));
  EXPECT_TRUE(constrained_dominates(over_budget(9, 2), unscored(1)));
  EXPECT_FALSE(constrained_dominates(over_budget(1, 2), over_budget(9, 2)));
  // Two feasible: Pareto dominance.
  EXPECT_TRUE(constrained_dominates(feasible(1, 5), feasible(2, 5)));
  EXPECT_FALSE(constrained_dominates(feasible(1, 4), feasible(2, 5)));
  EXPECT_FALSE(constrained_dominates(feasible(1, 5), feasible(1, 5)));
}

TEST(Ranking, FitterIsScoreThenLatencyAmongTheFeasible) {
  EXPECT_TRUE(fitter(feasible(9, 1), over_budget(1, 0.1)));
  EXPECT_TRUE(fitter(over_budget(9, 0.5), over_budget(1, 2)));
  EXPECT_TRUE(fitter(over_budget(1, 3), unscored(0.5)));
  EXPECT_TRUE(fitter(feasible(9, 2), feasible(1, 1)));  // score first
  EXPECT_TRUE(fitter(feasible(1, 2), feasible(9, 2)));  // then latency
  EXPECT_FALSE(fitter(feasible(1, 2), feasible(1, 2)));
  EXPECT_FALSE(fitter(over_budget(1, 2), over_budget(9, 2)));  // equal violations: a tie
}

TEST(Ranking, ConstrainedFrontsMatchTheDefinitionOnRandomPopulations) {
  space::Rng rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Individual> pop(rng.below(30));
    for (Individual& ind : pop) {
      const double latency = rng.below(6), score = rng.below(6);
      switch (rng.below(3)) {
        case 0: ind = feasible(latency, score); break;
        case 1: ind = over_budget(latency, 1 + rng.below(3)); break;
        default: ind = unscored(latency); break;
      }
    }
    const auto fronts = constrained_fronts(pop);
    const std::size_t n = pop.size();
    std::vector<std::size_t> front_of(n, n);
    for (std::size_t k = 0; k < fronts.size(); ++k) {
      ASSERT_FALSE(fronts[k].empty());
      EXPECT_TRUE(std::is_sorted(fronts[k].begin(), fronts[k].end()));
      for (std::size_t i : fronts[k]) {
        EXPECT_EQ(front_of[i], n);
        front_of[i] = k;
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_LT(front_of[i], n);
      bool by_previous = false;
      for (std::size_t j = 0; j < n; ++j) {
        if (!constrained_dominates(pop[j], pop[i])) continue;
        EXPECT_LT(front_of[j], front_of[i]);
        if (front_of[j] + 1 == front_of[i]) by_previous = true;
      }
      if (front_of[i] > 0) {
        EXPECT_TRUE(by_previous) << "trial " << trial << ": " << i << " in front " << front_of[i];
      }
      // Every feasible individual comes before every infeasible one.
      for (std::size_t j = 0; j < n; ++j) {
        if (pop[i].feasible() && !pop[j].feasible()) {
          EXPECT_LT(front_of[i], front_of[j]);
        }
      }
    }
  }
}

}  // namespace
}  // namespace hwnas::search
