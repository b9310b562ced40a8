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

// 16-byte vectors along channels: 8 fp16/bf16 or 4 fp32 elements per load and store.
template <class T>
struct Vec {
  static constexpr int n = 16 / static_cast<int>(sizeof(T));
};
// Register-only unpacking (no address taken of a local, which would put it in local memory).
__device__ __forceinline__ void unpack(std::uint32_t w, float* f, const float*) {
  f[0] = __uint_as_float(w);
}
__device__ __forceinline__ void unpack(std::uint32_t w, float* f, const __nv_bfloat16*) {
  f[0] = __uint_as_float(w << 16);
  f[1] = __uint_as_float(w & 0xffff0000u);
}
__device__ __forceinline__ void unpack(std::uint32_t w, float* f, const __half*) {
  f[0] = __half2float(__ushort_as_half(static_cast<unsigned short>(w & 0xffffu)));
  f[1] = __half2float(__ushort_as_half(static_cast<unsigned short>(w >> 16)));
}
__device__ __forceinline__ std::uint32_t pack(const float* f, const float*) {
  return __float_as_uint(f[0]);
}
__device__ __forceinline__ std::uint32_t pack(const float* f, const __nv_bfloat16*) {
  return static_cast<std::uint32_t>(__bfloat16_as_ushort(__float2bfloat16_rn(f[0]))) |
         (static_cast<std::uint32_t>(__bfloat16_as_ushort(__float2bfloat16_rn(f[1]))) << 16);
}
__device__ __forceinline__ std::uint32_t pack(const float* f, const __half*) {
  return static_cast<std::uint32_t>(__half_as_ushort(__float2half_rn(f[0]))) |
         (static_cast<std::uint32_t>(__half_as_ushort(__float2half_rn(f[1]))) << 16);
}
template <class T>
__device__ __forceinline__ void load_vec(const T* p, float* f) {
  constexpr int per = 4 / static_cast<int>(sizeof(T));  // elements per 32-bit word
  const uint4 r = *reinterpret_cast<const uint4*>(p);
  unpack(r.x, f, p);
  unpack(r.y, f + per, p);
  unpack(r.z, f + 2 * per, p);
  unpack(r.w, f + 3 * per, p);
}
template <class T>
__device__ __forceinline__ void store_vec(T* p, const float* f) {
  constexpr int per = 4 / static_cast<int>(sizeof(T));
  const T* tag = p;
  *reinterpret_cast<uint4*>(p) =
      make_uint4(pack(f, tag), pack(f + per, tag), pack(f + 2 * per, tag), pack(f + 3 * per, tag));
}
// Whether rows of c elements of T allow 16-byte vectors (the buffers themselves are 256-byte aligned).
template <class T>
inline bool vectorizable(i64 c, i64 offset_elems = 0) {
  return c % Vec<T>::n == 0 && offset_elems % Vec<T>::n == 0;
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

// Grid-stride loop over n items with 32-bit indices (every layout kernel).
#define HWNAS_GRID_LOOP(i, n)                                                  \
  for (ix i = static_cast<ix>(blockIdx.x * blockDim.x + threadIdx.x); i < (n); \
       i += static_cast<ix>(gridDim.x * blockDim.x))

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
