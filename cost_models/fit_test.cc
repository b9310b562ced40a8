#include "cost_models/fit.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "cost_models/evaluate.h"
#include "cost_models/test_util.h"

namespace hwnas::cost {
namespace {

using testing::network_samples;
using testing::sample_archs;
using testing::unit_samples;

double at(const UnitFeatures& f, Feature k) {
  return f.x[static_cast<std::size_t>(k)];
}

// A linear truth in a few features: 0.1 ns per GEMM MAC, 2 ns per score, 0.1 ns per norm byte,
// 1 µs per op, 3 µs per unit.
double linear_truth(const UnitFeatures& f) {
  return 1e-4 * at(f, Feature::gemm_macs) + 2e-3 * at(f, Feature::attn_scores) + 1e-4 * at(f, Feature::norm_bytes) +
         1.0 * at(f, Feature::ops) + 3.0;
}

TEST(Fit, SumFormPredictsUnseenArchsOfALinearTruth) {
  const auto train = unit_samples(sample_archs("hybrid-vit", 60, 11), 1, linear_truth);
  const auto test = unit_samples(sample_archs("hybrid-vit", 20, 12), 1, linear_truth);
  auto model = fit(train, {}, ModelKey{});
  ASSERT_TRUE(model) << model.error().message;
  double worst = 0;
  for (const UnitSample& s : test) {
    if (s.f.runs) {
      worst = std::max(worst, std::abs(model->predict_unit_us(s.group, s.f) / s.us - 1));
    } else {
      EXPECT_EQ(model->predict_unit_us(s.group, s.f), 0.0);
    }
  }
  EXPECT_LT(worst, 0.01);
  for (std::size_t g = 0; g < kGroupSlots; ++g) {
    if (!model->has_group[g] || model->groups[g].pooled) continue;
    for (double t : model->groups[g].theta) EXPECT_GE(t, 0.0);  // costs are never negative
  }
}

TEST(Fit, RooflineParametersAreRecoveredAndChosenOverTheSumForm) {
  // t = max(macs / 50 MAC/µs, bytes / 20 B/µs) + 4 µs, on units of both regimes.
  const auto rule = [](const UnitFeatures& f) { return std::max(f.roof.macs / 50.0, f.roof.bytes / 20.0) + 4.0; };
  const auto samples = unit_samples(sample_archs("hybrid-vit", 40, 3), 1, rule);
  std::vector<const UnitSample*> ptrs;
  int compute_bound = 0;
  for (const UnitSample& s : samples) {
    if (!s.f.runs) continue;  // the rule is for units that run something
    ptrs.push_back(&s);
    compute_bound += s.f.roof.macs / 50.0 > s.f.roof.bytes / 20.0 ? 1 : 0;
  }
  ASSERT_GT(compute_bound, 5);
  ASSERT_LT(compute_bound, static_cast<int>(samples.size()) - 5);
  const UnitModel m = fit_roofline(ptrs);
  EXPECT_NEAR(m.us_per_mac, 1 / 50.0, 1e-9);
  EXPECT_NEAR(m.us_per_byte, 1 / 20.0, 1e-9);
  EXPECT_NEAR(m.overhead_us, 4.0, 1e-5);  // the solver's tolerance
  const UnitModel chosen = fit_unit_model(ptrs, Priors{}, FitOptions{});
  EXPECT_EQ(chosen.form, Form::roofline);
  EXPECT_LT(chosen.cv_mape, 1e-9);
}

TEST(Fit, NetworkTermIsRecovered) {
  const auto archs = sample_archs("hybrid-vit", 30, 5);
  const auto units = unit_samples(archs, 1, linear_truth);
  const auto nets = network_samples(archs, 1, linear_truth, 1.1, 4.0);
  auto model = fit(units, nets, ModelKey{});
  ASSERT_TRUE(model) << model.error().message;
  EXPECT_NEAR(model->network.scale, 1.1, 0.005);
  EXPECT_NEAR(model->network.inter_unit_us, 4.0, 0.5);
  EXPECT_EQ(model->network.samples, 30);
  // Held-out networks of the same truth: within 1%, and the MACs baseline is far worse.
  const auto held = network_samples(sample_archs("hybrid-vit", 15, 6), 1, linear_truth, 1.1, 4.0);
  const Evaluation e = evaluate(*model, held, macs_constant(units, nets));
  EXPECT_EQ(e.model.n, 15);
  EXPECT_DOUBLE_EQ(e.model.within10, 1.0);
  EXPECT_LT(e.model.mape, 0.01);
  EXPECT_GT(e.macs_baseline.mape, e.model.mape);
  EXPECT_EQ(e.block_sum.n, 15);
  // The sum of the units alone misses the 10% scale and the inter-unit time: ≥ 1 − 1/1.1 off.
  EXPECT_GT(e.block_sum.mape, 1 - 1 / 1.1);
  // Each row names the unit group with the largest share of its predicted time (summed here directly).
  ASSERT_EQ(e.rows.size(), held.size());
  for (std::size_t i = 0; i < held.size(); ++i) {
    std::map<std::string, double> by_group;
    double sum = 0;
    for (const NetworkUnit& u : held[i].units) {
      const double t = model->predict_unit_us(u.group, u.f);
      by_group[group_name(u.group)] += t;
      sum += t;
    }
    const auto top = std::max_element(by_group.begin(), by_group.end(),
                                      [](const auto& a, const auto& b) { return a.second < b.second; });
    EXPECT_EQ(e.rows[i].top_group, top->first);
    EXPECT_NEAR(e.rows[i].top_group_share, top->second / sum, 1e-12);
    EXPECT_GT(e.rows[i].top_group_share, 0.0);
    EXPECT_LE(e.rows[i].top_group_share, 1.0);
  }
}

TEST(Fit, UnitsThatRunNothingArePredictedZeroAndAreNoBoundary) {
  // FinerCut samples of deit-small remove both sublayers of some blocks: those units have no ops.
  std::vector<space::Arch> archs = sample_archs("finercut:deit-small", 30, 9);
  const auto units = unit_samples(archs, 1, linear_truth);
  std::size_t empty = 0;
  for (const UnitSample& s : units) {
    if (s.f.runs) continue;
    ++empty;
    for (double x : s.f.x) EXPECT_EQ(x, 0.0);
  }
  ASSERT_GT(empty, 10u);
  const auto nets = network_samples(archs, 1, linear_truth, 1.05, 50.0);
  auto model = fit(units, nets, ModelKey{});
  ASSERT_TRUE(model) << model.error().message;
  // Learnt from the units that run: the timer's reading of an empty unit would be off by 3 µs of the
  // truth's fixed cost, 750× the reading.
  for (const UnitSample& s : units) {
    if (s.f.runs) {
      EXPECT_NEAR(model->predict_unit_us(s.group, s.f) / s.us, 1.0, 0.01);
    } else {
      EXPECT_EQ(model->predict_unit_us(s.group, s.f), 0.0);
    }
  }
  EXPECT_NEAR(model->network.inter_unit_us, 50.0, 1.0);  // boundaries counted between running units only
  const Evaluation e = evaluate(*model, nets, macs_constant(units, nets));
  EXPECT_LT(e.model.mape, 0.01);
}

TEST(Fit, RefusesNothingAndNonPositiveTimes) {
  auto none = fit({}, {}, ModelKey{});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("hwnas calibrate"), std::string::npos);
  auto samples = unit_samples(sample_archs("tiny", 2, 1), 1, linear_truth);
  samples.front().us = 0;
  auto bad = fit(samples, {}, ModelKey{});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("time must be > 0"), std::string::npos);
}

}  // namespace
}  // namespace hwnas::cost
