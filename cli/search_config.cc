#include "cli/search_config.h"

#include <fmt/format.h>

#include "cli/command.h"
#include "space/canonical.h"

namespace hwnas::cli {

nlohmann::json to_json(const SearchRunConfig& c) {
  const search::SearchConfig& s = c.search;
  return {{"space", c.space},
          {"space_fingerprint", c.space_fingerprint},
          {"objective", c.objective},
          {"budget_ms", s.budget_ms},
          {"budget_from", c.budget_from},
          {"strategy", s.strategy},
          {"seed", s.strategy_config.seed},
          {"population", s.strategy_config.population},
          {"tournament", s.strategy_config.tournament},
          {"mutation_p", s.strategy_config.mutation_p},
          {"crossover_p", s.strategy_config.crossover_p},
          {"evaluations", s.evaluations},
          {"measure_top", s.measure_top},
          {"measure_front", s.measure_front},
          {"measure_per_round", s.measure_per_round},
          {"measure_batch", s.measure_batch},
          {"score_reference", s.score_reference},
          {"device", c.device},
          {"backend", c.backend},
          {"batch", c.batch},
          {"dtype", c.dtype},
          {"threads", c.threads},
          {"model_version", c.model_version},
          {"compare_presets", c.compare_presets}};
}

SearchRunConfig search_config_from_json(const nlohmann::json& j, const std::string& run_id) {
  SearchRunConfig c;
  auto get = [&](const char* key, auto& into) {
    if (!j.is_object() || !j.contains(key))
      throw UsageError(fmt::format("search run {}: stored config has no '{}'", run_id, key));
    try {
      j.at(key).get_to(into);
    } catch (const nlohmann::json::exception&) {
      throw UsageError(fmt::format("search run {}: stored config field '{}' has the wrong type", run_id, key));
    }
  };
  search::SearchConfig& s = c.search;
  get("space", c.space);
  get("space_fingerprint", c.space_fingerprint);
  get("objective", c.objective);
  get("budget_ms", s.budget_ms);
  get("budget_from", c.budget_from);
  get("strategy", s.strategy);
  get("seed", s.strategy_config.seed);
  get("population", s.strategy_config.population);
  get("tournament", s.strategy_config.tournament);
  get("mutation_p", s.strategy_config.mutation_p);
  get("crossover_p", s.strategy_config.crossover_p);
  get("evaluations", s.evaluations);
  get("measure_top", s.measure_top);
  get("measure_front", s.measure_front);
  get("measure_per_round", s.measure_per_round);
  get("measure_batch", s.measure_batch);
  get("score_reference", s.score_reference);
  get("device", c.device);
  get("backend", c.backend);
  get("batch", c.batch);
  get("dtype", c.dtype);
  get("threads", c.threads);
  get("model_version", c.model_version);
  get("compare_presets", c.compare_presets);
  return c;
}

std::string space_fingerprint(const space::Sampler& sampler) {
  std::string text;
  for (const auto& g : sampler.genes()) text += fmt::format("{}:{};", g.name, g.choices);
  auto zero = sampler.repair(space::Genome(sampler.genes().size(), 0));
  text += zero ? space::canonical_text(zero->arch) : zero.error().message;
  return space::hash_hex(space::hash64(text));
}

}  // namespace hwnas::cli
