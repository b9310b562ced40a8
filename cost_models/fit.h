// Fitting: per group the form and ridge with the lowest cross-validated MAPE (relative least squares,
// non-negative costs), pooled coefficients for groups with few samples, then the network term from
// measured networks. Everything is deterministic for given samples.
#pragma once

#include <vector>

#include "cost_models/model.h"
#include "cost_models/samples.h"
#include "space/result.h"

namespace hwnas::cost {

struct FitOptions {
  int folds = 5;
  std::size_t min_group_samples = 8;  // fewer: the group uses the pooled model
  std::vector<Form> forms = {Form::sum, Form::roofline};
};

// Errors when there is nothing to fit (no unit samples, a sample with a non-positive time).
Result<Model> fit(const std::vector<UnitSample>& units, const std::vector<NetworkSample>& networks, const ModelKey& key,
                  const FitOptions& opts = {});

// What a group's fit is pulled towards where its own data says little: the pooled fits of each form.
struct Priors {
  const UnitModel* sum = nullptr;
  const UnitModel* roofline = nullptr;
};

// One group's model (exposed for tests): the best form by CV.
UnitModel fit_unit_model(const std::vector<const UnitSample*>& samples, const Priors& priors, const FitOptions& opts);
// The roofline form alone, fitted on all of `samples` (no CV). A regime none of the samples is in
// keeps the prior's parameter (0 without a prior).
UnitModel fit_roofline(const std::vector<const UnitSample*>& samples, const UnitModel* prior = nullptr);

}  // namespace hwnas::cost
