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

}  // namespace
}  // namespace hwnas
