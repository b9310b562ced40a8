#include "compress/finercut.h"

#include <algorithm>
#include <limits>

#include "space/validate.h"

namespace hwnas::compress {
namespace {

constexpr double kMinSavingMs = 1e-3;  // a removal that saves less is scored as if it saved this

double predict(const FinercutConfig& cfg, const space::Arch& original, const std::vector<Sublayer>& removed) {
  if (!cfg.predict_ms) return 0;
  auto a = space::validate(without(original, removed));
  return a ? cfg.predict_ms(*a) : std::numeric_limits<double>::infinity();
}

// Whether to stop before the next removal. With a budget and a measuring callback, a network
// predicted within the budget is measured (once) and the measurement decides.
bool done(const FinercutConfig& cfg, const space::Arch& original, FinercutResult& r, std::size_t left) {
  if (cfg.max_steps > 0 && r.steps.size() >= cfg.max_steps) return true;
  if (cfg.budget_ms > 0) {
    const double now_ms = r.steps.empty() ? r.original_ms : r.steps.back().predicted_ms;
    if (now_ms <= cfg.budget_ms) {
      if (!cfg.measure_ms) return true;
      auto a = space::validate(without(original, removed_by(r, r.steps.size())));
      const double m = a ? cfg.measure_ms(*a) : std::numeric_limits<double>::infinity();
      if (r.steps.empty())
        r.original_measured_ms = m;
      else
        r.steps.back().measured_ms = m;
      if (m <= cfg.budget_ms) return true;
    }
  }
  return left == 0;
}

// A removal that would have ended the latency-aware path within the budget at step `at`.
struct Finisher {
  std::size_t at = 0;  // the path's first `at` steps, then `removed`
  Sublayer removed;
  double distance = 0, predicted_ms = 0, score = 0;
};

constexpr std::size_t kMaxFinisherMeasurements = 4;

// The ratio ranking is a knapsack heuristic: near the budget its best ratio can overshoot, taking a
// large saving at a large distance where a smaller removal would have fitted. So the path's end is
// compared with every finisher less divergent than it; the least divergent one that fits (measured,
// when measuring) replaces the path from its step on. The finishers' distances were computed by the
// scans already: only measurements are added (at most kMaxFinisherMeasurements).
void finish(const FinercutConfig& cfg, const space::Arch& original, FinercutResult& r,
            std::vector<Finisher> finishers) {
  if (r.steps.empty()) return;
  const Step& end = r.steps.back();
  const bool end_fits =
      cfg.measure_ms ? end.measured_ms > 0 && end.measured_ms <= cfg.budget_ms : end.predicted_ms <= cfg.budget_ms;
  if (!end_fits) return;  // the path ran out of candidates over the budget: nothing fits
  std::stable_sort(finishers.begin(), finishers.end(),
                   [](const Finisher& a, const Finisher& b) { return a.distance < b.distance; });
  std::size_t measured = 0;
  for (const Finisher& f : finishers) {
    if (!(f.distance < end.distance)) break;
    if (f.at + 1 == r.steps.size() && f.removed == end.removed) continue;  // the path's own end
    double m = 0;
    if (cfg.measure_ms) {
      if (measured++ == kMaxFinisherMeasurements) break;
      std::vector<Sublayer> set = removed_by(r, f.at);
      set.push_back(f.removed);
      auto a = space::validate(without(original, set));
      m = a ? cfg.measure_ms(*a) : std::numeric_limits<double>::infinity();
      if (m > cfg.budget_ms) continue;
    }
    r.finish_replaced = r.steps.size() - f.at;
    r.steps.resize(f.at);
    r.steps.push_back({f.removed, f.distance, f.predicted_ms, f.score, m});
    return;
  }
}

}  // namespace

std::string_view name_of(Method m) {
  switch (m) {
    case Method::greedy: return "greedy";
    case Method::oneshot: return "oneshot";
    case Method::latency: return "latency";
  }
  return "?";
}

std::optional<Method> method_from(std::string_view s) {
  for (Method m : {Method::greedy, Method::oneshot, Method::latency})
    if (name_of(m) == s) return m;
  return std::nullopt;
}

std::vector<Sublayer> removed_by(const FinercutResult& r, std::size_t k) {
  std::vector<Sublayer> out;
  for (std::size_t i = 0; i < k && i < r.steps.size(); ++i) out.push_back(r.steps[i].removed);
  return out;
}

Result<FinercutResult> finercut(Fidelity& fidelity, const FinercutConfig& cfg) {
  const space::Arch& arch = fidelity.arch();
  FinercutResult r;
  r.candidates = removable_sublayers(arch);
  r.original_ms = predict(cfg, arch, {});
  std::vector<Sublayer> removed, left = r.candidates;
  if (auto st = fidelity.set_base({}); !st) return st.error();

  if (cfg.method == Method::oneshot) {
    // Score every candidate alone against the original, then remove in score order.
    std::vector<std::pair<double, std::size_t>> scored;
    for (std::size_t i = 0; i < left.size(); ++i) {
      auto d = fidelity.distance({left[i]});
      if (!d) return d.error();
      ++r.evaluations;
      scored.push_back({*d, i});
    }
    std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [score, i] : scored) {
      if (done(cfg, arch, r, scored.size() - r.steps.size())) break;
      removed.push_back(left[i]);
      // The new base first: its distance then reads the logits set_base computed.
      if (auto st = fidelity.set_base(removed); !st) return st.error();
      auto d = fidelity.distance(removed);
      if (!d) return d.error();
      ++r.evaluations;
      r.steps.push_back({left[i], *d, predict(cfg, arch, removed), score});
      if (cfg.on_step) cfg.on_step(r.steps.back(), r.steps.size(), scored.size());
    }
    return r;
  }

  // Latency-aware with a budget: every network one removal away from the path that is predicted
  // within the budget (a finisher), kept for the finish below.
  const bool finishing = cfg.method == Method::latency && cfg.budget_ms > 0;
  std::vector<Finisher> finishers;
  double current = 0, current_ms = r.original_ms;
  while (!done(cfg, arch, r, left.size())) {
    std::size_t best = 0;
    double best_score = std::numeric_limits<double>::infinity(), best_d = 0, best_ms = 0;
    for (std::size_t i = 0; i < left.size(); ++i) {
      std::vector<Sublayer> trial = removed;
      trial.push_back(left[i]);
      auto d = fidelity.distance(trial);
      if (!d) return d.error();
      ++r.evaluations;
      const double ms = predict(cfg, arch, trial);  // 0 without a latency model
      const double score =
          cfg.method == Method::latency ? (*d - current) / std::max(current_ms - ms, kMinSavingMs) : *d;
      if (finishing && ms <= cfg.budget_ms) finishers.push_back({r.steps.size(), left[i], *d, ms, score});
      if (score < best_score) {  // ties: the earlier sublayer in network order
        best_score = score;
        best = i;
        best_d = *d;
        best_ms = ms;
      }
    }
    removed.push_back(left[best]);
    r.steps.push_back({left[best], best_d, best_ms, best_score});
    if (cfg.on_step) cfg.on_step(r.steps.back(), r.steps.size(), left.size());
    left.erase(left.begin() + static_cast<std::ptrdiff_t>(best));
    current = best_d;
    current_ms = best_ms;
    if (auto st = fidelity.set_base(removed); !st) return st.error();
  }
  if (finishing) finish(cfg, arch, r, std::move(finishers));
  return r;
}

}  // namespace hwnas::compress
