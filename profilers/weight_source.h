// Where a backend gets parameter values: random with a fixed seed by default (latency does not
// depend on values), or a real checkpoint later (issue: real weights). Values are fp32, in the
// layouts of space/params.h.
#pragma once

#include <cstdint>
#include <span>

#include "space/params.h"

namespace hwnas::prof {

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  // Writes spec.numel() values of tensor `spec` into dst.
  virtual void fill(const space::ParamSpec& spec, std::span<float> dst) const = 0;
};

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
