// One measurement of a network or of one of its units alone (on its real input shape), taken with
// the timing loop and committed to the store as its own transaction: what calibration and the
// compressors' latency tables measure. The caller puts the arch record first (store_records.h).
// The measuring half (measure_subject) is what an MPI farm worker runs (cli/farm.h); the coordinator
// stores the record it sends back.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include "cli/cost_data.h"
#include "profilers/backend.h"
#include "profilers/bursts.h"
#include "profilers/timing.h"
#include "space/arch.h"
#include "space/result.h"
#include "space/weight_source.h"
#include "store/records.h"
#include "store/store.h"

namespace hwnas::cli {

// Unit `u` of `arch` (hash `hash`), or the whole network when u < 0, timed with `timing`: the record
// the store keeps (its figures are the measurement's), or why the backend cannot prepare it.
Result<store::MeasurementRecord> measure_subject(prof::Backend& backend, const CostKey& key, const space::Arch& arch,
                                                 const std::string& hash, int u, const prof::TimingConfig& timing,
                                                 const space::WeightSource& weights, bool calibration);

// measure_subject in bursts (profilers/bursts.h; one by default), then the fastest stored with every
// burst's figure in its detail; the figure in µs, or nothing when the backend cannot prepare it (said
// on `progress`, which may be null).
std::optional<double> measure_and_store(prof::Backend& backend, store::Store& db, const CostKey& key,
                                        const space::Arch& arch, const std::string& hash, int u,
                                        const prof::TimingConfig& timing, const space::WeightSource& weights,
                                        std::FILE* progress, bool calibration = true,
                                        const prof::BurstPolicy& bursts = {});

}  // namespace hwnas::cli
