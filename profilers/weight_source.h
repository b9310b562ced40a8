// The profiler's default parameter values: random with a fixed seed (latency does not depend on
// values). Real checkpoints are weights/checkpoint.h; both implement space/weight_source.h.
#pragma once

#include <cstdint>
#include <span>

#include "space/params.h"
#include "space/weight_source.h"

namespace hwnas::prof {

using WeightSource = space::WeightSource;

// Deterministic per tensor name and seed: weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases small,
// norm weights near 1, running variances in [0.5, 1.5], embeddings and tables ~0.02 scale.
class RandomWeights final : public WeightSource {
 public:
  explicit RandomWeights(std::uint64_t seed = 0x5eed) : seed_(seed) {}
  void fill(const space::ParamSpec& spec, std::span<float> dst) const override;

 private:
  std::uint64_t seed_;
};

}  // namespace hwnas::prof
