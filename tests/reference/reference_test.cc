// Self-tests of the reference: each primitive against hand-computed values, then unit-level identities
// between mixers (HiLo s=1 = MSA, HiLo alpha=0 = unshifted windows, SRA r=1 = MSA), brute-force
// re-derivations of shifted windows and padded HiLo, and whole networks run in one call vs unit by unit.
#include "tests/reference/reference.h"

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "space/canonical.h"
#include "space/params.h"
#include "space/rng.h"
#include "space/validate.h"

namespace hwnas::ref {
namespace {

using Vec = std::vector<float>;

// Deterministic weights by name (roles as RandomWeights, larger tables/embeddings so biases matter);
// `fixed` overrides a tensor by name.
class TestWeights final : public prof::WeightSource {
 public:
  explicit TestWeights(std::uint64_t seed = 7) : seed_(seed) {}
  std::map<std::string, Vec> fixed;

  void fill(const space::ParamSpec& spec, std::span<float> dst) const override {
    if (auto it = fixed.find(spec.name); it != fixed.end()) {
      if (it->second.size() != dst.size()) throw std::runtime_error("TestWeights: wrong size for " + spec.name);
      std::copy(it->second.begin(), it->second.end(), dst.begin());
      return;
    }
    space::Rng rng(space::hash64(spec.name) ^ seed_);
    auto u = [&](double lo, double hi) { return static_cast<float>(lo + (hi - lo) * rng.uniform()); };
    const double a = 1.0 / std::sqrt(static_cast<double>(std::max<std::int64_t>(spec.fan_in, 1)));
    for (float& v : dst) {
      switch (spec.role) {
        case space::ParamRole::weight: v = u(-a, a); break;
        case space::ParamRole::bias: v = u(-a, a) * 0.5f; break;
        case space::ParamRole::norm_weight: v = u(0.8, 1.2); break;
        case space::ParamRole::norm_bias: v = u(-0.1, 0.1); break;
        case space::ParamRole::running_mean: v = u(-0.1, 0.1); break;
        case space::ParamRole::running_var: v = u(0.5, 1.5); break;
        case space::ParamRole::table:
        case space::ParamRole::embedding: v = u(-0.5, 0.5); break;
      }
    }
  }

 private:
  std::uint64_t seed_;
};

Vec random_vec(std::size_t n, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  space::Rng rng(seed);
  Vec v(n);
  for (float& x : v) x = static_cast<float>(lo + (hi - lo) * rng.uniform());
  return v;
}

void expect_near_vec(const Vec& a, const Vec& b, double tol, const std::string& what = "") {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double scale = std::max(1.0, std::fabs(static_cast<double>(b[i])));
    ASSERT_NEAR(a[i], b[i], tol * scale) << what << " at " << i;
  }
}

space::Lowered lowered(const space::Arch& a) {
  auto net = space::lower(a);
  if (!net.ok()) throw std::runtime_error(net.error().message);
  return *net;
}

// The value a WeightSource gives the tensor `name` of `net`.
Vec value_of(const space::Lowered& net, const prof::WeightSource& ws, const std::string& name) {
  for (const auto& spec : space::param_specs(net)) {
    if (spec.name != name) continue;
    Vec v(static_cast<std::size_t>(spec.numel()));
    ws.fill(spec, v);
    return v;
  }
  throw std::runtime_error("no parameter " + name);
}

Vec rows_of(const Vec& m, std::size_t cols, std::size_t begin, std::size_t count) {
  return Vec(m.begin() + static_cast<std::ptrdiff_t>(begin * cols),
             m.begin() + static_cast<std::ptrdiff_t>((begin + count) * cols));
}

space::Mixer make_mixer(space::MixerKind k) {
  space::Mixer m;
  m.kind = k;
  return m;
}

// One stage on a hw×hw image with a 2×2 patch stem (+ LN): grid hw/2 × hw/2, width `dim`.
space::Arch one_stage(std::int64_t hw, std::int64_t dim, std::int64_t heads, std::vector<space::Block> blocks,
                      bool cls = false) {
  space::Arch a;
  a.input = space::Input{hw, hw, 3, 5};
  a.norm_eps = 1e-5;
  a.stem = space::Patch{space::PatchKind::patch, 2, 2, 0, true};
  a.cls_token = cls;
  space::Stage s;
  s.dim = dim;
  s.heads = heads;
  s.pos_embed = cls;
  s.blocks = std::move(blocks);
  a.stages = {s};
  a.head = space::Head{cls ? space::HeadKind::cls : space::HeadKind::mean, true};
  return a;
}

space::Block block(space::Mixer m, space::FfnKind f = space::FfnKind::none, std::int64_t hidden = 0) {
  space::Block b;
  b.mixer = m;
  b.ffn = space::Ffn{f, f == space::FfnKind::none ? 0 : hidden};
  return b;
}

// ---- Primitives ----------------------------------------------------------------------------------

TEST(ReferencePrimitives, Linear2x2) {
  const Vec x = {1, 2, -1, 1};
  const Vec w = {1, 2, 3, 4};  // out 0 = [1, 2], out 1 = [3, 4]
  const Vec b = {0.5f, -1};
  EXPECT_EQ(linear(x, 2, 2, w, b, 2), (Vec{5.5f, 10, 1.5f, 0}));
  EXPECT_EQ(linear(x, 2, 2, w, {}, 2), (Vec{5, 11, 1, 1}));
}

TEST(ReferencePrimitives, SoftmaxRows) {
  Vec x = {0, std::log(2.0f), 1000, 1000, -3, 7};
  softmax_rows(x, 3, 2);
  EXPECT_NEAR(x[0], 1.0 / 3, 1e-7);
  EXPECT_NEAR(x[1], 2.0 / 3, 1e-7);
  EXPECT_NEAR(x[2], 0.5, 1e-7);
  EXPECT_NEAR(x[3], 0.5, 1e-7);
  for (std::size_t r = 0; r < 3; ++r) EXPECT_NEAR(x[2 * r] + x[2 * r + 1], 1.0, 1e-7);
  Vec y = random_vec(5 * 7, 1, -5, 5);
  softmax_rows(y, 5, 7);
  for (std::size_t r = 0; r < 5; ++r) {
    double s = 0;
    for (std::size_t c = 0; c < 7; ++c) s += y[r * 7 + c];
    EXPECT_NEAR(s, 1.0, 1e-6);
  }
}

TEST(ReferencePrimitives, LayerNorm) {
  const Vec gamma = {2, 3, 4}, beta = {0.25f, -0.5f, 1};
  // A constant row has zero deviation: the output is the bias.
  EXPECT_EQ(layer_norm(Vec{7, 7, 7}, 1, 3, gamma, beta, 1e-5), beta);
  // [1, 3] → mean 2, biased variance 1 → [-1, 1] (eps 0).
  const Vec y = layer_norm(Vec{1, 3}, 1, 2, Vec{1, 1}, Vec{0, 0}, 0.0);
  EXPECT_NEAR(y[0], -1, 1e-7);
  EXPECT_NEAR(y[1], 1, 1e-7);
  // Rows are independent.
  const Vec z = layer_norm(Vec{1, 3, 10, 10}, 2, 2, Vec{1, 1}, Vec{0.5f, 0.5f}, 1e-5);
  EXPECT_NEAR(z[0], 0.5 - 1 / std::sqrt(1.00001), 1e-7);
  EXPECT_EQ(z[2], 0.5f);
  EXPECT_EQ(z[3], 0.5f);
}

TEST(ReferencePrimitives, BatchNormEval) {
  const Vec y = batch_norm(Vec{2, 0, 4, 1}, 2, 2, Vec{2, 1}, Vec{0.5f, 0}, Vec{1, 1}, Vec{3, 0});
  EXPECT_NEAR(y[0], 1 / std::sqrt(3.00001) * 2 + 0.5, 1e-6);
  EXPECT_NEAR(y[1], -1 / std::sqrt(0.00001), 1e-2);
  EXPECT_NEAR(y[2], 3 / std::sqrt(3.00001) * 2 + 0.5, 1e-6);
}

TEST(ReferencePrimitives, GeluExactAndRelu) {
  EXPECT_EQ(gelu(0.0f), 0.0f);
  EXPECT_NEAR(gelu(1.0f), 0.8413447460685429, 1e-7);
  EXPECT_NEAR(gelu(-1.0f), -0.15865525393145707, 1e-7);
  EXPECT_NEAR(gelu(2.0f), 1.9544997361036416, 1e-6);
  EXPECT_EQ(relu(Vec{-1, 0, 2}), (Vec{0, 0, 2}));
}

TEST(ReferencePrimitives, Conv3x3DeltaKernelShiftsImage) {
  const std::int64_t H = 5, W = 4;
  const Vec img = random_vec(H * W, 2);
  Conv2dArgs a;
  a.in_c = 1;
  a.in_h = H;
  a.in_w = W;
  a.out_c = 1;
  a.kernel = 3;
  a.padding = 1;
  // Tap (ki=0, kj=1) reads (y-1, x): the image moved down one row, zero on top.
  Vec k(9, 0.0f);
  k[0 * 3 + 1] = 1;
  Vec y = conv2d(img, a, k, {});
  for (std::int64_t r = 0; r < H; ++r)
    for (std::int64_t c = 0; c < W; ++c)
      EXPECT_EQ(y[static_cast<std::size_t>(r * W + c)], r == 0 ? 0.0f : img[static_cast<std::size_t>((r - 1) * W + c)]);
  // Tap (ki=1, kj=2) reads (y, x+1): moved left, zero on the right, plus the bias.
  k.assign(9, 0.0f);
  k[1 * 3 + 2] = 1;
  y = conv2d(img, a, k, Vec{0.5f});
  for (std::int64_t r = 0; r < H; ++r)
    for (std::int64_t c = 0; c < W; ++c)
      EXPECT_FLOAT_EQ(y[static_cast<std::size_t>(r * W + c)],
                      (c == W - 1 ? 0.0f : img[static_cast<std::size_t>(r * W + c + 1)]) + 0.5f);
}

TEST(ReferencePrimitives, ConvStrideChannelsGroups) {
  // 2 input channels, 2×2 kernel, stride 2 on a 2×3 map: one output position (the last column is dropped).
  const Vec x = {1, 2, 3, 4, 5, 6, /*ch1*/ 10, 20, 30, 40, 50, 60};
  Conv2dArgs a;
  a.in_c = 2;
  a.in_h = 2;
  a.in_w = 3;
  a.out_c = 1;
  a.kernel = 2;
  a.stride = 2;
  EXPECT_EQ(a.out_h(), 1);
  EXPECT_EQ(a.out_w(), 1);
  const Vec w = {1, 0, 0, 1, /*ch1*/ 0, 1, 0, 0};  // x0(0,0) + x0(1,1) + x1(0,1)
  EXPECT_EQ(conv2d(x, a, w, Vec{1}), (Vec{1 + 5 + 20 + 1}));
  // Depthwise 1×1: channel c scaled by w[c].
  a.out_c = 2;
  a.kernel = 1;
  a.stride = 1;
  a.groups = 2;
  EXPECT_EQ(conv2d(x, a, Vec{2, -1}, {}), (Vec{2, 4, 6, 8, 10, 12, -10, -20, -30, -40, -50, -60}));
}

TEST(ReferencePrimitives, BilinearZeroOutside) {
  const Vec p = {1, 2, 3, 4};  // 2×2
  EXPECT_DOUBLE_EQ(bilinear_zero(p, 2, 2, 0, 0), 1);
  EXPECT_DOUBLE_EQ(bilinear_zero(p, 2, 2, 0.5, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(bilinear_zero(p, 2, 2, 1, 0.25), 3.25);
  EXPECT_DOUBLE_EQ(bilinear_zero(p, 2, 2, -0.5, 0), 0.5);  // half of row 0, half of a zero row
  EXPECT_DOUBLE_EQ(bilinear_zero(p, 2, 2, 1.5, 1), 2);     // half of x(1, 1)
  EXPECT_DOUBLE_EQ(bilinear_zero(p, 2, 2, -1, 0), 0);
  EXPECT_DOUBLE_EQ(bilinear_zero(p, 2, 2, 0, 2), 0);
}

Conv2dArgs dtm_args(std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t out) {
  Conv2dArgs a;
  a.in_c = c;
  a.in_h = h;
  a.in_w = w;
  a.out_c = out;
  a.kernel = 2;
  a.stride = 2;
  return a;
}

TEST(ReferencePrimitives, DeformConvZeroOffsetsIsPlainConv) {
  const auto a = dtm_args(3, 6, 4, 5);
  const Vec x = random_vec(3 * 6 * 4, 3), w = random_vec(5 * 3 * 4, 4), b = random_vec(5, 5);
  const Vec off(8 * 3 * 2, 0.0f);
  expect_near_vec(deform_conv2d(x, off, a, w, b), conv2d(x, a, w, b), 1e-6);
}

TEST(ReferencePrimitives, DeformConvOffsetsSample) {
  const std::int64_t C = 2, H = 4, W = 6;
  const auto a = dtm_args(C, H, W, 3);
  const Vec x = random_vec(C * H * W, 6), w = random_vec(3 * C * 4, 7), b = random_vec(3, 8);
  const std::size_t P = 2 * 3;  // output positions
  // dy = +1 on every tap: the conv of the image moved up one row (zero below the last row).
  Vec off(8 * P, 0.0f);
  for (std::size_t t = 0; t < 4; ++t)
    for (std::size_t p = 0; p < P; ++p) off[(2 * t) * P + p] = 1.0f;
  Vec up(x.size(), 0.0f);
  for (std::int64_t c = 0; c < C; ++c)
    for (std::int64_t r = 0; r + 1 < H; ++r)
      for (std::int64_t q = 0; q < W; ++q)
        up[static_cast<std::size_t>((c * H + r) * W + q)] = x[static_cast<std::size_t>((c * H + r + 1) * W + q)];
  expect_near_vec(deform_conv2d(x, off, a, w, b), conv2d(up, a, w, b), 1e-6);
  // dx = 0.5 on every tap: the conv of the average of each pixel and its right neighbour.
  off.assign(8 * P, 0.0f);
  for (std::size_t t = 0; t < 4; ++t)
    for (std::size_t p = 0; p < P; ++p) off[(2 * t + 1) * P + p] = 0.5f;
  Vec half(x.size(), 0.0f);
  for (std::int64_t c = 0; c < C; ++c)
    for (std::int64_t r = 0; r < H; ++r)
      for (std::int64_t q = 0; q < W; ++q) {
        const auto i = static_cast<std::size_t>((c * H + r) * W + q);
        half[i] = 0.5f * x[i] + (q + 1 < W ? 0.5f * x[i + 1] : 0.0f);
      }
  expect_near_vec(deform_conv2d(x, off, a, w, b), conv2d(half, a, w, b), 1e-6);
  // Offsets differ per tap: only tap 3 (ki=1, kj=1) moves, by dy=-1 → it reads row 2·oy instead of 2·oy+1.
  off.assign(8 * P, 0.0f);
  for (std::size_t p = 0; p < P; ++p) off[(2 * 3) * P + p] = -1.0f;
  const Vec y = deform_conv2d(x, off, a, w, b);
  for (std::size_t o = 0; o < 3; ++o) {
    for (std::size_t oy = 0; oy < 2; ++oy) {
      for (std::size_t ox = 0; ox < 3; ++ox) {
        double acc = b[o];
        for (std::size_t c = 0; c < 2; ++c)
          for (std::size_t ki = 0; ki < 2; ++ki)
            for (std::size_t kj = 0; kj < 2; ++kj) {
              const std::size_t r = 2 * oy + ki - (ki == 1 && kj == 1 ? 1 : 0), q = 2 * ox + kj;
              acc += static_cast<double>(w[((o * 2 + c) * 2 + ki) * 2 + kj]) * x[(c * 4 + r) * 6 + q];
            }
        EXPECT_NEAR(y[(o * 2 + oy) * 3 + ox], acc, 1e-6);
      }
    }
  }
}

TEST(ReferencePrimitives, Attention) {
  // One head, d = 2, one query, keys [1,0] and [0,1]: softmax([1/√2, 0]).
  const Vec q = {1, 0}, k = {1, 0, 0, 1}, v = {10, 0, 0, 20};
  const double p0 = 1 / (1 + std::exp(-1 / std::sqrt(2.0))), p1 = 1 - p0;
  const Vec o = attention(q, k, v, 1, 2, 1, 2);
  EXPECT_NEAR(o[0], 10 * p0, 1e-5);
  EXPECT_NEAR(o[1], 20 * p1, 1e-5);
  // A bias of -100 on key 0 leaves key 1 alone.
  const Vec ob = attention(q, k, v, 1, 2, 1, 2, Vec{-100, 0});
  EXPECT_NEAR(ob[0], 0, 1e-5);
  EXPECT_NEAR(ob[1], 20, 1e-5);
  // Two heads of d = 1: head 0 (column 0) has equal keys (uniform average), head 1 (column 1)
  // strongly prefers key 1.
  const Vec q2 = {1, 10}, k2 = {3, 0, 3, 1}, v2 = {1, 5, 3, 7};
  const Vec o2 = attention(q2, k2, v2, 1, 2, 2, 1);
  EXPECT_NEAR(o2[0], 2, 1e-6);
  const double w1 = 1 / (1 + std::exp(-10.0));
  EXPECT_NEAR(o2[1], 5 * (1 - w1) + 7 * w1, 1e-5);
}

TEST(ReferencePrimitives, Pools) {
  EXPECT_EQ(max_pool1d(Vec{1, 5, 2, 4, 3}, 5, 1, 3, 2), (Vec{5, 4}));
  EXPECT_EQ(max_pool1d(Vec{1, -1, 5, -5, 2, -2, 4, -4}, 4, 2, 3, 2), (Vec{5, -1}));
  // HVT: 196 → 97 → 48 → 23 → 11.
  std::int64_t L = 196;
  for (std::int64_t expect : {97, 48, 23, 11}) {
    const Vec y = max_pool1d(Vec(static_cast<std::size_t>(L * 2), 1.0f), L, 2, 3, 2);
    EXPECT_EQ(static_cast<std::int64_t>(y.size()), expect * 2);
    L = expect;
  }
  // AvgPool2d(2, 2) of a channels-last 2×4 map with 1 channel.
  EXPECT_EQ(avg_pool2d(Vec{1, 2, 3, 4, 5, 6, 7, 8}, 2, 4, 1, 2), (Vec{3.5f, 5.5f}));
}

TEST(ReferenceLayout, WindowPartitionOrderAndRoundTripWithShift) {
  // 4×4 map, channel = 10·row + col; windows of 2.
  Vec x(16);
  for (std::size_t i = 0; i < 16; ++i) x[i] = static_cast<float>(10 * (i / 4) + i % 4);
  const Vec p = window_partition(x, 4, 4, 1, 2);
  EXPECT_EQ(p, (Vec{0, 1, 10, 11, 2, 3, 12, 13, 20, 21, 30, 31, 22, 23, 32, 33}));
  // torch.roll(x, (-1, -1)): y[i][j] = x[i+1][j+1].
  const Vec r = roll(x, 4, 4, 1, -1, -1);
  EXPECT_EQ(r[0], 11);
  EXPECT_EQ(r[3], 10);  // (0, 3) ← (1, 0)
  EXPECT_EQ(r[15], 0);  // (3, 3) ← (0, 0)
  const std::int64_t H = 6, W = 9, C = 3, ws = 3, s = 1;
  const Vec m = random_vec(H * W * C, 9);
  const Vec back =
      roll(window_merge(window_partition(roll(m, H, W, C, -s, -s), H, W, C, ws), H, W, C, ws), H, W, C, s, s);
  EXPECT_EQ(back, m);
  // Pad then crop is the identity; the padding is zero.
  const Vec pd = pad_map(m, H, W, C, 8, 10);
  EXPECT_EQ(pd[(7 * 10 + 9) * 3], 0.0f);
  EXPECT_EQ(crop_map(pd, 8, 10, C, H, W), m);
}

TEST(ReferenceLayout, PatchMergeGatherOrder) {
  // x(r, c) = 10r + c on a 2×2 map, 1 channel → [x00, x10, x01, x11].
  EXPECT_EQ(patch_merge_gather(Vec{0, 1, 10, 11}, 2, 2, 1), (Vec{0, 10, 1, 11}));
}

TEST(ReferenceLayout, RelativePositionBias) {
  // 2×2 grid, table [(3·3), 2 heads], table[idx, h] = 100h + idx.
  Vec table(9 * 2);
  for (std::size_t i = 0; i < 9; ++i)
    for (std::size_t h = 0; h < 2; ++h) table[i * 2 + h] = static_cast<float>(100 * h + i);
  const Vec b = rel_pos_bias(table, 2, 2, 2);
  auto at = [&](std::size_t h, std::size_t i, std::size_t j) { return b[(h * 4 + i) * 4 + j]; };
  EXPECT_EQ(at(0, 0, 0), 4);    // (0+1)·3 + (0+1)
  EXPECT_EQ(at(0, 0, 3), 0);    // i=(0,0), j=(1,1): (0-1+1)·3 + (0-1+1)
  EXPECT_EQ(at(0, 3, 0), 8);    // (1+1)·3 + (1+1)
  EXPECT_EQ(at(1, 1, 2), 102);  // i=(0,1), j=(1,0): (0-1+1)·3 + (1-0+1) = 2, head 1
}

TEST(ReferenceLayout, SwinShiftMask) {
  // 4×4 map, window 2, shift 1: rows/cols regions [0,2), [2,3), [3,4).
  const Vec m = swin_shift_mask(4, 4, 2, 1);
  ASSERT_EQ(m.size(), 4u * 16u);
  for (std::size_t e = 0; e < 16; ++e) EXPECT_EQ(m[e], 0.0f);  // window (0, 0): one region
  // Window (1, 1) = rows 2-3, cols 2-3: four different labels (4, 5, 7, 8): only the diagonal is 0.
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) EXPECT_EQ(m[3 * 16 + i * 4 + j], i == j ? 0.0f : -100.0f);
  // Window (0, 1) = rows 0-1, cols 2-3: labels 1, 2, 1, 2.
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) EXPECT_EQ(m[1 * 16 + i * 4 + j], i % 2 == j % 2 ? 0.0f : -100.0f);
}

// ---- Units ----------------------------------------------------------------------------------------

// Runs the single block unit (index 1) of a one-stage arch on random tokens.
Vec run_block1(const space::Arch& a, const prof::WeightSource& ws, const Vec& tokens) {
  return run_units(a, lowered(a), 1, 1, ws, tokens, 1);
}

TEST(ReferenceUnits, HiloAllLoFiWithoutPoolingEqualsMsa) {
  space::Mixer h = make_mixer(space::MixerKind::hilo);
  h.hilo_alpha = 1.0;
  h.hilo_window = 1;
  const std::int64_t D = 12;
  const auto msa_arch = one_stage(8, D, 3, {block(make_mixer(space::MixerKind::msa), space::FfnKind::mlp, 20)});
  const auto hilo_arch = one_stage(8, D, 3, {block(h, space::FfnKind::mlp, 20)});
  const auto msa_net = lowered(msa_arch);
  TestWeights msa_w, hilo_w;
  const std::string p = "stages.0.blocks.0.attn.";
  const Vec qkv_w = value_of(msa_net, msa_w, p + "qkv.weight"), qkv_b = value_of(msa_net, msa_w, p + "qkv.bias");
  hilo_w.fixed[p + "l_q.weight"] = rows_of(qkv_w, D, 0, D);
  hilo_w.fixed[p + "l_q.bias"] = rows_of(qkv_b, 1, 0, D);
  hilo_w.fixed[p + "l_kv.weight"] = rows_of(qkv_w, D, D, 2 * D);
  hilo_w.fixed[p + "l_kv.bias"] = rows_of(qkv_b, 1, D, 2 * D);
  hilo_w.fixed[p + "l_proj.weight"] = value_of(msa_net, msa_w, p + "proj.weight");
  hilo_w.fixed[p + "l_proj.bias"] = value_of(msa_net, msa_w, p + "proj.bias");
  const Vec x = random_vec(16 * D, 11);
  const Vec a = run_block1(msa_arch, msa_w, x), b = run_block1(hilo_arch, hilo_w, x);
  expect_near_vec(b, a, 1e-5);
  // And the mixer did something.
  double diff = 0;
  for (std::size_t i = 0; i < x.size(); ++i) diff += std::fabs(a[i] - x[i]);
  EXPECT_GT(diff, 1.0);
}

TEST(ReferenceUnits, HiloAllHiFiEqualsUnshiftedWindowsWithZeroBias) {
  space::Mixer h = make_mixer(space::MixerKind::hilo);
  h.hilo_alpha = 0.0;
  h.hilo_window = 2;
  space::Mixer w = make_mixer(space::MixerKind::window);
  w.window_size = 2;
  w.window_shift = false;
  const std::int64_t D = 8;
  const auto win_arch = one_stage(8, D, 2, {block(w)});
  const auto hilo_arch = one_stage(8, D, 2, {block(h)});
  const auto win_net = lowered(win_arch);
  TestWeights win_w, hilo_w;
  const std::string p = "stages.0.blocks.0.attn.";
  win_w.fixed[p + "core.rel_pos_table"] = Vec(9 * 2, 0.0f);
  for (const char* n : {"weight", "bias"}) {
    hilo_w.fixed[p + "h_qkv." + n] = value_of(win_net, win_w, p + "qkv." + n);
    hilo_w.fixed[p + "h_proj." + n] = value_of(win_net, win_w, p + "proj." + n);
  }
  const Vec x = random_vec(16 * D, 12);
  expect_near_vec(run_block1(hilo_arch, hilo_w, x), run_block1(win_arch, win_w, x), 1e-5);
}

TEST(ReferenceUnits, SraRatioOneEqualsMsa) {
  space::Mixer s = make_mixer(space::MixerKind::sra);
  s.sra_ratio = 1;
  const std::int64_t D = 8;
  const auto msa_arch = one_stage(8, D, 2, {block(make_mixer(space::MixerKind::msa), space::FfnKind::convffn, 12)});
  const auto sra_arch = one_stage(8, D, 2, {block(s, space::FfnKind::convffn, 12)});
  const auto msa_net = lowered(msa_arch);
  TestWeights msa_w, sra_w;
  const std::string p = "stages.0.blocks.0.attn.";
  const Vec qkv_w = value_of(msa_net, msa_w, p + "qkv.weight"), qkv_b = value_of(msa_net, msa_w, p + "qkv.bias");
  sra_w.fixed[p + "q.weight"] = rows_of(qkv_w, D, 0, D);
  sra_w.fixed[p + "q.bias"] = rows_of(qkv_b, 1, 0, D);
  sra_w.fixed[p + "kv.weight"] = rows_of(qkv_w, D, D, 2 * D);
  sra_w.fixed[p + "kv.bias"] = rows_of(qkv_b, 1, D, 2 * D);
  const Vec x = random_vec(16 * D, 13);
  expect_near_vec(run_block1(sra_arch, sra_w, x), run_block1(msa_arch, msa_w, x), 1e-5);
}

// Shifted windows, re-derived token by token: token (i, j) sits at rolled position ((i - s) mod H, (j - s) mod W);
// it attends to every token whose rolled position is in the same window, with the relative bias of the
// two rolled in-window positions and -100 across region labels.
TEST(ReferenceUnits, ShiftedWindowMatchesBruteForce) {
  space::Mixer m = make_mixer(space::MixerKind::window);
  m.window_size = 3;
  m.window_shift = true;
  const std::int64_t D = 4, heads = 2, d = 2, H = 6, W = 6, ws = 3, s = 1, N = H * W;
  const auto arch = one_stage(12, D, heads, {block(m)});
  const auto net = lowered(arch);
  TestWeights tw;
  const std::string p = "stages.0.blocks.0.";
  const Vec x = random_vec(static_cast<std::size_t>(N * D), 14);
  const Vec y = layer_norm(x, N, D, value_of(net, tw, p + "norm1.weight"), value_of(net, tw, p + "norm1.bias"), 1e-5);
  const Vec qkv =
      linear(y, N, D, value_of(net, tw, p + "attn.qkv.weight"), value_of(net, tw, p + "attn.qkv.bias"), 3 * D);
  const Vec table = value_of(net, tw, p + "attn.core.rel_pos_table");
  auto rolled = [&](std::int64_t i, std::int64_t n) { return ((i - s) % n + n) % n; };
  auto region = [&](std::int64_t r, std::int64_t n) { return r < n - ws ? 0 : (r < n - s ? 1 : 2); };
  Vec att(static_cast<std::size_t>(N * D), 0.0f);
  for (std::int64_t t = 0; t < N; ++t) {
    const std::int64_t ri = rolled(t / W, H), rj = rolled(t % W, W);
    for (std::int64_t hd = 0; hd < heads; ++hd) {
      std::vector<double> sc;
      std::vector<std::int64_t> keys;
      for (std::int64_t u = 0; u < N; ++u) {
        const std::int64_t ui = rolled(u / W, H), uj = rolled(u % W, W);
        if (ui / ws != ri / ws || uj / ws != rj / ws) continue;
        double dot = 0;
        for (std::int64_t e = 0; e < d; ++e)
          dot += static_cast<double>(qkv[static_cast<std::size_t>(t * 3 * D + hd * d + e)]) *
                 qkv[static_cast<std::size_t>(u * 3 * D + D + hd * d + e)];
        const std::int64_t idx = (ri % ws - ui % ws + ws - 1) * (2 * ws - 1) + (rj % ws - uj % ws + ws - 1);
        double v = dot / std::sqrt(static_cast<double>(d)) + table[static_cast<std::size_t>(idx * heads + hd)];
        if (region(ri, H) * 3 + region(rj, W) != region(ui, H) * 3 + region(uj, W)) v -= 100;
        sc.push_back(v);
        keys.push_back(u);
      }
      ASSERT_EQ(keys.size(), 9u);
      double mx = sc[0], sum = 0;
      for (double v : sc) mx = std::max(mx, v);
      for (double& v : sc) sum += (v = std::exp(v - mx));
      for (std::int64_t e = 0; e < d; ++e) {
        double acc = 0;
        for (std::size_t k = 0; k < keys.size(); ++k)
          acc += sc[k] / sum * qkv[static_cast<std::size_t>(keys[k] * 3 * D + 2 * D + hd * d + e)];
        att[static_cast<std::size_t>(t * D + hd * d + e)] = static_cast<float>(acc);
      }
    }
  }
  Vec expect = linear(att, N, D, value_of(net, tw, p + "attn.proj.weight"), value_of(net, tw, p + "attn.proj.bias"), D);
  for (std::size_t i = 0; i < expect.size(); ++i) expect[i] += x[i];
  expect_near_vec(run_block1(arch, tw, x), expect, 1e-5);
}

// HiLo on a 3×3 map with s = 2 (padded to 4×4), 1 Hi-Fi + 1 Lo-Fi head, re-derived per token.
TEST(ReferenceUnits, PaddedHiloMatchesBruteForce) {
  space::Mixer m = make_mixer(space::MixerKind::hilo);
  m.hilo_alpha = 0.5;
  m.hilo_window = 2;
  const std::int64_t D = 6, d = 3, H = 3, W = 3, N = H * W;
  const auto arch = one_stage(6, D, 2, {block(m)});
  const auto net = lowered(arch);
  TestWeights tw;
  const std::string p = "stages.0.blocks.0.";
  const Vec x = random_vec(static_cast<std::size_t>(N * D), 15);
  const Vec y = layer_norm(x, N, D, value_of(net, tw, p + "norm1.weight"), value_of(net, tw, p + "norm1.bias"), 1e-5);
  auto yp = [&](std::int64_t i, std::int64_t j, std::int64_t c) -> double {
    return i < H && j < W ? static_cast<double>(y[static_cast<std::size_t>((i * W + j) * D + c)]) : 0.0;
  };
  auto lin = [&](const std::string& name, const std::vector<double>& in, std::int64_t out) {
    const Vec w = value_of(net, tw, p + "attn." + name + ".weight"),
              b = value_of(net, tw, p + "attn." + name + ".bias");
    std::vector<double> o(static_cast<std::size_t>(out));
    for (std::size_t r = 0; r < o.size(); ++r) {
      o[r] = b[r];
      for (std::size_t c = 0; c < in.size(); ++c) o[r] += static_cast<double>(w[r * in.size() + c]) * in[c];
    }
    return o;
  };
  auto token = [&](std::int64_t i, std::int64_t j) {
    std::vector<double> v(static_cast<std::size_t>(D));
    for (std::int64_t c = 0; c < D; ++c) v[static_cast<std::size_t>(c)] = yp(i, j, c);
    return v;
  };
  auto attend = [&](const std::vector<double>& q, const std::vector<std::vector<double>>& ks,
                    const std::vector<std::vector<double>>& vs) {
    std::vector<double> sc;
    for (const auto& k : ks) {
      double dot = 0;
      for (std::size_t e = 0; e < q.size(); ++e) dot += q[e] * k[e];
      sc.push_back(dot / std::sqrt(static_cast<double>(d)));
    }
    double mx = sc[0], sum = 0;
    for (double v : sc) mx = std::max(mx, v);
    for (double& v : sc) sum += (v = std::exp(v - mx));
    std::vector<double> o(q.size(), 0.0);
    for (std::size_t k = 0; k < vs.size(); ++k)
      for (std::size_t e = 0; e < o.size(); ++e) o[e] += sc[k] / sum * vs[k][e];
    return o;
  };
  // Lo-Fi keys/values: 2×2 averages of the padded map (pads count as zeros).
  std::vector<std::vector<double>> lk, lv;
  for (std::int64_t bi = 0; bi < 2; ++bi)
    for (std::int64_t bj = 0; bj < 2; ++bj) {
      std::vector<double> avg(static_cast<std::size_t>(D), 0.0);
      for (std::int64_t di = 0; di < 2; ++di)
        for (std::int64_t dj = 0; dj < 2; ++dj)
          for (std::int64_t c = 0; c < D; ++c) avg[static_cast<std::size_t>(c)] += yp(2 * bi + di, 2 * bj + dj, c) / 4;
      const auto kv = lin("l_kv", avg, 2 * d);
      lk.emplace_back(kv.begin(), kv.begin() + d);
      lv.emplace_back(kv.begin() + d, kv.end());
    }
  Vec expect = x;
  for (std::int64_t i = 0; i < H; ++i) {
    for (std::int64_t j = 0; j < W; ++j) {
      // Hi-Fi: the 2×2 window of (i, j) in the padded map.
      std::vector<std::vector<double>> hk, hv;
      for (std::int64_t di = 0; di < 2; ++di)
        for (std::int64_t dj = 0; dj < 2; ++dj) {
          const auto qkv = lin("h_qkv", token(i / 2 * 2 + di, j / 2 * 2 + dj), 3 * d);
          hk.emplace_back(qkv.begin() + d, qkv.begin() + 2 * d);
          hv.emplace_back(qkv.begin() + 2 * d, qkv.end());
        }
      const auto hq = lin("h_qkv", token(i, j), 3 * d);
      const auto hi = lin("h_proj", attend(std::vector<double>(hq.begin(), hq.begin() + d), hk, hv), d);
      const auto lo = lin("l_proj", attend(lin("l_q", token(i, j), d), lk, lv), d);
      for (std::int64_t c = 0; c < d; ++c) {
        expect[static_cast<std::size_t>((i * W + j) * D + c)] += static_cast<float>(hi[static_cast<std::size_t>(c)]);
        expect[static_cast<std::size_t>((i * W + j) * D + d + c)] +=
            static_cast<float>(lo[static_cast<std::size_t>(c)]);
      }
    }
  }
  expect_near_vec(run_block1(arch, tw, x), expect, 1e-5);
}

TEST(ReferenceUnits, BconvPassesTheClsTokenThrough) {
  space::Mixer m = make_mixer(space::MixerKind::bconv);
  m.bconv_kernel = 3;
  const std::int64_t D = 6, T = 1 + 16;
  const auto arch = one_stage(8, D, 2, {block(m)}, /*cls=*/true);
  const auto net = lowered(arch);
  TestWeights tw;
  const Vec x = random_vec(static_cast<std::size_t>(T * D), 16);
  const Vec out = run_block1(arch, tw, x);
  const Vec ln = layer_norm(x, T, D, value_of(net, tw, "stages.0.blocks.0.norm1.weight"),
                            value_of(net, tw, "stages.0.blocks.0.norm1.bias"), 1e-5);
  for (std::size_t c = 0; c < static_cast<std::size_t>(D); ++c) EXPECT_NEAR(out[c], x[c] + ln[c], 1e-6);
  // 1×1 conv: spatial token t's output depends on token t only.
  m.bconv_kernel = 1;
  const auto arch1 = one_stage(8, D, 2, {block(m)}, true);
  Vec x2 = x;
  x2[static_cast<std::size_t>(5 * D)] += 1.0f;  // token 5 (spatial 4)
  const Vec a = run_block1(arch1, tw, x), b = run_block1(arch1, tw, x2);
  for (std::size_t t = 0; t < static_cast<std::size_t>(T); ++t)
    for (std::size_t c = 0; c < static_cast<std::size_t>(D); ++c) {
      if (t == 5) continue;
      EXPECT_FLOAT_EQ(a[t * 6 + c], b[t * 6 + c]);
    }
}

TEST(ReferenceUnits, NormskipIsXPlusLayerNorm) {
  const std::int64_t D = 5, T = 16;
  const auto arch = one_stage(8, D, 1, {block(make_mixer(space::MixerKind::normskip))});
  const auto net = lowered(arch);
  TestWeights tw;
  const Vec x = random_vec(static_cast<std::size_t>(T * D), 17);
  Vec expect = layer_norm(x, T, D, value_of(net, tw, "stages.0.blocks.0.norm1.weight"),
                          value_of(net, tw, "stages.0.blocks.0.norm1.bias"), 1e-5);
  for (std::size_t i = 0; i < expect.size(); ++i) expect[i] += x[i];
  expect_near_vec(run_block1(arch, tw, x), expect, 1e-6);
  // skip and none are the identity.
  EXPECT_EQ(run_block1(one_stage(8, D, 1, {block(make_mixer(space::MixerKind::skip))}), tw, x), x);
}

TEST(ReferenceUnits, DtmWithZeroOffsetsIsConvBatchNormGelu) {
  space::Arch a = one_stage(8, 4, 1, {block(make_mixer(space::MixerKind::none))});
  space::Stage s2;
  s2.dim = 6;
  s2.heads = 1;
  s2.downsample = space::Patch{space::PatchKind::dtm, 2, 2, 0, false};
  s2.blocks = {block(make_mixer(space::MixerKind::none))};
  a.stages.push_back(s2);
  const auto net = lowered(a);
  ASSERT_EQ(net.units[2].label, "stages.1.downsample");
  TestWeights tw;
  const std::string p = "stages.1.downsample.";
  tw.fixed[p + "dconv.conv_offset.weight"] = Vec(8 * 4 * 4, 0.0f);
  tw.fixed[p + "dconv.conv_offset.bias"] = Vec(8, 0.0f);
  const Vec x = random_vec(16 * 4, 18);
  Vec expect = conv2d(tokens_to_chw(x, 4, 4, 4), dtm_args(4, 4, 4, 6), value_of(net, tw, p + "dconv.weight"),
                      value_of(net, tw, p + "dconv.bias"));
  expect = chw_to_tokens(expect, 6, 2, 2);
  expect = gelu(batch_norm(expect, 4, 6, value_of(net, tw, p + "norm.weight"), value_of(net, tw, p + "norm.bias"),
                           value_of(net, tw, p + "norm.running_mean"), value_of(net, tw, p + "norm.running_var")));
  expect_near_vec(run_units(a, net, 2, 2, tw, x, 1), expect, 1e-6);
  // Non-zero offsets change the result.
  TestWeights moving;
  const Vec moved = run_units(a, net, 2, 2, moving, x, 1);
  double diff = 0;
  const Vec plain = run_units(a, net, 2, 2, tw, x, 1);
  for (std::size_t i = 0; i < moved.size(); ++i) diff += std::fabs(moved[i] - plain[i]);
  EXPECT_GT(diff, 1e-3);
}

TEST(ReferenceUnits, HvtPoolingAndPositionEmbedding) {
  space::Block b = block(make_mixer(space::MixerKind::msa), space::FfnKind::mlp, 8);
  b.pool_after = true;
  const std::int64_t D = 4;
  auto a = one_stage(8, D, 2, {b});  // 16 tokens → 7
  const auto net = lowered(a);
  ASSERT_EQ(net.units[1].out.n, 7);
  TestWeights tw;
  const Vec x = random_vec(16 * D, 19);
  space::Arch no_pool = a;
  no_pool.stages[0].blocks[0].pool_after = false;
  const Vec before = run_block1(no_pool, tw, x);
  Vec expect = max_pool1d(before, 16, D, 3, 2);
  const Vec pos = value_of(net, tw, "stages.0.blocks.0.pos_embed");
  for (std::size_t i = 0; i < expect.size(); ++i) expect[i] += pos[i];
  expect_near_vec(run_block1(a, tw, x), expect, 1e-6);
}

// ---- Whole networks -------------------------------------------------------------------------------

struct Mini {
  const char* name;
  space::Arch arch;
};

space::Stage stage(std::int64_t dim, std::int64_t heads, space::Patch down, std::vector<space::Block> blocks) {
  space::Stage s;
  s.dim = dim;
  s.heads = heads;
  s.downsample = down;
  s.blocks = std::move(blocks);
  return s;
}

std::vector<Mini> minis() {
  using space::FfnKind;
  using space::MixerKind;
  using space::PatchKind;
  std::vector<Mini> out;
  const space::Patch none{PatchKind::none, 0, 0, 0, false};
  const space::Patch dtm{PatchKind::dtm, 2, 2, 0, false};
  const space::Patch merge{PatchKind::merge, 2, 2, 0, false};
  {  // LITv2-like: attention-free ConvFFN, then HiLo s=2 on an odd map (padding), then HiLo s=1.
    space::Arch a;
    a.input = space::Input{24, 24, 3, 7};
    a.norm_eps = 1e-5;
    a.stem = space::Patch{PatchKind::patch, 2, 2, 0, true};  // 12×12
    space::Mixer h2 = make_mixer(MixerKind::hilo);
    h2.hilo_alpha = 0.5;
    space::Mixer h1 = h2;
    h1.hilo_window = 1;
    a.stages = {stage(8, 1, none, {block(make_mixer(MixerKind::none), FfnKind::convffn, 16)}),
                stage(16, 4, dtm, {block(h2, FfnKind::convffn, 24), block(h2, FfnKind::convffn, 24)}),  // 6×6
                stage(24, 4, dtm, {block(h2, FfnKind::convffn, 24)}),                                   // 3×3, padded
                stage(32, 4, dtm, {block(h1, FfnKind::mlp, 40)})};                                      // 1×1
    a.head = space::Head{space::HeadKind::mean, true};
    out.push_back({"litv2", a});
  }
  {  // Swin-like: windows with and without shift, patch merging.
    space::Arch a;
    a.input = space::Input{24, 24, 3, 5};
    a.norm_eps = 1e-5;
    a.stem = space::Patch{PatchKind::patch, 2, 2, 0, true};  // 12×12
    space::Mixer w0 = make_mixer(MixerKind::window);
    w0.window_size = 3;
    space::Mixer w1 = w0;
    w1.window_shift = true;
    a.stages = {stage(8, 2, none, {block(w0, FfnKind::mlp, 16), block(w1, FfnKind::mlp, 16)}),
                stage(16, 4, merge, {block(w0, FfnKind::mlp, 32), block(w1, FfnKind::mlp, 32)})};  // 6×6
    a.head = space::Head{space::HeadKind::mean, true};
    out.push_back({"swin", a});
  }
  {  // PVTv2-like: overlapping convs, SRA, ConvFFN, a norm after every stage, no head norm.
    space::Arch a;
    a.input = space::Input{20, 20, 3, 6};
    a.norm_eps = 1e-6;
    a.stem = space::Patch{PatchKind::overlap, 7, 4, 3, true};  // 5×5
    space::Mixer s2 = make_mixer(MixerKind::sra);
    s2.sra_ratio = 2;
    space::Mixer s1 = s2;
    s1.sra_ratio = 1;
    space::Stage st0 = stage(8, 1, none, {block(s2, FfnKind::convffn, 32)});
    st0.norm_out = true;
    space::Stage st1 =
        stage(16, 2, space::Patch{PatchKind::overlap, 3, 2, 1, true}, {block(s1, FfnKind::convffn, 32)});  // 3×3
    st1.norm_out = true;
    a.stages = {st0, st1};
    a.head = space::Head{space::HeadKind::mean, false};
    out.push_back({"pvtv2", a});
  }
  {  // DeiT/SPViT-like: cls token, pos embed, MSA, bottleneck convs, SPViT skip, pruned FFN.
    space::Mixer b1 = make_mixer(MixerKind::bconv);
    b1.bconv_kernel = 1;
    space::Mixer b3 = b1;
    b3.bconv_kernel = 3;
    auto a = one_stage(
        16, 12, 3,
        {block(b1, FfnKind::mlp, 10), block(b3, FfnKind::mlp, 30),
         block(make_mixer(MixerKind::normskip), FfnKind::mlp, 7), block(make_mixer(MixerKind::msa), FfnKind::mlp, 48),
         block(make_mixer(MixerKind::skip), FfnKind::none, 0)},
        /*cls=*/true);
    out.push_back({"deit", a});
  }
  {  // HVT-like: pooling after blocks 0 and 2, mean head.
    std::vector<space::Block> blocks;
    for (int i = 0; i < 4; ++i) {
      blocks.push_back(block(make_mixer(MixerKind::msa), FfnKind::mlp, 16));
      blocks.back().pool_after = i % 2 == 0;
    }
    auto a = one_stage(16, 8, 2, blocks);  // 64 tokens → 31 → 15
    a.stages[0].pos_embed = true;
    out.push_back({"hvt", a});
  }
  {  // LIT-like: MLP-only stage, DTM, global MSA with a relative position bias.
    space::Arch a;
    a.input = space::Input{16, 16, 3, 4};
    a.norm_eps = 1e-5;
    a.stem = space::Patch{PatchKind::patch, 2, 2, 0, true};
    space::Mixer rp = make_mixer(MixerKind::msa);
    rp.msa_rel_pos = true;
    a.stages = {stage(8, 1, none, {block(make_mixer(MixerKind::none), FfnKind::mlp, 16)}),
                stage(16, 2, dtm, {block(rp, FfnKind::mlp, 32), block(rp, FfnKind::mlp, 32)})};
    a.head = space::Head{space::HeadKind::mean, true};
    out.push_back({"lit", a});
  }
  return out;
}

TEST(ReferenceNetworks, WholeNetworkEqualsUnitByUnitAndImagesAreIndependent) {
  for (const Mini& m : minis()) {
    SCOPED_TRACE(m.name);
    auto valid = space::validate(m.arch);
    ASSERT_TRUE(valid.ok()) << valid.error().message;
    const space::Arch& a = *valid;
    const auto net = lowered(a);
    TestWeights tw;
    const std::size_t img = static_cast<std::size_t>(a.input.channels * a.input.height * a.input.width);
    const Vec images = random_vec(2 * img, 20);
    const int last = static_cast<int>(net.units.size()) - 1;
    const Vec logits = run_units(a, net, 0, last, tw, images, 2);
    ASSERT_EQ(logits.size(), static_cast<std::size_t>(2 * a.input.classes));
    for (float v : logits) ASSERT_TRUE(std::isfinite(v));
    // Unit by unit, batch 2.
    Vec acts = images;
    for (int u = 0; u <= last; ++u) acts = run_units(a, net, u, u, tw, acts, 2);
    EXPECT_EQ(acts, logits);
    // Image 1 alone gives the same logits as in the batch.
    const Vec second(images.begin() + static_cast<std::ptrdiff_t>(img), images.end());
    const Vec alone = run_units(a, net, 0, last, tw, second, 1);
    EXPECT_EQ(alone, Vec(logits.begin() + a.input.classes, logits.end()));
    // Images differ, so logits do.
    EXPECT_NE(Vec(logits.begin(), logits.begin() + a.input.classes), alone);
  }
}

TEST(ReferenceNetworks, RejectsBadCalls) {
  const auto a = minis()[0].arch;
  const auto net = lowered(a);
  TestWeights tw;
  EXPECT_THROW(run_units(a, net, 0, 0, tw, Vec(5), 1), std::invalid_argument);
  EXPECT_THROW(run_units(a, net, 2, 1, tw, Vec(5), 1), std::invalid_argument);
  EXPECT_THROW(run_units(a, net, 0, 99, tw, Vec(5), 1), std::invalid_argument);
}

}  // namespace
}  // namespace hwnas::ref
