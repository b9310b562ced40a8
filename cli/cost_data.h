// Glue between the store and cost_models (DESIGN.md keeps them apart): which backend and key a cost
// command works on, and the measurements of that key read back as cost model samples.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/options.h"
#include "cost_models/holdout.h"
#include "cost_models/model.h"
#include "cost_models/samples.h"
#include "profilers/backend.h"
#include "store/store.h"

namespace hwnas::cli {

// --backend onednn (this CPU) or fake (the deterministic roofline of profilers/fake, for tests).
std::unique_ptr<prof::Backend> make_backend(const std::string& name, int threads);

// The configuration a model predicts, and the protocol its measurements are taken with.
struct CostKey {
  cost::ModelKey model;
  prof::RunConfig run;
  std::string protocol = "default";  // prof::name_of(Protocol::standard): what profile stores
};
CostKey cost_key(const prof::Backend& backend, const std::string& backend_name, const prof::RunConfig& run);
// --device PREFIX: the stored device it names (unique prefix), keeping the rest of `key`.
void resolve_device(store::Store& db, const std::string& prefix, CostKey& key);

store::MeasurementKey measurement_key(const CostKey& key, const std::string& subject_hash);

struct CostData {
  std::vector<cost::UnitSample> units;        // training: archs not held out
  std::vector<cost::NetworkSample> networks;  // training networks
  std::vector<cost::NetworkSample> held_out;  // held-out networks (block_sum_us when every unit is stored)
  std::int64_t measurements = 0;              // rows read
  std::int64_t noisy = 0;                     // of them flagged noisy (kept: the fit is relative LS)
  double training_s = 0;                      // time the training measurements took (their elapsed_ms)
  double held_out_s = 0;                      // and the held-out ones
  std::int64_t skipped = 0;                   // rows whose arch could not be read back
};

// Every unit and network measurement of `key` in the store, split by `holdout`. Throws
// RuntimeFailure if a held-out arch reached the training data (it cannot: asserted).
CostData load_cost_data(store::Store& db, const CostKey& key, const cost::Holdout& holdout);

// The default search space's held-out set.
cost::Holdout default_holdout();

}  // namespace hwnas::cli
