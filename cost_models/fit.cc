#include "cost_models/fit.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "cost_models/nnls.h"

namespace hwnas::cost {
namespace {

using Samples = std::vector<const UnitSample*>;

// The roofline form from its solved coefficients (µs per MAC, µs per byte, fixed µs).
UnitModel roofline_model(const std::vector<double>& x) {
  UnitModel m;
  m.form = Form::roofline;
  m.us_per_mac = x[0];
  m.us_per_byte = x[1];
  m.overhead_us = x[2];
  return m;
}

constexpr double kFormMargin = 0.002;  // CV MAPE points the sum form must win by
constexpr double kSplitGain = 0.5;     // a two-regime roofline must halve the one-regime loss

// Relative squared error weight: w·(a·x − y)² = ((a·x − y) / y)².
double rel_weight(double y) {
  return 1.0 / (y * y);
}

double mape_of(const Samples& s, const UnitModel& m) {
  if (s.empty()) return 0;
  double e = 0;
  for (const UnitSample* p : s) e += std::abs(m.predict_us(p->f) - p->us) / p->us;
  return e / static_cast<double>(s.size());
}

double rel_sq_loss(const Samples& s, const UnitModel& m) {
  double e = 0;
  for (const UnitSample* p : s) {
    const double r = (m.predict_us(p->f) - p->us) / p->us;
    e += r * r;
  }
  return e;
}

UnitModel fit_sum(const Samples& s, double ridge, const UnitModel* prior) {
  Normal eq(kFeatureCount);
  for (const UnitSample* p : s) eq.add_row(p->f.x.data(), p->us, rel_weight(p->us));
  std::vector<double> pr;
  if (prior != nullptr && prior->form == Form::sum) pr.assign(prior->theta.begin(), prior->theta.end());
  const std::vector<double> x = nnls(eq, ridge, pr);
  UnitModel m;
  m.form = Form::sum;
  std::copy(x.begin(), x.end(), m.theta.begin());
  return m;
}

// Roofline rows: [macs if compute-bound, bytes if memory-bound, 1].
UnitModel fit_roofline_regimes(const Samples& s, const std::vector<bool>& compute_bound, const UnitModel* prior) {
  Normal eq(3);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const double a[3] = {compute_bound[i] ? s[i]->f.roof.macs : 0.0, compute_bound[i] ? 0.0 : s[i]->f.roof.bytes, 1.0};
    eq.add_row(a, s[i]->us, rel_weight(s[i]->us));
  }
  std::vector<double> pr;
  if (prior != nullptr) pr = {prior->us_per_mac, prior->us_per_byte, prior->overhead_us};
  return roofline_model(nnls(eq, pr.empty() ? 0.0 : 1e-9, pr));
}

struct Candidate {
  Form form;
  double ridge;
};

UnitModel fit_candidate(const Samples& s, const Candidate& c, const Priors& priors) {
  return c.form == Form::sum ? fit_sum(s, c.ridge, priors.sum) : fit_roofline(s, priors.roofline);
}

double cv_mape(const Samples& s, const Candidate& c, const Priors& priors, int folds) {
  const auto k = static_cast<std::size_t>(std::max(2, folds));
  if (s.size() < k) return std::numeric_limits<double>::infinity();
  double err = 0;
  for (std::size_t f = 0; f < k; ++f) {
    Samples train, test;
    for (std::size_t i = 0; i < s.size(); ++i) (i % k == f ? test : train).push_back(s[i]);
    const UnitModel m = fit_candidate(train, c, priors);
    err += mape_of(test, m) * static_cast<double>(test.size());
  }
  return err / static_cast<double>(s.size());
}

}  // namespace

UnitModel fit_roofline(const Samples& s, const UnitModel* prior) {
  // A sample is compute-bound iff its intensity (MACs per byte) is above P/BW: try every split of
  // the samples sorted by intensity (prefix sums make each split's normal equations O(1)), keep the
  // split whose fit has the lowest relative loss under the max() form, then let the fit re-assign
  // regimes until stable.
  std::vector<std::size_t> order(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) order[i] = i;
  auto intensity = [&](std::size_t i) {
    return s[i]->f.roof.bytes > 0 ? s[i]->f.roof.macs / s[i]->f.roof.bytes : std::numeric_limits<double>::max();
  };
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return intensity(a) < intensity(b); });
  // memory[k]: normal equations of the k least intense samples as memory-bound; compute[k]: the rest.
  std::vector<Normal> memory(s.size() + 1, Normal(3)), compute(s.size() + 1, Normal(3));
  for (std::size_t k = 0; k < s.size(); ++k) {
    const UnitSample& p = *s[order[k]];
    const double a[3] = {0.0, p.f.roof.bytes, 1.0};
    memory[k + 1] = memory[k];
    memory[k + 1].add_row(a, p.us, rel_weight(p.us));
  }
  for (std::size_t k = s.size(); k-- > 0;) {
    const UnitSample& p = *s[order[k]];
    const double a[3] = {p.f.roof.macs, 0.0, 1.0};
    compute[k] = compute[k + 1];
    compute[k].add_row(a, p.us, rel_weight(p.us));
  }
  std::vector<double> pr;
  if (prior != nullptr) pr = {prior->us_per_mac, prior->us_per_byte, prior->overhead_us};
  auto solve = [&](Normal eq) { return roofline_model(nnls(eq, pr.empty() ? 0.0 : 1e-9, pr)); };
  // One regime for all samples first; a split must explain clearly more (else it fits noise, and the
  // regime no sample is really in gets a made-up parameter instead of the prior's).
  UnitModel best = solve(compute[0]);
  double best_loss = rel_sq_loss(s, best);
  if (const UnitModel m = solve(memory[s.size()]); rel_sq_loss(s, m) < best_loss) {
    best = m;
    best_loss = rel_sq_loss(s, m);
  }
  const double single_loss = best_loss;
  for (std::size_t k = 2; k + 2 <= s.size(); ++k) {
    Normal eq = memory[k];
    eq += compute[k];
    const UnitModel m = solve(eq);
    const double loss = rel_sq_loss(s, m);
    if (loss < best_loss && loss < kSplitGain * single_loss) {
      best_loss = loss;
      best = m;
    }
  }
  for (int it = 0; it < 30; ++it) {
    std::vector<bool> cb(s.size());
    for (std::size_t i = 0; i < s.size(); ++i)
      cb[i] = best.us_per_mac * s[i]->f.roof.macs >= best.us_per_byte * s[i]->f.roof.bytes;
    const UnitModel m = fit_roofline_regimes(s, cb, prior);
    const double loss = rel_sq_loss(s, m);
    if (!(loss < best_loss * (1 - 1e-12))) break;
    best_loss = loss;
    best = m;
  }
  return best;
}

UnitModel fit_unit_model(const Samples& s, const Priors& priors, const FitOptions& opts) {
  std::vector<Candidate> candidates;
  for (Form f : opts.forms) {
    if (f == Form::sum) {
      // Ridge towards the pooled coefficients (or 0), relative to the data: strong for few samples.
      for (double r : {0.01, 0.1, 1.0})
        candidates.push_back({f, r / static_cast<double>(std::max<std::size_t>(s.size(), 1))});
    } else {
      candidates.push_back({f, 0});
    }
  }
  // Occam: the richer sum form (17 costs) must beat the 3-parameter roofline by a clear margin, since
  // the roofline extrapolates better (to shapes and regimes the group's data does not cover).
  auto params = [](const Candidate& c) { return c.form == Form::roofline ? 0.0 : 1.0; };
  Candidate best = candidates.front();
  double best_err = std::numeric_limits<double>::infinity();
  for (const Candidate& c : candidates) {
    const double e = cv_mape(s, c, priors, opts.folds);
    const double margin = params(c) > params(best) ? std::max(kFormMargin, 0.05 * best_err) : 0.0;
    const bool simpler_tie = params(c) < params(best) && e <= best_err + std::max(kFormMargin, 0.05 * e);
    if (e < best_err - margin || simpler_tie || !std::isfinite(best_err)) {
      best_err = e;
      best = c;
    }
  }
  UnitModel m = fit_candidate(s, best, priors);
  m.samples = static_cast<std::int64_t>(s.size());
  m.cv_mape = std::isfinite(best_err) ? best_err : mape_of(s, m);
  return m;
}

Result<Model> fit(const std::vector<UnitSample>& units, const std::vector<NetworkSample>& networks, const ModelKey& key,
                  const FitOptions& opts) {
  // A unit that runs nothing is predicted 0 whatever was measured (a timer's overhead): not fitted.
  Samples all;
  for (const UnitSample& u : units)
    if (u.f.runs) all.push_back(&u);
  if (all.empty()) return Error{"no unit measurements to fit: run 'hwnas calibrate' (or 'hwnas profile --per-block')"};
  for (const UnitSample* u : all)
    if (!(u->us > 0) || !std::isfinite(u->us))
      return Error{fmt::format("unit sample of arch {} ({}): time must be > 0 (got {})", u->arch_hash,
                               group_name(u->group), u->us)};
  Model model;
  model.key = key;
  std::array<Samples, kGroupSlots> by_group;
  for (const UnitSample* u : all) by_group[u->group.index()].push_back(u);
  model.fallback = fit_unit_model(all, Priors{}, opts);
  model.fallback.pooled = true;
  const UnitModel pooled_sum = fit_sum(all, 1e-6, nullptr);
  const UnitModel pooled_roofline = fit_roofline(all);
  const Priors priors{&pooled_sum, &pooled_roofline};
  for (std::size_t g = 0; g < kGroupSlots; ++g) {
    const Samples& s = by_group[g];
    if (s.empty()) continue;
    model.has_group[g] = true;
    if (s.size() < opts.min_group_samples) {
      model.groups[g] = model.fallback;
      model.groups[g].samples = static_cast<std::int64_t>(s.size());
      model.groups[g].cv_mape = mape_of(s, model.fallback);
      continue;
    }
    model.groups[g] = fit_unit_model(s, priors, opts);
  }
  // Network term: measured network ≈ scale · Σ predicted units + inter · (running units − 1).
  Normal eq(2);
  std::int64_t n_net = 0;
  for (const NetworkSample& n : networks) {
    if (!(n.us > 0) || n.running_units() == 0) continue;
    double sum = 0;
    for (const NetworkUnit& u : n.units) sum += model.predict_unit_us(u.group, u.f);
    const double a[2] = {sum, static_cast<double>(n.running_units() - 1)};
    eq.add_row(a, n.us, rel_weight(n.us));
    ++n_net;
  }
  if (n_net >= 2) {
    const std::vector<double> x = nnls(eq, 1e-6, {1.0, 0.0});
    model.network.scale = x[0];
    model.network.inter_unit_us = x[1];
  }
  model.network.samples = n_net;
  // Until a held-out evaluation replaces it: the band from the pooled unit CV error.
  model.band.source = "cross-validation of units (no held-out networks)";
  model.band.n = static_cast<std::int64_t>(all.size());
  model.band.q05 = -2 * model.fallback.cv_mape;
  model.band.q95 = 2 * model.fallback.cv_mape;
  return model;
}

}  // namespace hwnas::cost
