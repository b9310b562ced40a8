// FinerCut on the real engine (oneDNN), small networks, no mocks: sublayers whose output projection
// is zeroed go first at zero distance; the greedy order equals the one read off a brute-force table
// of every subset's distance (each computed by running the whole pruned network, not unit by unit);
// one-shot's first removal is greedy's; the latency-aware choice is the smallest distance per ms.
#include "compress/finercut.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "compress/test_calibration.h"
#include "profilers/backends.h"
#include "profilers/weight_source.h"
#include "space/arch_json.h"
#include "space/count.h"
#include "space/validate.h"

namespace hwnas::compress {
namespace {

// Seeded random weights, except the output projections of `zeroed` sublayers (labels), all zero.
class ZeroedProjections final : public space::WeightSource {
 public:
  explicit ZeroedProjections(std::vector<std::string> zeroed) : zeroed_(std::move(zeroed)) {}
  void fill(const space::ParamSpec& spec, std::span<float> dst) const override {
    random_.fill(spec, dst);
    for (const std::string& z : zeroed_)
      if (spec.name.starts_with(z + (z.ends_with(".attn") ? ".proj." : ".fc2.")))
        std::fill(dst.begin(), dst.end(), 0.0f);
  }

 private:
  prof::RandomWeights random_{77};
  std::vector<std::string> zeroed_;
};

space::Arch tiny(int blocks) {
  std::string b;
  for (int i = 0; i < blocks; ++i)
    b += std::string(i ? "," : "") + R"({"mixer": "msa", "ffn": {"kind": "mlp", "hidden": 64}})";
  auto a = space::parse_arch(R"({"input": {"resolution": 32, "classes": 10}, "stem": {"kind": "patch", "kernel": 8},
      "stages": [{"dim": 32, "heads": 2, "blocks": [)" +
                                 b + "]}]}",
                             "tiny.json");
  if (!a) throw std::runtime_error(a.error().message);
  return *a;
}

Calibration gaussian(std::int64_t n) {
  return gaussian_calibration(n, 5);
}

struct Engine {
  std::unique_ptr<prof::Backend> backend;
  Engine() {
    auto b = prof::make_backend(prof::DeviceSpec{}, 1);
    if (!b) throw std::runtime_error(b.error().message);
    backend = std::move(*b);
  }
};

prof::RunConfig batch_of(std::int64_t b) {
  prof::RunConfig cfg;
  cfg.batch = b;
  cfg.threads = 1;
  return cfg;
}

std::unique_ptr<Fidelity> fidelity(Engine& e, const space::Arch& a, const space::WeightSource& w, std::int64_t n,
                                   std::int64_t batch) {
  auto f = Fidelity::create(*e.backend, a, w, gaussian(n), Distance::finercut_js, batch_of(batch));
  if (!f) throw std::runtime_error(f.error().message);
  return std::move(*f);
}

TEST(Finercut, ZeroedSublayersGoFirstAtZeroDistance) {
  Engine e;
  const space::Arch a = tiny(3);
  const ZeroedProjections w({"stages.0.blocks.1.attn", "stages.0.blocks.2.mlp", "stages.0.blocks.0.mlp"});
  auto f = fidelity(e, a, w, 6, 4);  // 6 inputs in batches of 4: the last one padded
  FinercutConfig cfg;
  cfg.max_steps = 4;
  auto r = finercut(*f, cfg);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->steps.size(), 4u);
  std::vector<std::string> first3;
  for (int i = 0; i < 3; ++i) {
    first3.push_back(label(r->steps[static_cast<std::size_t>(i)].removed));
    EXPECT_LE(r->steps[static_cast<std::size_t>(i)].distance, 1e-12) << first3.back();
  }
  std::sort(first3.begin(), first3.end());
  EXPECT_EQ(first3,
            (std::vector<std::string>{"stages.0.blocks.0.mlp", "stages.0.blocks.1.attn", "stages.0.blocks.2.mlp"}));
  EXPECT_GT(r->steps[3].distance, 1e-6);  // a real sublayer
  EXPECT_EQ(r->candidates.size(), 6u);
}

// The distance of every subset of sublayers, each from the whole pruned network run at once.
std::map<unsigned, double> brute_force(Engine& e, const space::Arch& a, const space::WeightSource& w,
                                       const std::vector<Sublayer>& cands, const Calibration& calib,
                                       const std::vector<float>& original) {
  std::map<unsigned, double> table;
  for (unsigned mask = 0; mask < (1u << cands.size()); ++mask) {
    std::vector<Sublayer> removed;
    for (std::size_t i = 0; i < cands.size(); ++i)
      if (mask & (1u << i)) removed.push_back(cands[i]);
    auto arch = space::validate(without(a, removed));
    EXPECT_TRUE(arch);
    auto r = e.backend->prepare(*arch, prof::Subject::network(), batch_of(calib.count), w);
    EXPECT_TRUE(r);
    (*r)->set_input(calib.images);
    (*r)->run();
    table[mask] = distance(Distance::finercut_js, original, (*r)->output(), a.input.classes);
  }
  return table;
}

TEST(Finercut, GreedyOrderEqualsTheBruteForceTable) {
  Engine e;
  const space::Arch a = tiny(2);
  const prof::RandomWeights w(31);
  auto f = fidelity(e, a, w, 5, 5);
  auto r = finercut(*f, {});
  ASSERT_TRUE(r) << r.error().message;
  const auto table = brute_force(e, a, w, r->candidates, gaussian(5), f->original_logits());
  unsigned state = 0;
  ASSERT_EQ(r->steps.size(), 4u);
  for (const Step& s : r->steps) {
    unsigned best = 0;
    double best_d = 1e300;
    for (std::size_t i = 0; i < r->candidates.size(); ++i)
      if (!(state & (1u << i)) && table.at(state | (1u << i)) < best_d) {
        best_d = table.at(state | (1u << i));
        best = 1u << i;
      }
    state |= best;
    const auto at = static_cast<std::size_t>(std::countr_zero(best));
    EXPECT_EQ(label(s.removed), label(r->candidates[at]));
    EXPECT_NEAR(s.distance, best_d, 1e-6 * best_d + 1e-12);
  }
  EXPECT_EQ(state, 15u);
}

TEST(Finercut, OneShotFirstRemovalIsGreedysFirst) {
  Engine e;
  const space::Arch a = tiny(3);
  const prof::RandomWeights w(8);
  auto f = fidelity(e, a, w, 4, 2);
  FinercutConfig greedy, oneshot;
  greedy.max_steps = 1;
  oneshot.method = Method::oneshot;
  auto g = finercut(*f, greedy);
  auto o = finercut(*f, oneshot);
  ASSERT_TRUE(g && o);
  EXPECT_EQ(label(o->steps.at(0).removed), label(g->steps.at(0).removed));
  EXPECT_DOUBLE_EQ(o->steps.at(0).distance, g->steps.at(0).distance);
  // One-shot's scores are single-removal distances, in increasing order.
  ASSERT_EQ(o->steps.size(), 6u);
  for (std::size_t i = 1; i < o->steps.size(); ++i) EXPECT_LE(o->steps[i - 1].score, o->steps[i].score);
}

TEST(Finercut, LatencyAwareTakesTheSmallestDistancePerMillisecondSaved) {
  Engine e;
  const space::Arch a = tiny(3);
  const prof::RandomWeights w(8);
  auto f = fidelity(e, a, w, 4, 4);
  // A latency model where attention is 10× dearer per MAC than the FFN.
  auto ms = [](const space::Arch& arch) {
    double t = 0;
    for (const space::Block& b : arch.stages[0].blocks)
      t += (b.mixer.kind == space::MixerKind::msa ? 1.0 : 0.0) + (b.ffn.kind == space::FfnKind::mlp ? 0.1 : 0.0);
    return t;
  };
  FinercutConfig cfg;
  cfg.method = Method::latency;
  cfg.max_steps = 1;
  cfg.predict_ms = ms;
  auto r = finercut(*f, cfg);
  ASSERT_TRUE(r) << r.error().message;
  double best = 1e300;
  std::string want;
  for (const Sublayer& s : removable_sublayers(a)) {
    auto d = f->distance({s});
    ASSERT_TRUE(d);
    const double per_ms = *d / (s.ffn ? 0.1 : 1.0);
    if (per_ms < best) best = per_ms, want = label(s);
  }
  EXPECT_EQ(label(r->steps.at(0).removed), want);
  EXPECT_NEAR(r->steps[0].score, best, 1e-9 * best);
  EXPECT_NEAR(r->steps[0].predicted_ms, ms(a) - (r->steps[0].removed.ffn ? 0.1 : 1.0), 1e-12);
}

TEST(Finercut, BudgetStopsAtTheFirstStepPredictedWithinIt) {
  Engine e;
  const space::Arch a = tiny(2);
  const prof::RandomWeights w(3);
  auto f = fidelity(e, a, w, 2, 2);
  FinercutConfig cfg;
  cfg.predict_ms = [](const space::Arch& arch) {
    return static_cast<double>(space::count(space::lower(arch).value()).macs) / 1e6;
  };
  const double full = cfg.predict_ms(a);
  cfg.budget_ms = full * 0.8;
  auto r = finercut(*f, cfg);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_FALSE(r->steps.empty());
  EXPECT_LE(r->steps.back().predicted_ms, cfg.budget_ms);
  for (std::size_t i = 0; i + 1 < r->steps.size(); ++i) EXPECT_GT(r->steps[i].predicted_ms, cfg.budget_ms);
}

// Near the budget the best ratio can overshoot: a large saving at a large distance where a smaller
// removal would fit. A latency model is built from the measured single-removal distances so that
// the ratio path's first step (A: the most divergent sublayer, with a saving that makes its ratio
// the best) reaches the budget, while F (the least divergent, saving just enough) also fits.
TEST(Finercut, LatencyAwareBudgetEndsWithTheLeastDivergentFinisherThatFits) {
  Engine e;
  const space::Arch a = tiny(3);
  const prof::RandomWeights w(8);
  auto f = fidelity(e, a, w, 4, 4);
  const std::vector<Sublayer> cands = removable_sublayers(a);
  std::vector<double> single;
  for (const Sublayer& s : cands) single.push_back(f->distance({s}).value());
  const auto lo = static_cast<std::size_t>(std::min_element(single.begin(), single.end()) - single.begin());
  const auto hi = static_cast<std::size_t>(std::max_element(single.begin(), single.end()) - single.begin());
  ASSERT_LT(single[lo], single[hi]);
  std::map<std::string, double> saving;
  for (const Sublayer& s : cands) saving[label(s)] = 0.01;
  saving[label(cands[lo])] = 1.0;
  saving[label(cands[hi])] = 2.0 * single[hi] / single[lo];  // ratio single[lo] / 2: the best
  auto removed_of = [&](const space::Arch& arch) {
    std::vector<std::string> out;
    for (const Sublayer& s : cands) {
      const space::Block& b = arch.stages[0].blocks[static_cast<std::size_t>(s.block)];
      if (s.ffn ? b.ffn.kind == space::FfnKind::none : b.mixer.kind == space::MixerKind::skip) out.push_back(label(s));
    }
    return out;
  };
  auto predict = [&](const space::Arch& arch) {
    double t = 10;
    for (const std::string& l : removed_of(arch)) t -= saving.at(l);
    return t;
  };
  FinercutConfig cfg;
  cfg.method = Method::latency;
  cfg.predict_ms = predict;
  cfg.budget_ms = 10 - 0.999;

  // Predicted only: F replaces the path's end.
  auto r = finercut(*f, cfg);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->steps.size(), 1u);
  EXPECT_EQ(label(r->steps[0].removed), label(cands[lo]));
  EXPECT_DOUBLE_EQ(r->steps[0].distance, single[lo]);
  EXPECT_DOUBLE_EQ(r->steps[0].predicted_ms, 9.0);
  EXPECT_EQ(r->finish_replaced, 1u);
  EXPECT_TRUE(r->exchanges.empty());  // putting F back for A is more divergent

  // Measured: F measures over the budget, so the path's own end (A, measured within) stands.
  std::vector<std::vector<std::string>> measured;
  cfg.measure_ms = [&](const space::Arch& arch) {
    measured.push_back(removed_of(arch));
    const auto& rm = measured.back();
    return predict(arch) + (std::find(rm.begin(), rm.end(), label(cands[lo])) != rm.end() ? 5.0 : 0.0);
  };
  r = finercut(*f, cfg);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->steps.size(), 1u);
  EXPECT_EQ(label(r->steps[0].removed), label(cands[hi]));
  EXPECT_EQ(r->finish_replaced, 0u);
  // The exchange A -> F is the finisher's network: not measured again.
  EXPECT_EQ(measured, (std::vector<std::vector<std::string>>{{label(cands[hi])}, {label(cands[lo])}}));
  EXPECT_TRUE(r->exchanges.empty());

  // Plain greedy keeps the paper's algorithm: no finish.
  cfg.method = Method::greedy;
  cfg.measure_ms = nullptr;
  r = finercut(*f, cfg);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->finish_replaced, 0u);
}

// A path that stops at its first fit can keep an early removal that a less divergent one of the
// same cost would replace; the finish (one removal off the path) cannot see that. With three
// sublayers whose distances alone are C < B < A < B + C: B and C save in proportion to their distances (C 1 ms,
// B d_B/d_C ms), the two together just fit the budget, A saves slightly more than d_A/d_C ms (so its
// ratio is the best, and the path starts with it) but less than the budget needs, and the rest save
// 0.001 ms, so that {B, C} is one exchange from the path's end {A, B or C}. The truth is the
// brute-force table of every subset's distance (whole networks): the result is less divergent than
// the path's end and no exchange that fits improves on it. (The global optimum may be more than
// one exchange away: these distances are not additive.)
TEST(Finercut, LatencyAwareBudgetExchangesAnEarlyRemovalForALessDivergentOne) {
  Engine e;
  const space::Arch a = tiny(3);
  const prof::RandomWeights w(8);
  auto f = fidelity(e, a, w, 4, 4);
  const std::vector<Sublayer> cands = removable_sublayers(a);
  const auto table = brute_force(e, a, w, cands, gaussian(4), f->original_logits());
  std::vector<std::size_t> by_distance(cands.size());
  std::iota(by_distance.begin(), by_distance.end(), 0);
  std::sort(by_distance.begin(), by_distance.end(),
            [&](std::size_t x, std::size_t y) { return table.at(1u << x) < table.at(1u << y); });
  // The first triple (in order of distance) with d_C < d_B < d_A < d_B + d_C, with some room.
  std::size_t c = 0, b = 0, big = 0;
  bool found = false;
  for (std::size_t i = 0; i < cands.size() && !found; ++i)
    for (std::size_t j = i + 1; j < cands.size() && !found; ++j)
      for (std::size_t k = j + 1; k < cands.size() && !found; ++k) {
        const double di = table.at(1u << by_distance[i]), dj = table.at(1u << by_distance[j]),
                     dk = table.at(1u << by_distance[k]);
        if (di < dj && dj < dk && dk < 0.98 * (di + dj)) {
          c = by_distance[i], b = by_distance[j], big = by_distance[k];
          found = true;
        }
      }
  ASSERT_TRUE(found) << "the seed does not give the construction room";
  const double dc = table.at(1u << c), db = table.at(1u << b), dbig = table.at(1u << big);
  const double need = 1 + db / dc - 1e-3;  // B and C together: 1 + d_B/d_C
  const double floor_big = dbig / dc;
  std::vector<double> saving(cands.size(), 0.001);
  saving[c] = 1.0;
  saving[b] = db / dc;
  saving[big] = (floor_big + need) / 2;
  auto mask_of_set = [&](const std::vector<Sublayer>& set) {
    unsigned m = 0;
    for (const Sublayer& s : set)
      m |= 1u << static_cast<std::size_t>(std::find(cands.begin(), cands.end(), s) - cands.begin());
    return m;
  };
  // The sublayers removed from `arch`: the original's that no longer compute anything.
  auto mask_of = [&](const space::Arch& arch) {
    return ((1u << cands.size()) - 1) & ~mask_of_set(removable_sublayers(arch));
  };
  auto predict_mask = [&](unsigned m) {
    double t = 10;
    for (std::size_t i = 0; i < cands.size(); ++i)
      if (m & (1u << i)) t -= saving[i];
    return t;
  };
  FinercutConfig cfg;
  cfg.method = Method::latency;
  cfg.predict_ms = [&](const space::Arch& arch) { return predict_mask(mask_of(arch)); };
  cfg.budget_ms = 10 - need;
  // Every set one exchange from `m` (one removal put back, another or none removed) that fits.
  auto exchanges_of = [&](unsigned m) {
    std::vector<unsigned> out;
    for (std::size_t o = 0; o < cands.size(); ++o) {
      if (!(m & (1u << o))) continue;
      for (std::size_t p = 0; p <= cands.size(); ++p) {
        if (p < cands.size() && (m & (1u << p))) continue;
        const unsigned t = (m & ~(1u << o)) | (p < cands.size() ? 1u << p : 0u);
        if (predict_mask(t) <= cfg.budget_ms) out.push_back(t);
      }
    }
    return out;
  };

  auto r = finercut(*f, cfg);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_FALSE(r->steps.empty());
  EXPECT_EQ(label(r->steps[0].removed), label(cands[big]));
  const unsigned path_end = mask_of_set(removed_by(*r, r->steps.size())), got = mask_of_set(chosen(*r));
  ASSERT_FALSE(r->exchanges.empty());
  EXPECT_LT(table.at(got), table.at(path_end));
  EXPECT_LE(predict_mask(got), cfg.budget_ms);
  EXPECT_NEAR(chosen_distance(*r), table.at(got), 1e-6 * table.at(got));
  EXPECT_DOUBLE_EQ(chosen_predicted_ms(*r), predict_mask(got));
  double before = r->steps.back().distance;
  for (const Exchange& x : r->exchanges) {
    EXPECT_LT(x.distance, before);
    EXPECT_LE(x.predicted_ms, cfg.budget_ms);
    before = x.distance;
  }
  // A local optimum: no exchange that fits is less divergent.
  for (unsigned t : exchanges_of(got)) EXPECT_GE(table.at(t), table.at(got)) << t << " from " << got;

  // Measured: every network but the path's end measures over the budget, so the end stands; the
  // least divergent exchange was tried (measured), and no network was measured twice.
  std::vector<unsigned> measured;
  cfg.measure_ms = [&](const space::Arch& arch) {
    measured.push_back(mask_of(arch));
    return predict_mask(measured.back()) + (measured.back() == path_end ? 0.0 : 5.0);
  };
  r = finercut(*f, cfg);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(mask_of_set(chosen(*r)), path_end);
  EXPECT_TRUE(r->exchanges.empty());
  unsigned least = path_end;
  for (unsigned t : exchanges_of(path_end))
    if (table.at(t) < table.at(least)) least = t;
  ASSERT_NE(least, path_end);
  EXPECT_NE(std::find(measured.begin(), measured.end(), least), measured.end());
  std::vector<unsigned> once = measured;
  std::sort(once.begin(), once.end());
  EXPECT_EQ(std::unique(once.begin(), once.end()), once.end());

  // A model 20% optimistic everywhere: the path goes on until a network measures within the budget;
  // after that, the finish and the exchanges scale predictions by the error seen there, so nothing
  // they measure is over the budget.
  measured.clear();
  std::vector<double> measured_ms;
  cfg.measure_ms = [&](const space::Arch& arch) {
    measured.push_back(mask_of(arch));
    measured_ms.push_back(1.2 * predict_mask(measured.back()));
    return measured_ms.back();
  };
  r = finercut(*f, cfg);
  ASSERT_TRUE(r) << r.error().message;
  const auto first_fit =
      std::find_if(measured_ms.begin(), measured_ms.end(), [&](double ms) { return ms <= cfg.budget_ms; });
  ASSERT_NE(first_fit, measured_ms.end());
  for (auto it = first_fit; it != measured_ms.end(); ++it) EXPECT_LE(*it, cfg.budget_ms);
  EXPECT_LE(1.2 * predict_mask(mask_of_set(chosen(*r))), cfg.budget_ms);
}

}  // namespace
}  // namespace hwnas::compress
