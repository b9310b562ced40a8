#include "search/strategy.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "search/pareto.h"
#include "search/ranking.h"
#include "space/canonical.h"
#include "space/count.h"
#include "space/ops.h"

namespace hwnas::search {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

const space::Sampler& tiny() {
  static const space::Sampler sampler(space::builtin_space("tiny").value());
  return sampler;
}

// One stage, one block, two mixers × two FFN widths: four archs in all.
const space::Sampler& four_archs() {
  static const space::Sampler sampler(space::parse_search_space(R"json({
    "name": "four",
    "base": {"input": {"resolution": 32, "channels": 3, "classes": 10},
             "stem": {"kind": "patch", "kernel": 4, "norm": true}, "head": {"kind": "mean", "norm": true}},
    "stages": [{"depth": [1], "dim": [16], "head_dim": [8], "mixer": ["none", "msa"],
                "ffn": {"kind": "mlp", "ratio": [2, 4]}}]
  })json",
                                                                "four")
                                          .value());
  return sampler;
}

std::string hash_of(const space::Candidate& c) {
  return space::hash_hex(space::arch_hash(c.arch));
}

// A synthetic objective: latency from MACs, score from parameters (the best feasible arch spends
// its parameters where they cost few MACs), and a latency budget.
struct Objective {
  double budget_ms = 0;

  Individual evaluate(const space::Candidate& c) const {
    const space::Counts counts = space::count(space::lower(c.arch).value());
    Individual ind;
    ind.genome = c.genome;
    ind.hash = hash_of(c);
    ind.latency_ms = static_cast<double>(counts.macs) / 1e5;
    ind.score = static_cast<double>(counts.params) / 1e3;
    ind.scored = true;
    ind.violation_ms = std::max(0.0, ind.latency_ms - budget_ms);
    return ind;
  }
};

// The budget at the `q` quantile of latency over uniform samples of the space.
Objective objective_at_quantile(const space::Sampler& sampler, double q) {
  space::Rng rng(12345);
  std::vector<double> latencies;
  for (int i = 0; i < 2000; ++i) latencies.push_back(Objective{}.evaluate(sampler.sample(rng).value()).latency_ms);
  std::sort(latencies.begin(), latencies.end());
  return Objective{latencies[static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1))]};
}

std::unique_ptr<Strategy> make(std::string_view name, const StrategyConfig& cfg,
                               const space::Sampler& sampler = tiny()) {
  auto s = make_strategy(name, sampler, cfg);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(s).value() : nullptr;
}

StrategyConfig config(std::uint64_t seed, std::size_t population = 20, std::size_t tournament = 5) {
  StrategyConfig cfg;
  cfg.seed = seed;
  cfg.population = population;
  cfg.tournament = tournament;
  return cfg;
}

// The driver's loop: ask for what is left of the budget, evaluate, tell; `after_tell` may update().
std::vector<Individual> run(Strategy& s, const Objective& obj, std::size_t evaluations,
                            const std::function<void(Strategy&)>& after_tell = {}) {
  std::vector<Individual> all;
  while (all.size() < evaluations) {
    auto batch = s.ask(evaluations - all.size());
    EXPECT_TRUE(batch.ok()) << (batch.ok() ? "" : batch.error().message);
    if (!batch.ok() || batch->empty()) break;
    EXPECT_LE(batch->size(), evaluations - all.size());
    std::vector<Individual> evaluated;
    for (const space::Candidate& c : *batch) evaluated.push_back(obj.evaluate(c));
    s.tell(evaluated);
    if (after_tell) after_tell(s);
    all.insert(all.end(), evaluated.begin(), evaluated.end());
  }
  EXPECT_EQ(all.size(), evaluations);
  return all;
}

std::vector<std::string> hashes(const std::vector<Individual>& all) {
  std::vector<std::string> out;
  for (const Individual& ind : all) out.push_back(ind.hash);
  return out;
}

// What the strategy holds, in its order (update() visits every individual held).
std::vector<Individual> held(Strategy& s) {
  std::vector<Individual> out;
  s.update([&](Individual& ind) { out.push_back(ind); });
  return out;
}

std::size_t hamming(const space::Genome& a, const space::Genome& b) {
  std::size_t d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += a[i] != b[i] ? 1 : 0;
  return d;
}

double best_feasible_score(const std::vector<Individual>& all) {
  double best = 0;
  for (const Individual& ind : all)
    if (ind.feasible()) best = std::max(best, ind.score);
  return best;
}

double feasible_hypervolume(const std::vector<Individual>& all, const Objective& obj) {
  std::vector<Point> pts;
  for (const Individual& ind : all)
    if (ind.feasible()) pts.push_back(ind.point());
  return hypervolume(pts, Point{obj.budget_ms, 0});
}

const char* const kNames[] = {"random", "evolution", "nsga2"};

TEST(StrategyFactory, NamesAndUnknownNames) {
  EXPECT_EQ(strategy_names(), (std::vector<std::string>{"random", "evolution", "nsga2"}));
  for (const char* name : kNames) {
    auto s = make(name, config(1));
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->name(), name);
  }
  auto bad = make_strategy("nsga", tiny(), config(1));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("did you mean 'nsga2'"), std::string::npos) << bad.error().message;
}

TEST(StrategyFactory, RejectsBadConfigs) {
  StrategyConfig cfg;
  cfg.population = 0;
  EXPECT_FALSE(make_strategy("evolution", tiny(), cfg).ok());
  cfg = {};
  cfg.tournament = 0;
  EXPECT_FALSE(make_strategy("evolution", tiny(), cfg).ok());
  cfg = {};
  cfg.mutation_p = 1.5;
  EXPECT_FALSE(make_strategy("nsga2", tiny(), cfg).ok());
  cfg = {};
  cfg.crossover_p = -0.1;
  EXPECT_FALSE(make_strategy("nsga2", tiny(), cfg).ok());
}

TEST(Strategies, SameSeedSameProposalsOtherSeedOthers) {
  const Objective obj = objective_at_quantile(tiny(), 0.3);
  // A refresh between batches (as after a measurement) is part of the sequence replayed.
  const auto refit = [](Strategy& s) { s.update([](Individual& ind) { ind.latency_ms *= 1.01; }); };
  for (const char* name : kNames) {
    const auto a = hashes(run(*make(name, config(5)), obj, 150, refit));
    const auto b = hashes(run(*make(name, config(5)), obj, 150, refit));
    const auto c = hashes(run(*make(name, config(6)), obj, 150, refit));
    EXPECT_EQ(a, b) << name;
    EXPECT_NE(a, c) << name;
  }
}

TEST(Strategies, NoRepeatsWhileNewArchsExist) {
  // The tiny space has ~10^5 archs: 400 proposals have no reason to repeat one.
  const Objective obj = objective_at_quantile(tiny(), 0.3);
  for (const char* name : kNames) {
    for (std::uint64_t seed : {1, 2, 3}) {
      const auto all = hashes(run(*make(name, config(seed)), obj, 400));
      EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size()) << name << " seed " << seed;
    }
  }
}

TEST(Strategies, RepeatOnlyOnceTheSpaceIsUsedUp) {
  const Objective obj{1e9};
  for (const char* name : kNames) {
    auto s = make(name, config(3, 2, 2), four_archs());
    const auto all = hashes(run(*s, obj, 12));
    EXPECT_EQ(std::set<std::string>(all.begin(), all.begin() + 4).size(), 4u) << name;  // all four first
    EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 4u) << name;        // then repeats
  }
}

TEST(Strategies, SearchBeatsRandomAtEqualEvaluations) {
  // A budget at the 10% quantile of latency: few archs are feasible, and the best of them are
  // found by following the good ones. Averages over seeds; measured margins: evolution's best
  // feasible score ~20% above random's, NSGA-II's hypervolume ~40% above (200 evaluations).
  const Objective obj = objective_at_quantile(tiny(), 0.1);
  const int seeds = 8;
  std::map<std::string, double> best, volume;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    for (const char* name : kNames) {
      const auto all = run(*make(name, config(seed)), obj, 200);
      best[name] += best_feasible_score(all) / seeds;
      volume[name] += feasible_hypervolume(all, obj) / seeds;
    }
  }
  EXPECT_GT(best["evolution"], 1.05 * best["random"]) << best["evolution"] << " vs " << best["random"];
  EXPECT_GT(volume["evolution"], 1.05 * volume["random"]) << volume["evolution"] << " vs " << volume["random"];
  EXPECT_GT(best["nsga2"], 1.05 * best["random"]) << best["nsga2"] << " vs " << best["random"];
  EXPECT_GT(volume["nsga2"], 1.05 * volume["random"]) << volume["nsga2"] << " vs " << volume["random"];
}

TEST(Strategies, BatchSizes) {
  const Objective obj = objective_at_quantile(tiny(), 0.3);
  const auto tell = [&](Strategy& s, const std::vector<space::Candidate>& batch) {
    std::vector<Individual> evaluated;
    for (const auto& c : batch) evaluated.push_back(obj.evaluate(c));
    s.tell(evaluated);
  };
  // Random: batches of `population`.
  auto random = make("random", config(1, 8));
  EXPECT_EQ(random->ask(100)->size(), 8u);
  EXPECT_EQ(random->ask(3)->size(), 3u);
  EXPECT_TRUE(random->ask(0)->empty());
  // Evolution: the first `population` are samples, then at most half a population of children.
  auto evolution = make("evolution", config(1, 8));
  auto first = evolution->ask(5).value();
  EXPECT_EQ(first.size(), 5u);
  tell(*evolution, first);
  auto rest = evolution->ask(100).value();
  EXPECT_EQ(rest.size(), 3u);
  tell(*evolution, rest);
  EXPECT_EQ(evolution->ask(100)->size(), 4u);
  EXPECT_EQ(evolution->ask(2)->size(), 2u);
  // NSGA-II: a population, then generations of `population` offspring, fewer at the budget's end.
  auto nsga2 = make("nsga2", config(1, 8));
  auto initial = nsga2->ask(100).value();
  EXPECT_EQ(initial.size(), 8u);
  tell(*nsga2, initial);
  EXPECT_EQ(nsga2->ask(100)->size(), 8u);
  EXPECT_EQ(nsga2->ask(3)->size(), 3u);
}

TEST(Evolution, AgingRemovesTheOldestNotTheWorst) {
  auto s = make("evolution", config(2, 4));
  auto initial = s->ask(4).value();
  ASSERT_EQ(initial.size(), 4u);
  std::vector<Individual> told;
  for (std::size_t i = 0; i < initial.size(); ++i) {
    Individual ind = Objective{1e9}.evaluate(initial[i]);
    ind.score = i == 0 ? 1000 : static_cast<double>(i);  // the oldest is by far the fittest
    told.push_back(ind);
  }
  s->tell(told);
  EXPECT_EQ(hashes(held(*s)), hashes(told));
  for (int generation = 0; generation < 3; ++generation) {
    auto child = s->ask(1).value();
    ASSERT_EQ(child.size(), 1u);
    Individual ind = Objective{1e9}.evaluate(child[0]);
    ind.score = 0;  // the newest is the least fit
    told.push_back(ind);
    s->tell(std::span(&ind, 1));
    EXPECT_EQ(hashes(held(*s)), hashes(std::vector<Individual>(told.end() - 4, told.end())))
        << "after " << generation + 1 << " children";
  }
}

// Two members X (fitter) and Y, tournaments that always see both, mutation only: the children are
// mutants of X. Once update() makes X infeasible, they are mutants of Y.
void expect_update_moves_parent_selection(const char* name) {
  StrategyConfig cfg = config(4, 2, 64);  // evolution: 64 draws with replacement see both w.p. 1 − 2⁻⁶³
  cfg.crossover_p = 0;
  auto s = make(name, cfg);
  const auto initial = s->ask(2).value();
  ASSERT_EQ(initial.size(), 2u);
  Individual x = Objective{1e9}.evaluate(initial[0]), y = Objective{1e9}.evaluate(initial[1]);
  x.latency_ms = 1;
  x.score = 10;
  y.latency_ms = 2;
  y.score = 1;
  ASSERT_GE(hamming(x.genome, y.genome), 6u) << "the test needs parents far apart";
  const std::vector<Individual> both = {x, y};
  s->tell(both);

  // Children asked without telling them back, so that the population stays {X, Y}.
  const auto nearer_x = [&](std::size_t children) {
    std::size_t near_x = 0, count = 0;
    while (count < children) {
      const auto batch = s->ask(children - count).value();
      for (const space::Candidate& c : batch) {
        near_x += hamming(c.genome, x.genome) < hamming(c.genome, y.genome) ? 1 : 0;
        ++count;
      }
    }
    return near_x;
  };
  EXPECT_GE(nearer_x(20), 18u) << name;
  s->update([&](Individual& ind) {
    if (ind.hash == x.hash) ind.violation_ms = 0.5;  // e.g. measured over budget
  });
  EXPECT_LE(nearer_x(20), 2u) << name;
}

TEST(Evolution, UpdateMovesParentSelection) {
  expect_update_moves_parent_selection("evolution");
}
TEST(Nsga2, UpdateMovesParentSelection) {
  expect_update_moves_parent_selection("nsga2");
}

TEST(Nsga2, PopulationStaysPAndKeepsTheBestFronts) {
  const Objective obj = objective_at_quantile(tiny(), 0.3);
  const std::size_t p = 10;
  auto s = make("nsga2", config(7, p));
  std::vector<Individual> parents;
  std::size_t told = 0;
  int cuts = 0;
  for (std::size_t budget : {100u, 100u, 100u, 100u, 100u, 3u}) {
    const auto batch = s->ask(budget).value();
    std::vector<Individual> evaluated;
    for (const auto& c : batch) evaluated.push_back(obj.evaluate(c));
    s->tell(evaluated);
    told += evaluated.size();
    const std::vector<Individual> now = held(*s);
    EXPECT_EQ(now.size(), std::min(p, told));
    // Survivors come from parents ∪ offspring, and no one left out is in a better constrained
    // front (of the merged set) than anyone kept.
    std::vector<Individual> merged = parents;
    merged.insert(merged.end(), evaluated.begin(), evaluated.end());
    const auto fronts = constrained_fronts(merged);
    std::map<std::string, std::size_t> front_of;
    for (std::size_t k = 0; k < fronts.size(); ++k)
      for (std::size_t i : fronts[k]) front_of[merged[i].hash] = k;
    const std::set<std::string> kept_hashes = [&] {
      std::set<std::string> h;
      for (const Individual& ind : now) h.insert(ind.hash);
      return h;
    }();
    std::size_t worst_kept = 0, best_dropped = fronts.size();
    for (const Individual& ind : now) {
      ASSERT_TRUE(front_of.contains(ind.hash));
      worst_kept = std::max(worst_kept, front_of[ind.hash]);
    }
    for (const Individual& ind : merged)
      if (!kept_hashes.contains(ind.hash)) best_dropped = std::min(best_dropped, front_of[ind.hash]);
    EXPECT_LE(worst_kept, best_dropped);
    // The front that was cut keeps its most isolated members.
    if (worst_kept == best_dropped) {
      std::vector<Point> points;
      for (const Individual& ind : merged) points.push_back(ind.point());
      const auto distance = crowding_distance(points, fronts[worst_kept]);
      double least_kept = kInf, most_dropped = -kInf;
      for (std::size_t k = 0; k < distance.size(); ++k) {
        if (kept_hashes.contains(merged[fronts[worst_kept][k]].hash))
          least_kept = std::min(least_kept, distance[k]);
        else
          most_dropped = std::max(most_dropped, distance[k]);
      }
      EXPECT_GE(least_kept, most_dropped);
      ++cuts;
    }
    parents = now;
  }
  EXPECT_GT(cuts, 0) << "no front was cut: the crowding-distance rule went untested";
}

}  // namespace
}  // namespace hwnas::search
