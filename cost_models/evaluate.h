// Held-out evaluation: the model's network predictions on archs not used for fitting, next to two
// baselines on the same archs: MACs-proportional (one constant fitted on the training data) and the
// sum of the units measured alone (no model at all: what per-block profiling would say).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "cost_models/metrics.h"
#include "cost_models/model.h"
#include "cost_models/samples.h"

namespace hwnas::cost {

struct EvalRow {
  std::string arch_hash, name;
  double measured_us = 0, predicted_us = 0, macs_baseline_us = 0;
  std::optional<double> block_sum_us;
  std::string top_group;       // the unit group with the largest share of the predicted time
  double top_group_share = 0;  // that share of the sum of predicted units
};

struct Evaluation {
  std::vector<EvalRow> rows;
  Metrics model, macs_baseline;
  Metrics block_sum;                // on the rows with every unit measured (block_sum.n of them)
  Metrics model_on_block_sum_rows;  // the model on those same rows, for a fair comparison
  double us_per_mac = 0;            // the MACs baseline's constant
  std::string us_per_mac_source;    // "training networks" or "training units"
};

// µs per MAC minimising the relative error of t ≈ c · macs: on the training networks if any, else
// on the training units.
double macs_constant(const std::vector<UnitSample>& units, const std::vector<NetworkSample>& networks,
                     std::string* source = nullptr);

Evaluation evaluate(const Model& model, const std::vector<NetworkSample>& held_out, double us_per_mac);

// The error band from an evaluation (≥ 5 rows), else unchanged.
void set_band_from(Model& model, const Evaluation& e);

nlohmann::json to_json(const Metrics& m);
nlohmann::json to_json(const Evaluation& e);

}  // namespace hwnas::cost
