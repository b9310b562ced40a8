// oneDNN primitive builders: each creates a primitive for the given views, reorders its weights once,
// and appends a step to the plan. Weights arrive as fp32 in PyTorch layouts (space/params.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "profilers/onednn/plan.h"

namespace hwnas::prof::onednn {

// Fused epilogue of a matmul/conv: scale, activation, and a residual added from another view.
struct Epilogue {
  enum class Act { none, gelu, relu } act = Act::none;
  float scale = 1.0f;            // multiplies the result (attention's d^-0.5)
  std::optional<View> residual;  // dst = result + residual (same shape as dst)
};

// Weights/constants: an fp32 host tensor in `layout` (shape + strides), converted to `want`.
memory constant_memory(Plan& plan, const memory::desc& want, const std::vector<float>& values, const dims& shape,
                       const dims& strides);
memory f32_vector_memory(Plan& plan, const std::vector<float>& values);

// y[M, N] = x[M, K] · Wᵀ (+ b): W is [N, K] (PyTorch). src/dst are 2-D views (any row stride).
void linear(Plan& plan, const std::string& name, int unit, const View& src, const View& dst,
            const std::vector<float>& w, const std::vector<float>* bias, const Epilogue& ep = {});
// Batched matmul of two activation views (attention): c = a · b (dims [..., M, K] × [..., K, N]).
void matmul(Plan& plan, const std::string& name, int unit, const View& a, const View& b, const View& c,
            const Epilogue& ep = {});
// 2-D convolution. src/dst views are [B, C, H, W] with any strides (nhwc in practice); w is
// [OC, IC/groups, k, k].
struct ConvGeometry {
  std::int64_t kernel = 1, stride = 1, padding = 0, groups = 1;
};
void conv2d(Plan& plan, const std::string& name, int unit, const View& src, const View& dst,
            const std::vector<float>& w, const std::vector<float>* bias, const ConvGeometry& g,
            const Epilogue& ep = {});
// LayerNorm over the last dim of 2-D views [M, C].
void layer_norm(Plan& plan, const std::string& name, int unit, const View& src, const View& dst,
                const std::vector<float>& gamma, const std::vector<float>& beta, float eps);
// dst = a + b (b broadcast where its dims are 1).
void add(Plan& plan, const std::string& name, int unit, const View& a, const View& b, const View& dst);
// dst = a + constant (a fixed tensor such as a position embedding; broadcast where its dims are 1).
void add_constant(Plan& plan, const std::string& name, int unit, const View& a, const memory& c, const View& dst);
// Pooling on [B, C, spatial...] views.
void avg_pool2d(Plan& plan, const std::string& name, int unit, const View& src, const View& dst, std::int64_t k);
void max_pool1d(Plan& plan, const std::string& name, int unit, const View& src, const View& dst, std::int64_t k,
                std::int64_t stride);
void reorder(Plan& plan, const std::string& name, int unit, const View& src, const View& dst);

}  // namespace hwnas::prof::onednn
