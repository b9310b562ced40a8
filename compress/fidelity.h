// Fidelity of a compressed network (issue: compression, item 1): the original's logits on the
// calibration inputs are computed once; distance(candidate) runs a compressed network on the same
// inputs and measures how far its logits moved (distance.h).
//
// A candidate is the original with other mixers / FFNs in some blocks (FinerCut: removed sublayers;
// SPViT: carved convolutions, narrower FFNs) and its own weights. It keeps the original's units
// (stem, blocks, head) and the token shapes between them. The network runs unit by unit (the
// profiler's own per-unit Runnables), each unit prepared once per variant (its mixer and FFN) and
// reused by every candidate that shares it: the weights of a block must therefore depend on that
// block's variant only. The activations of a base state (set_base) are kept, so a candidate that
// differs from the base from block i on recomputes only blocks i.. (FinerCut's greedy loop
// evaluates base + one sublayer, O((2L)²) candidates: this halves the work on average).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "compress/distance.h"
#include "compress/sublayers.h"
#include "profilers/backend.h"
#include "space/arch.h"
#include "space/ops.h"
#include "space/result.h"
#include "space/weight_source.h"

namespace hwnas::compress {

using Status = Result<bool>;

struct Calibration {
  std::vector<float> images;  // [count, C, H, W], preprocessed
  std::int64_t count = 0;
};

class Fidelity {
 public:
  // Runs the original on every calibration input (batches of cfg.batch; a short last batch padded).
  static Result<std::unique_ptr<Fidelity>> create(prof::Backend& backend, const space::Arch& arch,
                                                  const space::WeightSource& weights, Calibration calibration,
                                                  Distance distance, const prof::RunConfig& cfg);

  const space::Arch& arch() const { return arch_; }
  Distance metric() const { return distance_; }
  std::int64_t classes() const { return arch_.input.classes; }
  const std::vector<float>& original_logits() const { return original_; }

  // The logits [count, classes] of `candidate` (validated) with `weights`, and their distance to the
  // original's.
  Result<std::vector<float>> logits(const space::Arch& candidate, const space::WeightSource& weights);
  Result<double> distance(const space::Arch& candidate, const space::WeightSource& weights);
  // Keeps the activations of `candidate` for later calls that differ from it only in later blocks.
  Status set_base(const space::Arch& candidate, const space::WeightSource& weights);
  // The same for the original without `removed` (its own weights).
  Result<std::vector<float>> logits(const std::vector<Sublayer>& removed);
  Result<double> distance(const std::vector<Sublayer>& removed);
  Status set_base(const std::vector<Sublayer>& removed);

  // The original network's activations entering `unit`, one [batch, tokens, dim] tensor per batch
  // of batch() inputs (the last one padded with zeros past rows_in(i)): what carving calibrates on.
  // Only while the base is the original (before any set_base to something else).
  const std::vector<std::vector<float>>& original_inputs(int unit) const;
  bool base_is_original() const { return base_vars_ == original_vars_; }
  const space::Lowered& net() const { return net_; }
  std::int64_t batch() const { return cfg_.batch; }
  std::int64_t batches() const { return batches_; }
  std::int64_t rows_in(std::int64_t batch_index) const;
  const prof::RunConfig& run_config() const { return cfg_; }

  std::int64_t unit_passes() const { return unit_passes_; }  // unit × batch runs so far

 private:
  using Variant = std::string;  // a block's mixer and FFN (empty for units other than blocks)
  Fidelity(prof::Backend& b, const space::Arch& a, space::Lowered net, const space::WeightSource& w, Calibration c,
           Distance d, const prof::RunConfig& cfg);

  Result<std::vector<Variant>> variants(const space::Arch& candidate) const;
  Result<prof::Runnable*> runnable(int unit, const Variant& v, const space::Arch& candidate,
                                   const space::WeightSource& weights);
  // Runs units [first, end) for every batch from `inputs` (the activations entering `first`);
  // keeps each unit's input in `keep` when non-null. Returns the logits [count, classes].
  Result<std::vector<float>> run_from(int first, const std::vector<Variant>& vars, const space::Arch& candidate,
                                      const space::WeightSource& weights, const std::vector<std::vector<float>>& inputs,
                                      std::vector<std::vector<std::vector<float>>>* keep);

  prof::Backend& backend_;
  space::Arch arch_;
  space::Lowered net_;
  const space::WeightSource& weights_;
  Calibration calibration_;
  Distance distance_;
  prof::RunConfig cfg_;
  std::int64_t batches_ = 0;
  std::map<std::pair<int, Variant>, std::unique_ptr<prof::Runnable>> runnables_;
  std::vector<Variant> original_vars_, base_vars_;
  std::vector<std::vector<std::vector<float>>> base_inputs_;  // [unit][batch] activations entering the unit
  std::vector<float> base_logits_, original_;
  std::int64_t unit_passes_ = 0;
};

}  // namespace hwnas::compress
