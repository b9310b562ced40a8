// Fitting a cost model from the store, evaluating it on the held-out archs, storing it as the next
// version of its key, and printing the evaluation table (shared by 'hwnas fit' and 'hwnas calibrate').
#pragma once

#include <cstdio>
#include <optional>

#include "cli/cost_data.h"
#include "cost_models/evaluate.h"
#include "cost_models/model.h"
#include "store/store.h"

namespace hwnas::cli {

struct FitOutcome {
  cost::Model model;
  cost::Evaluation evaluation;
  CostData data;
  int version = 0;  // stored as
  double fit_ms = 0;
};

// Throws RuntimeFailure when there is nothing to fit or the store refuses the write.
FitOutcome fit_and_store(store::Store& db, const CostKey& key, const cost::Holdout& holdout);

void print_evaluation(std::FILE* out, const FitOutcome& f);

struct StoredModel {
  cost::Model model;
  int version = 0;
};
// The stored model of `key` (version 0: the latest), checked against the key; nullopt when there is
// none. Throws RuntimeFailure for a model that cannot be read or does not fit the key.
std::optional<StoredModel> find_stored_model(store::Store& db, const CostKey& key, int version = 0);

}  // namespace hwnas::cli
