// A network-level correction of a fitted model, refit from whole-network measurements as they arrive:
// how the search learns the device as it goes. log(measured / predicted) is regressed (ridge, prior
// 0 = "the model is right") on the share of the predicted time each unit group takes and on the log
// of the prediction; with no measurement it is the identity.
//
// The safety margin it reports (measured / corrected − 1, the 90% quantile of leave-one-out errors)
// is blended with the model's own held-out band while measurements are few.
#pragma once

#include <vector>

#include "cost_models/model.h"
#include "space/arch.h"

namespace hwnas::cost {

class Correction {
 public:
  explicit Correction(const Model& model, double default_margin = 0.10);

  // The model's prediction (µs) and its corrected value.
  double raw_us(const space::Arch& arch) const;
  double corrected_us(const space::Arch& arch) const;
  // Adds a measured network and refits.
  void add(const space::Arch& arch, double measured_us);
  // Relative margin: believe a corrected prediction p as p·(1 + margin()).
  double margin() const { return margin_; }
  std::size_t samples() const { return y_.size(); }
  // Leave-one-out relative errors of the corrected predictions ((corrected − measured) / measured).
  const std::vector<double>& loo_errors() const { return loo_; }

 private:
  std::vector<double> features(const space::Arch& arch, double* raw) const;
  std::vector<double> solve(const std::vector<std::size_t>& rows) const;
  void refit();

  const Model& model_;
  double model_margin_ = 0;
  std::vector<std::vector<double>> z_;
  std::vector<double> y_;  // log(measured / raw)
  std::vector<double> w_;
  std::vector<double> loo_;
  double margin_ = 0;
};

}  // namespace hwnas::cost
