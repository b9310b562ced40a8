// A training-free accuracy proxy computed on the engine: Zen-score (Lin et al., "Zen-NAS: A
// Zero-Shot NAS for High-Performance Image Recognition", ICCV 2021, arXiv 2102.01063), forward only.
//
// Zen-score measures how strongly a randomly initialised network amplifies a small perturbation of
// its input: log E ||f(x) − f(x + α·ε)||_F with x, ε ~ N(0, 1) images and Gaussian weights. The
// paper's networks use BatchNorm and add Σ log √(mean σ²) over the BN layers; the networks here use
// LayerNorm, and the weights are drawn variance-preserving (variance 1/fan_in), so that term is ~0 and is
// left out. The paper reads f before global pooling; the engine exposes the logits, so f is read
// there: the head's random projection D → C scales ‖Δ‖ by √(C/D) in expectation, which is taken
// out (score = log ‖Δ logits‖ − ½·log(C/D)), leaving the pooled features' sensitivity.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "profilers/backend.h"
#include "space/arch.h"
#include "space/result.h"

namespace hwnas::prof {

struct ZenOptions {
  int pairs = 2;           // images x (and x + α·ε): the batch is 2·pairs
  double alpha = 0.01;     // perturbation size (the paper's α)
  std::uint64_t seed = 1;  // inputs, perturbations and weights
  int threads = 0;         // engine threads (0: the backend's default)
};

// Version of the definition above: part of every cache key of stored scores.
inline constexpr int kZenVersion = 1;

// Logits [batch, classes] of the network for `batch` NCHW images.
using Forward = std::function<std::vector<float>(std::span<const float> images, std::int64_t batch)>;

// The score of `arch` from any forward function with the weights of zen_weights(opts).
double zen_score_from(const space::Arch& arch, const Forward& forward, const ZenOptions& opts);

// Variance-preserving weights: variance 1/fan_in (drawn uniform with that variance: the proxy needs
// the second moment, and uniform draws are cheap); biases and norm shifts 0, norm scales 1, running
// statistics (0, 1), embeddings and tables of standard deviation 0.02.
class ZenWeights final : public WeightSource {
 public:
  explicit ZenWeights(std::uint64_t seed) : seed_(seed) {}
  void fill(const space::ParamSpec& spec, std::span<float> dst) const override;

 private:
  std::uint64_t seed_;
};

// Runs the network on `backend` (fp32, batch 2·pairs) with ZenWeights(opts.seed).
Result<double> zen_score(Backend& backend, const space::Arch& arch, const ZenOptions& opts);

}  // namespace hwnas::prof
