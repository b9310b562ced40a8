#include "search/pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace hwnas::search {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool comparable(Point p) {
  return !std::isnan(p.latency_ms) && !std::isnan(p.score);
}

// Latency ascending, then score descending, then index: a strict weak order on comparable points.
bool latency_order(std::span<const Point> pts, std::size_t a, std::size_t b) {
  if (pts[a].latency_ms != pts[b].latency_ms) return pts[a].latency_ms < pts[b].latency_ms;
  if (pts[a].score != pts[b].score) return pts[a].score > pts[b].score;
  return a < b;
}

}  // namespace

bool dominates(Point a, Point b) {
  return a.latency_ms <= b.latency_ms && a.score >= b.score && (a.latency_ms < b.latency_ms || a.score > b.score);
}

std::vector<std::vector<std::size_t>> non_dominated_fronts(std::span<const Point> pts) {
  // Deb et al. 2002: for each point the set it dominates and the count of points dominating it;
  // front k+1 is what is left with no dominator once fronts 0..k are removed.
  const std::size_t n = pts.size();
  std::vector<std::vector<std::size_t>> dominated(n);
  std::vector<std::size_t> dominators(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      if (dominates(pts[i], pts[j])) {
        dominated[i].push_back(j);
        ++dominators[j];
      } else if (dominates(pts[j], pts[i])) {
        dominated[j].push_back(i);
        ++dominators[i];
      }
    }
  }
  std::vector<std::vector<std::size_t>> fronts;
  std::vector<std::size_t> current;
  for (std::size_t i = 0; i < n; ++i)
    if (dominators[i] == 0) current.push_back(i);
  while (!current.empty()) {
    std::vector<std::size_t> next;
    for (std::size_t i : current)
      for (std::size_t j : dominated[i])
        if (--dominators[j] == 0) next.push_back(j);
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(current));
    current = std::move(next);
  }
  return fronts;
}

std::vector<double> crowding_distance(std::span<const Point> pts, std::span<const std::size_t> front) {
  const std::size_t m = front.size();
  std::vector<double> distance(m, 0.0);
  if (m <= 2) return std::vector<double>(m, kInf);
  std::vector<std::size_t> order(m);  // positions in `front`
  for (const auto objective : {&Point::latency_ms, &Point::score}) {
    auto value = [&](std::size_t pos) { return pts[front[pos]].*objective; };
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return value(a) < value(b); });
    distance[order.front()] = kInf;
    distance[order.back()] = kInf;
    const double range = value(order.back()) - value(order.front());
    if (!(range > 0)) continue;  // all equal in this objective: it separates nobody
    for (std::size_t k = 1; k + 1 < m; ++k) distance[order[k]] += (value(order[k + 1]) - value(order[k - 1])) / range;
  }
  return distance;
}

std::vector<std::size_t> pareto_front(std::span<const Point> pts) {
  // Sweep by latency (score descending within a latency): a point is on the front iff it scores
  // strictly more than every point before it. The first of equal points (lowest index) is kept.
  // Points with a NaN coordinate are comparable with nothing and left out.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < pts.size(); ++i)
    if (comparable(pts[i])) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return latency_order(pts, a, b); });
  std::vector<std::size_t> front;
  for (std::size_t i : order)
    if (front.empty() || pts[i].score > pts[front.back()].score) front.push_back(i);
  return front;
}

double hypervolume(std::span<const Point> pts, Point reference) {
  // Points inside the box, by latency: each one on the staircase adds the strip between the best
  // score so far and its own, from its latency to the reference latency.
  std::vector<std::size_t> inside;
  for (std::size_t i = 0; i < pts.size(); ++i)
    if (pts[i].latency_ms <= reference.latency_ms && pts[i].score >= reference.score) inside.push_back(i);
  std::sort(inside.begin(), inside.end(), [&](std::size_t a, std::size_t b) { return latency_order(pts, a, b); });
  double volume = 0;
  double best = reference.score;
  for (std::size_t i : inside) {
    if (pts[i].score <= best) continue;
    volume += (reference.latency_ms - pts[i].latency_ms) * (pts[i].score - best);
    best = pts[i].score;
  }
  return volume;
}

}  // namespace hwnas::search
