#include "space/seed_spaces.h"

#include <cmath>

#include <gtest/gtest.h>

#include "space/canonical.h"
#include "space/count.h"
#include "space/ops.h"
#include "space/presets.h"

namespace hwnas::space {
namespace {

std::string hash_of(const Arch& a) {
  return hash_hex(arch_hash(a));
}

// The genome that picks, in every block slot, mixer choice `mixer` and FFN-ratio choice `ratio`
// (other genes 0); `edit` may change single genes by name.
Genome uniform_genome(const Sampler& s, std::uint32_t mixer, std::uint32_t ratio) {
  Genome g(s.genes().size(), 0);
  for (std::size_t i = 0; i < g.size(); ++i) {
    const std::string& n = s.genes()[i].name;
    if (n.ends_with(".mixer")) g[i] = mixer;
    if (n.ends_with(".ffn_ratio")) g[i] = ratio;
  }
  return g;
}

std::size_t gene_index(const Sampler& s, const std::string& name) {
  for (std::size_t i = 0; i < s.genes().size(); ++i)
    if (s.genes()[i].name == name) return i;
  ADD_FAILURE() << "no gene " << name;
  return 0;
}

TEST(SeedSpaces, SpvitDeitSmallHasFourOpsAndEightWidthsPerBlock) {
  auto sp = load_search_space("spvit:deit-small");
  ASSERT_TRUE(sp) << sp.error().message;
  EXPECT_EQ(sp->name, "spvit:deit-small");
  Sampler s(*sp);
  // 12 blocks × (4 mixers × 8 widths): log10(32^12).
  EXPECT_NEAR(s.log10_size(), 12 * std::log10(32.0), 1e-9);
}

TEST(SeedSpaces, SpvitAllMsaFullWidthIsTheBase) {
  auto sp = load_search_space("spvit:deit-small");
  ASSERT_TRUE(sp) << sp.error().message;
  Sampler s(*sp);
  auto c = s.repair(uniform_genome(s, 3, 7));
  ASSERT_TRUE(c) << c.error().message;
  auto base = preset("deit-small");
  ASSERT_TRUE(base);
  EXPECT_EQ(hash_of(c->arch), hash_of(*base));
}

TEST(SeedSpaces, SpvitChoicesLandOnTheRightBlocks) {
  auto sp = load_search_space("spvit:deit-small");
  ASSERT_TRUE(sp) << sp.error().message;
  Sampler s(*sp);
  Genome g = uniform_genome(s, 3, 7);
  g[gene_index(s, "stages[0].blocks[0].mixer")] = 1;       // 1×1 conv
  g[gene_index(s, "stages[0].blocks[5].mixer")] = 0;       // SPViT skip
  g[gene_index(s, "stages[0].blocks[11].ffn_ratio")] = 0;  // 1/8 of 1536
  auto c = s.repair(g);
  ASSERT_TRUE(c) << c.error().message;
  // The same network written by hand from the preset.
  auto want = preset("deit-small");
  ASSERT_TRUE(want);
  want->stages[0].blocks[0].mixer = Mixer{.kind = MixerKind::bconv, .bconv_kernel = 1};
  want->stages[0].blocks[5].mixer = Mixer{MixerKind::normskip};
  want->stages[0].blocks[11].ffn.hidden = 192;
  EXPECT_EQ(hash_of(c->arch), hash_of(*want));
  // Fewer MACs than the base, by at least block 0's attention (QK^T and AV over 197 tokens).
  auto base = preset("deit-small");
  auto macs = [](const Arch& a) { return count(lower(a).value()).macs; };
  EXPECT_LT(macs(c->arch), macs(*base) - 2 * 197 * 197 * 384);
}

TEST(SeedSpaces, FinercutDropsSingleSublayers) {
  auto sp = load_search_space("finercut:deit-small");
  ASSERT_TRUE(sp) << sp.error().message;
  Sampler s(*sp);
  // 12 blocks × (keep/drop mixer) × (keep/drop FFN): 4^12.
  EXPECT_NEAR(s.log10_size(), 12 * std::log10(4.0), 1e-9);
  Genome g(s.genes().size(), 0);
  g[gene_index(s, "stages[0].blocks[3].drop_mixer")] = 1;
  g[gene_index(s, "stages[0].blocks[10].drop_ffn")] = 1;
  auto c = s.repair(g);
  ASSERT_TRUE(c) << c.error().message;
  auto want = preset("deit-small");
  ASSERT_TRUE(want);
  want->stages[0].blocks[3].mixer = Mixer{MixerKind::skip};
  want->stages[0].blocks[10].ffn = Ffn{FfnKind::none, 0};
  EXPECT_EQ(hash_of(c->arch), hash_of(*want));
  auto none_dropped = s.repair(Genome(s.genes().size(), 0));
  ASSERT_TRUE(none_dropped);
  EXPECT_EQ(hash_of(none_dropped->arch), hash_of(*preset("deit-small")));
}

TEST(SeedSpaces, FinercutWorksOnMultiStagePresets) {
  auto sp = load_search_space("finercut:pvtv2-b2");
  ASSERT_TRUE(sp) << sp.error().message;
  Sampler s(*sp);
  auto c = s.repair(Genome(s.genes().size(), 0));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(hash_of(c->arch), hash_of(*preset("pvtv2-b2")));
}

TEST(SeedSpaces, BadSpecsSayWhy) {
  auto no_msa = load_search_space("spvit:pvtv2-b0");
  ASSERT_FALSE(no_msa);
  EXPECT_NE(no_msa.error().message.find("spvit carves convolutions out of MSA"), std::string::npos)
      << no_msa.error().message;
  auto unknown = load_search_space("finercut:deit-smal");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("deit-small"), std::string::npos) << unknown.error().message;
  auto empty = load_search_space("spvit:");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("no base architecture"), std::string::npos) << empty.error().message;
}

}  // namespace
}  // namespace hwnas::space
