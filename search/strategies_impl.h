// The strategies behind make_strategy(), one per file; private to the search module.
#pragma once

#include <memory>

#include "search/strategy.h"
#include "space/search_space.h"

namespace hwnas::search::detail {

// `cfg` is already checked by make_strategy().
std::unique_ptr<Strategy> make_random(const space::Sampler& sampler, const StrategyConfig& cfg);
std::unique_ptr<Strategy> make_evolution(const space::Sampler& sampler, const StrategyConfig& cfg);
std::unique_ptr<Strategy> make_nsga2(const space::Sampler& sampler, const StrategyConfig& cfg);

}  // namespace hwnas::search::detail
