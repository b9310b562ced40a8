// The cost model against the fake backend (profilers/fake): data produced by its roofline formula
// must give back the formula's parameters, and held-out networks must be predicted exactly.
#include <cmath>

#include <gtest/gtest.h>

#include "cost_models/evaluate.h"
#include "cost_models/fit.h"
#include "cost_models/holdout.h"
#include "cost_models/plan.h"
#include "profilers/fake/fake_backend.h"
#include "profilers/weight_source.h"
#include "space/canonical.h"

namespace hwnas {
namespace {

prof::FakeBackend::Params odd_params() {
  prof::FakeBackend::Params p;  // not the defaults, so a hard-coded answer cannot pass
  p.peak_f32_gflops = 123;
  p.bandwidth_gbs = 17;
  p.unit_overhead_us = 7;
  p.inter_unit_us = 3;
  return p;
}

// One network run on the fake backend: its virtual clock's advance.
double run_network_us(prof::FakeBackend& backend, const space::Arch& arch, const prof::RunConfig& cfg) {
  auto run = backend.prepare(arch, prof::Subject::network(), cfg, prof::RandomWeights{});
  EXPECT_TRUE(run);
  const double t0 = backend.now_us();
  (*run)->run();
  return backend.now_us() - t0;
}

struct Data {
  std::vector<cost::UnitSample> units;
  std::vector<cost::NetworkSample> networks;
};

Data measure(prof::FakeBackend& backend, const std::vector<space::Arch>& archs, const prof::RunConfig& cfg) {
  Data d;
  for (const space::Arch& a : archs) {
    auto net = space::lower(a);
    EXPECT_TRUE(net);
    cost::NetworkSample n;
    n.arch_hash = space::hash_hex(space::arch_hash(a));
    n.name = a.meta.name;
    for (const space::Unit& u : net->units) {
      cost::UnitSample s{cost::group_of(a, u), cost::unit_features(u, cfg.batch), backend.model_us(u, cfg),
                         n.arch_hash};
      n.units.push_back({s.group, s.f});
      n.macs += s.f.roof.macs;
      d.units.push_back(std::move(s));
    }
    n.us = run_network_us(backend, a, cfg);
    d.networks.push_back(std::move(n));
  }
  return d;
}

class CostModelFake : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(CostModelFake, RecoversTheFakeBackendsRooflineAndPredictsHeldOutNetworks) {
  prof::FakeBackend backend(odd_params());
  prof::RunConfig cfg;
  cfg.batch = GetParam();
  auto sp = space::builtin_space("hybrid-vit");
  ASSERT_TRUE(sp);
  auto holdout = cost::holdout_set(*sp);
  ASSERT_TRUE(holdout);
  auto pool = cost::build_pool(*sp, *holdout, 40, 40, cfg.batch);
  ASSERT_TRUE(pool);
  std::vector<space::Arch> train;
  for (const auto& a : pool->networks) train.push_back(*a);
  const Data data = measure(backend, train, cfg);

  // One roofline pooled over every unit: exactly the formula's three parameters.
  cost::FitOptions pooled;
  pooled.forms = {cost::Form::roofline};
  pooled.min_group_samples = 1u << 30;
  auto m = cost::fit(data.units, data.networks, cost::ModelKey{}, pooled);
  ASSERT_TRUE(m) << m.error().message;
  // To within the clock's rounding (2⁻¹⁰ µs per unit).
  EXPECT_NEAR(m->fallback.peak_gflops(), 123, 123 * 1e-5);
  EXPECT_NEAR(m->fallback.bandwidth_gbs(), 17, 17 * 1e-5);
  EXPECT_NEAR(m->fallback.overhead_us, 7, 1e-3);
  EXPECT_NEAR(m->network.scale, 1.0, 1e-6);
  EXPECT_NEAR(m->network.inter_unit_us, 3.0, 1e-3);

  // The features' roofline scalars are the fake's: its formula written out here gives its times (a
  // unit with no ops takes none).
  for (const auto& u : data.units) {
    const double formula_us = u.f.runs ? std::max(2 * u.f.roof.macs / 123e3, u.f.roof.bytes / 17e3) + 7 : 0.0;
    ASSERT_NEAR(formula_us, u.us, prof::FakeBackend::kTickUs) << cost::group_name(u.group);
  }
  // The default fit (form chosen per group by CV) finds the roofline wherever it has data.
  auto chosen = cost::fit(data.units, data.networks, cost::ModelKey{});
  ASSERT_TRUE(chosen) << chosen.error().message;
  for (std::size_t g = 0; g < cost::kGroupSlots; ++g) {
    if (chosen->has_group[g] && !chosen->groups[g].pooled) {
      EXPECT_LT(chosen->groups[g].cv_mape, 1e-4) << g;
    }
  }

  // Held-out archs (never fitted on: asserted) are predicted to within rounding of the clock.
  std::vector<space::Arch> held(holdout->samples.begin(), holdout->samples.begin() + 20);
  held.insert(held.end(), holdout->presets.begin(), holdout->presets.end());
  const Data eval = measure(backend, held, cfg);
  std::vector<std::string> train_hashes;
  for (const auto& u : data.units) train_hashes.push_back(u.arch_hash);
  ASSERT_EQ(cost::leak(train_hashes, *holdout), "");
  const cost::Evaluation e = cost::evaluate(*chosen, eval.networks, cost::macs_constant(data.units, data.networks));
  EXPECT_EQ(e.model.n, static_cast<std::int64_t>(held.size()));
  for (const auto& r : e.rows) EXPECT_LT(std::abs(r.predicted_us / r.measured_us - 1), 1e-3) << r.name;
  EXPECT_LT(e.model.mape, 1e-3);
  EXPECT_DOUBLE_EQ(e.model.within5, 1.0);
  EXPECT_GT(e.model.kendall_tau, 0.99);
  EXPECT_GT(e.macs_baseline.mape, 10 * e.model.mape);
}

INSTANTIATE_TEST_SUITE_P(Batches, CostModelFake, ::testing::Values(1, 4));

}  // namespace
}  // namespace hwnas
