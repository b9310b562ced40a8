// The ranking rule every strategy shares: constrained domination (Deb 2000). A feasible individual
// beats an infeasible one, of two infeasible ones the smaller violation wins, and two feasible ones
// compare on their objectives: Pareto dominance for NSGA-II, score then latency for evolution.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "search/individual.h"

namespace hwnas::search {

// a constrained-dominates b (NSGA-II): feasible over infeasible, smaller violation among the
// infeasible, Pareto dominance on point() among the feasible.
bool constrained_dominates(const Individual& a, const Individual& b);

// a is strictly fitter than b (evolution): feasible over infeasible, smaller violation among the
// infeasible, higher score among the feasible with ties going to the lower latency.
bool fitter(const Individual& a, const Individual& b);

// Non-dominated fronts under constrained domination, best first, indices ascending within each:
// the feasible individuals sorted into fronts by Pareto dominance, then the infeasible ones, one
// front per distinct violation in ascending order.
std::vector<std::vector<std::size_t>> constrained_fronts(std::span<const Individual> pop);

}  // namespace hwnas::search
