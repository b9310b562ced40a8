// Profiling an architecture on a backend: end to end, per unit (each block timed alone on its real
// input shape), per step (each engine step alone), with the noise gate of MEASURE.md step 7 around
// the whole batch. Every number comes from the one timing loop (timing.h).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "profilers/backend.h"
#include "profilers/bursts.h"
#include "profilers/timing.h"
#include "space/count.h"

namespace hwnas::prof {

struct ProfileOptions {
  RunConfig run;
  Protocol protocol = Protocol::standard;
  bool per_unit = false;
  bool per_step = false;
  double max_item_ms = 0;  // > 0 caps each item's timing (per unit / per step) below the protocol's cap
  // End to end in bursts (bursts.h): the first before the per-step and per-unit passes, the others
  // after them, so that they lie apart in time; the fastest burst is the end-to-end figure.
  BurstPolicy bursts;
};

struct UnitProfile {
  int unit = -1;
  std::string label;
  std::string kind;        // stem, downsample, block, head
  std::string mixer, ffn;  // descriptions for blocks
  std::int64_t tokens = 0, dim = 0;
  space::Counts counts;  // per image
  Measurement time;
  double creation_ms = 0;
};

// A unit's description for tables and the store (label, kind, mixer/FFN, tokens, dim, counts); the
// time and creation_ms are left for the caller.
UnitProfile describe_unit(const space::Arch& arch, const space::Unit& unit, int index);

struct StepProfile {
  std::string name, impl;
  int unit = -1;
  Measurement time;
};

struct NoiseGate {
  double calibration_before_us = 0, calibration_after_us = 0;
  double drift = 0;  // relative change of the calibration workload
  LoadSnapshot before, after;
  std::string device_before, device_after;  // GPU clocks / temperature (Backend::device_state)
  bool flagged = false;
  std::string reason;
};

struct ProfileResult {
  std::string arch_name, arch_hash;
  DeviceInfo device;
  ProfileOptions options;
  space::Counts counts;              // per image
  Measurement end_to_end;            // the fastest burst
  std::vector<double> bursts_us;     // every end-to-end burst's figure, in the order measured
  std::optional<Measurement> graph;  // the same pass replayed as a CUDA graph (GPU backends)
  double creation_ms = 0;
  std::int64_t chunk = 1;          // images per pass the engine ran the batch with
  std::vector<UnitProfile> units;  // when per_unit
  std::vector<StepProfile> steps;  // when per_step
  double sum_of_units_us = 0;
  NoiseGate noise;

  double throughput_img_s() const;
  // Attained GFLOP/s for `macs` per image in `us` at this batch.
  double gflops(std::int64_t macs_per_image, double us) const;
  double peak_gflops() const;  // the dtype's measured GEMM peak (0 if not measured)
};

using Progress = std::function<void(const std::string& what, int done, int total)>;

Result<ProfileResult> profile(Backend& backend, const space::Arch& arch, const ProfileOptions& opts,
                              const WeightSource& weights, const Progress& progress = {});

// One run with every step timed, nested as network → unit → step: a Chrome trace (Perfetto loads it).
// The run reported is the one whose total is the median of `runs` runs.
Result<std::string> chrome_trace(Backend& backend, const space::Arch& arch, const RunConfig& cfg,
                                 const WeightSource& weights, int runs = 11);

}  // namespace hwnas::prof
