#include "cli/search_config.h"

#include <fmt/format.h>

#include "cli/command.h"
#include "space/canonical.h"

namespace hwnas::cli {

nlohmann::json to_json(const SearchRunConfig& c) {
  const search::SearchConfig& s = c.search;
  nlohmann::json devices = nlohmann::json::array();
  for (std::size_t d = 0; d < c.devices.size(); ++d) {
    const RunDevice& r = c.devices[d];
    devices.push_back({{"name", r.name},
                       {"device", r.device},
                       {"backend", r.backend},
                       {"threads", r.threads},
                       {"model_version", r.model_version},
                       {"budget_ms", s.budgets_ms.at(d)},
                       {"budget_from", r.budget_from}});
  }
  const RunDevice& first = c.devices.at(0);
  // The first device's figures also stand alone, as runs of one device always stored them.
  return {{"space", c.space},
          {"space_fingerprint", c.space_fingerprint},
          {"objective", c.objective},
          {"budget_ms", s.budgets_ms.at(0)},
          {"budget_from", first.budget_from},
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
          {"device", first.device},
          {"backend", first.backend},
          {"batch", c.batch},
          {"dtype", c.dtype},
          {"threads", first.threads},
          {"model_version", first.model_version},
          {"devices", devices},
          {"compare_presets", c.compare_presets}};
}

SearchRunConfig search_config_from_json(const nlohmann::json& j, const std::string& run_id) {
  SearchRunConfig c;
  auto get_from = [&](const nlohmann::json& o, const std::string& where, const char* key, auto& into) {
    if (!o.is_object() || !o.contains(key))
      throw UsageError(fmt::format("search run {}: stored config has no '{}{}'", run_id, where, key));
    try {
      o.at(key).get_to(into);
    } catch (const nlohmann::json::exception&) {
      throw UsageError(fmt::format("search run {}: stored config field '{}{}' has the wrong type", run_id, where, key));
    }
  };
  auto get = [&](const char* key, auto& into) { get_from(j, "", key, into); };
  search::SearchConfig& s = c.search;
  get("space", c.space);
  get("space_fingerprint", c.space_fingerprint);
  get("objective", c.objective);
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
  get("batch", c.batch);
  get("dtype", c.dtype);
  get("compare_presets", c.compare_presets);
  auto device = [&](const nlohmann::json& o, const std::string& where) {
    RunDevice r;
    double budget = 0;
    if (o.contains("name")) get_from(o, where, "name", r.name);
    get_from(o, where, "device", r.device);
    get_from(o, where, "backend", r.backend);
    get_from(o, where, "threads", r.threads);
    get_from(o, where, "model_version", r.model_version);
    get_from(o, where, "budget_ms", budget);
    get_from(o, where, "budget_from", r.budget_from);
    c.devices.push_back(std::move(r));
    s.budgets_ms.push_back(budget);
  };
  if (j.contains("devices")) {  // runs stored before multi-device search have only the top-level fields
    if (!j["devices"].is_array() || j["devices"].empty() || j["devices"].size() > search::kMaxDevices)
      throw UsageError(fmt::format("search run {}: stored config field 'devices' must list 1 to {} devices", run_id,
                                   search::kMaxDevices));
    for (std::size_t d = 0; d < j["devices"].size(); ++d) device(j["devices"][d], fmt::format("devices[{}].", d));
  } else {
    device(j, "");
  }
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
