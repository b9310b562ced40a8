// Options shared by calibrate, fit and predict: the key a cost model is for.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/cost_data.h"
#include "cli/options.h"

namespace hwnas::cli {

// --backend, --batch, --threads, --dtype, --device, --db. With `several_devices`, --device may be
// repeated (a search over several devices).
void add_cost_key_options(po::options_description& desc, bool several_devices = false);
// The --device values given (none, one, or several where the command allows it).
std::vector<std::string> device_options(const po::variables_map& vm);

struct CostTarget {
  std::unique_ptr<prof::Backend> backend;
  CostKey key;
};
// --batch, --threads, --dtype, checked.
prof::RunConfig run_config(const po::variables_map& vm);
// The backend and key the options name; `db` resolves --device when given.
CostTarget cost_target(const po::variables_map& vm, store::Store* db);
// The same for one device of several ("" = this CPU).
CostTarget cost_target(const po::variables_map& vm, store::Store* db, const std::string& device);

}  // namespace hwnas::cli
