#include "cost_models/plan.h"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "space/canonical.h"
#include "space/presets.h"
#include "space/seed_spaces.h"

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

// Neighbours of a preset (FinerCut removals from deit-small, which is held out): their units join the
// pool, their archs the network list between the space's own, and deit-small itself never does.
TEST(Plan, NeighbourArchsJoinInterleavedAndNeverHeldOut) {
  auto sp = space::builtin_space("hybrid-vit");
  ASSERT_TRUE(sp);
  auto h = holdout_set(*sp);
  ASSERT_TRUE(h);
  auto base = space::preset("deit-small");
  ASSERT_TRUE(base);
  const std::string base_hash = space::hash_hex(space::arch_hash(*base));
  ASSERT_TRUE(h->contains(base_hash));
  auto near = space::seed_space("finercut", *base, "deit-small");
  ASSERT_TRUE(near) << near.error().message;
  auto plain = build_pool(*sp, *h, 300, 10, 1);
  auto pool = build_pool(*sp, *h, 300, 10, 1, kTrainingSeed, {*near}, 4);
  ASSERT_TRUE(plain && pool);
  ASSERT_EQ(pool->networks.size(), 14u);
  std::set<std::string> hashes;
  for (std::size_t i = 0; i < pool->networks.size(); ++i) {
    const std::string hash = space::hash_hex(space::arch_hash(*pool->networks[i]));
    EXPECT_FALSE(h->contains(hash)) << i;
    EXPECT_TRUE(hashes.insert(hash).second) << i;
    // Neighbours at 1, 3, 5, 7: deit-small's 12 blocks of 384 channels with some sublayers removed.
    const bool neighbour = i % 2 == 1 && i < 8;
    EXPECT_EQ(pool->networks[i]->stages.size() == 1 && pool->networks[i]->stages[0].blocks.size() == 12, neighbour)
        << i;
    if (!neighbour) {
      EXPECT_EQ(hash, space::hash_hex(space::arch_hash(*plain->networks[i < 8 ? i / 2 : i - 4]))) << i;
    }
  }
  // Every unit of the plain pool is still there, and deit-small's block shapes come with the neighbours.
  EXPECT_GT(pool->units.size(), plain->units.size());
  for (std::size_t i = 0; i < plain->units.size(); ++i) EXPECT_EQ(pool->units[i].signature, plain->units[i].signature);
  bool msa_384 = false;
  for (std::size_t i = plain->units.size(); i < pool->units.size(); ++i)
    msa_384 = msa_384 || (group_name(pool->units[i].group) == "block/msa" && pool->units[i].arch->stages.size() == 1);
  EXPECT_TRUE(msa_384);
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
