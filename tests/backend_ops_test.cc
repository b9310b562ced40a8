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

#include "backend_cases.h"
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
