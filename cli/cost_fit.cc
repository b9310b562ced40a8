#include "cli/cost_fit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/table.h"
#include "cost_models/fit.h"
#include "cost_models/model_json.h"

namespace hwnas::cli {

FitOutcome fit_and_store(store::Store& db, const CostKey& key, const cost::Holdout& holdout) {
  FitOutcome f;
  f.data = load_cost_data(db, key, holdout);
  const auto t0 = std::chrono::steady_clock::now();
  auto m = cost::fit(f.data.units, f.data.networks, key.model);
  if (!m)
    throw RuntimeFailure(fmt::format("{} (device {}, backend {}, batch {}, dtype {}, threads {}, store {})",
                                     m.error().message, key.model.device, key.model.backend, key.model.batch,
                                     key.model.dtype, key.model.threads, db.path()));
  f.model = std::move(m).value();
  f.fit_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::string source;
  const double c = cost::macs_constant(f.data.units, f.data.networks, &source);
  f.evaluation = cost::evaluate(f.model, f.data.held_out, c);
  f.evaluation.us_per_mac_source = source;
  cost::set_band_from(f.model, f.evaluation);
  f.model.trained_json = nlohmann::json{
      {"unit_measurements", f.data.units.size()},
      {"network_measurements", f.data.networks.size()},
      {"noisy", f.data.noisy},
      {"calibration_s", f.data.training_s},
      {"fit_ms", f.fit_ms}}.dump();
  nlohmann::json ev = cost::to_json(f.evaluation);
  ev.erase("rows");
  ev["held_out_s"] = f.data.held_out_s;
  f.model.evaluation_json = ev.dump();

  store::CostModelKey k{
      key.model.device, key.model.backend, key.model.batch, key.model.dtype, key.model.threads, cost::kModelKind, 0};
  auto latest = db.find_cost_model(k);
  if (!latest) throw RuntimeFailure(latest.error().message);
  k.version = *latest ? (*latest)->key.version + 1 : 1;
  store::CostModelRecord rec;
  rec.key = k;
  rec.model_json = cost::to_json_text(f.model);
  auto put = db.put_cost_model(rec, store::OnConflict::fail);
  if (!put) throw RuntimeFailure(put.error().message);
  f.version = k.version;
  return f;
}

namespace {

std::string pct(double v) {
  return fmt::format("{:.1f}%", 100 * v);
}

void add_metrics_row(Table& t, const std::string& name, const cost::Metrics& m) {
  if (m.n == 0) {
    t.add_row({name, "0", "-", "-", "-", "-", "-", "-"});
    return;
  }
  t.add_row({name, fmt::format("{}", m.n), pct(m.mape), pct(m.rmspe), pct(m.within5), pct(m.within10),
             fmt::format("{:.3f}", m.kendall_tau), fmt::format("{:.3f}", m.spearman_rho)});
}

double rel_error(double predicted, double measured) {
  return (predicted - measured) / measured;
}

// Where the error comes from: the held-out archs predicted outside ±10%, largest error first, with the
// unit group that takes the largest share of their predicted time; then, per such group, how many of
// the archs it dominates are missed.
void print_misses(std::FILE* out, const cost::Evaluation& e) {
  std::vector<const cost::EvalRow*> misses;
  for (const cost::EvalRow& r : e.rows)
    if (std::abs(rel_error(r.predicted_us, r.measured_us)) > 0.10) misses.push_back(&r);
  if (misses.empty()) return;
  std::stable_sort(misses.begin(), misses.end(), [](const cost::EvalRow* a, const cost::EvalRow* b) {
    return std::abs(rel_error(a->predicted_us, a->measured_us)) > std::abs(rel_error(b->predicted_us, b->measured_us));
  });
  constexpr std::size_t kShown = 12;
  fmt::print(out, "outside +-10%: {} of {} held-out archs{}:\n", misses.size(), e.rows.size(),
             misses.size() > kShown ? fmt::format(" ({} largest shown)", kShown) : "");
  Table t({{"arch", Table::Align::left},
           {"measured ms"},
           {"predicted ms"},
           {"error"},
           {"sum of blocks"},
           {"largest predicted share", Table::Align::left}});
  for (std::size_t i = 0; i < misses.size() && i < kShown; ++i) {
    const cost::EvalRow& r = *misses[i];
    t.add_row({r.name.empty() ? r.arch_hash : r.name, fmt::format("{:.2f}", r.measured_us / 1e3),
               fmt::format("{:.2f}", r.predicted_us / 1e3),
               fmt::format("{:+.1f}%", 100 * rel_error(r.predicted_us, r.measured_us)),
               r.block_sum_us ? fmt::format("{:+.1f}%", 100 * rel_error(*r.block_sum_us, r.measured_us)) : "-",
               fmt::format("{} {:.0f}%", r.top_group, 100 * r.top_group_share)});
  }
  t.print(out);
  std::map<std::string, std::pair<int, int>> by_group;  // missed, all
  for (const cost::EvalRow& r : e.rows) ++by_group[r.top_group].second;
  for (const cost::EvalRow* r : misses) ++by_group[r->top_group].first;
  std::string line;
  for (const auto& [g, c] : by_group)
    if (c.first > 0) line += fmt::format("{}{} {} of {}", line.empty() ? "" : ", ", g, c.first, c.second);
  fmt::print(out, "missed by largest predicted share: {}\n", line);
}

}  // namespace

void print_evaluation(std::FILE* out, const FitOutcome& f) {
  const cost::Model& m = f.model;
  const CostData& d = f.data;
  fmt::print(out, "cost model v{} for {} [{}], backend {}, batch {}, {}, {} threads\n", f.version, m.key.device_model,
             m.key.device, m.key.backend, m.key.batch, m.key.dtype, m.key.threads);
  fmt::print(out,
             "trained on {} unit and {} network measurements ({} noisy) taking {:.1f} min to measure; fitted in "
             "{:.0f} ms\n",
             d.units.size(), d.networks.size(), d.noisy, d.training_s / 60, f.fit_ms);
  Table groups({{"group", Table::Align::left}, {"form", Table::Align::left}, {"n"}, {"CV MAPE"}, {"detail"}});
  for (std::size_t g = 0; g < cost::kGroupSlots; ++g) {
    if (!m.has_group[g]) continue;
    const cost::UnitModel& u = m.groups[g];
    const cost::Group grp{static_cast<space::UnitKind>(g / 16), static_cast<std::uint8_t>(g % 16)};
    groups.add_row({cost::group_name(grp), u.pooled ? "pooled" : std::string(cost::name_of(u.form)),
                    fmt::format("{}", u.samples), pct(u.cv_mape),
                    u.form == cost::Form::roofline ? fmt::format("{:.0f} GFLOP/s, {:.1f} GB/s, {:.1f} us",
                                                                 u.peak_gflops(), u.bandwidth_gbs(), u.overhead_us)
                                                   : ""});
  }
  groups.print(out);
  fmt::print(out, "network = {:.3f} x sum of units + {:.1f} us x (units - 1), from {} networks\n", m.network.scale,
             m.network.inter_unit_us, m.network.samples);
  const cost::Evaluation& e = f.evaluation;
  if (e.rows.empty()) {
    fmt::print(out,
               "held-out evaluation: no held-out network measured (presets and the fixed held-out samples; "
               "'hwnas calibrate --eval-archs N' measures them)\n");
    return;
  }
  fmt::print(
      out, "held-out evaluation ({} archs never fitted on: presets + samples of hybrid-vit; measured in {:.1f} min):\n",
      e.rows.size(), d.held_out_s / 60);
  Table t({{"predictor", Table::Align::left},
           {"n"},
           {"MAPE"},
           {"RMSPE"},
           {"within 5%"},
           {"within 10%"},
           {"Kendall tau"},
           {"Spearman rho"}});
  add_metrics_row(t, "cost model", e.model);
  add_metrics_row(t, fmt::format("MACs x {:.3g} us/MAC ({})", e.us_per_mac, e.us_per_mac_source), e.macs_baseline);
  add_metrics_row(t, "sum of measured blocks", e.block_sum);
  add_metrics_row(t, "cost model, same archs", e.model_on_block_sum_rows);
  t.print(out);
  fmt::print(out, "error band (predicted/measured - 1, {}): 5% {:+.1f}%, median {:+.1f}%, 95% {:+.1f}%\n",
             m.band.source, 100 * m.band.q05, 100 * m.band.q50, 100 * m.band.q95);
  print_misses(out, e);
}

std::optional<StoredModel> find_stored_model(store::Store& db, const CostKey& key, int version) {
  store::CostModelKey k{key.model.device,  key.model.backend, key.model.batch, key.model.dtype,
                        key.model.threads, cost::kModelKind,  version};
  auto rec = db.find_cost_model(k);
  if (!rec) throw RuntimeFailure(rec.error().message);
  if (!*rec) return std::nullopt;
  auto m = cost::model_from_json((*rec)->model_json, fmt::format("{}: cost model v{}", db.path(), (*rec)->key.version));
  if (!m) throw RuntimeFailure(m.error().message);
  if (const std::string why = cost::incompatibility(m->key, key.model); !why.empty()) throw RuntimeFailure(why);
  return StoredModel{std::move(m).value(), (*rec)->key.version};
}

}  // namespace hwnas::cli
