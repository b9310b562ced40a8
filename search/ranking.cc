#include "search/ranking.h"

#include <map>

#include "search/pareto.h"

namespace hwnas::search {

bool constrained_dominates(const Individual& a, const Individual& b) {
  if (a.feasible() != b.feasible()) return a.feasible();
  if (!a.feasible()) return a.violation_ms < b.violation_ms;
  return dominates(a.point(), b.point());
}

bool fitter(const Individual& a, const Individual& b) {
  if (a.feasible() != b.feasible()) return a.feasible();
  if (!a.feasible()) return a.violation_ms < b.violation_ms;
  if (a.score != b.score) return a.score > b.score;
  return a.latency_ms < b.latency_ms;
}

std::vector<std::vector<std::size_t>> constrained_fronts(std::span<const Individual> pop) {
  std::vector<std::size_t> feasible;
  std::map<double, std::vector<std::size_t>> infeasible;  // by violation, ascending
  for (std::size_t i = 0; i < pop.size(); ++i) {
    if (pop[i].feasible())
      feasible.push_back(i);
    else
      infeasible[pop[i].violation_ms].push_back(i);
  }
  std::vector<Point> points;
  points.reserve(feasible.size());
  for (std::size_t i : feasible) points.push_back(pop[i].point());
  std::vector<std::vector<std::size_t>> fronts = non_dominated_fronts(points);
  for (auto& front : fronts)
    for (std::size_t& i : front) i = feasible[i];  // `feasible` is ascending, so fronts stay sorted
  for (auto& [violation, front] : infeasible) fronts.push_back(std::move(front));
  return fronts;
}

}  // namespace hwnas::search
