// The model as versioned JSON (kept in the store's cost_models table; no binary pickles):
//   {"format": "hwnas-cost-model", "format_version": 1, "kind": "throughput",
//    "key": {"device", "device_model", "backend", "batch", "dtype", "threads"},
//    "features": [names…], "groups": {"block/hilo": {"form", "theta" | roofline params, …}, …},
//    "fallback": {…}, "network": {"scale", "inter_unit_us", "samples"}, "band": {…},
//    "trained": {…}, "evaluation": {…}}
// Reading checks every field and names the one that is wrong; a newer format version, or a feature
// list other than this hwnas's, is refused.
#pragma once

#include <string>

#include "cost_models/model.h"
#include "space/result.h"

namespace hwnas::cost {

inline constexpr const char* kModelKind = "throughput";

std::string to_json_text(const Model& m);
Result<Model> model_from_json(const std::string& text, const std::string& source);

// Empty when `model` predicts for `wanted` (same device fingerprint, backend, batch, dtype, threads);
// else why not, in one line that says what to run.
std::string incompatibility(const ModelKey& model, const ModelKey& wanted);

}  // namespace hwnas::cost
