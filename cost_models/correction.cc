#include "cost_models/correction.h"

#include <algorithm>
#include <cmath>

#include "cost_models/metrics.h"
#include "space/ops.h"

namespace hwnas::cost {
namespace {

// Feature layout: [1, log(raw ms), share of each unit group slot].
constexpr std::size_t kDims = 2 + kGroupSlots;
constexpr double kLambdaIntercept = 0.05;  // the global ratio is learnt from the first measurements
constexpr double kLambdaLog = 2.0;
constexpr double kLambdaShare = 1.0;
constexpr double kMarginFloor = 0.02;  // run-to-run noise of a measurement
constexpr double kPriorWeight = 5.0;   // measurements that count as much as the model's own band

// Solves A x = b (A symmetric positive definite, n × n, row-major) by Cholesky.
std::vector<double> cholesky_solve(std::vector<double> a, std::vector<double> b, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (std::size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    d = std::sqrt(std::max(d, 1e-12));
    a[j * n + j] = d;
    for (std::size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    double s = b[i];
    for (std::size_t k = 0; k < i; ++k) s -= a[i * n + k] * b[k];
    b[i] = s / a[i * n + i];
  }
  for (std::size_t i = n; i-- > 0;) {
    double s = b[i];
    for (std::size_t k = i + 1; k < n; ++k) s -= a[k * n + i] * b[k];
    b[i] = s / a[i * n + i];
  }
  return b;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

Correction::Correction(const Model& model, double default_margin) : model_(model) {
  // The band holds quantiles of predicted/measured − 1; a prediction p covers 95% of measurements
  // when believed as p / (1 + q05).
  model_margin_ =
      model.band.n > 0 && model.band.q05 > -0.9 ? std::max(0.0, 1 / (1 + model.band.q05) - 1) : default_margin;
  model_margin_ = std::max(model_margin_, kMarginFloor);
  margin_ = model_margin_;
}

std::vector<double> Correction::features(const space::Arch& arch, double* raw) const {
  std::vector<double> z(kDims, 0.0);
  z[0] = 1;
  thread_local space::Lowerer lowerer;  // the search predicts every candidate: no allocation
  auto net = lowerer.lower(arch);
  if (!net) {
    *raw = 0;
    return z;
  }
  double sum = 0;
  for (const space::Unit& u : (*net)->units) {
    const Group g = group_of(arch, u);
    const double t = model_.predict_unit_us(g, unit_features(u, model_.key.batch));
    z[2 + g.index()] += t;
    sum += t;
  }
  *raw = model_.compose(sum, (*net)->running_units());
  for (std::size_t i = 2; i < kDims; ++i) z[i] = sum > 0 ? z[i] / sum : 0;
  z[1] = std::log(std::max(*raw, 1.0) / 1e3);
  return z;
}

double Correction::raw_us(const space::Arch& arch) const {
  double raw = 0;
  features(arch, &raw);
  return raw;
}

double Correction::corrected_us(const space::Arch& arch) const {
  double raw = 0;
  const auto z = features(arch, &raw);
  return w_.empty() ? raw : raw * std::exp(dot(w_, z));
}

std::vector<double> Correction::solve(const std::vector<std::size_t>& rows) const {
  // Centre the log feature on the rows' mean so that its shrinkage does not pull the intercept.
  std::vector<double> a(kDims * kDims, 0.0), b(kDims, 0.0);
  for (std::size_t r : rows) {
    const auto& z = z_[r];
    for (std::size_t i = 0; i < kDims; ++i) {
      if (z[i] == 0) continue;
      b[i] += z[i] * y_[r];
      for (std::size_t j = 0; j < kDims; ++j) a[i * kDims + j] += z[i] * z[j];
    }
  }
  a[0] += kLambdaIntercept;
  a[kDims + 1] += kLambdaLog;
  for (std::size_t i = 2; i < kDims; ++i) a[i * kDims + i] += kLambdaShare;
  return cholesky_solve(std::move(a), std::move(b), kDims);
}

void Correction::add(const space::Arch& arch, double measured_us) {
  double raw = 0;
  auto z = features(arch, &raw);
  if (!(raw > 0) || !(measured_us > 0)) return;
  z_.push_back(std::move(z));
  y_.push_back(std::log(measured_us / raw));
  refit();
}

void Correction::refit() {
  std::vector<std::size_t> all(y_.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  w_ = solve(all);
  loo_.clear();
  std::vector<double> under;  // how much a corrected prediction fell short of the measurement
  for (std::size_t i = 0; i < y_.size(); ++i) {
    std::vector<std::size_t> rest;
    for (std::size_t j = 0; j < y_.size(); ++j)
      if (j != i) rest.push_back(j);
    const auto w = solve(rest);
    const double pred_over_meas = std::exp(dot(w, z_[i]) - y_[i]);  // corrected / measured
    loo_.push_back(pred_over_meas - 1);
    under.push_back(1 / pred_over_meas - 1);
  }
  const double n = static_cast<double>(y_.size());
  const double observed = under.size() >= 3 ? std::max(0.0, quantile(under, 0.9)) : model_margin_;
  const double blend = n / (n + kPriorWeight);
  margin_ = std::max(kMarginFloor, (1 - blend) * model_margin_ + blend * observed);
}

}  // namespace hwnas::cost
