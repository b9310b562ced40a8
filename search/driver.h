// The search loop (DESIGN.md: the search never times anything itself). A strategy proposes
// candidates; each gets a believed latency from the oracle's cost model (prediction × (1 + margin))
// and, when that fits the budget, an accuracy estimate. After every generation the best unmeasured
// candidate is measured on the device if it could beat the best measured one (the oracle refits with
// each measurement, and every prediction is renewed); at the end the top K by score and points along
// the predicted Pareto front are measured. Only measured candidates are ever reported within budget.
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
  double budget_ms = 0;
  std::string strategy = "evolution";
  StrategyConfig strategy_config;
  std::size_t evaluations = 1000;     // candidates asked of the strategy
  std::size_t measure_top = 5;        // at the end: the best K by score, measured within budget
  std::size_t measure_front = 4;      // at the end: up to this many more points along the predicted front
  std::size_t measure_per_round = 1;  // after each generation, at most this many
  // Candidates chosen together and measured as one batch before the model refits (a farm's
  // workers measure a batch in parallel). The result depends on it, never on the workers.
  std::size_t measure_batch = 1;
  double score_reference = 0;  // hypervolume's reference score (with the budget as reference latency)
};

// One distinct architecture the search evaluated.
struct Record {
  std::size_t index = 0;       // order of first evaluation
  std::size_t generation = 0;  // generation of first evaluation
  space::Candidate candidate;
  std::string hash;
  double predicted_ms = 0;  // the latest prediction, without margin
  std::optional<Measured> measured;
  std::string measure_error;
  std::optional<double> score;
  std::string score_error;  // the estimator failed on it (reported, never fatal)

  double believed_ms(double margin) const { return measured ? measured->ms : predicted_ms * (1 + margin); }
};

struct SearchOutcome {
  std::vector<Record> records;               // by index
  std::vector<std::size_t> finalists;        // measured, by score (highest first); within budget first
  std::optional<std::size_t> best;           // measured within budget with the highest score
  std::vector<std::size_t> front_measured;   // measured within budget, non-dominated, by latency
  std::vector<std::size_t> front_predicted;  // believed within budget, non-dominated, by latency
  double hypervolume_measured = 0;
  double hypervolume_predicted = 0;
  std::optional<std::size_t> fastest;   // lowest believed latency of all (measured when possible)
  std::size_t evaluations = 0;          // candidates asked (duplicates included)
  std::size_t measurements = 0;         // measured now (cache hits not counted)
  std::size_t cached_measurements = 0;  // found in the store
  std::size_t score_failures = 0;
  double margin = 0;  // at the end
};

struct Progress {
  std::size_t evaluations = 0, total = 0, generation = 0;
  std::size_t distinct = 0, within_budget = 0, measurements = 0;
  std::optional<double> best_score;           // measured within budget
  std::optional<double> best_believed_score;  // believed within budget
  double hypervolume = 0;                     // of the believed front
  double margin = 0;
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

Result<SearchOutcome> run_search(const space::Sampler& sampler, LatencyOracle& oracle, Estimator& estimator,
                                 const SearchConfig& cfg, SearchObserver& observer);

}  // namespace hwnas::search
