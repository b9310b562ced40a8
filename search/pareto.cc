#include "search/pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace hwnas::search {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool comparable(const Point& p) {
  for (std::size_t d = 0; d < p.devices; ++d)
    if (std::isnan(p.latency(d))) return false;
  return !std::isnan(p.score);
}

bool same(const Point& a, const Point& b) {
  for (std::size_t d = 0; d < a.devices; ++d)
    if (a.latency(d) != b.latency(d)) return false;
  return a.score == b.score;
}

bool inside(const Point& p, const Point& reference) {
  for (std::size_t d = 0; d < p.devices; ++d)
    if (!(p.latency(d) <= reference.latency(d))) return false;
  return p.score >= reference.score;
}

using Corner = std::array<double, kMaxDevices>;  // latencies on the devices

// Volume of the union of the boxes [p, reference] over the first `dims` coordinates (minimised):
// a sweep for one and two, else slices along the last coordinate.
double dominated_volume(std::vector<Corner> pts, std::size_t dims, const Corner& reference) {
  if (pts.empty()) return 0;
  const std::size_t last = dims - 1;
  if (dims == 1) {
    double best = reference[0];
    for (const Corner& p : pts) best = std::min(best, p[0]);
    return reference[0] - best;
  }
  std::sort(pts.begin(), pts.end(), [&](const Corner& a, const Corner& b) { return a[last] < b[last]; });
  double volume = 0;
  if (dims == 2) {
    double best = reference[0];  // lowest first coordinate so far
    for (std::size_t i = 0; i < pts.size(); ++i) {
      best = std::min(best, pts[i][0]);
      const double next = i + 1 < pts.size() ? pts[i + 1][1] : reference[1];
      volume += (next - pts[i][1]) * (reference[0] - best);
    }
    return volume;
  }
  std::vector<Corner> slice;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    slice.push_back(pts[i]);
    const double next = i + 1 < pts.size() ? pts[i + 1][last] : reference[last];
    if (next > pts[i][last]) volume += (next - pts[i][last]) * dominated_volume(slice, dims - 1, reference);
  }
  return volume;
}

// Latency ascending, then score descending, then index: a strict weak order on comparable points.
bool latency_order(std::span<const Point> pts, std::size_t a, std::size_t b) {
  if (pts[a].latency_ms != pts[b].latency_ms) return pts[a].latency_ms < pts[b].latency_ms;
  if (pts[a].score != pts[b].score) return pts[a].score > pts[b].score;
  return a < b;
}

}  // namespace

bool dominates(Point a, Point b) {
  if (!comparable(a) || !comparable(b)) return false;
  bool better = a.score > b.score;
  if (a.score < b.score) return false;
  for (std::size_t d = 0; d < a.devices; ++d) {
    if (a.latency(d) > b.latency(d)) return false;
    better = better || a.latency(d) < b.latency(d);
  }
  return better;
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
  const std::size_t devices = pts[front[0]].devices;
  for (std::size_t objective = 0; objective <= devices; ++objective) {  // the latencies, then the score
    auto value = [&](std::size_t pos) {
      const Point& p = pts[front[pos]];
      return objective < devices ? p.latency(objective) : p.score;
    };
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
  if (!order.empty() && pts[order[0]].devices > 1) {
    // Several latencies. By score descending, then latencies ascending, then index: whatever
    // dominates or repeats a point comes before it, so each point is checked against the front kept
    // so far (a point dropped for being dominated has its dominator's dominator kept). O(n·front).
    std::vector<std::size_t> sweep = order;
    std::sort(sweep.begin(), sweep.end(), [&](std::size_t a, std::size_t b) {
      if (pts[a].score != pts[b].score) return pts[a].score > pts[b].score;
      for (std::size_t d = 0; d < pts[a].devices; ++d)
        if (pts[a].latency(d) != pts[b].latency(d)) return pts[a].latency(d) < pts[b].latency(d);
      return a < b;
    });
    for (std::size_t i : sweep) {
      bool out = false;
      for (std::size_t j = 0; j < front.size() && !out; ++j)
        out = dominates(pts[front[j]], pts[i]) || same(pts[front[j]], pts[i]);
      if (!out) front.push_back(i);
    }
    std::sort(front.begin(), front.end(), [&](std::size_t a, std::size_t b) { return latency_order(pts, a, b); });
    return front;
  }
  for (std::size_t i : order)
    if (front.empty() || pts[i].score > pts[front.back()].score) front.push_back(i);
  return front;
}

double hypervolume(std::span<const Point> pts, Point reference) {
  std::vector<std::size_t> in;
  for (std::size_t i = 0; i < pts.size(); ++i)
    if (inside(pts[i], reference)) in.push_back(i);
  double volume = 0;
  if (reference.devices > 1) {
    // Only the non-dominated points add volume. By score descending: between one point's score and
    // the next lower one, the slice is the latency volume of every point scoring at least as much.
    std::vector<Point> kept;
    for (std::size_t i : in) kept.push_back(pts[i]);
    std::vector<Point> front;
    for (std::size_t k : pareto_front(kept)) front.push_back(kept[k]);
    std::sort(front.begin(), front.end(), [](const Point& a, const Point& b) { return a.score > b.score; });
    Corner ref{};
    for (std::size_t d = 0; d < reference.devices; ++d) ref[d] = reference.latency(d);
    std::vector<Corner> above;
    for (std::size_t i = 0; i < front.size(); ++i) {
      Corner c{};
      for (std::size_t d = 0; d < reference.devices; ++d) c[d] = front[i].latency(d);
      above.push_back(c);
      const double next = i + 1 < front.size() ? front[i + 1].score : reference.score;
      if (front[i].score > next) volume += (front[i].score - next) * dominated_volume(above, reference.devices, ref);
    }
    return volume;
  }
  // One device. Points inside the box, by latency: each one on the staircase adds the strip between
  // the best score so far and its own, from its latency to the reference latency.
  std::sort(in.begin(), in.end(), [&](std::size_t a, std::size_t b) { return latency_order(pts, a, b); });
  double best = reference.score;
  for (std::size_t i : in) {
    if (pts[i].score <= best) continue;
    volume += (reference.latency_ms - pts[i].latency_ms) * (pts[i].score - best);
    best = pts[i].score;
  }
  return volume;
}

}  // namespace hwnas::search
