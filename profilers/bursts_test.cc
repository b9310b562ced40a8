// The burst policy against hand-worked cases: when another burst is wanted, and the spread.
#include "profilers/bursts.h"

#include <vector>

#include <gtest/gtest.h>

namespace hwnas::prof {
namespace {

bool more(const std::vector<double>& b, const BurstPolicy& p) {
  return wants_another_burst(b, p);
}

TEST(Bursts, DefaultPolicyIsOneBurst) {
  const BurstPolicy one;
  EXPECT_TRUE(more({}, one));
  EXPECT_FALSE(more({100}, one));
}

TEST(Bursts, AtLeastTwoThenUntilTheTwoFastestAgree) {
  const BurstPolicy p = BurstPolicy::up_to(4, 0.03);
  EXPECT_EQ(p.min_bursts, 2);
  EXPECT_EQ(p.max_bursts, 4);
  EXPECT_TRUE(more({}, p));
  EXPECT_TRUE(more({100}, p));        // the minimum, however settled one burst looks
  EXPECT_FALSE(more({100, 102}, p));  // 2% apart
  EXPECT_TRUE(more({100, 104}, p));   // 4% apart
  EXPECT_TRUE(more({130, 100}, p));   // the first burst in a slow phase
  // The two fastest decide, whatever the order and however slow the others.
  EXPECT_FALSE(more({130, 100, 101}, p));
  EXPECT_FALSE(more({101, 130, 100}, p));
  EXPECT_TRUE(more({130, 100, 110}, p));
  EXPECT_FALSE(more({130, 100, 110, 120}, p));  // the maximum
}

TEST(Bursts, UpToClampsTheMinimumToTheMaximum) {
  const BurstPolicy p = BurstPolicy::up_to(1, 0.03);
  EXPECT_EQ(p.min_bursts, 1);
  EXPECT_TRUE(more({}, p));
  EXPECT_FALSE(more({130}, p));
  EXPECT_EQ(BurstPolicy::up_to(0, 0.03).max_bursts, 1);
}

TEST(Bursts, TheToleranceItselfAgrees) {
  EXPECT_FALSE(more({125, 100}, BurstPolicy::up_to(3, 0.25)));  // 1.25 − 1 is exact in binary
  EXPECT_TRUE(more({125.1, 100}, BurstPolicy::up_to(3, 0.25)));
}

TEST(Bursts, EqualFastestBurstsAgree) {
  EXPECT_FALSE(more({100, 100}, BurstPolicy::up_to(3, 0.0)));
  EXPECT_TRUE(more({100, 100.5}, BurstPolicy::up_to(3, 0.0)));
}

TEST(Bursts, SpreadIsSlowestOverFastest) {
  EXPECT_EQ(burst_spread(std::vector<double>{}), 0.0);
  EXPECT_EQ(burst_spread(std::vector<double>{100}), 0.0);
  EXPECT_DOUBLE_EQ(burst_spread(std::vector<double>{125, 100, 110}), 0.25);
  EXPECT_DOUBLE_EQ(burst_spread(std::vector<double>{100, 100}), 0.0);
}

}  // namespace
}  // namespace hwnas::prof
