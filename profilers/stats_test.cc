// Order statistics against hand-computed values (MEASURE.md step 5 for the CI of the median).
#include "profilers/stats.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace hwnas::prof {
namespace {

// 1, 2, ..., n: the k-th order statistic (1-based) is k, so a CI reads back as its indices.
std::vector<double> one_to(int n) {
  std::vector<double> v;
  for (int i = 1; i <= n; ++i) v.push_back(static_cast<double>(i));
  return v;
}

TEST(Percentile, InterpolatesLinearlyBetweenOrderStatistics) {
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(percentile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(percentile(v, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(percentile(v, 0.5), 2.5);    // position 1.5: halfway between 2 and 3
  EXPECT_DOUBLE_EQ(percentile(v, 0.25), 1.75);  // position 0.75
  EXPECT_DOUBLE_EQ(percentile(v, 0.75), 3.25);  // position 2.25
  const std::vector<double> w = {10, 20, 30, 40, 50};
  EXPECT_DOUBLE_EQ(percentile(w, 0.5), 30.0);    // odd count: the middle value
  EXPECT_NEAR(percentile(w, 0.9), 46.0, 1e-12);  // position 3.6: 40 + 0.6·10
  EXPECT_NEAR(percentile(w, 0.1), 14.0, 1e-12);  // position 0.4: 10 + 0.4·10
  // Unequal gaps: position 0.5·(5 − 1) = 2 → exactly the third value.
  const std::vector<double> u = {1, 2, 100, 1000, 1001};
  EXPECT_DOUBLE_EQ(percentile(u, 0.5), 100.0);
  EXPECT_NEAR(percentile(u, 0.6), 100.0 + 0.4 * 900.0, 1e-9);  // position 2.4
}

TEST(Percentile, EdgeCases) {
  EXPECT_EQ(percentile({}, 0.5), 0.0);
  EXPECT_EQ(percentile({7.5}, 0.0), 7.5);
  EXPECT_EQ(percentile({7.5}, 0.99), 7.5);
  EXPECT_EQ(percentile({7.5}, 1.0), 7.5);
}

// CI of the median: [x(j), x(k)], j = ⌊n/2 − 0.98√n⌋, k = ⌈n/2 + 1 + 0.98√n⌉ (1-based).
TEST(MedianCi95, HandComputedForTenFiftyAndHundredSamples) {
  // n = 10: 0.98·√10 = 3.0990; j = ⌊5 − 3.0990⌋ = ⌊1.901⌋ = 1; k = ⌈6 + 3.0990⌉ = ⌈9.099⌉ = 10.
  auto [lo10, hi10] = median_ci95(one_to(10));
  EXPECT_EQ(lo10, 1.0);
  EXPECT_EQ(hi10, 10.0);
  // n = 50: 0.98·√50 = 6.9296; j = ⌊25 − 6.9296⌋ = ⌊18.07⌋ = 18; k = ⌈26 + 6.9296⌉ = ⌈32.93⌉ = 33.
  auto [lo50, hi50] = median_ci95(one_to(50));
  EXPECT_EQ(lo50, 18.0);
  EXPECT_EQ(hi50, 33.0);
  // n = 100: 0.98·√100 = 9.8; j = ⌊50 − 9.8⌋ = 40; k = ⌈51 + 9.8⌉ = 61.
  auto [lo100, hi100] = median_ci95(one_to(100));
  EXPECT_EQ(lo100, 40.0);
  EXPECT_EQ(hi100, 61.0);
}

TEST(MedianCi95, ReadsValuesNotIndices) {
  // Values 10·i: n = 50 gives [x(18), x(33)] = [180, 330].
  std::vector<double> v;
  for (int i = 1; i <= 50; ++i) v.push_back(10.0 * i);
  auto [lo, hi] = median_ci95(v);
  EXPECT_EQ(lo, 180.0);
  EXPECT_EQ(hi, 330.0);
}

TEST(MedianCi95, MatchesTheFormulaForEveryCountUpTo300) {
  for (int n = 1; n <= 300; ++n) {
    const double half = 0.98 * std::sqrt(static_cast<double>(n));
    long j = static_cast<long>(std::floor(n / 2.0 - half));
    long k = static_cast<long>(std::ceil(n / 2.0 + 1.0 + half));
    j = std::max(1L, std::min(j, static_cast<long>(n)));
    k = std::max(1L, std::min(k, static_cast<long>(n)));
    auto [lo, hi] = median_ci95(one_to(n));
    EXPECT_EQ(lo, static_cast<double>(j)) << "n = " << n;
    EXPECT_EQ(hi, static_cast<double>(k)) << "n = " << n;
    EXPECT_LE(lo, percentile(one_to(n), 0.5)) << "n = " << n;
    EXPECT_GE(hi, percentile(one_to(n), 0.5)) << "n = " << n;
  }
}

TEST(MedianCi95, SmallCountsClampToTheSample) {
  EXPECT_EQ(median_ci95({}), std::make_pair(0.0, 0.0));
  EXPECT_EQ(median_ci95({4.0}), std::make_pair(4.0, 4.0));
  // n = 2: j = ⌊1 − 1.386⌋ = −1 → 1; k = ⌈2 + 1.386⌉ = 4 → 2.
  EXPECT_EQ(median_ci95({1.0, 2.0}), std::make_pair(1.0, 2.0));
  // Identical samples: the interval is a point (the timing loop's "tight CI" for a steady call).
  EXPECT_EQ(median_ci95(std::vector<double>(40, 3.5)), std::make_pair(3.5, 3.5));
}

TEST(TrimmedMean, TenPercentOfZeroToNinetyNine) {
  std::vector<double> v;
  for (int i = 0; i < 100; ++i) v.push_back(i);
  // Drops 0..9 and 90..99: the mean of 10..89 is 49.5.
  EXPECT_DOUBLE_EQ(trimmed_mean(v, 0.1), 49.5);
  EXPECT_DOUBLE_EQ(trimmed_mean(v, 0.0), 49.5);  // nothing trimmed: the plain mean
}

TEST(TrimmedMean, IgnoresAnOutlier) {
  std::vector<double> v;
  for (int i = 0; i < 99; ++i) v.push_back(i);
  v.push_back(1e9);  // sorted: 0..98, 1e9
  // Trimmed: 10..89 remain, the outlier is gone.
  EXPECT_DOUBLE_EQ(trimmed_mean(v, 0.1), 49.5);
  // The plain mean is dominated by it: (0 + … + 98 + 1e9) / 100.
  EXPECT_DOUBLE_EQ(mean(v), (98.0 * 99.0 / 2.0 + 1e9) / 100.0);
}

TEST(TrimmedMean, RoundsTheCutDownAndFallsBackToTheMedian) {
  // n = 15, 10%: ⌊1.5⌋ = 1 dropped at each end → mean of 2..14 = 8.
  EXPECT_DOUBLE_EQ(trimmed_mean(one_to(15), 0.1), 8.0);
  // Asymmetric data: {1, 1, 1, 1, 1, 1, 1, 1, 1, 100} at 10% drops one 1 and the 100 → 1.
  std::vector<double> a(9, 1.0);
  a.push_back(100.0);
  EXPECT_DOUBLE_EQ(trimmed_mean(a, 0.1), 1.0);
  // Trimming everything leaves the median.
  EXPECT_DOUBLE_EQ(trimmed_mean({1.0, 2.0, 10.0}, 0.5), 2.0);
  EXPECT_EQ(trimmed_mean({}, 0.1), 0.0);
}

TEST(MeanStddev, TextbookExample) {
  const std::vector<double> v = {2, 4, 4, 4, 5, 5, 7, 9};
  EXPECT_DOUBLE_EQ(mean(v), 5.0);
  // Sum of squared deviations 9+1+1+1+0+0+4+16 = 32; the sample (n − 1) standard deviation √(32/7).
  EXPECT_DOUBLE_EQ(stddev(v), std::sqrt(32.0 / 7.0));
  EXPECT_EQ(mean({}), 0.0);
  EXPECT_EQ(stddev({}), 0.0);
  EXPECT_EQ(stddev({3.0}), 0.0);
  EXPECT_EQ(stddev(std::vector<double>(5, 2.0)), 0.0);
}

}  // namespace
}  // namespace hwnas::prof
