// The CUDA engine against the naive reference (tests/reference), on the same cases as the CPU
// engine (backend_cases.h): every unit alone and whole networks, fp32, fp16 and bf16; the CUDA-graph
// replay against the eager launch. Label `gpu`: every test skips itself, saying why, where no CUDA
// device is usable (or the build has no CUDA). Tolerances, as a share of the output's largest
// magnitude: fp32 1e-5 (strict fp32 products, no TF32; only the summation order differs from the
// reference), fp16 and bf16 3e-2 (every activation rounded to 11 / 8 significant bits; cuBLASLt's
// GELU epilogue in these types is the tanh form, within that rounding).
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backend_cases.h"
#include "backend_compare.h"
#include "profilers/backends.h"
#include "space/presets.h"

namespace hwnas {
namespace {

constexpr double kTolF32 = 1e-5;
constexpr double kTol16 = 3e-2;

// One CUDA backend for the whole binary, or the reason there is none.
struct Gpu {
  std::unique_ptr<prof::Backend> backend;
  std::string why_not;
};
Gpu& gpu() {
  static Gpu g = [] {
    Gpu r;
    auto b = prof::make_backend(prof::DeviceSpec{"cuda", 0}, 0);
    if (b) {
      r.backend = std::move(b).value();
    } else {
      r.why_not = b.error().message;
    }
    return r;
  }();
  return g;
}

#define REQUIRE_GPU()                                                                      \
  do {                                                                                     \
    if (!gpu().backend) GTEST_SKIP() << "no CUDA device for this test: " << gpu().why_not; \
  } while (0)

class CudaOps : public testing::TestWithParam<Case> {};

TEST_P(CudaOps, EveryUnitAloneMatchesTheReferenceF32) {
  REQUIRE_GPU();
  const space::Arch arch = arch_of(GetParam());
  auto net = space::lower(arch);
  ASSERT_TRUE(net.ok());
  for (int u = 0; u < static_cast<int>(net->units.size()); ++u)
    EXPECT_LE(compare_on(*gpu().backend, arch, u, prof::DType::f32, 2), kTolF32)
        << net->units[static_cast<std::size_t>(u)].label;
}

TEST_P(CudaOps, WholeNetworkMatchesTheReferenceInEveryType) {
  REQUIRE_GPU();
  const space::Arch arch = arch_of(GetParam());
  EXPECT_LE(compare_on(*gpu().backend, arch, -1, prof::DType::f32, 3), kTolF32);
  EXPECT_LE(compare_on(*gpu().backend, arch, -1, prof::DType::f16, 2), kTol16);
  EXPECT_LE(compare_on(*gpu().backend, arch, -1, prof::DType::bf16, 2), kTol16);
}

TEST_P(CudaOps, GraphReplayGivesTheEagerOutput) {
  REQUIRE_GPU();
  const space::Arch arch = arch_of(GetParam());
  prof::RunConfig cfg;
  cfg.batch = 2;
  auto run = gpu().backend->prepare(arch, prof::Subject::network(), cfg, engine().weights);
  ASSERT_TRUE(run.ok()) << run.error().message;
  (*run)->run();
  const auto eager = (*run)->output();
  auto launch = (*run)->graph_launch();
  ASSERT_TRUE(launch);
  launch();
  launch();
  EXPECT_EQ(eager, (*run)->output());
}

INSTANTIATE_TEST_SUITE_P(Cases, CudaOps, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

// Whole presets at their real size, batch 2, fp32.
class CudaPresets : public testing::TestWithParam<const char*> {};

TEST_P(CudaPresets, MatchesTheReferenceF32) {
  REQUIRE_GPU();
  auto arch = space::preset(GetParam());
  ASSERT_TRUE(arch.ok());
  EXPECT_LE(compare_on(*gpu().backend, *arch, -1, prof::DType::f32, 2), kTolF32);
}

INSTANTIATE_TEST_SUITE_P(Presets, CudaPresets,
                         testing::Values("deit-tiny", "litv2-s", "swin-t", "pvtv2-b2", "spvit-deit-small", "hvt-s-3"),
                         [](const testing::TestParamInfo<const char*>& i) {
                           std::string s = i.param;
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

// Host side, with or without a GPU: device names parse, and an unusable device is a clear error.
TEST(CudaHost, DeviceNamesParse) {
  EXPECT_EQ(prof::parse_device("cpu")->kind, "cpu");
  EXPECT_EQ(prof::parse_device("cuda")->index, 0);
  EXPECT_EQ(prof::parse_device("cuda:3")->index, 3);
  for (const char* bad : {"cuda:", "cuda:-1", "cuda:1x", "tpu", ""}) {
    auto r = prof::parse_device(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("is not a device"), std::string::npos) << r.error().message;
  }
}

TEST(CudaHost, AMissingDeviceIsAClearError) {
  auto r = prof::make_backend(prof::DeviceSpec{"cuda", 999}, 0);
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message;
  const bool clear = m.find("no CUDA device") != std::string::npos || m.find("without CUDA") != std::string::npos;
  EXPECT_TRUE(clear) << m;
}

}  // namespace
}  // namespace hwnas
