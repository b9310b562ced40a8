// Own kernels for what oneDNN lacks (MEASURE.md; issue: CPU profiler): window partition/merge with
// Swin's cyclic shift, zero padding and crop for HiLo, Swin's 2×2 patch gather, DTM's deformable
// bilinear sampling, and cls-token handling. Token maps are [B, H, W, C] with C contiguous; every
// kernel runs on fp32 or bf16 activations and is threaded with OpenMP.
#pragma once

#include <cstdint>

namespace hwnas::prof::onednn::kernels {

enum class Elem : std::uint8_t { f32, bf16 };

// dst[b] (a Hp×Wp map, zero outside H×W, never written there) ← src[b] (H×W).
void pad_copy(Elem e, const void* src, void* dst, std::int64_t B, std::int64_t H, std::int64_t W, std::int64_t Hp,
              std::int64_t Wp, std::int64_t C);
// out = x + crop(y): x, out [B, H, W, C]; y [B, Hp, Wp, C].
void crop_add(Elem e, const void* x, const void* y, void* out, std::int64_t B, std::int64_t H, std::int64_t W,
              std::int64_t Hp, std::int64_t Wp, std::int64_t C);
// Windows of w×w from an H×W map after rolling it by (-shift, -shift):
// dst [B, H/w, W/w, w, w, C] (window-major) ← src [B, H, W, C] with token row stride src_ld.
void window_partition(Elem e, const void* src, std::int64_t src_ld, void* dst, std::int64_t B, std::int64_t H,
                      std::int64_t W, std::int64_t w, std::int64_t shift, std::int64_t C);
// The inverse: dst [B, H, W, C] (token row stride dst_ld) ← windows, rolled back by (+shift, +shift).
void window_merge(Elem e, const void* windows, void* dst, std::int64_t dst_ld, std::int64_t B, std::int64_t H,
                  std::int64_t W, std::int64_t w, std::int64_t shift, std::int64_t C);
// out = x + window_merge(windows) in one pass (Swin's residual).
void window_merge_add(Elem e, const void* windows, const void* x, void* out, std::int64_t B, std::int64_t H,
                      std::int64_t W, std::int64_t w, std::int64_t shift, std::int64_t C);
// Swin patch merging gather: dst[b, r, c] = [x(2r,2c), x(2r+1,2c), x(2r,2c+1), x(2r+1,2c+1)].
void patch_gather(Elem e, const void* src, void* dst, std::int64_t B, std::int64_t H, std::int64_t W, std::int64_t C);
// DTM: im2col of a 2×2/2 deformable conv. src [B, H, W, C]; offsets [B, Ho, Wo, 8] = (dy, dx) per
// tap k = ki·2 + kj; cols [B·Ho·Wo, 4·C] with column k·C + cin (channels contiguous, so the blend
// vectorises), bilinear samples (zero outside).
void deform_im2col(Elem e, const void* src, const void* offsets, void* cols, std::int64_t B, std::int64_t H,
                   std::int64_t W, std::int64_t C, std::int64_t Ho, std::int64_t Wo);
// dst[b, c] = mean over t of src[b, t, c] (src [B, T, C]).
void mean_tokens(Elem e, const void* src, void* dst, std::int64_t B, std::int64_t T, std::int64_t C);
// x_out[b, 0] = cls (fp32 vector); x_out[b, 1 + t] = src[b, t].
void cls_concat(Elem e, const float* cls, const void* src, void* out, std::int64_t B, std::int64_t N, std::int64_t C);
// SPViT bconv residual with the cls bypass: out[b, 0] = x[b, 0] + ln[b, 0];
// out[b, 1 + t] = x[b, 1 + t] + y[b, t]. x, ln, out are [B, 1 + N, C]; y is [B, N, C].
void cls_bypass_residual(Elem e, const void* x, const void* ln, const void* y, void* out, std::int64_t B,
                         std::int64_t N, std::int64_t C);

}  // namespace hwnas::prof::onednn::kernels
