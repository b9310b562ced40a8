// SPViT's per-layer search on a trained network, without training and latency-aware (issue:
// compression, item 3). Every MSA block may become a 3×3 or 1×1 bottleneck conv carved from it
// (carving.h) or be skipped (identity: FinerCut's removal; SPViT's own skip, x + LN(x), only makes
// sense with training after it), and every MLP FFN keeps a share of its neurons (eighths, the
// top-ranked ones). The objectives: distance of the outputs (fidelity.h) and latency, under a budget.
//
//  1. Sensitivity: each single change (one block's mixer or FFN width, all else original) is run on
//     the calibration set: its distance. O(blocks × 10) runs, each from the changed block on.
//  2. NSGA-II (search/) over the whole space, with the distance predicted as the sum of the single
//     changes' distances (first-order: small perturbations of the logits add) and the latency from
//     the latency model; candidates predicted over the budget are infeasible.
//  3. Finalists: the `finalists` feasible candidates with the smallest predicted distance are run
//     for real (true distance); the one with the smallest true distance is measured, and the next
//     while a measurement is over the budget. When none fits, the latency prediction is corrected
//     by the mean measured/predicted ratio so far and 2–3 run again against the budget divided by
//     it (at most 4 rounds): a table of units timed alone underestimates networks that are mostly
//     skips and narrow FFNs (deit-tiny: 23.7 ms measured for 19.9 ms predicted).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "compress/carving.h"
#include "compress/fidelity.h"
#include "space/arch.h"
#include "space/result.h"
#include "space/search_space.h"

namespace hwnas::compress {

// The search space: space::seed_space("spvit") of `arch` with the identity skip.
Result<space::SearchSpace> carving_space(const space::Arch& arch, const std::string& name);

struct SpvitConfig {
  double budget_ms = 0;                                  // > 0
  std::function<double(const space::Arch&)> predict_ms;  // required
  std::function<double(const space::Arch&)> measure_ms;  // finalists (unset: the prediction decides)
  std::size_t population = 64;
  std::size_t generations = 80;
  std::size_t finalists = 8;
  std::uint64_t seed = 1;
  std::function<void(std::string_view phase, std::size_t done, std::size_t total)> on_progress;
};

// One single change and its distance.
struct Sensitivity {
  int stage = 0, block = 0;
  std::string change;  // "bconv3x3", "bconv1x1", "skip", "mlp(768)"
  double distance = 0;
  double predicted_ms = 0;  // of the network with only this change
};

struct SpvitPoint {
  space::Arch arch;
  std::vector<std::string> blocks;  // block_choices(arch)
  double proxy = 0;                 // predicted distance (sum of the single changes')
  double distance = -1;             // true distance (finalists; −1: not run)
  double predicted_ms = 0;
  double measured_ms = 0;  // 0: not measured
  bool on_front = false;   // non-dominated in (predicted ms, proxy) among all evaluated
  int round = -1;          // finalists: the round that ran them
};

struct SpvitResult {
  double original_ms = 0;  // predicted
  std::vector<Sensitivity> sensitivity;
  std::vector<SpvitPoint> points;  // the proxy front (by latency) and the finalists
  int chosen = -1;                 // index into points; −1: no finalist within the budget
  std::size_t runs = 0;            // networks run on the calibration set (sensitivity + finalists)
  std::size_t proxy_evaluations = 0;
  double proxy_spearman = 0;      // rank correlation of proxy and true distance over the finalists
  double latency_correction = 1;  // k: the budget the last round searched against was budget / k
  int rounds = 0;
};

// Per block, in network order: "msa/mlp(1536)", "bconv3x3/mlp(768)", "skip/mlp(192)", …
std::vector<std::string> block_choices(const space::Arch& arch);

Result<SpvitResult> spvit_search(Fidelity& fidelity, const Carver& carver, const SpvitConfig& cfg);

}  // namespace hwnas::compress
