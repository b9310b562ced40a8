// Own CUDA kernels for what cuBLAS(Lt) does not do: layer norm, row softmax (with a broadcast
// additive bias), exact GELU, residual adds, the token-layout ops of Swin/HiLo/HVT/SPViT/DTM, im2col
// for the convolutions that run as GEMMs, depthwise convolution, pooling and dtype conversion.
// Token maps are [B, H, W, C] with C contiguous (the CPU engine's layout, profilers/onednn/kernels.h);
// every kernel takes fp32, fp16 or bf16 activations, accumulates in fp32 and is enqueued on `s`
// (never synchronises).
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace hwnas::prof::cuda::kernels {

enum class Elem : std::uint8_t { f32, f16, bf16 };
std::size_t size_of(Elem e);

// dst (elements of e) ← src (fp32), and back.
void from_f32(Elem e, const float* src, void* dst, std::int64_t n, cudaStream_t s);
void to_f32(Elem e, const void* src, float* dst, std::int64_t n, cudaStream_t s);

// LayerNorm over rows of C (dense rows); gamma/beta fp32.
void layer_norm(Elem e, const void* src, void* dst, std::int64_t rows, std::int64_t C, const float* gamma,
                const float* beta, float eps, cudaStream_t s);
// In-place softmax over dense rows of n; with `bias` (fp32, bias_rows × n), row r first adds bias
// row r % bias_rows (relative-position bias per head, Swin's mask per window).
void softmax_rows(Elem e, void* data, std::int64_t rows, std::int64_t n, const float* bias, std::int64_t bias_rows,
                  cudaStream_t s);
// Exact (erf) GELU in place on a [rows, cols] view with row stride ld.
void gelu(Elem e, void* data, std::int64_t rows, std::int64_t cols, std::int64_t ld, cudaStream_t s);
// out = a + b, dense, n elements.
void add(Elem e, const void* a, const void* b, void* out, std::int64_t n, cudaStream_t s);
// x[b, i] += c[i] for i < per_image (position embeddings), in place; c fp32.
void add_broadcast(Elem e, void* x, const float* c, std::int64_t B, std::int64_t per_image, cudaStream_t s);

// Layout ops (semantics of profilers/onednn/kernels.h).
void pad_copy(Elem e, const void* src, void* dst, std::int64_t B, std::int64_t H, std::int64_t W, std::int64_t Hp,
              std::int64_t Wp, std::int64_t C, cudaStream_t s);
void crop_add(Elem e, const void* x, const void* y, void* out, std::int64_t B, std::int64_t H, std::int64_t W,
              std::int64_t Hp, std::int64_t Wp, std::int64_t C, cudaStream_t s);
void window_partition(Elem e, const void* src, std::int64_t src_ld, void* dst, std::int64_t B, std::int64_t H,
                      std::int64_t W, std::int64_t w, std::int64_t shift, std::int64_t C, cudaStream_t s);
void window_merge(Elem e, const void* windows, void* dst, std::int64_t dst_ld, std::int64_t B, std::int64_t H,
                  std::int64_t W, std::int64_t w, std::int64_t shift, std::int64_t C, cudaStream_t s);
void window_merge_add(Elem e, const void* windows, const void* x, void* out, std::int64_t B, std::int64_t H,
                      std::int64_t W, std::int64_t w, std::int64_t shift, std::int64_t C, cudaStream_t s);
void patch_gather(Elem e, const void* src, void* dst, std::int64_t B, std::int64_t H, std::int64_t W, std::int64_t C,
                  cudaStream_t s);
void deform_im2col(Elem e, const void* src, const void* offsets, void* cols, std::int64_t B, std::int64_t H,
                   std::int64_t W, std::int64_t C, std::int64_t Ho, std::int64_t Wo, cudaStream_t s);
void mean_tokens(Elem e, const void* src, void* dst, std::int64_t B, std::int64_t T, std::int64_t C, cudaStream_t s);
void cls_concat(Elem e, const float* cls, const void* src, void* out, std::int64_t B, std::int64_t N, std::int64_t C,
                cudaStream_t s);
void cls_bypass_residual(Elem e, const void* x, const void* ln, const void* y, void* out, std::int64_t B,
                         std::int64_t N, std::int64_t C, cudaStream_t s);

// A token map in memory: pixel (b, y, x) of a W-wide map starts at base + b·image_stride + (y·W + x)·C.
struct MapRef {
  const void* base = nullptr;
  std::int64_t B = 0, H = 0, W = 0, C = 0, image_stride = 0;
};
// im2col of a k×k/stride convolution with zero padding: cols [B·Ho·Wo, k·k·C], column (ki·k + kj)·C + c.
void im2col(Elem e, const MapRef& src, void* cols, std::int64_t k, std::int64_t stride, std::int64_t pad,
            std::int64_t Ho, std::int64_t Wo, cudaStream_t s);
// The same from an fp32 NCHW image (the stem), written in the activation type.
void image_im2col(Elem e, const float* image, std::int64_t B, std::int64_t C, std::int64_t H, std::int64_t W,
                  void* cols, std::int64_t k, std::int64_t stride, std::int64_t pad, std::int64_t Ho, std::int64_t Wo,
                  cudaStream_t s);
// Depthwise k×k/1 convolution, zero padding k/2, on dense [B, H, W, C] maps; weight fp32 [k·k, C]
// (tap-major), bias fp32 [C], optional exact GELU.
void dwconv(Elem e, const void* src, void* dst, std::int64_t B, std::int64_t H, std::int64_t W, std::int64_t C,
            std::int64_t k, const float* weight, const float* bias, bool gelu, cudaStream_t s);
// s×s/s average pooling of a dense [B, H, W, C] map (H, W multiples of s).
void avg_pool(Elem e, const void* src, void* dst, std::int64_t B, std::int64_t H, std::int64_t W, std::int64_t C,
              std::int64_t stride, cudaStream_t s);
// 1-D max pooling over tokens: dst [B, Lo, C], Lo = (L - k) / stride + 1, no padding.
void max_pool_tokens(Elem e, const void* src, void* dst, std::int64_t B, std::int64_t L, std::int64_t C, std::int64_t k,
                     std::int64_t stride, cudaStream_t s);

// HiLo's Hi-Fi branch in one pass: attention inside s×s windows of a [B, H, W, 3·h·d] map of fused
// q | k | v (each head-major, h heads of d), written straight to the [B, H, W, h·d] map (no window
// partition or merge, no scores in memory). One thread per query; s ≤ 4, d ≤ kWindowAttentionMaxD.
void window_attention(Elem e, const void* qkv, void* out, std::int64_t B, std::int64_t H, std::int64_t W,
                      std::int64_t s_win, std::int64_t heads, std::int64_t d, float scale, cudaStream_t s);

constexpr std::int64_t kWindowAttentionMaxD = 64;

// Throws hwnas::prof::cuda::CudaError if the last launch failed.
void check_launch(const char* what);

}  // namespace hwnas::prof::cuda::kernels
