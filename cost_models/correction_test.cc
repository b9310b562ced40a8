// The network-level correction: identity without measurements, learns a systematic device/model
// mismatch from a few measured networks (checked on networks it never saw), and its margin follows
// the spread of what it could not explain.
#include "cost_models/correction.h"

#include <cmath>

#include <gtest/gtest.h>

#include "cost_models/test_util.h"

namespace hwnas::cost {
namespace {

// A model every group of which is the same roofline: 100 GMAC/s, 20 GB/s, 5 µs a unit.
Model roofline_model() {
  Model m;
  m.fallback.form = Form::roofline;
  m.fallback.us_per_mac = 1.0 / 100e3;
  m.fallback.us_per_byte = 1.0 / 20e3;
  m.fallback.overhead_us = 5;
  return m;
}

double mean_abs_rel(const Correction& c, const std::vector<space::Arch>& archs,
                    const std::function<double(double)>& device) {
  double s = 0;
  for (const auto& a : archs) {
    const double truth = device(c.raw_us(a));
    s += std::abs(c.corrected_us(a) / truth - 1);
  }
  return s / static_cast<double>(archs.size());
}

TEST(Correction, IdentityWithoutMeasurements) {
  const Model m = roofline_model();
  const Correction c(m);
  for (const auto& a : testing::sample_archs("hybrid-vit", 5, 3)) EXPECT_DOUBLE_EQ(c.corrected_us(a), c.raw_us(a));
  EXPECT_DOUBLE_EQ(c.margin(), 0.10);  // no held-out band: the default
}

TEST(Correction, MarginFromTheModelsBand) {
  Model m = roofline_model();
  m.band.n = 50;
  m.band.q05 = -0.2;  // 5% of networks ran 25% slower than predicted
  EXPECT_NEAR(Correction(m).margin(), 0.25, 1e-12);
}

TEST(Correction, LearnsAConstantMismatchFromAFewNetworks) {
  const Model m = roofline_model();
  Correction c(m);
  auto device = [](double raw) { return 1.3 * raw; };
  const auto train = testing::sample_archs("hybrid-vit", 8, 5);
  const auto test = testing::sample_archs("hybrid-vit", 30, 99);
  EXPECT_NEAR(mean_abs_rel(c, test, device), 1 - 1 / 1.3, 1e-9);  // 23% off before
  for (const auto& a : train) c.add(a, device(c.raw_us(a)));
  EXPECT_LT(mean_abs_rel(c, test, device), 0.02);
  // Everything it saw is explained: the margin is at its floor.
  EXPECT_LT(c.margin(), 0.05);
}

TEST(Correction, LearnsASizeDependentMismatch) {
  // Small networks slower than the roofline says (fixed costs), large ones as predicted.
  const Model m = roofline_model();
  Correction c(m);
  auto device = [](double raw) { return raw * std::pow(raw / 20000.0, -0.15); };
  const auto train = testing::sample_archs("hybrid-vit", 20, 7);
  const auto test = testing::sample_archs("hybrid-vit", 40, 123);
  const double before = mean_abs_rel(c, test, device);
  for (const auto& a : train) c.add(a, device(c.raw_us(a)));
  EXPECT_LT(mean_abs_rel(c, test, device), before / 3) << "before " << before;
}

TEST(Correction, MarginCoversUnexplainedSpread) {
  const Model m = roofline_model();
  Correction c(m);
  space::Rng rng(17);
  const auto train = testing::sample_archs("hybrid-vit", 30, 11);
  for (const auto& a : train) c.add(a, c.raw_us(a) * (0.8 + 0.4 * rng.uniform()));
  // Uniform ±20% noise: 90% of measurements lie within +16% of the mean; the margin sees that.
  EXPECT_GT(c.margin(), 0.10);
  EXPECT_LT(c.margin(), 0.30);
  ASSERT_EQ(c.loo_errors().size(), train.size());
}

}  // namespace
}  // namespace hwnas::cost
