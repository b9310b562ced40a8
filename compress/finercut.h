// FinerCut (SEEDS.md §5) on the device, without training: remove attention and FFN sublayers one at
// a time, each time the one whose removal moves the outputs least.
//   greedy   the paper's iterative algorithm: every remaining candidate is tried on top of the
//            sublayers removed so far; the one with the smallest distance goes. O((2L)²) passes.
//   oneshot  each candidate scored once, alone; removed in the order of those scores.
//   latency  hwnas's latency-aware greedy: the candidate with the smallest distance increase per
//            millisecond saved (the saving predicted by the latency model) goes. With a budget,
//            the path's end is then replaced by the least divergent removal one step off the path
//            that fits the budget, where that is less divergent than the path's end, and improved
//            by exchanges (put one removed sublayer back, remove another or none) while an exchange
//            that fits is less divergent.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "compress/fidelity.h"
#include "compress/sublayers.h"
#include "space/arch.h"

namespace hwnas::compress {

enum class Method : std::uint8_t { greedy, oneshot, latency };
std::string_view name_of(Method m);
std::optional<Method> method_from(std::string_view s);

struct Step {
  Sublayer removed;
  double distance = 0;      // of the network after this step (everything up to it removed)
  double predicted_ms = 0;  // latency model's prediction after this step
  double score = 0;         // what the step was chosen by (distance, or increase per ms saved)
  double measured_ms = 0;   // when the budget check measured it (0: not measured)
};

// Latency-aware with a budget, after the path: `restored` put back and `removed` (if any) removed
// instead, giving a network with this distance that fits the budget.
struct Exchange {
  Sublayer restored;
  std::optional<Sublayer> removed;
  double distance = 0;
  double predicted_ms = 0;
  double measured_ms = 0;  // 0: not measured (the prediction decided)
};

struct FinercutConfig {
  Method method = Method::greedy;
  std::size_t max_steps = 0;  // stop after this many removals (0: until nothing is left)
  double budget_ms = 0;       // > 0: stop once predicted within it (no step if the original is)
  std::function<double(const space::Arch&)> predict_ms;  // latency model (required for latency, budget)
  // With a budget: measures the network once it is predicted within it (ms); removal goes on while
  // the measurement is over the budget. Unset: the prediction decides.
  std::function<double(const space::Arch&)> measure_ms;
  std::function<void(const Step&, std::size_t step, std::size_t candidates_tried)> on_step;  // progress
};

struct FinercutResult {
  std::vector<Sublayer> candidates;  // every removable sublayer of the original
  double original_ms = 0;            // predicted for the original (0 without a latency model)
  double original_measured_ms = 0;   // when the budget check measured it
  std::vector<Step> steps;           // the removal order
  std::size_t evaluations = 0;       // networks whose distance was computed
  // Latency-aware with a budget: how many of the path's last steps a less divergent finisher that
  // fits replaced (0: the path's own end stood; see finercut.cc).
  std::size_t finish_replaced = 0;
  std::vector<Exchange> exchanges;  // applied in order to the path's removals (see finercut.cc)
};

Result<FinercutResult> finercut(Fidelity& fidelity, const FinercutConfig& cfg);

// The sublayers removed by the first `k` steps.
std::vector<Sublayer> removed_by(const FinercutResult& r, std::size_t k);
// The result: every step's removal, then the exchanges.
std::vector<Sublayer> chosen(const FinercutResult& r);
// Its distance (0 with no step) and predicted latency.
double chosen_distance(const FinercutResult& r);
double chosen_predicted_ms(const FinercutResult& r);

}  // namespace hwnas::compress
