// Presets (SEEDS.md §2–§7): every one loads, validates, round-trips, has its own hash, and has the
// structure the papers' code gives it.
#include "space/presets.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "space/arch_json.h"
#include "space/canonical.h"
#include "space/ops.h"
#include "space/validate.h"

namespace hwnas::space {
namespace {

Arch load(const std::string& name) {
  auto a = preset(name);
  EXPECT_TRUE(a.ok()) << name << ": " << (a.ok() ? "" : a.error().message);
  return a.ok() ? *a : Arch{};
}

Lowered lowered(const Arch& a) {
  auto net = lower(a);
  EXPECT_TRUE(net.ok()) << (net.ok() ? "" : net.error().message);
  return net.ok() ? *net : Lowered{};
}

std::vector<const Unit*> blocks_of(const Lowered& net, int stage) {
  std::vector<const Unit*> out;
  for (const Unit& u : net.units) {
    if (u.kind == UnitKind::block && u.stage == stage) out.push_back(&u);
  }
  return out;
}

const Op* find_op(const Unit& u, const std::string& name) {
  for (const Op& op : u.ops) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

TEST(Presets, ListIsTheSeedsSet) {
  std::set<std::string> names;
  for (const PresetInfo& p : presets()) {
    EXPECT_TRUE(names.insert(p.name).second) << "duplicate " << p.name;
    EXPECT_FALSE(p.family.empty()) << p.name;
    EXPECT_FALSE(p.description.empty()) << p.name;
  }
  for (const char* n :
       {"deit-tiny", "deit-small",      "deit-base",        "pvtv2-b0",        "pvtv2-b1",    "pvtv2-b2",
        "swin-t",    "litv2-s",         "litv2-m",          "litv2-b",         "lit-s",       "lit-m",
        "lit-b",     "hvt-s-none",      "hvt-s-12",         "hvt-s-6",         "hvt-s-4",     "hvt-s-3",
        "hvt-ti-1",  "spvit-deit-tiny", "spvit-deit-small", "spvit-deit-base", "spvit-swin-t"}) {
    EXPECT_EQ(names.count(n), 1u) << n;
  }
}

TEST(Presets, EveryPresetLoadsValidatesAndRoundTrips) {
  std::map<std::uint64_t, std::string> hashes;
  for (const PresetInfo& p : presets()) {
    SCOPED_TRACE(p.name);
    auto a = preset(p.name);
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_EQ(a->meta.name, p.name);
    // validate() is a fixed point on a preset.
    auto again = validate(*a);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_TRUE(again->same_network(*a));
    // JSON text round trip.
    const std::string text = arch_to_json(*a).dump();
    auto b = parse_arch(text, p.name + ".json");
    ASSERT_TRUE(b.ok()) << b.error().message;
    EXPECT_TRUE(b->same_network(*a));
    EXPECT_EQ(b->meta, a->meta);
    EXPECT_EQ(arch_hash(*b), arch_hash(*a));
    // Distinct from every other preset.
    const auto [it, inserted] = hashes.emplace(arch_hash(*a), p.name);
    EXPECT_TRUE(inserted) << "same hash as " << it->second;
    // load_arch takes a preset name.
    auto c = load_arch(p.name);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(arch_hash(*c), arch_hash(*a));
  }
  EXPECT_EQ(hashes.size(), presets().size());
}

TEST(Presets, UnknownNameSuggests) {
  auto r = preset("litv2-x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unknown preset 'litv2-x'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("did you mean 'litv2-s'?"), std::string::npos) << r.error().message;
  auto far = preset("resnet50");
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.error().message.find("did you mean"), std::string::npos) << far.error().message;
  auto l = load_arch("swin-s");
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message.find("did you mean 'swin-t'?"), std::string::npos) << l.error().message;
}

TEST(Presets, Litv2SmallStageThreeIsHilo) {
  const Arch a = load("litv2-s");
  ASSERT_EQ(a.stages.size(), 4u);
  const std::int64_t dims[] = {96, 192, 384, 768}, depths[] = {2, 2, 6, 2}, heads[] = {3, 6, 12, 24};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(a.stages[i].dim, dims[i]) << i;
    EXPECT_EQ(static_cast<std::int64_t>(a.stages[i].blocks.size()), depths[i]) << i;
    EXPECT_EQ(a.stages[i].heads, heads[i]) << i;
    EXPECT_EQ(a.stages[i].downsample.kind, i == 0 ? PatchKind::none : PatchKind::dtm) << i;
    for (const Block& b : a.stages[i].blocks) {
      EXPECT_EQ(b.ffn.kind, FfnKind::convffn);
      EXPECT_EQ(b.ffn.hidden, 4 * dims[i]);
      if (i < 2) {
        EXPECT_EQ(b.mixer.kind, MixerKind::none);
      }
    }
  }
  const Stage& s3 = a.stages[2];
  for (const Block& b : s3.blocks) {
    EXPECT_EQ(b.mixer.kind, MixerKind::hilo);
    EXPECT_EQ(b.mixer.hilo_alpha, 0.9);
    EXPECT_EQ(b.mixer.hilo_window, 2);
  }
  EXPECT_EQ(s3.dim / s3.heads, 32);            // head dim
  EXPECT_EQ(hilo_lofi_heads(12, 0.9, 2), 10);  // int(12 · 0.9) = int(10.8)
  EXPECT_EQ(hilo_lofi_heads(12, 0.5, 1), 12);  // s = 1: all Lo-Fi
  // Stage 4: s = 1 (MSA), alpha normalised to 1.
  for (const Block& b : a.stages[3].blocks) {
    EXPECT_EQ(b.mixer.kind, MixerKind::hilo);
    EXPECT_EQ(b.mixer.hilo_window, 1);
    EXPECT_EQ(b.mixer.hilo_alpha, 1.0);
  }
  // The lowered ops: l_dim = 10·32 = 320, h_dim = 2·32 = 64 (SEEDS §2), on the 14×14 map.
  const Lowered net = lowered(a);
  const auto blocks = blocks_of(net, 2);
  ASSERT_EQ(blocks.size(), 6u);
  for (const Unit* u : blocks) {
    EXPECT_EQ(u->in.h, 14);
    EXPECT_EQ(u->in.w, 14);
    const Op* lq = find_op(*u, "attn.l_q");
    const Op* hqkv = find_op(*u, "attn.h_qkv");
    const Op* lkv = find_op(*u, "attn.l_kv");
    ASSERT_NE(lq, nullptr);
    ASSERT_NE(hqkv, nullptr);
    ASSERT_NE(lkv, nullptr);
    EXPECT_EQ(lq->linear.out, 320);
    EXPECT_EQ(hqkv->linear.out, 3 * 64);
    EXPECT_EQ(lkv->linear.rows, 49);  // 14×14 pooled by 2
    EXPECT_EQ(lkv->linear.out, 2 * 320);
  }
  // Stage 4 has only the Lo-Fi branch (MSA with separate q and kv).
  for (const Unit* u : blocks_of(net, 3)) {
    EXPECT_EQ(find_op(*u, "attn.h_qkv"), nullptr);
    ASSERT_NE(find_op(*u, "attn.l_q"), nullptr);
    EXPECT_EQ(find_op(*u, "attn.l_q")->linear.out, 768);
  }
}

TEST(Presets, DeitBlocksSee197Tokens) {
  for (const char* name : {"deit-tiny", "deit-small", "deit-base"}) {
    SCOPED_TRACE(name);
    const Arch a = load(name);
    EXPECT_TRUE(a.cls_token);
    EXPECT_EQ(a.head.kind, HeadKind::cls);
    ASSERT_EQ(a.stages.size(), 1u);
    EXPECT_EQ(a.stages[0].blocks.size(), 12u);
    const Lowered net = lowered(a);
    const auto blocks = blocks_of(net, 0);
    ASSERT_EQ(blocks.size(), 12u);
    for (const Unit* u : blocks) {
      EXPECT_EQ(u->in.total(), 197);  // 14·14 patches + cls
      EXPECT_EQ(u->in.extra, 1);
      EXPECT_EQ(u->out.total(), 197);
      const Op* qkv = find_op(*u, "attn.qkv");
      ASSERT_NE(qkv, nullptr);
      EXPECT_EQ(qkv->linear.rows, 197);
    }
    // The head reads the cls token only: its linear has one row.
    const Unit& head_unit = net.units.back();
    ASSERT_EQ(head_unit.kind, UnitKind::head);
    EXPECT_EQ(head_unit.in.total(), 197);
    int linears = 0;
    for (const Op& op : head_unit.ops) {
      if (op.kind != OpKind::linear) continue;
      ++linears;
      EXPECT_EQ(op.linear.rows, 1);
      EXPECT_EQ(op.linear.out, 1000);
    }
    EXPECT_EQ(linears, 1);
  }
}

TEST(Presets, HvtPoolingTokenCounts) {
  // hvt-s-4 pools after blocks 0, 4 and 8: 196 → 97 → 48 → 23 (L' = floor((L − 3)/2 + 1)).
  const Arch a = load("hvt-s-4");
  EXPECT_FALSE(a.cls_token);
  EXPECT_EQ(a.head.kind, HeadKind::mean);
  ASSERT_EQ(a.stages.size(), 1u);
  const Lowered net = lowered(a);
  const auto blocks = blocks_of(net, 0);
  ASSERT_EQ(blocks.size(), 12u);
  EXPECT_EQ(blocks[0]->in.total(), 196);
  std::vector<std::int64_t> after_pools;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const bool pools = a.stages[0].blocks[b].pool_after;
    EXPECT_EQ(pools, b % 4 == 0) << b;
    if (pools) {
      after_pools.push_back(blocks[b]->out.total());
      EXPECT_FALSE(blocks[b]->out.grid);
    } else {
      EXPECT_EQ(blocks[b]->out.total(), blocks[b]->in.total()) << b;
    }
    if (b + 1 < blocks.size()) {
      EXPECT_EQ(blocks[b + 1]->in.total(), blocks[b]->out.total()) << b;
    }
  }
  EXPECT_EQ(after_pools, (std::vector<std::int64_t>{97, 48, 23}));
  // hvt-s-3 pools once more: … → 11; hvt-s-12 and hvt-ti-1 pool once (block 0 only).
  const Lowered n3 = lowered(load("hvt-s-3"));
  EXPECT_EQ(blocks_of(n3, 0).back()->out.total(), 11);
  for (const char* name : {"hvt-s-12", "hvt-ti-1"}) {
    const Lowered n = lowered(load(name));
    EXPECT_EQ(blocks_of(n, 0).back()->out.total(), 97) << name;
  }
  const Lowered none = lowered(load("hvt-s-none"));
  EXPECT_EQ(blocks_of(none, 0).back()->out.total(), 196);
}

TEST(Presets, Pvtv2B0FirstStageReducesKeysTo7x7) {
  const Arch a = load("pvtv2-b0");
  ASSERT_EQ(a.stages.size(), 4u);
  const std::int64_t sr[] = {8, 4, 2, 1}, kv[] = {49, 49, 49, 49}, q[] = {3136, 784, 196, 49};
  const Lowered net = lowered(a);
  for (int s = 0; s < 4; ++s) {
    const auto blocks = blocks_of(net, s);
    ASSERT_EQ(blocks.size(), 2u) << s;
    for (const Unit* u : blocks) {
      EXPECT_EQ(a.stages[static_cast<std::size_t>(s)].blocks[0].mixer.sra_ratio, sr[s]);
      const Op* attn = find_op(*u, "attn.core");
      ASSERT_NE(attn, nullptr) << s;
      EXPECT_EQ(attn->kind, OpKind::attention);
      EXPECT_EQ(attn->attn.q_len, q[s]) << s;
      EXPECT_EQ(attn->attn.kv_len, kv[s]) << s;  // 56/8, 28/4, 14/2, 7/1: always 7×7
    }
  }
  // Stage 1 on 56×56 has the 8×8/8 reduction conv.
  const Op* sr_conv = find_op(*blocks_of(net, 0)[0], "attn.sr");
  ASSERT_NE(sr_conv, nullptr);
  EXPECT_EQ(sr_conv->conv.in_h, 56);
  EXPECT_EQ(sr_conv->conv.out_h, 7);
  EXPECT_EQ(sr_conv->conv.kernel, 8);
  EXPECT_EQ(find_op(*blocks_of(net, 3)[0], "attn.sr"), nullptr);  // ratio 1: no conv
}

TEST(Presets, SwinShiftsOddBlocksExceptWhereTheWindowIsTheMap) {
  const Arch a = load("swin-t");
  ASSERT_EQ(a.stages.size(), 4u);
  const std::size_t depths[] = {2, 2, 6, 2};
  const Lowered net = lowered(a);
  for (std::size_t s = 0; s < 4; ++s) {
    ASSERT_EQ(a.stages[s].blocks.size(), depths[s]);
    EXPECT_EQ(a.stages[s].downsample.kind, s == 0 ? PatchKind::none : PatchKind::merge);
    for (std::size_t b = 0; b < depths[s]; ++b) {
      const Mixer& m = a.stages[s].blocks[b].mixer;
      EXPECT_EQ(m.kind, MixerKind::window);
      EXPECT_EQ(m.window_size, 7);
      // Stage 4 runs on 7×7: the window is the map, so the shift is normalised away.
      EXPECT_EQ(m.window_shift, s < 3 && b % 2 == 1) << "stage " << s << " block " << b;
    }
  }
  const auto last = blocks_of(net, 3);
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0]->in.h, 7);
  EXPECT_EQ(last[0]->in.w, 7);
  // Window attention: 64 windows of 49 tokens in stage 1 (56×56), one window in stage 4.
  const Op* a1 = find_op(*blocks_of(net, 0)[0], "attn.core");
  ASSERT_NE(a1, nullptr);
  EXPECT_EQ(a1->attn.windows, 64);
  EXPECT_EQ(a1->attn.heads, 3);
  EXPECT_EQ(a1->attn.batch(), 64 * 3);
  EXPECT_EQ(a1->attn.q_len, 49);
  const Op* a4 = find_op(*last[1], "attn.core");
  ASSERT_NE(a4, nullptr);
  EXPECT_EQ(a4->attn.windows, 1);
  EXPECT_EQ(a4->attn.batch(), 24);
}

TEST(Presets, SpvitChoicesFollowSeeds) {
  const Arch base = load("spvit-deit-base");
  ASSERT_EQ(base.stages.size(), 1u);
  const MixerKind expect_kind[] = {MixerKind::bconv, MixerKind::bconv, MixerKind::bconv, MixerKind::bconv,
                                   MixerKind::bconv, MixerKind::msa,   MixerKind::msa,   MixerKind::msa,
                                   MixerKind::msa,   MixerKind::msa,   MixerKind::msa,   MixerKind::msa};
  const std::int64_t expect_kernel[] = {1, 1, 1, 3, 3};
  const std::int64_t widths[] = {1118, 489, 1050, 1345, 1336, 1326, 1431, 1564, 1606, 1702, 1290, 190};
  for (std::size_t b = 0; b < 12; ++b) {
    const Block& blk = base.stages[0].blocks[b];
    EXPECT_EQ(blk.mixer.kind, expect_kind[b]) << b;
    if (b < 5) {
      EXPECT_EQ(blk.mixer.bconv_kernel, expect_kernel[b]) << b;
    }
    EXPECT_EQ(blk.ffn.hidden, widths[b]) << b;
  }
  // spvit-swin-t: stages 1–2 are [1×1 conv, SPViT skip (x + LN(x))].
  const Arch sw = load("spvit-swin-t");
  ASSERT_EQ(sw.stages.size(), 4u);
  for (std::size_t s = 0; s < 2; ++s) {
    EXPECT_EQ(sw.stages[s].blocks[0].mixer.kind, MixerKind::bconv);
    EXPECT_EQ(sw.stages[s].blocks[0].mixer.bconv_kernel, 1);
    EXPECT_EQ(sw.stages[s].blocks[1].mixer.kind, MixerKind::normskip);
  }
  EXPECT_EQ(sw.stages[3].blocks[1].ffn.hidden, 2994);
}

TEST(Presets, NormEpsPerFamily) {
  // SEEDS §7: DeiT, PVTv2, HVT 1e-6; LITv2, LIT, Swin 1e-5.
  for (const PresetInfo& p : presets()) {
    const Arch a = load(p.name);
    const bool e5 = p.family == "litv2" || p.family == "lit" || p.family == "swin" || p.name == "spvit-swin-t";
    EXPECT_EQ(a.norm_eps, e5 ? 1e-5 : 1e-6) << p.name;
  }
}

}  // namespace
}  // namespace hwnas::space
