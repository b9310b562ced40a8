#include "search/strategy.h"

#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "search/strategies_impl.h"
#include "space/suggest.h"

namespace hwnas::search {
namespace {

using Factory = std::unique_ptr<Strategy> (*)(const space::Sampler&, const StrategyConfig&);

struct Entry {
  std::string_view name;
  Factory make;
};

constexpr Entry kStrategies[] = {
    {"random", detail::make_random},
    {"evolution", detail::make_evolution},
    {"nsga2", detail::make_nsga2},
};

std::optional<Error> check(const StrategyConfig& cfg) {
  if (cfg.population < 1) return Error{"strategy: population must be at least 1 (got 0)"};
  if (cfg.tournament < 1) return Error{"strategy: tournament must be at least 1 (got 0)"};
  if (!(cfg.mutation_p >= 0 && cfg.mutation_p <= 1))
    return Error{fmt::format("strategy: mutation_p must be in [0, 1] (got {})", cfg.mutation_p)};
  if (!(cfg.crossover_p >= 0 && cfg.crossover_p <= 1))
    return Error{fmt::format("strategy: crossover_p must be in [0, 1] (got {})", cfg.crossover_p)};
  return std::nullopt;
}

}  // namespace

std::vector<std::string> strategy_names() {
  std::vector<std::string> names;
  for (const Entry& e : kStrategies) names.emplace_back(e.name);
  return names;
}

Result<std::unique_ptr<Strategy>> make_strategy(std::string_view name, const space::Sampler& sampler,
                                                const StrategyConfig& cfg) {
  if (auto bad = check(cfg)) return *bad;
  for (const Entry& e : kStrategies)
    if (e.name == name) return e.make(sampler, cfg);
  const std::string hint = space::did_you_mean(name, strategy_names());
  return Error{fmt::format("unknown search strategy '{}'{} (choose from {})", name,
                           hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint),
                           fmt::join(strategy_names(), ", "))};
}

}  // namespace hwnas::search
