// What a search run is: everything that decides its result, stored with the run (search_runs
// .config_json) so that --resume replays it exactly, and read back by reports.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "search/driver.h"
#include "space/search_space.h"

namespace hwnas::cli {

// One device the run targets, with what the run pinned for it.
struct RunDevice {
  std::string name;  // as --device named it ("" = this CPU, the default)
  // The cost-model key and the model version the run predicts with (pinned: a resume uses the same).
  std::string device;  // fingerprint
  std::string backend;
  int threads = 0;
  int model_version = 0;
  std::string budget_from;  // "" when --budget-ms gave the budget; else how the default was made
};

struct SearchRunConfig {
  std::string space = "hybrid-vit";
  std::string space_fingerprint;  // space_fingerprint(): a resumed run refuses a changed space
  std::string objective = "zen";
  search::SearchConfig search;  // budgets_ms: one per device
  std::int64_t batch = 1;
  std::string dtype = "f32";
  std::vector<RunDevice> devices;
  bool compare_presets = true;
};

nlohmann::json to_json(const SearchRunConfig& c);
// Throws UsageError naming the run and the field when a stored config cannot be read.
SearchRunConfig search_config_from_json(const nlohmann::json& j, const std::string& run_id);

// Hash of the space's gene layout and the architecture of its all-zero genome: equal for the same
// space definition.
std::string space_fingerprint(const space::Sampler& sampler);

}  // namespace hwnas::cli
