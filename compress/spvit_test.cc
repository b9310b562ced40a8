// SPViT's latency-aware search on the real engine, a small DeiT-like network whose second attention
// computes nothing (output projection zero): under a budget that needs about half of what removing
// it saves, the search finds a free change there (distance 0) and leaves the first block alone; the
// predicted distances are the sums of the single changes', the front is non-dominated, the chosen
// network is within the budget by prediction and by measurement.
#include "compress/spvit.h"

#include <map>
#include <random>

#include <gtest/gtest.h>

#include "compress/test_calibration.h"
#include "profilers/backends.h"
#include "profilers/weight_source.h"
#include "space/arch_json.h"
#include "space/count.h"
#include "space/presets.h"
#include "space/validate.h"

namespace hwnas::compress {
namespace {

class SecondAttentionSilent final : public space::WeightSource {
 public:
  void fill(const space::ParamSpec& spec, std::span<float> dst) const override {
    random_.fill(spec, dst);
    if (spec.name.starts_with("stages.0.blocks.1.attn.proj.")) std::fill(dst.begin(), dst.end(), 0.0f);
  }

 private:
  prof::RandomWeights random_{31};
};

double mega_macs(const space::Arch& a) {
  auto net = space::lower(a);
  if (!net) throw std::runtime_error(net.error().message);
  return static_cast<double>(space::count(*net).macs) / 1e6;
}

TEST(Spvit, FindsTheFreeChangeUnderABudget) {
  auto arch = space::parse_arch(R"({"input": {"resolution": 32, "classes": 6}, "cls_token": true,
      "stem": {"kind": "patch", "kernel": 4}, "head": {"kind": "cls"},
      "stages": [{"dim": 32, "heads": 4, "pos_embed": true, "blocks": [
        {"mixer": "msa", "ffn": {"kind": "mlp", "hidden": 64}}, {"mixer": "msa", "ffn": {"kind": "mlp", "hidden": 64}}]}]})",
                                "deit_like.json");
  ASSERT_TRUE(arch) << arch.error().message;
  auto backend = prof::make_backend(prof::DeviceSpec{}, 1);
  ASSERT_TRUE(backend) << backend.error().message;
  prof::RunConfig run;
  run.batch = 3;
  run.threads = 1;
  Calibration calib = gaussian_calibration(6, 3);
  const SecondAttentionSilent w;
  auto f = Fidelity::create(**backend, *arch, w, std::move(calib), Distance::finercut_js, run);
  ASSERT_TRUE(f) << f.error().message;
  auto carver = Carver::create(**f, w);
  ASSERT_TRUE(carver) << carver.error().message;

  space::Arch skipped = *arch;
  skipped.stages[0].blocks[1].mixer = space::Mixer{space::MixerKind::skip};
  const double full = mega_macs(*arch), saving = full - mega_macs(skipped);
  SpvitConfig cfg;
  cfg.budget_ms = full - 0.5 * saving;  // "ms" = MMACs: a deterministic latency model
  cfg.predict_ms = mega_macs;
  std::size_t measured = 0;
  cfg.measure_ms = [&](const space::Arch& a) {
    ++measured;
    return mega_macs(a);
  };
  cfg.population = 24;
  cfg.generations = 30;
  cfg.finalists = 6;
  auto r = spvit_search(**f, **carver, cfg);
  ASSERT_TRUE(r) << r.error().message;

  // 2 blocks × (skip, 1×1, 3×3 + 7 narrower FFNs).
  ASSERT_EQ(r->sensitivity.size(), 20u);
  std::map<std::pair<int, std::string>, double> single;
  for (const Sensitivity& s : r->sensitivity) {
    single[{s.block, s.change}] = s.distance;
    if (s.block == 1 && s.change == "skip") {
      EXPECT_LE(s.distance, 1e-12);
    }
    if (s.block == 0) {
      EXPECT_GT(s.distance, 1e-9) << s.change;
    }
  }
  EXPECT_GT(r->proxy_evaluations, 50u);

  const auto original = block_choices(*arch);
  ASSERT_GE(r->chosen, 0);
  const SpvitPoint& c = r->points[static_cast<std::size_t>(r->chosen)];
  EXPECT_LE(c.distance, 1e-9);
  EXPECT_EQ(c.blocks[0], original[0]);
  EXPECT_TRUE(c.blocks[1].starts_with("skip/") || c.blocks[1].starts_with("bconv")) << c.blocks[1];
  EXPECT_LE(c.predicted_ms, cfg.budget_ms);
  EXPECT_GT(c.measured_ms, 0);
  EXPECT_LE(c.measured_ms, cfg.budget_ms);
  EXPECT_GE(measured, 1u);

  std::vector<const SpvitPoint*> front;
  for (const SpvitPoint& p : r->points) {
    // The predicted distance is the sum of the single changes' distances.
    double sum = 0;
    for (int b = 0; b < 2; ++b) {
      const std::string& mine = p.blocks[static_cast<std::size_t>(b)];
      const std::string& base = original[static_cast<std::size_t>(b)];
      const std::string mixer = mine.substr(0, mine.find('/')), ffn = mine.substr(mine.find('/') + 1);
      if (mixer != base.substr(0, base.find('/'))) sum += single.at({b, mixer});
      if (ffn != base.substr(base.find('/') + 1)) sum += single.at({b, ffn});
    }
    EXPECT_NEAR(p.proxy, sum, 1e-12 + 1e-9 * sum);
    if (p.on_front) front.push_back(&p);
    if (p.distance >= 0) {
      EXPECT_LE(p.predicted_ms, cfg.budget_ms);  // finalists are feasible
      EXPECT_GE(p.distance, c.distance);
    }
  }
  ASSERT_GE(front.size(), 2u);
  for (const SpvitPoint* a : front)
    for (const SpvitPoint* b : front)
      EXPECT_FALSE(a != b && a->predicted_ms <= b->predicted_ms && a->proxy <= b->proxy &&
                   (a->predicted_ms < b->predicted_ms || a->proxy < b->proxy));
}

TEST(Spvit, CarvingSpaceSkipsToTheIdentity) {
  auto arch = space::preset("deit-tiny");
  ASSERT_TRUE(arch);
  auto sp = carving_space(*arch, "deit-tiny");
  ASSERT_TRUE(sp) << sp.error().message;
  ASSERT_EQ(sp->stages.size(), 1u);
  std::vector<std::string> mixers;
  for (const space::Mixer& m : sp->stages[0].mixers) mixers.push_back(space::describe(m));
  EXPECT_EQ(mixers, (std::vector<std::string>{"skip", "bconv1x1", "bconv3x3", "msa"}));
  EXPECT_EQ(sp->stages[0].ffn_ratios.size(), 8u);
}

}  // namespace
}  // namespace hwnas::compress
