#include "compress/finercut.h"

#include <algorithm>
#include <limits>
#include <map>

#include "space/validate.h"

namespace hwnas::compress {
namespace {

constexpr double kMinSavingMs = 1e-3;  // a removal that saves less is scored as if it saved this

double predict(const FinercutConfig& cfg, const space::Arch& original, const std::vector<Sublayer>& removed) {
  if (!cfg.predict_ms) return 0;
  auto a = space::validate(without(original, removed));
  return a ? cfg.predict_ms(*a) : std::numeric_limits<double>::infinity();
}

// Where `s` is in `candidates` (candidates.size(): not there).
std::size_t index_in(const std::vector<Sublayer>& candidates, const Sublayer& s) {
  return static_cast<std::size_t>(std::find(candidates.begin(), candidates.end(), s) - candidates.begin());
}

// cfg.measure_ms of the original without `removed`, once per set of removals: the path's end, the
// finish and the exchanges may ask for the same network.
class Measurer {
 public:
  Measurer(const FinercutConfig& cfg, const space::Arch& original, const std::vector<Sublayer>& candidates)
      : cfg_(cfg), original_(original), candidates_(candidates) {}
  double operator()(const std::vector<Sublayer>& removed) {
    std::vector<std::size_t> key;
    for (const Sublayer& s : removed) key.push_back(index_in(candidates_, s));
    std::sort(key.begin(), key.end());
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    auto a = space::validate(without(original_, removed));
    const double m = a ? cfg_.measure_ms(*a) : std::numeric_limits<double>::infinity();
    memo_.emplace(std::move(key), m);
    return m;
  }

 private:
  const FinercutConfig& cfg_;
  const space::Arch& original_;
  const std::vector<Sublayer>& candidates_;
  std::map<std::vector<std::size_t>, double> memo_;
};

// Whether to stop before the next removal. With a budget and a measuring callback, a network
// predicted within the budget is measured (once) and the measurement decides.
bool done(const FinercutConfig& cfg, Measurer& measure, FinercutResult& r, std::size_t left) {
  if (cfg.max_steps > 0 && r.steps.size() >= cfg.max_steps) return true;
  if (cfg.budget_ms > 0) {
    const double now_ms = r.steps.empty() ? r.original_ms : r.steps.back().predicted_ms;
    if (now_ms <= cfg.budget_ms) {
      if (!cfg.measure_ms) return true;
      const double m = measure(removed_by(r, r.steps.size()));
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

// Whether the path's end fits the budget (measured, when measuring).
bool end_fits(const FinercutConfig& cfg, const FinercutResult& r) {
  if (r.steps.empty()) return false;
  const Step& end = r.steps.back();
  return cfg.measure_ms ? end.measured_ms > 0 && end.measured_ms <= cfg.budget_ms : end.predicted_ms <= cfg.budget_ms;
}

// The latency model's error where it was last checked (measured / predicted at the path's end; 1
// when not measuring). The networks the finish and the exchanges consider are near the end and
// share most of its error, so their predictions are scaled by it before they are measured: a model
// 20% optimistic about pruned networks otherwise proposes only networks that measure over.
double correction_at_end(const FinercutConfig& cfg, const FinercutResult& r) {
  const Step& end = r.steps.back();
  return cfg.measure_ms && end.measured_ms > 0 && end.predicted_ms > 0 ? end.measured_ms / end.predicted_ms : 1.0;
}

// The ratio ranking is a knapsack heuristic: near the budget its best ratio can overshoot, taking a
// large saving at a large distance where a smaller removal would have fitted. So the path's end is
// compared with every finisher less divergent than it; the least divergent one that fits (measured,
// when measuring) replaces the path from its step on. The finishers' distances were computed by the
// scans already: only measurements are added (at most kMaxFinisherMeasurements), for finishers
// predicted within the budget after correction_at_end.
void finish(const FinercutConfig& cfg, Measurer& measure, FinercutResult& r, std::vector<Finisher> finishers) {
  if (!end_fits(cfg, r)) return;  // the path ran out of candidates over the budget: nothing fits
  const Step& end = r.steps.back();
  const double correction = correction_at_end(cfg, r);
  std::stable_sort(finishers.begin(), finishers.end(),
                   [](const Finisher& a, const Finisher& b) { return a.distance < b.distance; });
  std::size_t measured = 0;
  for (const Finisher& f : finishers) {
    if (!(f.distance < end.distance)) break;
    if (f.at + 1 == r.steps.size() && f.removed == end.removed) continue;  // the path's own end
    if (f.predicted_ms * correction > cfg.budget_ms) continue;
    double m = 0;
    if (cfg.measure_ms) {
      if (measured++ == kMaxFinisherMeasurements) break;
      std::vector<Sublayer> set = removed_by(r, f.at);
      set.push_back(f.removed);
      m = measure(set);
      if (m > cfg.budget_ms) continue;
    }
    r.finish_replaced = r.steps.size() - f.at;
    r.steps.resize(f.at);
    r.steps.push_back({f.removed, f.distance, f.predicted_ms, f.score, m});
    return;
  }
}

constexpr std::size_t kExchangeRounds = 4;        // at most this many exchanges
constexpr std::size_t kExchangeTries = 8;         // true distances computed per round
constexpr std::size_t kExchangeMeasurements = 2;  // measurements per round

// The finish still leaves a knapsack heuristic's answer: a path that stopped at its first fit can
// land well under the budget, with a less divergent set of the same cost next to it. So the result
// is improved by single exchanges (the 1-swap local search of knapsack heuristics): put one removed
// sublayer r back and remove another one c (or none), where that is predicted within the budget
// (scaled by the model's error at the end, correction_at_end).
// The moves are ranked by the additive estimate d(S) - added(r) + added(c) (added: the distance a
// removal added when it was taken, or in its latest scan for one not taken), the best
// kExchangeTries get their true distance, and the least divergent below d(S) that fits (measured,
// when measuring) is taken. Rounds go on until none is taken. Distances are small perturbations of
// the logits, where the estimate ranks well; the true distances decide.
Status exchange(Fidelity& fidelity, const FinercutConfig& cfg, const space::Arch& original, Measurer& measure,
                FinercutResult& r, std::vector<double> added) {
  if (!end_fits(cfg, r)) return true;
  const std::vector<Sublayer>& cands = r.candidates;
  std::vector<bool> in(cands.size(), false);
  double prev = 0;
  for (const Step& st : r.steps) {
    in[index_in(cands, st.removed)] = true;
    added[index_in(cands, st.removed)] = st.distance - prev;
    prev = st.distance;
  }
  double current = r.steps.back().distance, correction = correction_at_end(cfg, r);
  auto set_of = [&](std::size_t out, std::size_t put) {
    std::vector<Sublayer> set;
    for (std::size_t i = 0; i < cands.size(); ++i)
      if ((in[i] && i != out) || i == put) set.push_back(cands[i]);
    return set;
  };
  if (auto st = fidelity.set_base(set_of(cands.size(), cands.size())); !st) return st;
  for (std::size_t round = 0; round < kExchangeRounds; ++round) {
    struct Move {
      std::size_t out, put;  // put == cands.size(): none
      double estimate, distance = 0, predicted_ms = 0;
    };
    std::vector<Move> moves;
    for (std::size_t o = 0; o < cands.size(); ++o) {
      if (!in[o]) continue;
      for (std::size_t p = 0; p <= cands.size(); ++p) {
        if (p < cands.size() && in[p]) continue;
        const double ms = predict(cfg, original, set_of(o, p));
        if (ms * correction > cfg.budget_ms) continue;
        moves.push_back({o, p, current - added[o] + (p < cands.size() ? added[p] : 0.0), 0, ms});
      }
    }
    std::stable_sort(moves.begin(), moves.end(), [](const Move& a, const Move& b) { return a.estimate < b.estimate; });
    if (moves.size() > kExchangeTries) moves.resize(kExchangeTries);
    for (Move& m : moves) {
      auto d = fidelity.distance(set_of(m.out, m.put));
      if (!d) return d.error();
      ++r.evaluations;
      m.distance = *d;
    }
    std::stable_sort(moves.begin(), moves.end(), [](const Move& a, const Move& b) { return a.distance < b.distance; });
    std::size_t measured = 0;
    bool taken = false;
    for (const Move& m : moves) {
      if (!(m.distance < current)) break;
      double ms = 0;
      if (cfg.measure_ms) {
        if (measured++ == kExchangeMeasurements) break;
        ms = measure(set_of(m.out, m.put));
        if (ms > cfg.budget_ms) continue;
      }
      Exchange x{cands[m.out], std::nullopt, m.distance, m.predicted_ms, ms};
      if (m.put < cands.size()) x.removed = cands[m.put];
      r.exchanges.push_back(x);
      const std::vector<Sublayer> now = set_of(m.out, m.put);
      in[m.out] = false;
      if (m.put < cands.size()) {
        in[m.put] = true;
        added[m.put] = m.distance - (current - added[m.out]);
      }
      current = m.distance;
      if (ms > 0 && m.predicted_ms > 0) correction = ms / m.predicted_ms;
      if (auto st = fidelity.set_base(now); !st) return st;
      taken = true;
      break;
    }
    if (!taken) break;
  }
  return true;
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

std::vector<Sublayer> chosen(const FinercutResult& r) {
  std::vector<Sublayer> out = removed_by(r, r.steps.size());
  for (const Exchange& x : r.exchanges) {
    std::erase(out, x.restored);
    if (x.removed) out.push_back(*x.removed);
  }
  return out;
}

double chosen_distance(const FinercutResult& r) {
  if (!r.exchanges.empty()) return r.exchanges.back().distance;
  return r.steps.empty() ? 0.0 : r.steps.back().distance;
}

double chosen_predicted_ms(const FinercutResult& r) {
  if (!r.exchanges.empty()) return r.exchanges.back().predicted_ms;
  return r.steps.empty() ? r.original_ms : r.steps.back().predicted_ms;
}

Result<FinercutResult> finercut(Fidelity& fidelity, const FinercutConfig& cfg) {
  const space::Arch& arch = fidelity.arch();
  FinercutResult r;
  r.candidates = removable_sublayers(arch);
  r.original_ms = predict(cfg, arch, {});
  std::vector<Sublayer> removed, left = r.candidates;
  Measurer measure(cfg, arch, r.candidates);
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
      if (done(cfg, measure, r, scored.size() - r.steps.size())) break;
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
  std::vector<double> added(r.candidates.size(), 0.0);  // each candidate's distance increase in its latest scan
  double current = 0, current_ms = r.original_ms;
  while (!done(cfg, measure, r, left.size())) {
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
      added[index_in(r.candidates, left[i])] = *d - current;
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
  if (finishing) {
    finish(cfg, measure, r, std::move(finishers));
    if (auto st = exchange(fidelity, cfg, arch, measure, r, std::move(added)); !st) return st.error();
  }
  return r;
}

}  // namespace hwnas::compress
