#include "search/pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <gtest/gtest.h>

#include "space/rng.h"

namespace hwnas::search {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Points on a small integer grid, so that ties and duplicates are common.
std::vector<Point> grid_points(space::Rng& rng, std::size_t n, std::uint32_t side) {
  std::vector<Point> pts(n);
  for (Point& p : pts) p = {static_cast<double>(rng.below(side)), static_cast<double>(rng.below(side))};
  return pts;
}

std::vector<Point> real_points(space::Rng& rng, std::size_t n) {
  std::vector<Point> pts(n);
  for (Point& p : pts) p = {10 * rng.uniform(), 5 * rng.uniform() - 1};
  return pts;
}

// Area of the union of the boxes [p.latency, ref.latency] × [ref.score, p.score], by brute force:
// the distinct coordinates cut the plane into cells, and a cell counts when some box holds its
// centre. O(n³), independent of the sweep under test.
double union_area(const std::vector<Point>& pts, Point ref) {
  std::set<double> xs = {ref.latency_ms}, ys = {ref.score};
  for (const Point& p : pts) {
    if (p.latency_ms <= ref.latency_ms) xs.insert(p.latency_ms);
    if (p.score >= ref.score) ys.insert(p.score);
  }
  const std::vector<double> x(xs.begin(), xs.end()), y(ys.begin(), ys.end());
  double area = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    for (std::size_t j = 0; j + 1 < y.size(); ++j) {
      const double cx = (x[i] + x[i + 1]) / 2, cy = (y[j] + y[j + 1]) / 2;
      if (cx > ref.latency_ms || cy < ref.score) continue;
      const bool covered = std::any_of(pts.begin(), pts.end(), [&](const Point& p) {
        return p.latency_ms <= ref.latency_ms && p.score >= ref.score && p.latency_ms <= cx && p.score >= cy;
      });
      if (covered) area += (x[i + 1] - x[i]) * (y[j + 1] - y[j]);
    }
  }
  return area;
}

TEST(Pareto, DominatesNeedsNoWorseInBothAndBetterInOne) {
  EXPECT_TRUE(dominates({1, 5}, {2, 5}));   // faster, same score
  EXPECT_TRUE(dominates({1, 5}, {1, 4}));   // same latency, better score
  EXPECT_TRUE(dominates({1, 5}, {2, 4}));   // both better
  EXPECT_FALSE(dominates({1, 5}, {1, 5}));  // equal
  EXPECT_FALSE(dominates({1, 4}, {2, 5}));  // a trade-off
  EXPECT_FALSE(dominates({2, 4}, {1, 5}));
}

TEST(Pareto, FrontsMatchTheDefinitionOnRandomSets) {
  space::Rng rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = rng.below(40);
    const std::vector<Point> pts = trial % 2 == 0 ? grid_points(rng, n, 6) : real_points(rng, n);
    const auto fronts = non_dominated_fronts(pts);
    // A partition of the indices, ascending within each front, no front empty.
    std::vector<std::size_t> front_of(n, n);
    for (std::size_t k = 0; k < fronts.size(); ++k) {
      ASSERT_FALSE(fronts[k].empty());
      EXPECT_TRUE(std::is_sorted(fronts[k].begin(), fronts[k].end()));
      for (std::size_t i : fronts[k]) {
        ASSERT_LT(i, n);
        EXPECT_EQ(front_of[i], n) << "index " << i << " in two fronts";
        front_of[i] = k;
      }
    }
    for (std::size_t i = 0; i < n; ++i) ASSERT_LT(front_of[i], n) << "index " << i << " in no front";
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t k = front_of[i];
      bool by_previous = false;
      for (std::size_t j = 0; j < n; ++j) {
        if (!dominates(pts[j], pts[i])) continue;
        EXPECT_LT(front_of[j], k) << "point " << i << " is dominated by " << j << " of a front not before it";
        if (front_of[j] + 1 == k) by_previous = true;
      }
      if (k > 0) {
        EXPECT_TRUE(by_previous) << "point " << i << " of front " << k << " has no dominator in front " << k - 1;
      }
    }
  }
}

TEST(Pareto, FrontsOfNothingAndOfEqualPoints) {
  EXPECT_TRUE(non_dominated_fronts({}).empty());
  const std::vector<Point> same = {{1, 1}, {1, 1}, {1, 1}};
  const auto fronts = non_dominated_fronts(same);
  ASSERT_EQ(fronts.size(), 1u);
  EXPECT_EQ(fronts[0], (std::vector<std::size_t>{0, 1, 2}));
}

TEST(Pareto, CrowdingDistanceOnAHandComputedFront) {
  // One front: latency 1, 2, 4, 5 (range 4) and score 1, 3, 4, 7 (range 6).
  //   (2, 3): (4 − 1)/4 + (4 − 1)/6 = 0.75 + 0.5      = 1.25
  //   (4, 4): (5 − 2)/4 + (7 − 3)/6 = 0.75 + 0.666667 = 1.416667
  const std::vector<Point> pts = {{1, 1}, {2, 3}, {4, 4}, {5, 7}, {100, -100}};
  const std::vector<std::size_t> front = {3, 1, 0, 2};  // any order: results follow it
  const auto d = crowding_distance(pts, front);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0], kInf);
  EXPECT_DOUBLE_EQ(d[1], 1.25);
  EXPECT_EQ(d[2], kInf);
  EXPECT_DOUBLE_EQ(d[3], 0.75 + 4.0 / 6.0);
}

TEST(Pareto, CrowdingDistanceOfSmallOrFlatFronts) {
  const std::vector<Point> pts = {{1, 1}, {2, 2}, {2, 2}, {2, 2}};
  EXPECT_TRUE(crowding_distance(pts, std::vector<std::size_t>{}).empty());
  EXPECT_EQ(crowding_distance(pts, std::vector<std::size_t>{1}), (std::vector<double>{kInf}));
  EXPECT_EQ(crowding_distance(pts, std::vector<std::size_t>{0, 1}), (std::vector<double>{kInf, kInf}));
  // Equal in both objectives: the ends are infinite, the middle gets nothing (no division by 0).
  const auto flat = crowding_distance(pts, std::vector<std::size_t>{1, 2, 3});
  EXPECT_EQ(flat[0], kInf);
  EXPECT_EQ(flat[1], 0.0);
  EXPECT_EQ(flat[2], kInf);
}

TEST(Pareto, ParetoFrontIsSortedByLatencyAndKeepsTheFirstOfEqualPoints) {
  const std::vector<Point> pts = {{3, 5}, {1, 1}, {3, 5}, {2, 2}, {2, 1}, {4, 5}, {1, 1}, {5, 6}};
  EXPECT_EQ(pareto_front(pts), (std::vector<std::size_t>{1, 3, 0, 7}));
  EXPECT_TRUE(pareto_front({}).empty());
}

TEST(Pareto, ParetoFrontMatchesTheDefinitionOnRandomSets) {
  space::Rng rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const std::vector<Point> pts =
        trial % 2 == 0 ? grid_points(rng, rng.below(40), 5) : real_points(rng, rng.below(40));
    std::vector<std::size_t> expected;  // non-dominated, first of its equals, by latency
    for (std::size_t i = 0; i < pts.size(); ++i) {
      bool keep = true;
      for (std::size_t j = 0; j < pts.size() && keep; ++j) {
        const bool equal_before = j < i && pts[j].latency_ms == pts[i].latency_ms && pts[j].score == pts[i].score;
        if (dominates(pts[j], pts[i]) || equal_before) keep = false;
      }
      if (keep) expected.push_back(i);
    }
    std::sort(expected.begin(), expected.end(),
              [&](std::size_t a, std::size_t b) { return pts[a].latency_ms < pts[b].latency_ms; });
    EXPECT_EQ(pareto_front(pts), expected);
  }
}

TEST(Pareto, HypervolumeOfHandComputedSets) {
  const Point ref{10, 0};
  EXPECT_EQ(hypervolume({}, ref), 0.0);
  const std::vector<Point> one = {{4, 3}};
  EXPECT_DOUBLE_EQ(hypervolume(one, ref), 6 * 3);
  // A staircase: (2, 1), (5, 4), (8, 6): 8·1 + 5·3 + 2·2 = 27; a dominated point and points outside
  // the box (too slow, scoring below the reference) change nothing.
  const std::vector<Point> stairs = {{5, 4}, {2, 1}, {8, 6}, {6, 3}, {11, 9}, {1, -1}, {10, 7}};
  EXPECT_DOUBLE_EQ(hypervolume(stairs, ref), 27);
}

TEST(Pareto, HypervolumeMatchesTheBoxUnionOnRandomSets) {
  space::Rng rng(3);
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = rng.below(30);
    const std::vector<Point> pts = trial % 2 == 0 ? grid_points(rng, n, 8) : real_points(rng, n);
    const Point ref = trial % 2 == 0 ? Point{6, 2} : Point{8 * rng.uniform() + 1, rng.uniform()};
    EXPECT_NEAR(hypervolume(pts, ref), union_area(pts, ref), 1e-9) << "trial " << trial;
  }
}

// Points with latencies on `devices` devices and a score, all small integers (ties are common).
std::vector<Point> device_points(space::Rng& rng, std::size_t n, std::size_t devices, std::uint32_t side) {
  std::vector<Point> pts(n);
  for (Point& p : pts) {
    p.devices = devices;
    for (std::size_t d = 0; d < devices; ++d) p.set_latency(d, static_cast<double>(rng.below(side)));
    p.score = static_cast<double>(rng.below(side));
  }
  return pts;
}

// Volume dominated inside the reference box, counting unit cells: with integer coordinates every
// cell is either wholly dominated or not. Independent of the slicing under test.
double counted_volume(const std::vector<Point>& pts, const Point& ref) {
  const std::size_t dims = ref.devices;
  std::vector<int> lo(dims + 1, 0), hi(dims + 1);
  for (std::size_t d = 0; d < dims; ++d) hi[d] = static_cast<int>(ref.latency(d));
  lo[dims] = static_cast<int>(ref.score);
  hi[dims] = 0;
  for (const Point& p : pts) hi[dims] = std::max(hi[dims], static_cast<int>(p.score));
  double cells = 0;
  std::vector<int> c(lo);  // the cell [c, c+1) in every coordinate
  while (true) {
    const bool covered = std::any_of(pts.begin(), pts.end(), [&](const Point& p) {
      for (std::size_t d = 0; d < dims; ++d)
        if (p.latency(d) > ref.latency(d) || p.latency(d) > c[d]) return false;
      return p.score >= ref.score && p.score >= c[dims] + 1;
    });
    cells += covered ? 1 : 0;
    std::size_t k = 0;
    while (k <= dims && ++c[k] >= hi[k]) c[k] = lo[k], ++k;
    if (k > dims) break;
  }
  return cells;
}

TEST(Pareto, SeveralDevicesDominanceNeedsEveryLatency) {
  Point a{1, 5}, b{1, 5};
  a.devices = b.devices = 2;
  a.more_ms[0] = 2;
  b.more_ms[0] = 3;
  EXPECT_TRUE(dominates(a, b));  // equal on the first device and the score, faster on the second
  EXPECT_FALSE(dominates(b, a));
  b.latency_ms = 0.5;  // now a trade-off between the devices
  EXPECT_FALSE(dominates(a, b));
  EXPECT_FALSE(dominates(b, a));
  Point nan{5, 1};
  nan.devices = 2;
  nan.more_ms[0] = std::nan("");
  EXPECT_FALSE(dominates(nan, b));  // a NaN latency compares with nothing
  EXPECT_FALSE(dominates(b, nan));
}

TEST(Pareto, SeveralDevicesFrontAndHypervolumeMatchBruteForce) {
  space::Rng rng(11);
  for (int trial = 0; trial < 150; ++trial) {
    const std::size_t devices = 2 + trial % 2;
    const std::vector<Point> pts = device_points(rng, rng.below(25), devices, 7);
    // The front: exactly the points nobody dominates, one of each group of equal points.
    const auto front = pareto_front(pts);
    std::set<std::size_t> on(front.begin(), front.end());
    for (std::size_t i = 0; i < pts.size(); ++i) {
      bool dominated = false, repeated = false;
      for (std::size_t j = 0; j < pts.size(); ++j) {
        dominated = dominated || dominates(pts[j], pts[i]);
        bool equal = pts[j].score == pts[i].score;
        for (std::size_t d = 0; d < devices; ++d) equal = equal && pts[j].latency(d) == pts[i].latency(d);
        repeated = repeated || (j < i && equal);
      }
      EXPECT_EQ(on.count(i) == 1, !dominated && !repeated) << "trial " << trial << " point " << i;
    }
    Point ref;
    ref.devices = devices;
    for (std::size_t d = 0; d < devices; ++d) ref.set_latency(d, 5);
    ref.score = 1;
    EXPECT_DOUBLE_EQ(hypervolume(pts, ref), counted_volume(pts, ref)) << "trial " << trial;
  }
}

TEST(Pareto, OneDeviceOfSeveralGivesTheTwoDimensionalVolume) {
  // Every point equal on the second device (at 0, reference 1): the volume is the 2-D area.
  space::Rng rng(5);
  const std::vector<Point> flat = real_points(rng, 30);
  std::vector<Point> wide = flat;
  for (Point& p : wide) p.devices = 2;
  Point ref{8, 0};
  Point wide_ref = ref;
  wide_ref.devices = 2;
  wide_ref.more_ms[0] = 1;
  EXPECT_NEAR(hypervolume(wide, wide_ref), hypervolume(flat, ref), 1e-9);
}

}  // namespace
}  // namespace hwnas::search
