// Pareto tools for latency (minimised, on one device or several) against score (maximised):
// dominance, fast non-dominated sorting and crowding distance (NSGA-II, Deb et al. 2002), and the
// exact hypervolume against a reference point (2-D by a sweep; with several devices by slicing
// along the score, O(n^(devices+1)) at worst for n non-dominated points). All points of one call
// have the same number of devices.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "search/individual.h"

namespace hwnas::search {

// a dominates b: no worse in every objective and better in at least one.
bool dominates(Point a, Point b);

// Fronts in order (front 0 = non-dominated); indices ascending within each front.
std::vector<std::vector<std::size_t>> non_dominated_fronts(std::span<const Point> pts);

// Crowding distance of each member of `front` (same order): +inf at both ends of each objective,
// else the sum over objectives of the normalised gap between the neighbours.
std::vector<double> crowding_distance(std::span<const Point> pts, std::span<const std::size_t> front);

// Indices of the non-dominated points, sorted by (first device's) latency, then score descending
// (duplicates kept once: the lowest index).
std::vector<std::size_t> pareto_front(std::span<const Point> pts);

// Volume dominated by `pts` inside the box bounded by `reference` (every latency ≤ the reference's
// on that device, score ≥ reference.score); points outside the box contribute nothing. Exact; one
// device: O(n log n).
double hypervolume(std::span<const Point> pts, Point reference);

}  // namespace hwnas::search
