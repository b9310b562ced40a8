// Fitting a cost model from the store, evaluating it on the held-out archs, storing it as the next
// version of its key, and printing the evaluation table (shared by 'hwnas fit' and 'hwnas calibrate').
#pragma once

#include <cstdio>

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

}  // namespace hwnas::cli
