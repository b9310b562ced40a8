// Calibration: fills the store for one cost-model key with an adaptive plan (cost_models/plan.h):
// every unit group first, then rounds that fit the model and measure where it is worst, plus some
// whole training networks, until the time budget is spent; then the held-out set (presets and the
// first samples of the fixed held-out list), end to end and unit by unit. Every measurement is one
// store transaction, and anything the store already holds for the key is reused, so an interrupted
// run resumes where it stopped. Time is read from the backend's clock (virtual on the fake backend).
// On an MPI farm (`farm`) the plan is shared by the workers of the key's device: each round's units go
// out together, each to the next free worker, and rank 0 stores what comes back.
#pragma once

#include <cstdio>
#include <string>

#include "cli/cost_data.h"
#include "cli/cost_fit.h"
#include "profilers/backend.h"
#include "profilers/bursts.h"
#include "profilers/mpi/farm.h"
#include "store/store.h"

namespace hwnas::cli {

struct CalibrateOptions {
  double budget_s = 600;  // training measurements (the held-out set comes on top)
  int eval_samples = 30;  // held-out samples measured besides every preset (0 = presets only)
  bool eval_presets = true;
  double max_item_ms = 400;                // per measured unit: the timing loop's cap (warm-up ≤ half of it)
  int pool_archs = 1500;                   // training archs sampled for the unit pool
  int pool_networks = 60;                  // of them, measured end to end when the plan reaches them
  int preset_neighbours = 2;               // per preset FinerCut allows: training archs with its sublayers removed
  double network_share = 0.15;             // of the budget, at most, on whole training networks
  std::size_t per_group = 3;               // round 0: units per group
  std::size_t round = 12;                  // units per adaptive round
  int network_bursts = 3;                  // bursts per network at most, apart in time; the fastest is kept
  double burst_agree = prof::kBurstAgree;  // after two: more while the two fastest differ by more than this
  prof::mpi::Coordinator* farm = nullptr;  // measure on these MPI workers (null: this process)
};

struct CalibrateStats {
  std::int64_t measured = 0, reused = 0, networks = 0, held_out = 0, failed = 0;
  std::int64_t bursts = 0;                // further network bursts measured (network_bursts)
  double training_s = 0, held_out_s = 0;  // by the backend's clock
  int rounds = 0;
};

CalibrateStats calibrate(prof::Backend& backend, store::Store& db, const CostKey& key, const cost::Holdout& holdout,
                         const CalibrateOptions& opts, std::FILE* progress);

// For commands that need a cost model where the store has none (search, compress): calibrates for
// `budget_s` (training units only, no held-out set), fits, stores and returns the model, saying so
// on `progress` (may be null).
StoredModel calibrated_model(prof::Backend& backend, store::Store& db, const CostKey& key, double budget_s,
                             std::FILE* progress, prof::mpi::Coordinator* farm = nullptr);

}  // namespace hwnas::cli
