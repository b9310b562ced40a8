// The search loop (DESIGN.md: the search never times anything itself). A strategy proposes
// candidates; each gets a believed latency from the oracle's cost model (prediction × (1 + margin))
// and, when that fits the budget, an accuracy estimate. After every generation the best unmeasured
// candidate is measured on the device if it could beat the best measured one (the oracle refits with
// each measurement, and every prediction is renewed), or, while nothing is believed within budget,
// the fastest candidate (at most twice a run: a model that overestimates the device learns); at the end the top K by
// score and points along the predicted Pareto front are measured. Only measured candidates are ever reported within
// budget.
//
// Several devices at once (one oracle and one budget each): a candidate fits when it fits every
// budget, each device's latency is an objective of its own (the fronts and hypervolumes are over all
// of them), and a candidate chosen for measuring is measured on each device in turn, the later ones
// skipped once one device has measured it over its budget.
//
// Deterministic for a seed and the state of the caches (measurements, stored estimates): a resumed
// run replays the same decisions, finding what it already paid for in the caches.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "search/estimator.h"
#include "search/strategy.h"
#include "space/result.h"
#include "space/search_space.h"

namespace hwnas::search {

struct Measured {
  double ms = 0;
  bool noisy = false;   // flagged by the noise gate
  bool cached = false;  // found in the store, not measured now
};

// Latency of candidates on the target: predictions for everything, measurements for the few.
class LatencyOracle {
 public:
  virtual ~LatencyOracle() = default;
  // The device's name, prefixed to its measurement errors in a search over several ("" in one).
  virtual std::string name() const { return ""; }
  // Predicted latency (ms) with the model as refit so far.
  virtual double predict_ms(const space::Arch& arch) = 0;
  // Relative safety margin of predictions: a prediction p is believed as p·(1 + margin()).
  virtual double margin() const = 0;
  // The latency on the device (measured now, or found stored); the oracle learns from it.
  virtual Result<Measured> measure(const space::Arch& arch, const std::string& hash) = 0;
  // Several at once (a farm measures them in parallel); the oracle learns from them in this order.
  // By default one after another with measure().
  virtual std::vector<Result<Measured>> measure_batch(const std::vector<const space::Arch*>& archs,
                                                      const std::vector<std::string>& hashes) {
    std::vector<Result<Measured>> out;
    for (std::size_t i = 0; i < archs.size(); ++i) out.push_back(measure(*archs[i], hashes[i]));
    return out;
  }
};

struct SearchConfig {
  std::vector<double> budgets_ms;  // one per device (oracle), in the same order
  std::string strategy = "evolution";
  StrategyConfig strategy_config;
  std::size_t evaluations = 1000;     // candidates asked of the strategy
  std::size_t measure_top = 5;        // at the end: the best K by score, measured within budget
  std::size_t measure_front = 4;      // at the end: up to this many more points along the predicted front
  std::size_t measure_per_round = 1;  // after each generation, at most this many
  // Candidates chosen together and measured as one batch before the model refits (a farm's
  // workers measure a batch in parallel). The result depends on it, never on the workers.
  std::size_t measure_batch = 1;
  double score_reference = 0;  // hypervolume's reference score (with the budgets as reference latencies)
};

// What the search knows of one candidate on one device.
struct OnDevice {
  double predicted_ms = 0;  // the latest prediction, without margin
  std::optional<Measured> measured;
  double believed_ms(double margin) const { return measured ? measured->ms : predicted_ms * (1 + margin); }
};

// One distinct architecture the search evaluated.
struct Record {
  std::size_t index = 0;       // order of first evaluation
  std::size_t generation = 0;  // generation of first evaluation
  space::Candidate candidate;
  std::string hash;
  std::vector<OnDevice> on;   // per device, in the oracles' order
  std::string measure_error;  // a device could not measure it (its message)
  std::optional<double> score;
  std::string score_error;  // the estimator failed on it (reported, never fatal)

  bool measured_all() const {
    for (const OnDevice& d : on)
      if (!d.measured) return false;
    return true;
  }
  bool measured_any() const {
    for (const OnDevice& d : on)
      if (d.measured) return true;
    return false;
  }
};

struct SearchOutcome {
  std::vector<Record> records;               // by index
  std::vector<std::size_t> finalists;        // measured (on some device), by score; within budget first
  std::optional<std::size_t> best;           // measured within budget (every device's) with the highest score
  std::vector<std::size_t> front_measured;   // measured within budget, non-dominated, by latency
  std::vector<std::size_t> front_predicted;  // believed within budget, non-dominated, by latency
  double hypervolume_measured = 0;
  double hypervolume_predicted = 0;
  // Lowest believed latency of all (relative to the budget: the largest share of a device's budget).
  std::optional<std::size_t> fastest;
  std::size_t evaluations = 0;          // candidates asked (duplicates included)
  std::size_t measurements = 0;         // measured now, per device (cache hits not counted)
  std::size_t cached_measurements = 0;  // found in the store
  std::size_t score_failures = 0;
  std::vector<double> margins;  // per device, at the end
};

struct Progress {
  std::size_t evaluations = 0, total = 0, generation = 0;
  std::size_t distinct = 0, within_budget = 0, measurements = 0;
  std::optional<double> best_score;           // measured within budget
  std::optional<double> best_believed_score;  // believed within budget
  double hypervolume = 0;                     // of the believed front
  std::vector<double> margins;                // per device
};

class SearchObserver {
 public:
  virtual ~SearchObserver() = default;
  // After each generation: the records added or changed since the last call (indices).
  virtual void on_generation(const Progress&, std::span<const Record>, std::span<const std::size_t>) {}
  // After the estimator ran on a record (its score, or score_error).
  virtual void on_scored(const Record&) {}
  // Before and after a measurement on the device.
  virtual void on_measuring(const Record&, std::string_view /*why*/) {}
  virtual void on_measured(const Record&) {}
  // The final measurement phase starts.
  virtual void on_final(std::size_t /*planned*/) {}
};

// One oracle per budget of `cfg` (1 to kMaxDevices).
Result<SearchOutcome> run_search(const space::Sampler& sampler, std::span<LatencyOracle* const> oracles,
                                 Estimator& estimator, const SearchConfig& cfg, SearchObserver& observer);
inline Result<SearchOutcome> run_search(const space::Sampler& sampler, LatencyOracle& oracle, Estimator& estimator,
                                        const SearchConfig& cfg, SearchObserver& observer) {
  LatencyOracle* const one[] = {&oracle};
  return run_search(sampler, one, estimator, cfg, observer);
}

}  // namespace hwnas::search
