// The Zen-score proxy (profilers/zen_score.h): the engine's score equals the one computed through
// the naive reference with the same random weights and inputs, and it behaves as its definition
// says (linear in a small α, the head's width taken out, deterministic per seed).
#include "profilers/zen_score.h"

#include <cmath>
#include <span>

#include <gtest/gtest.h>

#include "profilers/onednn/onednn_backend.h"
#include "reference/reference.h"
#include "space/ops.h"
#include "space/search_space.h"

namespace hwnas {
namespace {

prof::OnednnBackend& backend() {
  static prof::OnednnBackend b{0};
  return b;
}

// A few archs of the tiny space (64×64 inputs; every mixer kind appears across samples).
std::vector<space::Arch> tiny_archs(int n) {
  auto sp = space::builtin_space("tiny");
  EXPECT_TRUE(sp);
  space::Sampler s(*sp);
  space::Rng rng(11);
  std::vector<space::Arch> out;
  for (int i = 0; i < n; ++i) out.push_back(s.sample(rng).value().arch);
  return out;
}

double engine_score(const space::Arch& a, const prof::ZenOptions& o) {
  auto s = prof::zen_score(backend(), a, o);
  EXPECT_TRUE(s) << s.error().message;
  return s ? *s : NAN;
}

TEST(ZenScore, EngineEqualsTheReference) {
  prof::ZenOptions o;
  for (const space::Arch& a : tiny_archs(4)) {
    const auto net = space::lower(a).value();
    const prof::ZenWeights w(o.seed);
    const double ref = prof::zen_score_from(
        a,
        [&](std::span<const float> images, std::int64_t batch) {
          return ref::run_units(a, net, 0, static_cast<int>(net.units.size()) - 1, w, images, batch);
        },
        o);
    // The difference of two nearly equal outputs: fp32 engine error is amplified 1/α-fold.
    EXPECT_NEAR(engine_score(a, o), ref, 2e-3);
  }
}

TEST(ZenScore, LinearInASmallPerturbation) {
  // ‖f(x + 2αε) − f(x)‖ ≈ 2‖f(x + αε) − f(x)‖ for small α: the scores differ by log 2.
  for (const space::Arch& a : tiny_archs(3)) {
    prof::ZenOptions o;
    o.alpha = 1e-3;
    const double s1 = engine_score(a, o);
    o.alpha = 2e-3;
    EXPECT_NEAR(engine_score(a, o) - s1, std::log(2.0), 0.05);
  }
}

TEST(ZenScore, HeadWidthIsTakenOut) {
  // The random head scales ‖Δ‖ by √(C/D) in expectation; the score removes it, so the number of
  // classes barely matters (chi-square spread of a 250-wide projection: ~5%).
  space::Arch a = tiny_archs(1).front();
  a.input.classes = 1000;
  const double wide = engine_score(a, {});
  a.input.classes = 250;
  const double narrow = engine_score(a, {});
  EXPECT_NEAR(wide, narrow, 0.15);
  // Without the correction they would differ by ½·log 4 = 0.69.
}

TEST(ZenScore, DeterministicPerSeed) {
  const space::Arch a = tiny_archs(1).front();
  prof::ZenOptions o;
  const double first = engine_score(a, o);
  EXPECT_EQ(engine_score(a, o), first);
  o.seed = 2;
  EXPECT_NE(engine_score(a, o), first);
}

}  // namespace
}  // namespace hwnas
