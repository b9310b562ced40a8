// Device-side element access for the three activation types: loads widen to fp32, stores round
// to nearest even; and the host-side dispatch from kernels::Elem to the element type.
#pragma once

#include <cstdint>
#include <string>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "profilers/cuda/check.h"
#include "profilers/cuda/kernels.h"

namespace hwnas::prof::cuda::kernels {

using i64 = std::int64_t;
// Element indices inside the layout kernels are 32-bit: 64-bit division and modulo are emulated on
// the GPU and made the first depthwise convolution 30× slower than its memory traffic. Every
// launcher checks its extents with need_32bit().
using ix = int;
constexpr i64 kMaxIndex = (i64{1} << 31) - (i64{1} << 29);  // room for the grid-stride step

__device__ __forceinline__ float ld(const float* p, i64 i) {
  return p[i];
}
__device__ __forceinline__ float ld(const __half* p, i64 i) {
  return __half2float(p[i]);
}
__device__ __forceinline__ float ld(const __nv_bfloat16* p, i64 i) {
  return __bfloat162float(p[i]);
}
__device__ __forceinline__ void st(float* p, i64 i, float v) {
  p[i] = v;
}
__device__ __forceinline__ void st(__half* p, i64 i, float v) {
  p[i] = __float2half_rn(v);
}
__device__ __forceinline__ void st(__nv_bfloat16* p, i64 i, float v) {
  p[i] = __float2bfloat16_rn(v);
}

template <class T>
struct Tag {
  using type = T;
};

// Calls f(Tag<T>{}) for the element type of e.
template <class F>
void dispatch(Elem e, F&& f) {
  switch (e) {
    case Elem::f32: f(Tag<float>{}); break;
    case Elem::f16: f(Tag<__half>{}); break;
    case Elem::bf16: f(Tag<__nv_bfloat16>{}); break;
  }
}

inline void need_32bit(i64 n, const char* what) {
  if (n > kMaxIndex)
    throw CudaError(std::string(what) + ": tensor of " + std::to_string(n) + " elements exceeds 32-bit indexing");
}

// Grid for n independent items, `threads` per block, grid-stride loops beyond the cap.
inline unsigned blocks_for(i64 n, int threads) {
  need_32bit(n, "kernel launch");
  const i64 b = (n + threads - 1) / threads;
  return static_cast<unsigned>(b < 1 ? 1 : (b > (1 << 20) ? (1 << 20) : b));
}

__device__ __forceinline__ i64 wrap(i64 i, i64 n) {
  return ((i % n) + n) % n;
}

template <class T>
__host__ __device__ inline const T* cast(const void* p) {
  return static_cast<const T*>(p);
}
template <class T>
__host__ __device__ inline T* cast(void* p) {
  return static_cast<T*>(p);
}

}  // namespace hwnas::prof::cuda::kernels
