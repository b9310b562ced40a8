// ggml test-backend-ops style: every op and block kind of the IR, on small shapes, through the
// oneDNN engine and through the naive reference (tests/reference), same weights and inputs. Each
// unit alone on random tokens, and whole networks end to end. fp32 must agree to 1e-5 of the
// output's largest magnitude (measured: at most 8e-7 on every case and preset, 2026-11-24); bf16
// (8-bit mantissa, every activation rounded) to 3e-2 (measured: at most 9e-3).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "backend_compare.h"
#include "profilers/onednn/onednn_backend.h"
#include "space/arch_json.h"
#include "space/ops.h"
#include "space/presets.h"
#include "space/rng.h"

namespace hwnas {
namespace {

constexpr double kTolF32 = 1e-5;
constexpr double kTolBf16 = 3e-2;

struct Case {
  const char* name;
  const char* json;
};
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

// Small networks that together use every mixer, FFN, stem, downsample, head and pooling kind.
const Case kCases[] = {
    {"deit_like_cls_token", R"({"input": {"resolution": 32, "classes": 7}, "stem": {"kind": "patch", "kernel": 8},
      "cls_token": true, "head": {"kind": "cls"},
      "stages": [{"dim": 32, "heads": 2, "pos_embed": true, "blocks": [
        {"mixer": "msa", "ffn": {"kind": "mlp", "ratio": 2}},
        {"mixer": {"kind": "bconv", "kernel": 1}, "ffn": {"kind": "mlp", "hidden": 40}},
        {"mixer": {"kind": "bconv", "kernel": 3}, "ffn": "none"},
        {"mixer": "skip", "ffn": {"kind": "mlp", "ratio": 1}}]}]})"},
    {"litv2_like_hilo_dtm", R"({"input": {"resolution": 64, "classes": 5}, "norm_eps": 1e-5,
      "stem": {"kind": "patch", "kernel": 4, "norm": true},
      "stages": [
        {"dim": 16, "heads": 1, "blocks": [{"mixer": "none", "ffn": {"kind": "convffn", "ratio": 2}}]},
        {"dim": 32, "heads": 4, "downsample": "dtm", "blocks": [
          {"mixer": {"kind": "hilo", "alpha": 0.5, "window": 2}, "ffn": {"kind": "convffn", "ratio": 2}},
          {"mixer": {"kind": "hilo", "alpha": 0.9, "window": 1}, "ffn": {"kind": "convffn", "ratio": 2}}]}]})"},
    {"hilo_padded_and_branches", R"({"input": {"resolution": 28, "classes": 4},
      "stem": {"kind": "patch", "kernel": 4, "norm": true},
      "stages": [{"dim": 32, "heads": 4, "blocks": [
        {"mixer": {"kind": "hilo", "alpha": 0.5, "window": 2}, "ffn": "none"},
        {"mixer": {"kind": "hilo", "alpha": 0.0, "window": 2}, "ffn": "none"},
        {"mixer": {"kind": "hilo", "alpha": 1.0, "window": 2}, "ffn": "none"},
        {"mixer": {"kind": "hilo", "alpha": 0.5, "window": 3}, "ffn": {"kind": "mlp", "ratio": 2}}]}]})"},
    {"swin_like_windows_merge", R"({"input": {"resolution": 64, "classes": 6}, "norm_eps": 1e-5,
      "stem": {"kind": "patch", "kernel": 4, "norm": true},
      "stages": [
        {"dim": 16, "heads": 2, "blocks": [
          {"mixer": {"kind": "window", "size": 4}, "ffn": {"kind": "mlp", "ratio": 2}},
          {"mixer": {"kind": "window", "size": 4, "shift": true}, "ffn": {"kind": "mlp", "ratio": 2}}]},
        {"dim": 32, "heads": 2, "downsample": "merge", "blocks": [
          {"mixer": {"kind": "window", "size": 8, "shift": true}, "ffn": {"kind": "mlp", "ratio": 2}},
          {"mixer": "normskip", "ffn": {"kind": "mlp", "ratio": 2}},
          {"mixer": {"kind": "bconv", "kernel": 3}, "ffn": {"kind": "mlp", "ratio": 2}}]}]})"},
    {"pvt_like_sra_overlap", R"({"input": {"resolution": 64, "classes": 3},
      "stem": {"kind": "overlap", "kernel": 7, "stride": 4},
      "head": {"kind": "mean", "norm": false},
      "stages": [
        {"dim": 16, "heads": 1, "norm_out": true, "blocks": [{"mixer": {"kind": "sra", "ratio": 4}, "ffn": {"kind": "convffn", "ratio": 4}}]},
        {"dim": 32, "heads": 2, "norm_out": true, "downsample": {"kind": "overlap", "kernel": 3, "stride": 2},
         "blocks": [{"mixer": {"kind": "sra", "ratio": 2}, "ffn": {"kind": "convffn", "ratio": 2}},
                    {"mixer": {"kind": "sra", "ratio": 1}, "ffn": {"kind": "convffn", "ratio": 2}}]}]})"},
    {"lit_like_relpos_patch_down", R"({"input": {"resolution": 64, "classes": 3},
      "stem": {"kind": "patch", "kernel": 4, "norm": true},
      "stages": [
        {"dim": 16, "heads": 1, "pos_embed": true, "blocks": [{"mixer": "none", "ffn": {"kind": "mlp", "ratio": 2}}]},
        {"dim": 32, "heads": 2, "pos_embed": true, "downsample": {"kind": "patch", "kernel": 2, "norm": true},
         "blocks": [{"mixer": {"kind": "msa", "rel_pos": true}, "ffn": {"kind": "mlp", "ratio": 2}}]}]})"},
    {"hvt_like_pooling", R"({"input": {"resolution": 48, "classes": 5},
      "stem": {"kind": "patch", "kernel": 4},
      "stages": [{"dim": 24, "heads": 3, "pos_embed": true, "blocks": [
        {"mixer": "msa", "ffn": {"kind": "mlp", "ratio": 2}, "pool": true},
        {"mixer": "msa", "ffn": {"kind": "mlp", "ratio": 2}, "pool": true},
        {"mixer": "msa", "ffn": {"kind": "mlp", "ratio": 2}}]}]})"},
};

space::Arch arch_of(const Case& c) {
  auto a = space::parse_arch(c.json, c.name);
  EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
  return a.ok() ? *a : space::Arch{};
}

class BackendOps : public testing::TestWithParam<Case> {};

TEST_P(BackendOps, EveryUnitAloneMatchesTheReferenceF32) {
  const space::Arch arch = arch_of(GetParam());
  auto net = space::lower(arch);
  ASSERT_TRUE(net.ok());
  for (int u = 0; u < static_cast<int>(net->units.size()); ++u) {
    const double err = compare(arch, u, prof::DType::f32, 2);
    EXPECT_LE(err, kTolF32) << net->units[static_cast<std::size_t>(u)].label;
  }
}

TEST_P(BackendOps, WholeNetworkMatchesTheReferenceF32) {
  const space::Arch arch = arch_of(GetParam());
  EXPECT_LE(compare(arch, -1, prof::DType::f32, 2), kTolF32);
}

TEST_P(BackendOps, WholeNetworkMatchesTheReferenceBf16) {
  if (!prof::cpu_has_avx512_bf16()) GTEST_SKIP() << "this CPU has no native AVX512_BF16";
  const space::Arch arch = arch_of(GetParam());
  EXPECT_LE(compare(arch, -1, prof::DType::bf16, 1), kTolBf16);
}

TEST_P(BackendOps, BatchRunInChunksMatchesTheReference) {
  // Batch 3 as three passes of one image: every pass must read and write its own slice.
  const space::Arch arch = arch_of(GetParam());
  EXPECT_LE(compare(arch, -1, prof::DType::f32, 3, 1), kTolF32);
  auto net = space::lower(arch);
  ASSERT_TRUE(net.ok());
  EXPECT_LE(compare(arch, static_cast<int>(net->units.size()) / 2, prof::DType::f32, 3, 1), kTolF32);
}

TEST_P(BackendOps, RepeatedRunsGiveTheSameOutput) {
  // A unit never writes its input: the second run sees what the first saw.
  const space::Arch arch = arch_of(GetParam());
  auto run = engine().backend.prepare(arch, prof::Subject::network(), {}, engine().weights);
  ASSERT_TRUE(run.ok());
  (*run)->run();
  const auto a = (*run)->output();
  (*run)->run();
  (*run)->run();
  EXPECT_EQ(a, (*run)->output());
}

INSTANTIATE_TEST_SUITE_P(Cases, BackendOps, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace hwnas
