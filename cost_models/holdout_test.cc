#include "cost_models/holdout.h"

#include <gtest/gtest.h>

#include "cost_models/plan.h"
#include "space/canonical.h"
#include "space/presets.h"

namespace hwnas::cost {
namespace {

TEST(Holdout, IsEveryPresetAndAFixedSampleList) {
  auto sp = space::builtin_space("hybrid-vit");
  ASSERT_TRUE(sp);
  auto a = holdout_set(*sp), b = holdout_set(*sp);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->presets.size(), space::presets().size());
  ASSERT_EQ(a->samples.size(), static_cast<std::size_t>(kHoldoutSamples));
  for (std::size_t i = 0; i < a->samples.size(); ++i)
    EXPECT_EQ(space::arch_hash(a->samples[i]), space::arch_hash(b->samples[i]));  // the same every time
  for (const space::Arch& p : a->presets) EXPECT_TRUE(a->contains(space::hash_hex(space::arch_hash(p))));
}

TEST(Holdout, TrainingPoolNeverContainsAHeldOutArch) {
  auto sp = space::builtin_space("hybrid-vit");
  ASSERT_TRUE(sp);
  auto h = holdout_set(*sp);
  ASSERT_TRUE(h);
  // Train from the held-out seed itself: every sample is held out, so the pool must stay empty.
  auto same_seed = build_pool(*sp, *h, 50, 10, 1, kHoldoutSeed);
  ASSERT_TRUE(same_seed);
  EXPECT_TRUE(same_seed->units.empty());
  EXPECT_TRUE(same_seed->networks.empty());
  auto pool = build_pool(*sp, *h, 200, 20, 1);
  ASSERT_TRUE(pool);
  ASSERT_FALSE(pool->units.empty());
  std::vector<std::string> hashes;
  for (const PoolItem& it : pool->units) hashes.push_back(it.arch_hash);
  for (const auto& n : pool->networks) hashes.push_back(space::hash_hex(space::arch_hash(*n)));
  EXPECT_EQ(leak(hashes, *h), "");
  // And leak() does catch one.
  hashes.push_back(space::hash_hex(space::arch_hash(h->samples[7])));
  EXPECT_NE(leak(hashes, *h).find("is in the training data"), std::string::npos);
}

}  // namespace
}  // namespace hwnas::cost
