// Conversion, layer norm, softmax, GELU and residual adds.
#include <fmt/format.h>

#include "profilers/cuda/check.h"
#include "profilers/cuda/elem.cuh"

namespace hwnas::prof::cuda::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarp = 32;

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = kWarp / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

template <class T>
__global__ void from_f32_k(const float* src, T* dst, i64 n) {
  for (i64 i = blockIdx.x * i64{blockDim.x} + threadIdx.x; i < n; i += i64{gridDim.x} * blockDim.x) st(dst, i, src[i]);
}
template <class T>
__global__ void to_f32_k(const T* src, float* dst, i64 n) {
  for (i64 i = blockIdx.x * i64{blockDim.x} + threadIdx.x; i < n; i += i64{gridDim.x} * blockDim.x) dst[i] = ld(src, i);
}

// One warp per row; the row is read three times (mean, variance, write), from L1 after the first.
template <class T>
__global__ void layer_norm_k(const T* src, T* dst, i64 rows, i64 C, const float* gamma, const float* beta, float eps) {
  const i64 row = blockIdx.x * i64{blockDim.y} + threadIdx.y;
  if (row >= rows) return;
  const T* x = src + row * C;
  T* y = dst + row * C;
  float sum = 0;
  for (i64 c = threadIdx.x; c < C; c += kWarp) sum += ld(x, c);
  const float mean = warp_sum(sum) / static_cast<float>(C);
  float var = 0;
  for (i64 c = threadIdx.x; c < C; c += kWarp) {
    const float d = ld(x, c) - mean;
    var += d * d;
  }
  const float rstd = rsqrtf(warp_sum(var) / static_cast<float>(C) + eps);
  for (i64 c = threadIdx.x; c < C; c += kWarp) st(y, c, (ld(x, c) - mean) * rstd * gamma[c] + beta[c]);
}

template <class T>
__global__ void softmax_k(T* data, i64 rows, i64 n, const float* bias, i64 bias_rows) {
  const i64 row = blockIdx.x * i64{blockDim.y} + threadIdx.y;
  if (row >= rows) return;
  T* x = data + row * n;
  const float* b = bias != nullptr ? bias + (row % bias_rows) * n : nullptr;
  float m = -INFINITY;
  for (i64 j = threadIdx.x; j < n; j += kWarp) m = fmaxf(m, ld(x, j) + (b != nullptr ? b[j] : 0.f));
  m = warp_max(m);
  float sum = 0;
  for (i64 j = threadIdx.x; j < n; j += kWarp) sum += __expf(ld(x, j) + (b != nullptr ? b[j] : 0.f) - m);
  const float inv = 1.f / warp_sum(sum);
  for (i64 j = threadIdx.x; j < n; j += kWarp) st(x, j, __expf(ld(x, j) + (b != nullptr ? b[j] : 0.f) - m) * inv);
}

template <class T>
__global__ void gelu_k(T* data, i64 rows, i64 cols, i64 ld_) {
  const i64 n = rows * cols;
  for (i64 i = blockIdx.x * i64{blockDim.x} + threadIdx.x; i < n; i += i64{gridDim.x} * blockDim.x) {
    const i64 at = (i / cols) * ld_ + i % cols;
    const float v = ld(data, at);
    st(data, at, 0.5f * v * (1.f + erff(v * 0.70710678118654752f)));
  }
}

template <class T>
__global__ void add_k(const T* a, const T* b, T* out, i64 n) {
  for (i64 i = blockIdx.x * i64{blockDim.x} + threadIdx.x; i < n; i += i64{gridDim.x} * blockDim.x)
    st(out, i, ld(a, i) + ld(b, i));
}

template <class T>
__global__ void add_broadcast_k(T* x, const float* c, i64 n, i64 per_image) {
  for (i64 i = blockIdx.x * i64{blockDim.x} + threadIdx.x; i < n; i += i64{gridDim.x} * blockDim.x)
    st(x, i, ld(x, i) + c[i % per_image]);
}

// Rows per block for the warp-per-row kernels.
constexpr int kRowsPerBlock = 8;
dim3 row_grid(i64 rows) {
  return dim3(static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock));
}

}  // namespace

std::size_t size_of(Elem e) {
  return e == Elem::f32 ? 4 : 2;
}

void check_launch(const char* what) {
  check(cudaGetLastError(), what);
}

void from_f32(Elem e, const float* src, void* dst, i64 n, cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    from_f32_k<T><<<blocks_for(n, kThreads), kThreads, 0, s>>>(src, cast<T>(dst), n);
  });
  check_launch("from_f32");
}

void to_f32(Elem e, const void* src, float* dst, i64 n, cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    to_f32_k<T><<<blocks_for(n, kThreads), kThreads, 0, s>>>(cast<T>(src), dst, n);
  });
  check_launch("to_f32");
}

void layer_norm(Elem e, const void* src, void* dst, i64 rows, i64 C, const float* gamma, const float* beta, float eps,
                cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    layer_norm_k<T>
        <<<row_grid(rows), dim3(kWarp, kRowsPerBlock), 0, s>>>(cast<T>(src), cast<T>(dst), rows, C, gamma, beta, eps);
  });
  check_launch("layer_norm");
}

void softmax_rows(Elem e, void* data, i64 rows, i64 n, const float* bias, i64 bias_rows, cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    softmax_k<T><<<row_grid(rows), dim3(kWarp, kRowsPerBlock), 0, s>>>(cast<T>(data), rows, n, bias,
                                                                       bias_rows > 0 ? bias_rows : 1);
  });
  check_launch("softmax_rows");
}

void gelu(Elem e, void* data, i64 rows, i64 cols, i64 ld_, cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    gelu_k<T><<<blocks_for(rows * cols, kThreads), kThreads, 0, s>>>(cast<T>(data), rows, cols, ld_);
  });
  check_launch("gelu");
}

void add(Elem e, const void* a, const void* b, void* out, i64 n, cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    add_k<T><<<blocks_for(n, kThreads), kThreads, 0, s>>>(cast<T>(a), cast<T>(b), cast<T>(out), n);
  });
  check_launch("add");
}

void add_broadcast(Elem e, void* x, const float* c, i64 B, i64 per_image, cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    add_broadcast_k<T>
        <<<blocks_for(B * per_image, kThreads), kThreads, 0, s>>>(cast<T>(x), c, B * per_image, per_image);
  });
  check_launch("add_broadcast");
}

}  // namespace hwnas::prof::cuda::kernels
