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

// Reductions within aligned groups of G lanes (G a power of two ≤ 32).
template <int G>
__device__ __forceinline__ float group_sum(float v) {
  for (int o = G / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <int G>
__device__ __forceinline__ float group_max(float v) {
  for (int o = G / 2; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// G lanes per row: short rows (HiLo's 2×2 windows have 4 keys) leave no lane of a warp idle.
template <class T, int G>
__global__ void softmax_k(T* data, i64 rows, i64 n, const float* bias, i64 bias_rows) {
  const i64 row = (blockIdx.x * i64{blockDim.x} + threadIdx.x) / G;
  const int lane = static_cast<int>(threadIdx.x % G);
  const bool live = row < rows;  // dead lanes still take part in the shuffles
  T* x = data + (live ? row : 0) * n;
  const float* b = bias != nullptr ? bias + ((live ? row : 0) % bias_rows) * n : nullptr;
  auto at = [&](i64 j) { return ld(x, j) + (b != nullptr ? b[j] : 0.f); };
  float m = -INFINITY;
  if (live)
    for (i64 j = lane; j < n; j += G) m = fmaxf(m, at(j));
  m = group_max<G>(m);
  float sum = 0;
  if (live)
    for (i64 j = lane; j < n; j += G) sum += __expf(at(j) - m);
  const float inv = 1.f / group_sum<G>(sum);
  if (live)
    for (i64 j = lane; j < n; j += G) st(x, j, __expf(at(j) - m) * inv);
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

// Blocks for `rows` rows of g lanes each (no cap: the row kernels have no grid-stride loop).
unsigned row_blocks(i64 rows, int g) {
  return static_cast<unsigned>((rows * g + kThreads - 1) / kThreads);
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
    const i64 br = bias_rows > 0 ? bias_rows : 1;
    T* p = cast<T>(data);
    if (n <= 4) {
      softmax_k<T, 4><<<row_blocks(rows, 4), kThreads, 0, s>>>(p, rows, n, bias, br);
    } else if (n <= 8) {
      softmax_k<T, 8><<<row_blocks(rows, 8), kThreads, 0, s>>>(p, rows, n, bias, br);
    } else if (n <= 16) {
      softmax_k<T, 16><<<row_blocks(rows, 16), kThreads, 0, s>>>(p, rows, n, bias, br);
    } else {
      softmax_k<T, 32><<<row_blocks(rows, 32), kThreads, 0, s>>>(p, rows, n, bias, br);
    }
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
