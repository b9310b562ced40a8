// Pareto tools for two objectives (latency minimised, score maximised): dominance, fast
// non-dominated sorting and crowding distance (NSGA-II, Deb et al. 2002), and the exact 2-D
// hypervolume against a reference point.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "search/individual.h"

namespace hwnas::search {

// a dominates b: no worse in both objectives and better in at least one.
bool dominates(Point a, Point b);

// Fronts in order (front 0 = non-dominated); indices ascending within each front.
std::vector<std::vector<std::size_t>> non_dominated_fronts(std::span<const Point> pts);

// Crowding distance of each member of `front` (same order): +inf at both ends of each objective,
// else the sum over objectives of the normalised gap between the neighbours.
std::vector<double> crowding_distance(std::span<const Point> pts, std::span<const std::size_t> front);

// Indices of the non-dominated points, sorted by latency (duplicates kept once: the lowest index).
std::vector<std::size_t> pareto_front(std::span<const Point> pts);

// Area dominated by `pts` inside the box bounded by `reference` (latency ≤ reference.latency_ms,
// score ≥ reference.score); points outside the box contribute nothing. Exact, O(n log n).
double hypervolume(std::span<const Point> pts, Point reference);

}  // namespace hwnas::search
