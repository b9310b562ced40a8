// Host-side parameter preparation shared by the engines (oneDNN, CUDA): attention biases built from
// their tables, and BatchNorm folded into the convolution before it. fp32 in PyTorch layouts.
#pragma once

#include <cstdint>
#include <vector>

namespace hwnas::prof {

// Dense relative-position bias [heads, L, L] (L = H·W) from a table [(2H-1)(2W-1), heads]:
// index (ih - jh + H - 1)·(2W - 1) + (iw - jw + W - 1) (SEEDS.md, Swin).
std::vector<float> relative_bias(const std::vector<float>& table, std::int64_t heads, std::int64_t H, std::int64_t W);

// Swin's window bias [groups, heads, L, L] for w×w windows of an H×W map: the relative-position bias,
// plus (when shifted) the mask that keeps regions of the rolled map apart (-100 across). groups is
// the number of windows when shifted, else 1 (the bias repeats).
std::vector<float> window_bias(const std::vector<float>& table, std::int64_t heads, std::int64_t H, std::int64_t W,
                               std::int64_t w, std::int64_t shift);

// Inference BatchNorm (eps 1e-5) after a layer with weight rows [out, ...] and bias [out] (empty =
// zero): both rescaled in place so that the layer alone computes BN(layer(x)).
void fold_batch_norm(std::vector<float>& weight, std::vector<float>& bias, const std::vector<float>& gamma,
                     const std::vector<float>& beta, const std::vector<float>& mean, const std::vector<float>& var);

// DTM's 2×2 deformable-conv weight [out, in, 2, 2] → [out, tap, in] (the sampled columns' order,
// tap = ki·2 + kj, channels contiguous).
std::vector<float> taps_outer(const std::vector<float>& weight, std::int64_t out, std::int64_t in, std::int64_t taps);

}  // namespace hwnas::prof
