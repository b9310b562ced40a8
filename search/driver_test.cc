// The search loop against a synthetic device: the cost model is biased (the device is 25% slower
// than predicted for attention-heavy archs), the oracle learns a ratio from what it measures, and
// measurements are cached like the store caches them. Checks the driver's promises: only measured
// candidates are reported within budget, determinism, resume by replay through the caches without
// measuring anything twice, impossible budgets, failing estimators.
#include "search/driver.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include <gtest/gtest.h>

#include "space/canonical.h"
#include "space/count.h"
#include "space/ops.h"

namespace hwnas::search {
namespace {

double macs_of(const space::Arch& a) {
  return static_cast<double>(space::count(space::lower(a).value()).macs);
}
double attention_share(const space::Arch& a) {
  double n = 0, att = 0;
  for (const auto& st : a.stages)
    for (const auto& b : st.blocks) {
      n += 1;
      att += b.mixer.kind == space::MixerKind::msa || b.mixer.kind == space::MixerKind::window ? 1 : 0;
    }
  return n > 0 ? att / n : 0;
}

// Measurements that outlive a run, like the store's.
struct DeviceCache {
  std::map<std::string, double> measured_ms;
  int device_runs = 0;
};

class FakeOracle final : public LatencyOracle {
 public:
  using DeviceMs = double (*)(const space::Arch&);
  explicit FakeOracle(DeviceCache& cache, DeviceMs device = &device_ms) : cache_(cache), device_(device) {}
  static double model_ms(const space::Arch& a) { return 0.05 + macs_of(a) / 2e8; }
  static double device_ms(const space::Arch& a) { return model_ms(a) * (1 + 0.25 * attention_share(a)); }
  // A second device where attention is cheap and everything else dear (a GPU beside the CPU).
  static double other_device_ms(const space::Arch& a) {
    return 0.01 + macs_of(a) / 9e8 * (1.6 - 1.2 * attention_share(a));
  }
  double predict_ms(const space::Arch& a) override { return model_ms(a) * ratio(); }
  double margin() const override { return n_ >= 3 ? 0.05 : 0.15; }
  Result<Measured> measure(const space::Arch& a, const std::string& hash) override {
    Measured m;
    if (auto it = cache_.measured_ms.find(hash); it != cache_.measured_ms.end()) {
      m.ms = it->second;
      m.cached = true;
    } else {
      m.ms = device_(a);
      cache_.measured_ms[hash] = m.ms;
      ++cache_.device_runs;
    }
    log_ratio_sum_ += std::log(m.ms / model_ms(a));
    ++n_;
    return m;
  }

 private:
  double ratio() const { return n_ == 0 ? 1.0 : std::exp(log_ratio_sum_ / n_); }
  DeviceCache& cache_;
  DeviceMs device_;
  double log_ratio_sum_ = 0;
  int n_ = 0;
};

// Score: params (millions), failing for archs whose hash starts with `fail_prefix`.
class ParamsScore final : public Estimator {
 public:
  explicit ParamsScore(std::string fail_prefix = "") : fail_(std::move(fail_prefix)) {}
  std::string name() const override { return "params"; }
  std::string cache_key() const override { return "params"; }
  Result<double> estimate(const space::Arch& a, const std::string& hash) override {
    ++calls;
    if (!fail_.empty() && hash.starts_with(fail_)) return Error{"evaluator crashed"};
    return static_cast<double>(space::count(space::lower(a).value()).params) / 1e6;
  }
  int calls = 0;

 private:
  std::string fail_;
};

// Stops the run (like a kill) after `stop_after` generations.
class Killer final : public SearchObserver {
 public:
  explicit Killer(std::size_t stop_after) : stop_after_(stop_after) {}
  void on_generation(const Progress& p, std::span<const Record>, std::span<const std::size_t>) override {
    if (p.generation + 1 >= stop_after_) throw std::runtime_error("killed");
  }

 private:
  std::size_t stop_after_;
};

const space::Sampler& tiny() {
  static const space::Sampler s(space::builtin_space("tiny").value());
  return s;
}

SearchConfig config(double budget_ms, const std::string& strategy = "evolution") {
  SearchConfig c;
  c.budgets_ms = {budget_ms};
  c.strategy = strategy;
  c.evaluations = 240;
  c.strategy_config.population = 24;
  c.strategy_config.seed = 7;
  c.measure_top = 4;
  c.measure_front = 3;
  return c;
}

// The median device latency of the space, as a budget most candidates straddle.
double median_budget(FakeOracle::DeviceMs device = &FakeOracle::device_ms) {
  space::Rng rng(3);
  std::vector<double> v;
  for (int i = 0; i < 200; ++i) v.push_back(device(tiny().sample(rng).value().arch));
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Outcome {
  SearchOutcome out;
  std::vector<std::string> hashes;
};
Outcome run(const SearchConfig& cfg, DeviceCache& cache, Estimator& est, SearchObserver& obs) {
  FakeOracle oracle(cache);
  auto o = run_search(tiny(), oracle, est, cfg, obs);
  EXPECT_TRUE(o) << o.error().message;
  Outcome r{std::move(o).value(), {}};
  for (const auto& rec : r.out.records) r.hashes.push_back(rec.hash);
  return r;
}

TEST(SearchDriver, ReportsOnlyMeasuredCandidatesWithinBudget) {
  for (const std::string strategy : {"evolution", "nsga2", "random"}) {
    DeviceCache cache;
    ParamsScore est;
    SearchObserver quiet;
    const double budget = median_budget();
    const Outcome r = run(config(budget, strategy), cache, est, quiet);
    ASSERT_TRUE(r.out.best) << strategy;
    const Record& best = r.out.records[*r.out.best];
    ASSERT_TRUE(best.on[0].measured);
    EXPECT_LE(best.on[0].measured->ms, budget);
    EXPECT_DOUBLE_EQ(best.on[0].measured->ms, FakeOracle::device_ms(best.candidate.arch));
    // The best is the highest score among everything measured within budget.
    for (std::size_t i : r.out.finalists) {
      const Record& f = r.out.records[i];
      ASSERT_TRUE(f.on[0].measured);
      if (f.on[0].measured->ms <= budget && f.score) {
        EXPECT_LE(*f.score, *best.score);
      }
    }
    for (std::size_t i : r.out.front_measured) EXPECT_LE(r.out.records[i].on[0].measured->ms, budget);
    EXPECT_GT(r.out.hypervolume_measured, 0);
    EXPECT_GE(r.out.hypervolume_predicted, 0);
    // Few measurements: the finalists and the rounds that found a new best, not the whole population.
    EXPECT_LE(r.out.measurements, 40u) << strategy;
    EXPECT_EQ(r.out.evaluations, 240u);
    // Only candidates believed within budget at some point were scored (later refits move them a
    // little): far fewer than were evaluated, and none far over the budget.
    // (Random sampling with the median as budget: about half fit.)
    if (strategy == "random") {
      EXPECT_LT(static_cast<std::size_t>(est.calls), r.out.records.size() * 3 / 4);
    }
    for (const Record& rec : r.out.records)
      if (rec.score && !rec.measured_all()) {
        EXPECT_LE(rec.on[0].believed_ms(r.out.margins[0]), budget * 1.2);
      }
  }
}

TEST(SearchDriver, SameSeedSameRun) {
  const double budget = median_budget();
  DeviceCache c1, c2;
  ParamsScore e1, e2;
  SearchObserver quiet;
  const Outcome a = run(config(budget), c1, e1, quiet);
  const Outcome b = run(config(budget), c2, e2, quiet);
  EXPECT_EQ(a.hashes, b.hashes);
  EXPECT_EQ(a.out.records[*a.out.best].hash, b.out.records[*b.out.best].hash);
  SearchConfig other = config(budget);
  other.strategy_config.seed = 8;
  DeviceCache c3;
  ParamsScore e3;
  EXPECT_NE(run(other, c3, e3, quiet).hashes, a.hashes);
}

TEST(SearchDriver, ResumedRunReachesTheSameResultWithoutMeasuringTwice) {
  const double budget = median_budget();
  DeviceCache whole_cache;
  ParamsScore e0;
  SearchObserver quiet;
  const Outcome whole = run(config(budget), whole_cache, e0, quiet);

  DeviceCache cache;  // the store of the interrupted run, then of the resumed one
  for (std::size_t kill_at : {3u, 6u}) {
    ParamsScore e;
    Killer killer(kill_at);
    FakeOracle oracle(cache);
    EXPECT_THROW((void)run_search(tiny(), oracle, e, config(budget), killer), std::runtime_error);
  }
  const int before = cache.device_runs;
  EXPECT_GT(before, 0);
  ParamsScore e;
  const Outcome resumed = run(config(budget), cache, e, quiet);
  EXPECT_EQ(resumed.hashes, whole.hashes);
  EXPECT_EQ(resumed.out.records[*resumed.out.best].hash, whole.out.records[*whole.out.best].hash);
  // Everything measured before the kills came from the cache; the total equals the whole run's.
  EXPECT_EQ(cache.device_runs, whole_cache.device_runs);
  EXPECT_EQ(resumed.out.cached_measurements, static_cast<std::size_t>(before));
}

TEST(SearchDriver, ImpossibleBudgetNamesTheFastestMeasured) {
  DeviceCache cache;
  ParamsScore est;
  SearchObserver quiet;
  const Outcome r = run(config(1e-4), cache, est, quiet);
  EXPECT_FALSE(r.out.best);
  ASSERT_TRUE(r.out.fastest);
  const Record& f = r.out.records[*r.out.fastest];
  ASSERT_TRUE(f.on[0].measured);
  // It is the fastest of everything evaluated, on the device.
  for (const Record& rec : r.out.records)
    EXPECT_GE(FakeOracle::device_ms(rec.candidate.arch), f.on[0].measured->ms * 0.8);
  EXPECT_EQ(est.calls, 0);  // nothing fits: nothing is scored
}

TEST(SearchDriver, FailingEstimatorIsReportedNotFatal) {
  DeviceCache cache;
  ParamsScore est("0");  // ~1/16 of archs fail
  SearchObserver quiet;
  const Outcome r = run(config(median_budget()), cache, est, quiet);
  EXPECT_GT(r.out.score_failures, 0u);
  ASSERT_TRUE(r.out.best);
  EXPECT_FALSE(r.out.records[*r.out.best].hash.starts_with("0"));
  for (const Record& rec : r.out.records)
    if (rec.hash.starts_with("0") && !rec.score_error.empty()) {
      EXPECT_FALSE(rec.score);
    }
}

TEST(SearchDriver, BadConfigIsAnError) {
  DeviceCache cache;
  FakeOracle oracle(cache);
  ParamsScore est;
  SearchObserver quiet;
  EXPECT_FALSE(run_search(tiny(), oracle, est, config(0), quiet));
  SearchConfig c = config(1);
  c.strategy = "annealing";
  auto r = run_search(tiny(), oracle, est, c, quiet);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("annealing"), std::string::npos) << r.error().message;
}

// Two devices with different latency shapes, each with its own budget and cache.
struct TwoDevices {
  DeviceCache a, b;
  SearchOutcome run(const SearchConfig& cfg, Estimator& est) {
    FakeOracle oa(a), ob(b, &FakeOracle::other_device_ms);
    LatencyOracle* const oracles[] = {&oa, &ob};
    SearchObserver quiet;
    auto o = run_search(tiny(), oracles, est, cfg, quiet);
    EXPECT_TRUE(o) << o.error().message;
    return std::move(o).value();
  }
};

SearchConfig two_device_config(const std::string& strategy) {
  SearchConfig c = config(0, strategy);
  c.budgets_ms = {median_budget(), median_budget(&FakeOracle::other_device_ms)};
  return c;
}

TEST(SearchDriver, TwoDevicesResultsFitEveryBudgetAndTheFrontIsOverBoth) {
  for (const std::string strategy : {"evolution", "nsga2"}) {
    TwoDevices dev;
    ParamsScore est;
    const SearchConfig cfg = two_device_config(strategy);
    const SearchOutcome o = dev.run(cfg, est);
    ASSERT_TRUE(o.best) << strategy;
    ASSERT_EQ(o.margins.size(), 2u);
    const Record& best = o.records[*o.best];
    ASSERT_TRUE(best.measured_all());
    EXPECT_DOUBLE_EQ(best.on[0].measured->ms, FakeOracle::device_ms(best.candidate.arch));
    EXPECT_DOUBLE_EQ(best.on[1].measured->ms, FakeOracle::other_device_ms(best.candidate.arch));
    auto within = [&](const Record& r) {
      return r.measured_all() && r.on[0].measured->ms <= cfg.budgets_ms[0] && r.on[1].measured->ms <= cfg.budgets_ms[1];
    };
    EXPECT_TRUE(within(best));
    for (std::size_t i : o.finalists) {
      const Record& f = o.records[i];
      if (within(f) && f.score) {
        EXPECT_LE(*f.score, *best.score);
      }
    }
    // The measured front: within both budgets, and no member dominated in (ms on a, ms on b, score)
    // by any record measured within both budgets.
    ASSERT_FALSE(o.front_measured.empty());
    for (std::size_t i : o.front_measured) {
      const Record& f = o.records[i];
      ASSERT_TRUE(within(f));
      for (const Record& r : o.records) {
        if (!within(r) || !r.score) continue;
        const bool no_worse = r.on[0].measured->ms <= f.on[0].measured->ms &&
                              r.on[1].measured->ms <= f.on[1].measured->ms && *r.score >= *f.score;
        const bool better = r.on[0].measured->ms < f.on[0].measured->ms ||
                            r.on[1].measured->ms < f.on[1].measured->ms || *r.score > *f.score;
        EXPECT_FALSE(no_worse && better) << strategy << ": " << r.hash << " dominates " << f.hash;
      }
    }
    EXPECT_GT(o.hypervolume_measured, 0);
    // Measured over the first device's budget: never measured on the second.
    for (const Record& r : o.records)
      if (r.on[0].measured && r.on[0].measured->ms > cfg.budgets_ms[0]) {
        EXPECT_FALSE(r.on[1].measured) << r.hash;
      }
    EXPECT_EQ(static_cast<std::size_t>(dev.a.device_runs + dev.b.device_runs), o.measurements);
  }
}

TEST(SearchDriver, TwoDevicesSameSeedSameRunAndTheSecondBudgetBinds) {
  const SearchConfig cfg = two_device_config("evolution");
  TwoDevices d1, d2;
  ParamsScore e1, e2;
  const SearchOutcome a = d1.run(cfg, e1), b = d2.run(cfg, e2);
  ASSERT_TRUE(a.best && b.best);
  EXPECT_EQ(a.records[*a.best].hash, b.records[*b.best].hash);
  EXPECT_EQ(a.records.size(), b.records.size());
  // The first device's budget alone would admit a higher score: the second budget changes the answer.
  SearchConfig alone = config(cfg.budgets_ms[0]);
  DeviceCache c;
  ParamsScore e3;
  SearchObserver quiet;
  const Outcome one = run(alone, c, e3, quiet);
  ASSERT_TRUE(one.out.best);
  const Record& best_one = one.out.records[*one.out.best];
  EXPECT_GT(FakeOracle::other_device_ms(best_one.candidate.arch), cfg.budgets_ms[1])
      << "the one-device best also fits the second device: the test's budgets do not bind";
  EXPECT_LE(*a.records[*a.best].score, *best_one.score);
}

TEST(SearchDriver, DeviceCountsAndBudgetsMustAgree) {
  DeviceCache c1, c2;
  FakeOracle o1(c1), o2(c2);
  LatencyOracle* const two[] = {&o1, &o2};
  ParamsScore est;
  SearchObserver quiet;
  SearchConfig cfg = config(1);  // one budget, two devices
  EXPECT_FALSE(run_search(tiny(), two, est, cfg, quiet));
  cfg.budgets_ms = {1, -1};
  EXPECT_FALSE(run_search(tiny(), two, est, cfg, quiet));
  LatencyOracle* const five[] = {&o1, &o2, &o1, &o2, &o1};
  cfg.budgets_ms = {1, 1, 1, 1, 1};
  auto r = run_search(tiny(), five, est, cfg, quiet);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("1 to 4 devices"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace hwnas::search
