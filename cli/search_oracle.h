// The search's latency oracle on a real (or fake) backend: the stored cost model with the
// network-level correction refit from every network measured (cost_models/correction.h), and
// measurements through the profiler with the store as their cache (a network already measured for
// this device and configuration is never measured again).
#pragma once

#include <cstdio>

#include "cli/cost_data.h"
#include "cost_models/correction.h"
#include "cost_models/model.h"
#include "profilers/backend.h"
#include "profilers/mpi/farm.h"
#include "profilers/weight_source.h"
#include "search/driver.h"
#include "store/store.h"

namespace hwnas::cli {

class SearchOracle final : public search::LatencyOracle {
 public:
  SearchOracle(prof::Backend& backend, store::Store& db, const CostKey& key, cost::Model model);

  double predict_ms(const space::Arch& arch) override { return correction_.corrected_us(arch) / 1e3; }
  double raw_ms(const space::Arch& arch) const { return correction_.raw_us(arch) / 1e3; }
  double margin() const override { return correction_.margin(); }
  std::string name() const override { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  Result<search::Measured> measure(const space::Arch& arch, const std::string& hash) override;
  // With a farm: what the store lacks is measured on the farm's workers in parallel (cli/farm.h).
  std::vector<Result<search::Measured>> measure_batch(const std::vector<const space::Arch*>& archs,
                                                      const std::vector<std::string>& hashes) override;
  // Measurements go to the farm's workers from now on (null: this process's backend).
  void use_farm(prof::mpi::Coordinator* farm) { farm_ = farm; }
  // The stored figure, if any (without measuring or learning).
  std::optional<search::Measured> stored(const std::string& hash);

  const cost::Model& model() const { return model_; }
  const cost::Correction& correction() const { return correction_; }

 private:
  prof::Backend& backend_;
  store::Store& db_;
  const CostKey& key_;
  cost::Model model_;
  cost::Correction correction_;
  prof::RandomWeights weights_;
  prof::mpi::Coordinator* farm_ = nullptr;
  std::string name_;
};

}  // namespace hwnas::cli
