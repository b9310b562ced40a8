// space::Lowerer reuses one network's storage from arch to arch: what it gives must equal a fresh
// space::lower, whatever came before it (a longer network, a shorter one, a failed one).
#include "space/ops.h"

#include <gtest/gtest.h>

#include "space/presets.h"
#include "space/rng.h"
#include "space/search_space.h"
#include "space/validate.h"

namespace hwnas::space {
namespace {

// Every field of an op as numbers, in declaration order.
std::vector<std::int64_t> fields(const Op& o) {
  const ConvShape& c = o.conv;
  const LinearShape& l = o.linear;
  const AttentionShape& a = o.attn;
  return {static_cast<std::int64_t>(o.kind),
          c.in_c,
          c.out_c,
          c.in_h,
          c.in_w,
          c.out_h,
          c.out_w,
          c.kernel,
          c.stride,
          c.padding,
          c.groups,
          c.bias,
          l.rows,
          l.in,
          l.out,
          l.bias,
          a.windows,
          a.heads,
          a.q_len,
          a.kv_len,
          a.head_dim,
          a.rel_pos_bias,
          o.elements,
          o.channels,
          o.params,
          o.macs,
          o.paper_macs,
          o.in_bytes,
          o.out_bytes};
}

void expect_same_tokens(const Tokens& a, const Tokens& b) {
  EXPECT_EQ(a.h, b.h);
  EXPECT_EQ(a.w, b.w);
  EXPECT_EQ(a.n, b.n);
  EXPECT_EQ(a.grid, b.grid);
  EXPECT_EQ(a.extra, b.extra);
}

void expect_same(const Lowered& a, const Lowered& b) {
  ASSERT_EQ(a.units.size(), b.units.size());
  for (std::size_t i = 0; i < a.units.size(); ++i) {
    const Unit& u = a.units[i];
    const Unit& v = b.units[i];
    SCOPED_TRACE(u.label);
    EXPECT_EQ(u.kind, v.kind);
    EXPECT_EQ(u.stage, v.stage);
    EXPECT_EQ(u.block, v.block);
    EXPECT_EQ(u.label, v.label);
    expect_same_tokens(u.in, v.in);
    expect_same_tokens(u.out, v.out);
    EXPECT_EQ(u.in_dim, v.in_dim);
    EXPECT_EQ(u.out_dim, v.out_dim);
    ASSERT_EQ(u.ops.size(), v.ops.size());
    for (std::size_t k = 0; k < u.ops.size(); ++k) {
      EXPECT_EQ(u.ops[k].name, v.ops[k].name);
      EXPECT_EQ(fields(u.ops[k]), fields(v.ops[k])) << u.ops[k].name;
    }
  }
}

// Every preset (small and large networks, every mixer, patch and paper-count kind) and samples of
// every built-in space, in one stream through one Lowerer, with failing archs in between.
TEST(Lowerer, ReusedStorageGivesWhatAFreshLoweringGives) {
  std::vector<Arch> archs;
  for (const PresetInfo& p : presets()) {
    auto a = preset(p.name);
    ASSERT_TRUE(a.ok()) << p.name;
    archs.push_back(*a);
  }
  Rng rng(7);
  for (const std::string& name : builtin_space_names()) {
    auto sp = builtin_space(name);
    ASSERT_TRUE(sp.ok()) << name;
    const Sampler sampler(*sp);
    for (int i = 0; i < 40; ++i) {
      auto c = sampler.sample(rng);
      ASSERT_TRUE(c.ok()) << c.error().message;
      archs.push_back(c->arch);
    }
  }
  ASSERT_GT(archs.size(), 60u);
  auto deit = preset("deit-tiny");
  ASSERT_TRUE(deit.ok());
  Arch broken = *deit;
  broken.stages[0].blocks.back().pool_after = true;  // fails in the last block: a cls token cannot be pooled
  Arch broken_stem = *deit;
  broken_stem.input.height = broken_stem.input.width = 8;  // fails in the stem: the 16x16 patch does not fit
  std::stable_sort(archs.begin(), archs.end(),
                   [](const Arch& a, const Arch& b) { return lower(a)->units.size() < lower(b)->units.size(); });
  ASSERT_LT(lower(archs.front())->units.size() + 10, lower(archs.back())->units.size());
  Lowerer lowerer;
  std::size_t failures = 0;
  for (std::size_t i = 0; i < archs.size(); ++i) {
    // Smallest, largest, next smallest, next largest…: units and ops are reused, added and cut off.
    const Arch& a = archs[i % 2 == 0 ? i / 2 : archs.size() - 1 - i / 2];
    if (i % 7 == 3) {
      const Arch& b = (i / 7) % 2 == 0 ? broken : broken_stem;
      auto bad = lowerer.lower(b);
      ASSERT_FALSE(bad.ok());
      EXPECT_EQ(bad.error().message, lower(b).error().message);
      ++failures;
    }
    auto fresh = lower(a);
    ASSERT_TRUE(fresh.ok()) << fresh.error().message;
    auto reused = lowerer.lower(a);
    ASSERT_TRUE(reused.ok()) << reused.error().message;
    expect_same(**reused, *fresh);
    if (HasFailure()) break;
  }
  EXPECT_GT(failures, 5u);
}

// Paths in errors are built only when an error is thrown: they must still name the field.
TEST(Lowerer, ErrorsNameTheJsonPath) {
  auto deit = preset("deit-tiny");
  ASSERT_TRUE(deit.ok());
  Arch pooled = *deit;
  pooled.stages[0].blocks[3].pool_after = true;
  EXPECT_EQ(lower(pooled).error().message, "stages[0].blocks[3].pool: token pooling cannot be used with a cls token");
  Arch small = *deit;
  small.input.height = small.input.width = 8;
  EXPECT_EQ(lower(small).error().message, "stem.kernel: kernel 16 does not fit the 8x8 input");
  Arch convffn = *deit;
  convffn.stages[0].blocks[2].ffn.kind = FfnKind::convffn;
  EXPECT_EQ(lower(convffn).error().message,
            "stages[0].blocks[2].ffn: convffn needs a spatial token grid without a cls token");

  auto swin = preset("swin-t");
  ASSERT_TRUE(swin.ok());
  Arch window = *swin;
  window.stages[1].blocks[1].mixer.window_size = 5;
  EXPECT_EQ(lower(window).error().message,
            "stages[1].blocks[1].mixer.size: window 5 does not divide the 28x28 token grid");
  Arch hidden = *swin;
  hidden.stages[2].blocks[4].ffn.hidden = 0;
  EXPECT_EQ(validate(hidden).error().message, "stages[2].blocks[4].ffn.hidden: must be in [1, 1048576] (got 0)");
  Arch heads = *swin;
  heads.stages[3].heads = 7;
  EXPECT_EQ(validate(heads).error().message, "stages[3].heads: must divide dim 768 (got 7)");
  Arch kernel = *swin;
  kernel.stem.kernel = 0;
  EXPECT_EQ(validate(kernel).error().message, "stem.kernel: must be in [1, 64] (got 0)");
  Arch merge = *swin;
  merge.stages[2].downsample.kind = PatchKind::overlap;
  merge.stages[2].downsample.kernel = 99;
  EXPECT_EQ(validate(merge).error().message, "stages[2].downsample.kernel: must be in [1, 64] (got 99)");
}

}  // namespace
}  // namespace hwnas::space
