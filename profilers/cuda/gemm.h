// GEMMs of the CUDA backend. Linear layers through cuBLASLt with bias / GELU / ReLU epilogues and
// a residual as the C operand; attention's two batched products through cuBLAS (strided-batched
// where the head views allow one stride, pointer arrays otherwise). fp32 computes in strict fp32
// (no TF32: the CPU's and PyTorch's default); fp16/bf16 accumulate in fp32.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "profilers/cuda/plan.h"

namespace hwnas::prof::cuda {

struct Epilogue {
  enum class Act { none, gelu, relu } act = Act::none;
  float scale = 1.0f;            // multiplies the product
  std::optional<View> residual;  // dst = result + residual (same shape as dst)
};

// y[M, N] = x[M, K] · Wᵀ (+ b): W is [N, K] fp32 (PyTorch), uploaded in the activation type.
// src/dst are 2-D views with unit column stride (any row stride).
void linear(Plan& plan, const std::string& name, int unit, const View& src, const View& dst,
            const std::vector<float>& w, const std::vector<float>* bias, const Epilogue& ep = {});

// c = scale · a · b over 4-D views [batch, heads, M, K] × [batch, heads, K, N] → [batch, heads, M, N];
// each matrix may be row-major (unit column stride) or transposed (unit row stride).
void batched_matmul(Plan& plan, const std::string& name, int unit, const View& a, const View& b, const View& c,
                    float scale = 1.0f);

}  // namespace hwnas::prof::cuda
