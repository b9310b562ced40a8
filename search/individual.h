// What the search knows of one candidate, and the two-objective view of it: latency (ms, minimised,
// under a budget) and an accuracy score (maximised). Shared by the strategies, the Pareto tools and
// the driver.
#pragma once

#include <limits>
#include <string>

#include "space/search_space.h"

namespace hwnas::search {

// One point in objective space: latency is minimised, score maximised.
struct Point {
  double latency_ms = 0;
  double score = 0;
};

struct Individual {
  space::Genome genome;   // repaired (decoding it gives the arch)
  std::string hash;       // space::hash_hex(space::arch_hash(arch))
  double latency_ms = 0;  // what the search believes: measured if measured, else predicted × (1 + margin)
  double score = 0;       // accuracy estimate; meaningful only when `scored`
  bool scored = false;    // false: not estimated (predicted far over budget) or the estimator failed
  bool measured = false;  // latency_ms is a measurement on the device
  // How far from feasible: 0 when within budget and scored; the excess over the budget (ms) when
  // over it; kUnscored when within budget but without a score. Strategies rank by it first
  // (constrained domination, Deb 2000): feasible before infeasible, smaller violation first.
  double violation_ms = 0;

  static constexpr double kUnscored = 1e12;
  bool feasible() const { return violation_ms == 0 && scored; }
  Point point() const { return {latency_ms, score}; }
};

}  // namespace hwnas::search
