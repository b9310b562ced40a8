#include "cost_models/evaluate.h"

#include <array>

#include <nlohmann/json.hpp>

namespace hwnas::cost {

double macs_constant(const std::vector<UnitSample>& units, const std::vector<NetworkSample>& networks,
                     std::string* source) {
  // min Σ (c·m/t − 1)²  →  c = Σ (m/t) / Σ (m/t)².
  double s1 = 0, s2 = 0;
  for (const NetworkSample& n : networks) {
    if (!(n.us > 0) || !(n.macs > 0)) continue;
    const double r = n.macs / n.us;
    s1 += r;
    s2 += r * r;
  }
  if (source != nullptr) *source = "training networks";
  if (s2 == 0) {
    for (const UnitSample& u : units) {
      if (!(u.us > 0) || !(u.f.roof.macs > 0)) continue;
      const double r = u.f.roof.macs / u.us;
      s1 += r;
      s2 += r * r;
    }
    if (source != nullptr) *source = "training units";
  }
  return s2 > 0 ? s1 / s2 : 0.0;
}

Evaluation evaluate(const Model& model, const std::vector<NetworkSample>& held_out, double us_per_mac) {
  Evaluation e;
  e.us_per_mac = us_per_mac;
  std::vector<double> meas, pred, base, bs_meas, bs, bs_pred;
  for (const NetworkSample& n : held_out) {
    if (!(n.us > 0)) continue;
    EvalRow r;
    r.arch_hash = n.arch_hash;
    r.name = n.name;
    r.measured_us = n.us;
    double sum = 0;
    std::array<double, kGroupSlots> by_group{};  // where an error comes from, for the table
    for (const NetworkUnit& u : n.units) {
      const double t = model.predict_unit_us(u.group, u.f);
      sum += t;
      by_group[u.group.index()] += t;
    }
    r.predicted_us = model.compose(sum, n.running_units());
    const NetworkUnit* top = nullptr;
    for (const NetworkUnit& u : n.units)
      if (top == nullptr || by_group[u.group.index()] > by_group[top->group.index()]) top = &u;
    if (top != nullptr && sum > 0) {
      r.top_group = group_name(top->group);
      r.top_group_share = by_group[top->group.index()] / sum;
    }
    r.macs_baseline_us = us_per_mac * n.macs;
    r.block_sum_us = n.block_sum_us;
    meas.push_back(r.measured_us);
    pred.push_back(r.predicted_us);
    base.push_back(r.macs_baseline_us);
    if (r.block_sum_us) {
      bs_meas.push_back(r.measured_us);
      bs.push_back(*r.block_sum_us);
      bs_pred.push_back(r.predicted_us);
    }
    e.rows.push_back(std::move(r));
  }
  e.model = metrics(pred, meas);
  e.macs_baseline = metrics(base, meas);
  e.block_sum = metrics(bs, bs_meas);
  e.model_on_block_sum_rows = metrics(bs_pred, bs_meas);
  return e;
}

void set_band_from(Model& model, const Evaluation& e) {
  if (e.rows.size() < 5) return;
  std::vector<double> rel;
  for (const EvalRow& r : e.rows) rel.push_back((r.predicted_us - r.measured_us) / r.measured_us);
  model.band.source = "held-out archs";
  model.band.n = static_cast<std::int64_t>(rel.size());
  model.band.q05 = quantile(rel, 0.05);
  model.band.q50 = quantile(rel, 0.50);
  model.band.q95 = quantile(rel, 0.95);
}

nlohmann::json to_json(const Metrics& m) {
  return {{"n", m.n},
          {"mape", m.mape},
          {"rmspe", m.rmspe},
          {"within5", m.within5},
          {"within10", m.within10},
          {"kendall_tau", m.kendall_tau},
          {"spearman_rho", m.spearman_rho}};
}

nlohmann::json to_json(const Evaluation& e) {
  nlohmann::json rows = nlohmann::json::array();
  for (const EvalRow& r : e.rows) {
    nlohmann::json j = {{"arch", r.arch_hash},
                        {"name", r.name},
                        {"measured_us", r.measured_us},
                        {"predicted_us", r.predicted_us},
                        {"macs_baseline_us", r.macs_baseline_us}};
    if (r.block_sum_us) j["block_sum_us"] = *r.block_sum_us;
    if (!r.top_group.empty()) j["top_group"] = {{"group", r.top_group}, {"share", r.top_group_share}};
    rows.push_back(std::move(j));
  }
  return {{"model", to_json(e.model)},
          {"macs_baseline", to_json(e.macs_baseline)},
          {"block_sum", to_json(e.block_sum)},
          {"model_on_block_sum_rows", to_json(e.model_on_block_sum_rows)},
          {"us_per_mac", e.us_per_mac},
          {"us_per_mac_source", e.us_per_mac_source},
          {"rows", rows}};
}

}  // namespace hwnas::cost
