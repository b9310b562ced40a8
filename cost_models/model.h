// The fitted throughput model: per unit group, latency = cost per unit of work × work, in one of two
// roofline forms, plus a network composition term.
//   form sum:      t = Σ_f θ_f · x_f              (x: features.h; θ ≥ 0: µs per MAC, per byte, per op…)
//   form roofline: t = max(macs / P, bytes / BW) + t0   (P: attained MAC/µs, BW: bytes/µs, t0: µs)
//   network:       T = scale · Σ_units t + inter_unit_us · (units − 1)   (units that run something)
// Attained throughput of a unit is then its MACs / t. The key says which device, backend, batch,
// dtype and threads the model predicts; a model is never used for another key (model_json.h).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cost_models/features.h"
#include "space/arch.h"
#include "space/result.h"

namespace hwnas::cost {

enum class Form : std::uint8_t { sum, roofline, kCount };
std::string_view name_of(Form f);
std::optional<Form> form_from(std::string_view s);

struct UnitModel {
  Form form = Form::sum;
  FeatureVector theta{};     // form sum
  double us_per_mac = 0;     // form roofline: 1 / attained MAC/µs
  double us_per_byte = 0;    // form roofline: 1 / bandwidth in bytes/µs
  double overhead_us = 0;    // form roofline: fixed per unit
  std::int64_t samples = 0;  // measurements it was fitted on
  double cv_mape = 0;        // cross-validated mean absolute percentage error on those (0..1)
  bool pooled = false;       // too few samples of its own: the coefficients of all groups pooled

  double predict_us(const UnitFeatures& f) const;
  // Roofline parameters in the usual units.
  double peak_gflops() const { return us_per_mac > 0 ? 2.0 / (us_per_mac * 1e3) : 0.0; }
  double bandwidth_gbs() const { return us_per_byte > 0 ? 1.0 / (us_per_byte * 1e3) : 0.0; }
};

struct ModelKey {
  std::string device;        // fingerprint
  std::string device_model;  // for messages: "AMD EPYC 9R45 (2 threads)"
  std::string backend;
  std::int64_t batch = 1;
  std::string dtype = "f32";
  int threads = 0;

  bool same_config(const ModelKey& o) const {
    return device == o.device && backend == o.backend && batch == o.batch && dtype == o.dtype && threads == o.threads;
  }
};

// Relative error quantiles of network predictions ((predicted − measured) / measured) on archs not
// used for fitting: the band predict prints.
struct ErrorBand {
  std::string source;  // "held-out archs" or "cross-validation (no held-out networks measured)"
  std::int64_t n = 0;
  double q05 = 0, q50 = 0, q95 = 0;
};

struct NetworkTerm {
  double scale = 1.0;
  double inter_unit_us = 0;
  std::int64_t samples = 0;  // network measurements it was fitted on
};

struct UnitPrediction {
  std::string label;
  std::string group;
  double us = 0;
  double macs = 0;  // at the model's batch
  double attained_gmacs() const { return us > 0 ? macs / (us * 1e3) : 0; }
};

struct Model {
  static constexpr int kFormatVersion = 1;
  ModelKey key;
  std::array<UnitModel, kGroupSlots> groups{};
  std::array<bool, kGroupSlots> has_group{};
  UnitModel fallback;  // pooled over every group: for a group never measured
  NetworkTerm network;
  ErrorBand band;
  std::string trained_json = "{}";     // what it was fitted on (counts, calibration time)
  std::string evaluation_json = "{}";  // the held-out evaluation printed by fit

  const UnitModel& unit_model(Group g) const { return has_group[g.index()] ? groups[g.index()] : fallback; }
  double predict_unit_us(Group g, const UnitFeatures& f) const { return unit_model(g).predict_us(f); }
  // Network latency (µs) of a lowered arch at the key's batch.
  double predict_us(const space::Arch& arch, const space::Lowered& net) const;
  Result<double> predict_us(const space::Arch& arch) const;
  // Per unit, in order; the network figure is compose(Σ, net.running_units()).
  std::vector<UnitPrediction> predict_units(const space::Arch& arch, const space::Lowered& net) const;
  // Units that run nothing (space::Unit::runs_nothing) are predicted 0 and left out of running_units.
  double compose(double sum_units_us, std::size_t running_units) const;
};

}  // namespace hwnas::cost
