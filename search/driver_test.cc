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
  explicit FakeOracle(DeviceCache& cache) : cache_(cache) {}
  static double model_ms(const space::Arch& a) { return 0.05 + macs_of(a) / 2e8; }
  static double device_ms(const space::Arch& a) { return model_ms(a) * (1 + 0.25 * attention_share(a)); }
  double predict_ms(const space::Arch& a) override { return model_ms(a) * ratio(); }
  double margin() const override { return n_ >= 3 ? 0.05 : 0.15; }
  Result<Measured> measure(const space::Arch& a, const std::string& hash) override {
    Measured m;
    if (auto it = cache_.measured_ms.find(hash); it != cache_.measured_ms.end()) {
      m.ms = it->second;
      m.cached = true;
    } else {
      m.ms = device_ms(a);
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
  c.budget_ms = budget_ms;
  c.strategy = strategy;
  c.evaluations = 240;
  c.strategy_config.population = 24;
  c.strategy_config.seed = 7;
  c.measure_top = 4;
  c.measure_front = 3;
  return c;
}

// The median device latency of the space, as a budget most candidates straddle.
double median_budget() {
  space::Rng rng(3);
  std::vector<double> v;
  for (int i = 0; i < 200; ++i) v.push_back(FakeOracle::device_ms(tiny().sample(rng).value().arch));
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
    ASSERT_TRUE(best.measured);
    EXPECT_LE(best.measured->ms, budget);
    EXPECT_DOUBLE_EQ(best.measured->ms, FakeOracle::device_ms(best.candidate.arch));
    // The best is the highest score among everything measured within budget.
    for (std::size_t i : r.out.finalists) {
      const Record& f = r.out.records[i];
      ASSERT_TRUE(f.measured);
      if (f.measured->ms <= budget && f.score) {
        EXPECT_LE(*f.score, *best.score);
      }
    }
    for (std::size_t i : r.out.front_measured) EXPECT_LE(r.out.records[i].measured->ms, budget);
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
      if (rec.score && !rec.measured) {
        EXPECT_LE(rec.believed_ms(r.out.margin), budget * 1.2);
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
  ASSERT_TRUE(f.measured);
  // It is the fastest of everything evaluated, on the device.
  for (const Record& rec : r.out.records) EXPECT_GE(FakeOracle::device_ms(rec.candidate.arch), f.measured->ms * 0.8);
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

}  // namespace
}  // namespace hwnas::search
