// Search strategies behind one ask/tell interface: random sampling, regularized (aging) evolution
// (Real et al. 2019) and NSGA-II (Deb et al. 2002) with constrained domination. A strategy never
// evaluates anything: the driver asks for genomes, evaluates them, and tells the results back.
// Deterministic: the same config, sampler and sequence of tell()/update() calls give the same asks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "search/individual.h"
#include "space/result.h"
#include "space/search_space.h"

namespace hwnas::search {

struct StrategyConfig {
  std::uint64_t seed = 1;
  std::size_t population = 32;  // evolution: aging population; nsga2: population; random: batch size
  std::size_t tournament = 8;   // evolution: sample size of the tournament
  double mutation_p = 0;        // per-gene mutation probability; 0 = 1 / (number of genes with choices)
  double crossover_p = 0.5;     // evolution and nsga2: share of children made by crossover (then mutated)
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string_view name() const = 0;
  // The next candidates to evaluate, at most `n` (the driver asks for what is left of its budget).
  // Strategies avoid proposing an arch they proposed before; they may when no new one is found.
  virtual Result<std::vector<space::Candidate>> ask(std::size_t n) = 0;
  // The results of the last ask, in its order and of its length.
  virtual void tell(std::span<const Individual> evaluated) = 0;
  // Figures changed (a measurement, a refit of the latency model): `refresh` rewrites an individual
  // in place (keyed by its hash); strategies call it on every individual they hold.
  virtual void update(const std::function<void(Individual&)>& refresh) = 0;
};

std::vector<std::string> strategy_names();  // random, evolution, nsga2
Result<std::unique_ptr<Strategy>> make_strategy(std::string_view name, const space::Sampler& sampler,
                                                const StrategyConfig& cfg);

}  // namespace hwnas::search
