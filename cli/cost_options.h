// Options shared by calibrate, fit and predict: the key a cost model is for.
#pragma once

#include <memory>

#include "cli/cost_data.h"
#include "cli/options.h"

namespace hwnas::cli {

// --backend, --batch, --threads, --dtype, --device, --db.
void add_cost_key_options(po::options_description& desc);

struct CostTarget {
  std::unique_ptr<prof::Backend> backend;
  CostKey key;
};
// The backend and key the options name; `db` resolves --device when given.
CostTarget cost_target(const po::variables_map& vm, store::Store* db);

}  // namespace hwnas::cli
