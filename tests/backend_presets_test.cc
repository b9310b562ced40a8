// Full-size presets end to end through the oneDNN engine and the naive reference (slow: labelled
// "slow", skipped in the sanitizer pass). Same tolerance as backend_ops_test.cc.
#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "backend_compare.h"
#include "space/presets.h"

namespace hwnas {
namespace {

constexpr double kTolF32 = 1e-5;  // measured: at most 8e-7 on these presets

// Full-size presets end to end (slow under sanitizers: labelled "slow").
class BackendPresets : public testing::TestWithParam<const char*> {};

TEST_P(BackendPresets, MatchesTheReferenceF32) {
  auto arch = space::preset(GetParam());
  ASSERT_TRUE(arch.ok());
  EXPECT_LE(compare(*arch, -1, prof::DType::f32, 1), kTolF32);
}

INSTANTIATE_TEST_SUITE_P(Presets, BackendPresets,
                         testing::Values("deit-tiny", "pvtv2-b0", "litv2-s", "swin-t", "hvt-s-4", "spvit-deit-tiny"),
                         [](const testing::TestParamInfo<const char*>& i) {
                           std::string s = i.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

// Every preset prepares and runs end to end, fp32 and (where the CPU has it) bf16, with finite logits.
TEST(BackendPresets, EveryPresetRunsInBothDtypes) {
  for (const auto& info : space::presets()) {
    auto arch = space::preset(info.name);
    ASSERT_TRUE(arch.ok());
    for (prof::DType dt : {prof::DType::f32, prof::DType::bf16}) {
      if (dt == prof::DType::bf16 && !prof::cpu_has_avx512_bf16()) continue;
      prof::RunConfig cfg;
      cfg.dtype = dt;
      auto run = engine().backend.prepare(*arch, prof::Subject::network(), cfg, engine().weights);
      ASSERT_TRUE(run.ok()) << info.name << ": " << run.error().message;
      (*run)->run();
      const auto logits = (*run)->output();
      ASSERT_EQ(logits.size(), static_cast<std::size_t>(arch->input.classes)) << info.name;
      for (float v : logits) ASSERT_TRUE(std::isfinite(v)) << info.name << " " << prof::name_of(dt);
    }
  }
}

}  // namespace
}  // namespace hwnas
