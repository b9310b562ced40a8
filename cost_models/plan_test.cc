#include "cost_models/plan.h"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

namespace hwnas::cost {
namespace {

Pool pool_of_hybrid_vit() {
  auto sp = space::builtin_space("hybrid-vit");
  EXPECT_TRUE(sp);
  auto h = holdout_set(*sp);
  EXPECT_TRUE(h);
  auto pool = build_pool(*sp, *h, 300, 10, 1);
  EXPECT_TRUE(pool);
  return std::move(pool).value();
}

TEST(Plan, PoolUnitsAreDistinctAndInitialRoundCoversEveryGroup) {
  const Pool pool = pool_of_hybrid_vit();
  std::set<std::uint64_t> sigs;
  std::set<std::size_t> groups;
  for (const PoolItem& it : pool.units) {
    EXPECT_TRUE(sigs.insert(it.signature).second);
    groups.insert(it.group.index());
  }
  EXPECT_GE(groups.size(), 8u);  // stem, downsamples, head and the block mixers of the space
  Planner planner(pool);
  const auto first = planner.initial(3);
  std::set<std::size_t> covered;
  for (std::size_t i : first) covered.insert(pool.units[i].group.index());
  EXPECT_EQ(covered, groups);
  EXPECT_LE(first.size(), 3 * groups.size());
}

TEST(Plan, NextGoesWhereTheResidualsAreLarge) {
  const Pool pool = pool_of_hybrid_vit();
  Planner planner(pool);
  for (std::size_t i : planner.initial(3)) planner.mark_measured(i, 0.0);
  // Make one group's measured units badly predicted; the next picks go mostly there.
  std::vector<std::size_t> per_group(kGroupSlots, 0);
  for (const PoolItem& it : pool.units) ++per_group[it.group.index()];
  const auto largest =
      static_cast<std::size_t>(std::max_element(per_group.begin(), per_group.end()) - per_group.begin());
  Group bad;
  for (const PoolItem& it : pool.units)
    if (it.group.index() == largest) bad = it.group;
  std::size_t bad_group_items = 0;
  for (std::size_t i = 0; i < pool.units.size(); ++i) {
    if (pool.units[i].group.index() != bad.index()) continue;
    ++bad_group_items;
    if (planner.measured(i)) planner.set_residual(i, 0.5);
  }
  ASSERT_GT(bad_group_items, 8u);
  const auto picks = planner.next(4);
  ASSERT_EQ(picks.size(), 4u);
  for (std::size_t i : picks) {
    EXPECT_EQ(pool.units[i].group.index(), bad.index()) << group_name(pool.units[i].group);
    EXPECT_FALSE(planner.measured(i));
  }
  const std::size_t before = planner.remaining();
  planner.mark_measured(picks[0]);
  EXPECT_EQ(planner.remaining(), before - 1);
}

}  // namespace
}  // namespace hwnas::cost
