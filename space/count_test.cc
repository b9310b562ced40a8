// Every golden number of SEEDS.md (§1, §2, §4, §6, §9) — executed MACs, the papers' own count, params.
#include "space/count.h"

#include <gtest/gtest.h>

#include "space/presets.h"

namespace hwnas::space {
namespace {

Counts counts_of(const Arch& a) {
  auto net = lower(a);
  EXPECT_TRUE(net.ok()) << (net.ok() ? "" : net.error().message);
  return net.ok() ? count(*net) : Counts{};
}

Counts preset_counts(const std::string& name) {
  auto a = preset(name);
  EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
  return a.ok() ? counts_of(*a) : Counts{};
}

struct Golden {
  const char* name;
  std::int64_t macs;
  std::int64_t paper_macs;  // 0 = same as macs
  std::int64_t params;      // 0 = not a golden
};

// SEEDS.md §9 table.
const Golden kGoldens[] = {
    {"litv2-s", 3'723'626'496, 3'734'401'596, 27'844'000},
    {"litv2-m", 7'463'043'072, 7'479'237'180, 48'830'368},
    {"litv2-b", 13'171'973'120, 13'193'561'148, 86'520'704},
    {"lit-s", 4'076'614'656, 4'081'669'692, 27'973'720},
    {"lit-m", 8'592'454'656, 8'599'316'028, 49'372'264},
    {"lit-b", 15'027'531'776, 15'036'676'156, 87'292'384},
    {"swin-t", 4'490'566'656, 4'494'405'120, 28'288'354},
    {"deit-tiny", 1'253'683'200, 0, 5'717'416},
    {"deit-small", 4'598'882'304, 0, 22'050'664},
    {"deit-base", 17'563'828'224, 0, 86'567'656},
    {"pvtv2-b0", 566'065'664, 0, 3'666'760},
    {"pvtv2-b1", 2'108'355'584, 0, 14'009'000},
    {"pvtv2-b2", 4'026'734'592, 0, 25'362'856},
    {"hvt-s-none", 4'574'026'752, 0, 0},
    {"hvt-s-12", 2'402'020'608, 0, 0},
    {"hvt-s-6", 1'941'216'768, 0, 0},
    {"hvt-s-4", 1'620'095'232, 0, 0},
    {"hvt-s-3", 1'393'640'448, 0, 0},
    {"hvt-ti-1", 642'299'520, 0, 0},
    // SEEDS §4: SPViT-searched DeiT, executed MACs (cls token bypasses the conv).
    {"spvit-deit-tiny", 1'038'642'432, 0, 0},
    {"spvit-deit-small", 3'353'213'184, 0, 0},
    {"spvit-deit-base", 8'409'142'272, 0, 0},
};

TEST(GoldenCounts, EveryPresetOfSeedsMd) {
  for (const Golden& g : kGoldens) {
    SCOPED_TRACE(g.name);
    const Counts c = preset_counts(g.name);
    EXPECT_EQ(c.macs, g.macs);
    EXPECT_EQ(c.paper_macs, g.paper_macs != 0 ? g.paper_macs : g.macs);
    if (g.params != 0) {
      EXPECT_EQ(c.params, g.params);
    }
  }
}

TEST(GoldenCounts, PrintedPrecisionOfSeedsTable) {
  // SEEDS §7 / §2 print params to 2 decimals of millions and MACs to 3 decimals of G.
  EXPECT_EQ(format_params(preset_counts("litv2-s").params), "27.84M");
  EXPECT_EQ(format_params(preset_counts("litv2-m").params), "48.83M");
  EXPECT_EQ(format_params(preset_counts("litv2-b").params), "86.52M");
  EXPECT_EQ(format_macs(preset_counts("deit-small").macs), "4.599 GMACs");
  EXPECT_EQ(format_params(preset_counts("deit-tiny").params), "5.72M");
}

Arch litv2_s_with_alpha(double alpha) {
  Arch a = *preset("litv2-s");
  for (Block& b : a.stages[2].blocks) b.mixer.hilo_alpha = alpha;
  return a;
}

TEST(GoldenCounts, Litv2AlphaSweepPaperCount) {
  // SEEDS §2, printed to 3 decimals of G (paper count).
  const std::pair<double, double> sweep[] = {{0.0, 3.965}, {0.2, 3.881}, {0.4, 3.815},
                                             {0.5, 3.769}, {0.7, 3.742}, {0.9, 3.734}};
  for (auto [alpha, golden_g] : sweep) {
    SCOPED_TRACE(alpha);
    const Counts c = counts_of(litv2_s_with_alpha(alpha));
    EXPECT_NEAR(static_cast<double>(c.paper_macs) / 1e9, golden_g, 0.0005);
  }
}

TEST(GoldenCounts, Litv2BaseAt384) {
  Arch a = *preset("litv2-b");
  a.input.height = a.input.width = 384;
  const Counts c = counts_of(a);
  EXPECT_NEAR(static_cast<double>(c.paper_macs) / 1e9, 39.709, 0.0005);
}

// One block on a 14×14 map, isolated: the mixer's ops only.
Counts mixer_counts(std::int64_t dim, std::int64_t heads, const Mixer& m) {
  Arch a;
  a.input = Input{14, 14, dim, 10};
  a.stem = Patch{PatchKind::patch, 1, 1, 0, false};
  Stage s;
  s.dim = dim;
  s.heads = heads;
  s.blocks = {Block{m, Ffn{FfnKind::none, 0}, false}};
  a.stages = {s};
  auto net = lower(a);
  EXPECT_TRUE(net.ok());
  Counts c;
  for (const Unit& u : net->units)
    if (u.kind == UnitKind::block) c += count(u);
  return c;
}

TEST(GoldenCounts, SingleAttentionLayers) {
  Mixer hilo;
  hilo.kind = MixerKind::hilo;
  hilo.hilo_window = 2;
  hilo.hilo_alpha = 0.5;
  EXPECT_EQ(mixer_counts(384, 12, hilo).macs, 83'467'776);
  hilo.hilo_alpha = 0.9;
  const Counts h = mixer_counts(768, 12, hilo);
  EXPECT_EQ(h.macs, 298'296'320);
  Mixer msa;
  msa.kind = MixerKind::msa;
  const Counts m = mixer_counts(768, 12, msa);
  EXPECT_EQ(m.macs, 521'428'992);
  // Params: HiLo 2.20M vs MSA 2.36M (SEEDS §1), plus the block's norm1 (2·768).
  EXPECT_EQ(h.params - 2 * 768, 2'198'528);
  EXPECT_EQ(m.params - 2 * 768, 2'362'368);
}

TEST(Counting, HiloWithWindowOneIsMsa) {
  Mixer hilo;
  hilo.kind = MixerKind::hilo;
  hilo.hilo_window = 1;
  Mixer msa;
  msa.kind = MixerKind::msa;
  EXPECT_EQ(mixer_counts(384, 6, hilo).macs, mixer_counts(384, 6, msa).macs);
  EXPECT_EQ(mixer_counts(384, 6, hilo).params, mixer_counts(384, 6, msa).params);
}

TEST(Counting, HiloPadsToWindowMultiple) {
  // 14×14 with s = 4 pads to 16×16 (SEEDS §1): Np = 256, nW = 16.
  Mixer hilo;
  hilo.kind = MixerKind::hilo;
  hilo.hilo_window = 4;
  hilo.hilo_alpha = 0.5;
  const std::int64_t D = 384, d = 32, l_dim = 6 * d, h_dim = 6 * d, np = 256, nw = 16, s2 = 16;
  const std::int64_t hifi = np * D * h_dim * 3 + nw * s2 * s2 * h_dim * 2 + np * h_dim * h_dim;
  const std::int64_t lofi = np * D * l_dim + nw * D * l_dim * 2 + np * l_dim * nw * 2 + np * l_dim * l_dim;
  EXPECT_EQ(mixer_counts(D, 12, hilo).macs, hifi + lofi);
}

TEST(Counting, FlopsAreTwiceMacs) {
  const Counts c = preset_counts("deit-tiny");
  EXPECT_EQ(c.flops(), 2 * c.macs);
  EXPECT_EQ(c.weight_bytes, 4 * c.params);
  EXPECT_GT(c.act_bytes, 0);
}

TEST(Counting, UnitsSumToNetwork) {
  auto net = lower(*preset("pvtv2-b0"));
  ASSERT_TRUE(net.ok());
  Counts sum;
  std::int64_t op_macs = 0;
  for (const Unit& u : net->units) {
    sum += count(u);
    for (const Op& op : u.ops) op_macs += op.macs;
  }
  EXPECT_EQ(sum.macs, count(*net).macs);
  EXPECT_EQ(op_macs, count(*net).macs);
}

TEST(Counting, OverflowIsAnErrorNotAWrap) {
  Arch a = *preset("deit-base");
  a.input.height = a.input.width = 16384;  // 1M tokens, global attention: 2·N²·D overflows? No:
  // 2·(1024²)²·768 ≈ 1.7e15 fits; make it overflow with many wide blocks instead.
  a.stages[0].dim = 65536;
  a.stages[0].heads = 1;
  for (Block& b : a.stages[0].blocks) b.ffn.hidden = 1 << 20;
  a.stem.kernel = a.stem.stride = 1;
  auto net = lower(a);
  ASSERT_FALSE(net.ok());
  EXPECT_NE(net.error().message.find("overflow"), std::string::npos) << net.error().message;
}

}  // namespace
}  // namespace hwnas::space
