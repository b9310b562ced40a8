// SPViT carving on the real engine: an MSA whose heads attend to fixed offsets (constructed weights,
// positions one-hot in the tokens) is reproduced by the 3×3 conv carved from it, with the head of
// every tap read off the attention; with only the centre head projecting, by the 1×1; FFN neurons
// that contribute nothing are ranked last, and a narrowing that drops neurons of constant output
// leaves the network's logits unchanged (their mean moves into fc2's bias).
#include "compress/carving.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "compress/test_calibration.h"
#include "profilers/backends.h"
#include "profilers/weight_source.h"
#include "space/arch_json.h"
#include "space/params.h"
#include "space/validate.h"

namespace hwnas::compress {
namespace {

// 32×32 input, 4×4 patches: an 8×8 grid plus the cls token (65 tokens). D = 648 = 9 heads of d = 72:
// channels [0, 583) carry content, [583, 648) a one-hot position (0: cls, 1 + i: spatial token i).
constexpr std::int64_t kGrid = 8, kTokens = kGrid * kGrid + 1, kHeads = 9, kHeadDim = 72, kDim = kHeads * kHeadDim;
constexpr std::int64_t kContent = kDim - kTokens;

// Head h attends to the neighbour at tap (4h) mod 9 (a permutation of the taps); tap k is the offset
// (dy, dx) = (k mod 3 − 1, k div 3 − 1) (SEEDS.md §4: kernel[:, :, kh, kw] holds tap 3·kw + kh).
int tap_of_head(int h) {
  return (4 * h) % 9;
}

space::Arch one_block(const std::string& mixer) {
  auto a = space::parse_arch(
      R"({"input": {"resolution": 32, "classes": 5}, "cls_token": true, "stem": {"kind": "patch", "kernel": 4},
          "stages": [{"dim": 648, "heads": 9, "pos_embed": true, "blocks": [{"mixer": )" +
          mixer + R"(, "ffn": "none"}]}], "head": {"kind": "cls"}})",
      "one_block.json");
  if (!a) throw std::runtime_error(a.error().message);
  return *a;
}

// The MSA of the construction. Every token's channels sum to zero (content rows of the stem sum to
// zero over the output channels, positions are one-hot minus 1/65), so LayerNorm only scales a token.
// Head h's query maps position i to the one-hot of i's neighbour at its tap (the cls token when that
// lies off the map: its value is zero, as the conv's zero padding), its key is the position itself:
// the logit of that key is ~60 above every other. Its value is content read into channel h of the
// head only, and its projection reads channel h only, so heads never mix in the carved conv.
class FixedOffsetAttention final : public space::WeightSource {
 public:
  explicit FixedOffsetAttention(bool only_centre_projects = false) : only_centre_(only_centre_projects) {}
  void fill(const space::ParamSpec& spec, std::span<float> dst) const override {
    const std::string& n = spec.name;
    std::fill(dst.begin(), dst.end(), 0.0f);
    std::mt19937 gen(static_cast<unsigned>(std::hash<std::string>{}(n)));
    std::normal_distribution<float> g;
    auto at = [&](std::int64_t r, std::int64_t c, std::int64_t cols) -> float& {
      return dst[static_cast<std::size_t>(r * cols + c)];
    };
    if (n == "stem.proj.weight") {  // [648, 3, 4, 4]: content rows random, zero-sum over them
      const std::int64_t per = 3 * 4 * 4;
      for (std::int64_t i = 0; i < per; ++i) {
        double mean = 0;
        for (std::int64_t c = 0; c < kContent; ++c) mean += (at(c, i, per) = 0.005f * g(gen));
        mean /= kContent;
        for (std::int64_t c = 0; c < kContent; ++c) at(c, i, per) -= static_cast<float>(mean);
      }
    } else if (n.ends_with("pos_embed")) {  // [1, 65, 648]
      for (std::int64_t t = 0; t < kTokens; ++t)
        for (std::int64_t p = 0; p < kTokens; ++p) at(t, kContent + p, kDim) = (t == p ? 1.0f : 0.0f) - 1.0f / kTokens;
    } else if (n.ends_with("norm1.weight") || n.ends_with("norm.weight")) {
      std::fill(dst.begin(), dst.end(), 1.0f);
    } else if (n.ends_with("attn.qkv.weight")) {  // [3·648, 648]
      for (int h = 0; h < kHeads; ++h) {
        const int k = tap_of_head(h), dy = k % 3 - 1, dx = k / 3 - 1;
        for (std::int64_t p = 0; p < kTokens; ++p) {
          std::int64_t target = 0;  // the cls token
          if (p > 0) {
            const std::int64_t r = (p - 1) / kGrid + dy, c = (p - 1) % kGrid + dx;
            if (r >= 0 && r < kGrid && c >= 0 && c < kGrid) target = 1 + r * kGrid + c;
          }
          at(h * kHeadDim + target, kContent + p, kDim) = 3.0f;    // query: the target position
          at(kDim + h * kHeadDim + p, kContent + p, kDim) = 1.0f;  // key: the position itself
        }
        for (std::int64_t c = 0; c < kContent; ++c) at(2 * kDim + h * kHeadDim + h, c, kDim) = 0.2f * g(gen);
      }
    } else if (n.ends_with("attn.proj.weight")) {  // [648, 648]: head h's channel h only
      for (int h = 0; h < kHeads; ++h) {
        if (only_centre_ && tap_of_head(h) != 4) continue;
        for (std::int64_t o = 0; o < kDim; ++o) at(o, h * kHeadDim + h, kDim) = g(gen);
      }
    } else if (n.ends_with("attn.proj.bias")) {
      for (float& v : dst) v = 0.1f * g(gen);
    } else if (n.starts_with("head.")) {
      prof::RandomWeights(3).fill(spec, dst);
    }
  }

 private:
  bool only_centre_;
};

Calibration images(std::int64_t n) {
  return gaussian_calibration(n, 11);
}

struct Engine {
  std::unique_ptr<prof::Backend> backend;
  prof::RunConfig cfg;
  Engine() {
    auto b = prof::make_backend(prof::DeviceSpec{}, 1);
    if (!b) throw std::runtime_error(b.error().message);
    backend = std::move(*b);
    cfg.batch = 2;
    cfg.threads = 1;
  }
  // Unit `unit` of `arch` run on `input`.
  std::vector<float> unit_output(const space::Arch& arch, int unit, const space::WeightSource& w,
                                 const std::vector<float>& input) {
    auto r = backend->prepare(arch, prof::Subject::of_unit(unit), cfg, w);
    if (!r) throw std::runtime_error(r.error().message);
    (*r)->set_input(input);
    (*r)->run();
    return (*r)->output();
  }
};

// max |a − b| over the spatial tokens, relative to max |a − x| there (the mixer branch's size).
double branch_difference(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& x) {
  double diff = 0, size = 0;
  for (std::int64_t img = 0; img < static_cast<std::int64_t>(a.size()) / (kTokens * kDim); ++img)
    for (std::int64_t t = 1; t < kTokens; ++t)
      for (std::int64_t c = 0; c < kDim; ++c) {
        const auto i = static_cast<std::size_t>((img * kTokens + t) * kDim + c);
        diff = std::max(diff, static_cast<double>(std::abs(a[i] - b[i])));
        size = std::max(size, static_cast<double>(std::abs(a[i] - x[i])));
      }
  return diff / size;
}

void expect_carved_equals_msa(bool only_centre, std::int64_t kernel) {
  Engine e;
  const space::Arch msa = one_block(R"("msa")");
  const FixedOffsetAttention w(only_centre);
  auto f = Fidelity::create(*e.backend, msa, w, images(4), Distance::finercut_js, e.cfg);
  ASSERT_TRUE(f) << f.error().message;
  auto carver = Carver::create(**f, w);
  ASSERT_TRUE(carver) << carver.error().message;
  ASSERT_EQ((*carver)->layers().size(), 1u);
  const LayerCarving& lc = (*carver)->layers()[0];
  for (int h = 0; h < kHeads; ++h) {
    EXPECT_EQ(lc.tap_head[static_cast<std::size_t>(tap_of_head(h))], h) << "tap " << tap_of_head(h);
    EXPECT_GT(lc.attention[static_cast<std::size_t>(h * kTaps + tap_of_head(h))], 0.999) << "head " << h;
  }
  const space::Arch conv = one_block(fmt::format(R"({{"kind": "bconv", "kernel": {}}})", kernel));
  auto cw = (*carver)->weights_for(conv);
  ASSERT_TRUE(cw) << cw.error().message;
  const CarvedConv& cc = kernel == 1 ? lc.conv1 : lc.conv3;
  EXPECT_LT(cc.fit_error, 1e-4);
  const int block_unit = 1;
  for (std::int64_t b = 0; b < (*f)->batches(); ++b) {
    const std::vector<float>& x = (*f)->original_inputs(block_unit)[static_cast<std::size_t>(b)];
    const std::vector<float> want = e.unit_output(msa, block_unit, w, x);
    const std::vector<float> got = e.unit_output(conv, block_unit, **cw, x);
    EXPECT_LT(branch_difference(want, got, x), 1e-4) << "batch " << b;
  }
}

TEST(Carving, Conv3x3ReproducesFixedOffsetHeads) {
  expect_carved_equals_msa(false, 3);
}

TEST(Carving, Conv1x1ReproducesTheCentreHead) {
  expect_carved_equals_msa(true, 1);
}

TEST(Carving, TapOffsetsFollowSpvitsColumnMajorKernel) {
  // kernel[:, :, kh, kw] = Wv_k for k = 3·kw + kh: tap 1 is one row down, tap 3 one column left.
  EXPECT_EQ(tap_offset(0).dy, -1);
  EXPECT_EQ(tap_offset(0).dx, -1);
  EXPECT_EQ(tap_offset(1).dy, 0);
  EXPECT_EQ(tap_offset(1).dx, -1);
  EXPECT_EQ(tap_offset(3).dy, -1);
  EXPECT_EQ(tap_offset(3).dx, 0);
  EXPECT_EQ(tap_offset(4).dy, 0);
  EXPECT_EQ(tap_offset(4).dx, 0);
  EXPECT_EQ(tap_offset(8).dy, 1);
  EXPECT_EQ(tap_offset(8).dx, 1);
}

// A DeiT-like block whose first `constant` FFN neurons output a constant (fc1 row zero, their own
// bias) through full-size fc2 columns, and whose next `silent` neurons have zero fc2 columns: both
// lose nothing when removed (the constants' mean moves into fc2's bias).
class ConstantNeurons final : public space::WeightSource {
 public:
  void fill(const space::ParamSpec& spec, std::span<float> dst) const override {
    random_.fill(spec, dst);
    const std::int64_t hidden = 64, D = 32;
    if (spec.name.ends_with("mlp.fc1.weight")) std::fill(dst.begin(), dst.begin() + kConstant * D, 0.0f);
    if (spec.name.ends_with("mlp.fc1.bias"))
      for (std::int64_t j = 0; j < kConstant; ++j)
        dst[static_cast<std::size_t>(j)] = 0.5f + 0.1f * static_cast<float>(j);
    if (spec.name.ends_with("mlp.fc2.weight"))
      for (std::int64_t o = 0; o < D; ++o)
        for (std::int64_t j = 0; j < kConstant + kSilent; ++j)
          if (j >= kConstant) dst[static_cast<std::size_t>(o * hidden + j)] = 0.0f;
  }
  static constexpr std::int64_t kConstant = 5, kSilent = 3;

 private:
  prof::RandomWeights random_{21};
};

TEST(Carving, NarrowedFfnDropsConstantNeuronsWithoutChangingTheOutput) {
  Engine e;
  auto arch = space::parse_arch(R"({"input": {"resolution": 32, "classes": 7}, "stem": {"kind": "patch", "kernel": 8},
      "stages": [{"dim": 32, "heads": 2, "blocks": [{"mixer": "msa", "ffn": {"kind": "mlp", "hidden": 64}},
                                                    {"mixer": "msa", "ffn": {"kind": "mlp", "hidden": 64}}]}]})",
                                "ffn.json");
  ASSERT_TRUE(arch) << arch.error().message;
  const ConstantNeurons w;
  auto f = Fidelity::create(*e.backend, *arch, w, images(5), Distance::finercut_js, e.cfg);
  ASSERT_TRUE(f) << f.error().message;
  auto carver = Carver::create(**f, w);
  ASSERT_TRUE(carver) << carver.error().message;
  const std::int64_t drop = ConstantNeurons::kConstant + ConstantNeurons::kSilent;
  for (const LayerCarving& lc : (*carver)->layers()) {
    ASSERT_TRUE(lc.ffn_ranked);
    std::vector<std::int64_t> last(lc.ffn.order.end() - drop, lc.ffn.order.end());
    std::sort(last.begin(), last.end());
    std::vector<std::int64_t> want(static_cast<std::size_t>(drop));
    std::iota(want.begin(), want.end(), 0);
    EXPECT_EQ(last, want) << "block " << lc.block;
    for (std::int64_t j = 0; j < ConstantNeurons::kConstant; ++j) {  // GELU(b) exactly, for every token
      const double b = 0.5 + 0.1 * static_cast<double>(j);
      EXPECT_NEAR(lc.ffn.mean[static_cast<std::size_t>(j)], 0.5 * b * (1 + std::erf(b / std::sqrt(2.0))), 1e-6);
    }
  }
  space::Arch narrow = *arch;
  for (space::Block& b : narrow.stages[0].blocks) b.ffn.hidden = 64 - drop;
  auto nw = (*carver)->weights_for(narrow);
  ASSERT_TRUE(nw) << nw.error().message;
  auto logits = (*f)->logits(narrow, **nw);
  ASSERT_TRUE(logits) << logits.error().message;
  const std::vector<float>& orig = (*f)->original_logits();
  double diff = 0, size = 0;
  for (std::size_t i = 0; i < orig.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::abs((*logits)[i] - orig[i])));
    size = std::max(size, static_cast<double>(std::abs(orig[i])));
  }
  EXPECT_LT(diff / size, 1e-5);
  // Without moving the constant neurons' mean into the bias the outputs would move measurably.
  space::Arch narrower = narrow;
  narrower.stages[0].blocks[0].ffn.hidden = 64 - drop - 8;
  auto w2 = (*carver)->weights_for(narrower);
  ASSERT_TRUE(w2);
  auto d2 = (*f)->distance(narrower, **w2);
  ASSERT_TRUE(d2);
  EXPECT_GT(*d2, 1e-9);
}

TEST(Carving, RefusesWhatItCannotCarve) {
  Engine e;
  const space::Arch msa = one_block(R"("msa")");
  const FixedOffsetAttention w;
  auto f = Fidelity::create(*e.backend, msa, w, images(2), Distance::finercut_js, e.cfg);
  ASSERT_TRUE(f);
  auto carver = Carver::create(**f, w);
  ASSERT_TRUE(carver);
  auto other = (*carver)->weights_for(one_block(R"("none")"));
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("stages[0].blocks[0]"), std::string::npos) << other.error().message;
  const space::Arch none = one_block(R"("none")");
  auto f2 = Fidelity::create(*e.backend, none, w, images(2), Distance::finercut_js, e.cfg);
  ASSERT_TRUE(f2);
  auto c2 = Carver::create(**f2, w);
  ASSERT_FALSE(c2);
  EXPECT_NE(c2.error().message.find("no MSA"), std::string::npos);
}

}  // namespace
}  // namespace hwnas::compress
