#include "search/driver.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "search/pareto.h"
#include "space/canonical.h"

namespace hwnas::search {
namespace {

class Search {
 public:
  Search(const space::Sampler& sampler, std::span<LatencyOracle* const> oracles, Estimator& estimator,
         const SearchConfig& cfg, SearchObserver& observer)
      : sampler_(sampler),
        oracles_(oracles.begin(), oracles.end()),
        estimator_(estimator),
        cfg_(cfg),
        observer_(observer) {}

  Result<SearchOutcome> run() {
    auto made = make_strategy(cfg_.strategy, sampler_, cfg_.strategy_config);
    if (!made) return made.error();
    strategy_ = std::move(made).value();
    for (LatencyOracle* o : oracles_) margins_.push_back(o->margin());
    const std::size_t batch = std::max<std::size_t>(cfg_.strategy_config.population, 1);
    while (out_.evaluations < cfg_.evaluations) {
      auto asked = strategy_->ask(std::min(batch, cfg_.evaluations - out_.evaluations));
      if (!asked) return asked.error();
      if (asked->empty()) break;  // the strategy has nothing left to propose
      std::vector<Individual> told;
      told.reserve(asked->size());
      for (space::Candidate& c : *asked) {
        const std::size_t i = evaluate(std::move(c));
        told.push_back(individual(recs_[i]));
        ++out_.evaluations;
      }
      strategy_->tell(told);
      measure_round();
      report();
      ++generation_;
    }
    final_phase();
    report();
    return finish();
  }

 private:
  std::size_t devices() const { return oracles_.size(); }
  double believed(const Record& r, std::size_t d) const { return r.on[d].believed_ms(margins_[d]); }
  double budget(std::size_t d) const { return cfg_.budgets_ms[d]; }
  bool fits(const Record& r) const {
    for (std::size_t d = 0; d < devices(); ++d)
      if (!(believed(r, d) <= budget(d))) return false;
    return true;
  }
  // Measured over some device's budget: never measured on the others.
  bool measured_over(const Record& r) const {
    for (std::size_t d = 0; d < devices(); ++d)
      if (r.on[d].measured && r.on[d].measured->ms > budget(d)) return true;
    return false;
  }
  // Some device still has to measure it (none failed on it, none measured it over budget).
  bool unmeasured(const Record& r) const { return !r.measured_all() && r.measure_error.empty() && !measured_over(r); }
  // Measured within every budget (and scored): what may be reported as a result.
  bool measured_fit(const Record& r) const { return r.measured_all() && fits(r) && r.score.has_value(); }
  // The largest share of a device's budget it is believed to take (the one-device order is latency's).
  double load(const Record& r) const {
    double worst = 0;
    for (std::size_t d = 0; d < devices(); ++d) worst = std::max(worst, believed(r, d) / budget(d));
    return worst;
  }
  Point point(const Record& r) const {
    Point p;
    p.devices = devices();
    for (std::size_t d = 0; d < devices(); ++d) p.set_latency(d, believed(r, d));
    p.score = r.score.value_or(0.0);
    return p;
  }

  Individual individual(const Record& r) const {
    Individual ind;
    ind.genome = r.candidate.genome;
    ind.hash = r.hash;
    const Point p = point(r);
    ind.latency_ms = p.latency_ms;
    ind.more_ms = p.more_ms;
    ind.devices = p.devices;
    ind.measured = r.measured_all();
    ind.scored = r.score.has_value();
    ind.score = r.score.value_or(0.0);
    double excess = std::max(0.0, ind.latency_ms - budget(0));
    for (std::size_t d = 1; d < devices(); ++d) excess += budget(0) * std::max(0.0, believed(r, d) / budget(d) - 1);
    if (excess > 0)
      ind.violation_ms = excess;
    else if (!ind.scored)
      ind.violation_ms = Individual::kUnscored;
    return ind;
  }

  // Estimates the score of a record believed within budget (once; a failure is kept).
  void ensure_score(Record& r) {
    if (r.score || !r.score_error.empty() || !fits(r)) return;
    auto s = estimator_.estimate(r.candidate.arch, r.hash);
    if (s) {
      r.score = *s;
    } else {
      r.score_error = s.error().message.empty() ? "failed" : s.error().message;
      ++out_.score_failures;
    }
    changed_.insert(r.index);
    observer_.on_scored(r);
  }

  std::size_t evaluate(space::Candidate c) {
    std::string hash = space::hash_hex(space::arch_hash(c.arch));
    if (auto it = by_hash_.find(hash); it != by_hash_.end()) return it->second;
    Record r;
    r.index = recs_.size();
    r.generation = generation_;
    r.hash = hash;
    r.candidate = std::move(c);
    for (LatencyOracle* o : oracles_) r.on.push_back({o->predict_ms(r.candidate.arch), std::nullopt});
    by_hash_.emplace(std::move(hash), r.index);
    recs_.push_back(std::move(r));
    changed_.insert(recs_.back().index);
    ensure_score(recs_.back());
    return recs_.back().index;
  }

  // After a measurement the oracle has refit: renew every prediction and what depends on it.
  void refresh() {
    for (std::size_t d = 0; d < devices(); ++d) margins_[d] = oracles_[d]->margin();
    for (Record& r : recs_) {
      for (std::size_t d = 0; d < devices(); ++d) {
        OnDevice& on = r.on[d];
        if (on.measured) continue;
        const double p = oracles_[d]->predict_ms(r.candidate.arch);
        if (p != on.predicted_ms) changed_.insert(r.index);
        on.predicted_ms = p;
      }
      ensure_score(r);
    }
    strategy_->update([&](Individual& ind) {
      if (auto it = by_hash_.find(ind.hash); it != by_hash_.end()) ind = individual(recs_[it->second]);
    });
  }

  // Measures `picks` as one batch per device (in parallel where the oracle can), then refits once.
  // Device by device: a candidate measured over one device's budget (or failing there) is not
  // measured on the later ones.
  void measure(const std::vector<std::size_t>& picks, std::string_view why) {
    if (picks.empty()) return;
    for (std::size_t i : picks) observer_.on_measuring(recs_[i], why);
    for (std::size_t d = 0; d < devices(); ++d) {
      std::vector<std::size_t> todo;
      std::vector<const space::Arch*> archs;
      std::vector<std::string> hashes;
      for (std::size_t i : picks) {
        const Record& r = recs_[i];
        if (r.on[d].measured || !r.measure_error.empty() || measured_over(r)) continue;
        todo.push_back(i);
        archs.push_back(&r.candidate.arch);
        hashes.push_back(r.hash);
      }
      if (todo.empty()) continue;
      auto ms = oracles_[d]->measure_batch(archs, hashes);
      for (std::size_t k = 0; k < todo.size(); ++k) {
        Record& r = recs_[todo[k]];
        auto& m = ms[k];
        if (m) {
          r.on[d].measured = *m;
          ++(m->cached ? out_.cached_measurements : out_.measurements);
        } else {
          r.measure_error = m.error().message.empty() ? "failed" : m.error().message;
          if (devices() > 1 && !oracles_[d]->name().empty())
            r.measure_error = oracles_[d]->name() + ": " + r.measure_error;
        }
      }
    }
    for (std::size_t i : picks) {
      changed_.insert(i);
      observer_.on_measured(recs_[i]);
    }
    refresh();
  }
  void measure(std::size_t i, std::string_view why) { measure(std::vector<std::size_t>{i}, why); }
  std::size_t batch() const { return std::max<std::size_t>(cfg_.measure_batch, 1); }

  // Believed within budget, scored, by score (highest first; ties: faster, then older).
  std::vector<std::size_t> ranked_feasible() const {
    std::vector<std::size_t> v;
    for (const Record& r : recs_)
      if (fits(r) && r.score && r.measure_error.empty()) v.push_back(r.index);
    std::sort(v.begin(), v.end(), [&](std::size_t a, std::size_t b) {
      const Record &x = recs_[a], &y = recs_[b];
      if (*x.score != *y.score) return *x.score > *y.score;
      if (load(x) != load(y)) return load(x) < load(y);
      return a < b;
    });
    return v;
  }

  std::optional<double> best_measured_score() const {
    std::optional<double> best;
    for (const Record& r : recs_)
      if (measured_fit(r) && (!best || *r.score > *best)) best = r.score;
    return best;
  }

  // After a generation: measure the best candidate if it could beat the best measured one.
  // In batches: the best unmeasured candidates that could beat the best measured one, up to the
  // batch size (one at a time with a batch of 1).
  void measure_round() {
    std::vector<std::size_t> ranked = ranked_feasible();
    if (ranked.empty()) {
      // Nothing believed within budget: the model may overestimate this device (a calibration under
      // load), and it learns only from measurements. The fastest candidate, measured, tells; a few
      // times per run at most, for budgets nothing can meet.
      const auto f = fastest();
      if (probes_ < kProbes && f && unmeasured(recs_[*f])) {
        ++probes_;
        measure(*f, "fastest candidate: nothing is believed within budget");
      }
      return;
    }
    for (std::size_t done = 0; done < cfg_.measure_per_round; ranked = ranked_feasible()) {
      const auto best = best_measured_score();
      std::vector<std::size_t> picks;
      const std::size_t want = std::min(batch(), cfg_.measure_per_round - done);
      for (std::size_t i : ranked) {
        if (picks.size() == want || (best && *recs_[i].score <= *best)) break;
        if (!recs_[i].measured_all()) picks.push_back(i);
      }
      if (picks.empty()) return;
      measure(picks, "best candidate so far");
      done += picks.size();
    }
  }

  void final_phase() {
    observer_.on_final(cfg_.measure_top + cfg_.measure_front);
    // The top K by score, measured: walk the ranking, measuring the first unmeasured one among the
    // top K; a candidate measured over budget leaves the ranking and the next one moves up.
    std::size_t attempts = 0;
    while (attempts < 3 * cfg_.measure_top) {
      const auto ranked = ranked_feasible();
      std::vector<std::size_t> picks;
      const std::size_t want = std::min(batch(), 3 * cfg_.measure_top - attempts);
      for (std::size_t k = 0; k < std::min(cfg_.measure_top, ranked.size()) && picks.size() < want; ++k)
        if (!recs_[ranked[k]].measured_all()) picks.push_back(ranked[k]);
      if (picks.empty()) break;
      measure(picks, "top candidate by score");
      attempts += picks.size();
    }
    // Points spread along the predicted front (by latency), so that the measured front has a shape.
    if (cfg_.measure_front > 0) {
      const auto front = believed_front();
      std::vector<std::size_t> unmeasured;
      for (std::size_t i : front)
        if (!recs_[i].measured_all() && recs_[i].measure_error.empty()) unmeasured.push_back(i);
      const std::size_t n = std::min(cfg_.measure_front, unmeasured.size());
      std::vector<std::size_t> points;
      for (std::size_t k = 0; k < n; ++k)
        points.push_back(unmeasured[n == 1 ? 0 : k * (unmeasured.size() - 1) / (n - 1)]);
      for (std::size_t k = 0; k < points.size(); k += batch())
        measure(std::vector<std::size_t>(
                    points.begin() + static_cast<std::ptrdiff_t>(k),
                    points.begin() + static_cast<std::ptrdiff_t>(std::min(k + batch(), points.size()))),
                "point of the predicted Pareto front");
    }
    // Nothing measured within budget: measure the fastest candidate, to name a real latency.
    if (!best_measured_score()) {
      const auto f = fastest();
      if (f && unmeasured(recs_[*f])) measure(*f, "fastest candidate");
    }
  }

  std::optional<std::size_t> fastest() const {
    std::optional<std::size_t> f;
    for (const Record& r : recs_) {
      if (!r.measure_error.empty()) continue;
      if (!f || load(r) < load(recs_[*f])) f = r.index;
    }
    return f;
  }

  std::vector<std::size_t> front_of(const std::vector<std::size_t>& members) const {
    std::vector<Point> pts;
    for (std::size_t i : members) pts.push_back(point(recs_[i]));
    std::vector<std::size_t> out;
    for (std::size_t k : pareto_front(pts)) out.push_back(members[k]);
    return out;
  }
  double hypervolume_of(const std::vector<std::size_t>& members) const {
    std::vector<Point> pts;
    for (std::size_t i : members) pts.push_back(point(recs_[i]));
    Point reference;
    reference.devices = devices();
    for (std::size_t d = 0; d < devices(); ++d) reference.set_latency(d, budget(d));
    reference.score = cfg_.score_reference;
    return hypervolume(pts, reference);
  }
  std::vector<std::size_t> believed_front() const { return front_of(ranked_feasible()); }
  std::vector<std::size_t> measured_feasible() const {
    std::vector<std::size_t> v;
    for (const Record& r : recs_)
      if (measured_fit(r)) v.push_back(r.index);
    return v;
  }

  void report() {
    Progress p;
    p.evaluations = out_.evaluations;
    p.total = cfg_.evaluations;
    p.generation = generation_;
    p.distinct = recs_.size();
    for (const Record& r : recs_) p.within_budget += fits(r) ? 1 : 0;
    p.measurements = out_.measurements + out_.cached_measurements;
    p.best_score = best_measured_score();
    const auto ranked = ranked_feasible();
    if (!ranked.empty()) p.best_believed_score = recs_[ranked.front()].score;
    p.hypervolume = hypervolume_of(ranked);
    p.margins = margins_;
    const std::vector<std::size_t> changed(changed_.begin(), changed_.end());
    changed_.clear();
    observer_.on_generation(p, recs_, changed);
  }

  SearchOutcome finish() {
    out_.margins = margins_;
    std::vector<std::size_t> measured;
    for (const Record& r : recs_)
      if (r.measured_any()) measured.push_back(r.index);
    std::sort(measured.begin(), measured.end(), [&](std::size_t a, std::size_t b) {
      const Record &x = recs_[a], &y = recs_[b];
      const bool fx = measured_fit(x), fy = measured_fit(y);
      if (fx != fy) return fx;
      const double sx = x.score.value_or(-HUGE_VAL), sy = y.score.value_or(-HUGE_VAL);
      if (sx != sy) return sx > sy;
      if (load(x) != load(y)) return load(x) < load(y);
      return a < b;
    });
    out_.finalists = measured;
    if (best_measured_score()) out_.best = measured.front();
    const auto feasible = measured_feasible();
    out_.front_measured = front_of(feasible);
    out_.hypervolume_measured = hypervolume_of(feasible);
    const auto ranked = ranked_feasible();
    out_.front_predicted = front_of(ranked);
    out_.hypervolume_predicted = hypervolume_of(ranked);
    out_.fastest = fastest();
    out_.records = std::move(recs_);
    return std::move(out_);
  }

  const space::Sampler& sampler_;
  std::vector<LatencyOracle*> oracles_;
  Estimator& estimator_;
  const SearchConfig& cfg_;
  SearchObserver& observer_;
  std::unique_ptr<Strategy> strategy_;
  std::vector<Record> recs_;
  std::map<std::string, std::size_t> by_hash_;
  std::set<std::size_t> changed_;
  std::vector<double> margins_;  // per device
  std::size_t generation_ = 0;
  static constexpr std::size_t kProbes = 2;
  std::size_t probes_ = 0;  // fastest candidates measured while nothing was believed within budget
  SearchOutcome out_;
};

}  // namespace

Result<SearchOutcome> run_search(const space::Sampler& sampler, std::span<LatencyOracle* const> oracles,
                                 Estimator& estimator, const SearchConfig& cfg, SearchObserver& observer) {
  if (oracles.empty() || oracles.size() > kMaxDevices)
    return Error{fmt::format("a search targets 1 to {} devices (got {})", kMaxDevices, oracles.size())};
  if (cfg.budgets_ms.size() != oracles.size())
    return Error{fmt::format("{} budgets for {} devices", cfg.budgets_ms.size(), oracles.size())};
  for (double b : cfg.budgets_ms)
    if (!(b > 0) || !std::isfinite(b)) return Error{fmt::format("budget must be > 0 ms (got {})", b)};
  if (cfg.evaluations == 0) return Error{"evaluations must be > 0"};
  return Search(sampler, oracles, estimator, cfg, observer).run();
}

}  // namespace hwnas::search
