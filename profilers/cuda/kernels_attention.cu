// Fused attention for small windows (HiLo's Hi-Fi branch): a thread owns one query, computes its
// s·s scores in registers, normalises them and accumulates the values. The keys and values of a
// window are read by its s·s threads, from L1 after the first. (The same scheme for longer key
// sequences, up to 64, lost to cuBLAS batched products: it is not used there.)
#include <cstdint>

#include "profilers/cuda/elem.cuh"

namespace hwnas::prof::cuda::kernels {
namespace {

constexpr int kThreads = 128;

// A row of d (≤ D) elements into registers: 16-byte loads when VEC (d and the row start multiples of
// the vector), scalar ones otherwise.
template <class T, int D, bool VEC>
__device__ __forceinline__ void load_row(const T* p, ix d, float* f) {
  if constexpr (VEC) {
    constexpr int V = Vec<T>::n;
#pragma unroll
    for (int c = 0; c < D; c += V) {
      if (c < d) {
        load_vec(p + c, f + c);
      } else {
#pragma unroll
        for (int v = 0; v < V; ++v) f[c + v] = 0.f;
      }
    }
  } else {
#pragma unroll
    for (int c = 0; c < D; ++c) f[c] = c < d ? ld(p, c) : 0.f;
  }
}

template <class T, int L, int D, bool VEC>
__global__ void window_attention_k(const T* qkv, T* out, ix total, ix H, ix W, ix s, ix heads, ix d, float scale) {
  const ix t = static_cast<ix>(blockIdx.x * blockDim.x + threadIdx.x);
  if (t >= total) return;
  // t = ((b·nw + win)·heads + head)·L + i
  const ix i = t % L, head = (t / L) % heads, bw = t / (L * heads);
  const ix nwc = W / s, nw = (H / s) * nwc, b = bw / nw, win = bw % nw;
  const ix wy = (win / nwc) * s, wx = (win % nwc) * s;
  const ix hd = heads * d, ldq = 3 * hd;
  auto row = [&](ix j) { return (b * H + wy + j / s) * W + wx + j % s; };
  const T* q = qkv + row(i) * ldq + head * d;
  float qv[D], r[D];
  load_row<T, D, VEC>(q, d, qv);
  float p[L];
  float m = -INFINITY;
#pragma unroll
  for (int j = 0; j < L; ++j) {
    load_row<T, D, VEC>(qkv + row(j) * ldq + hd + head * d, d, r);
    float acc = 0;
#pragma unroll
    for (int c = 0; c < D; ++c) acc += qv[c] * r[c];
    p[j] = acc * scale;
    m = fmaxf(m, p[j]);
  }
  float sum = 0;
#pragma unroll
  for (int j = 0; j < L; ++j) {
    p[j] = __expf(p[j] - m);
    sum += p[j];
  }
  const float inv = 1.f / sum;
  float acc[D] = {};
#pragma unroll
  for (int j = 0; j < L; ++j) {
    load_row<T, D, VEC>(qkv + row(j) * ldq + 2 * hd + head * d, d, r);
#pragma unroll
    for (int c = 0; c < D; ++c) acc[c] += p[j] * r[c];
  }
  T* o = out + row(i) * hd + head * d;
#pragma unroll
  for (int c = 0; c < D; ++c)
    if (c < d) st(o, c, acc[c] * inv);
}

template <class T, int L, int D>
void launch(const void* qkv, void* out, i64 B, i64 H, i64 W, i64 s_win, i64 heads, i64 d, float scale, cudaStream_t s) {
  const i64 total = B * H * W * heads;
  const bool vec = d % Vec<T>::n == 0 && reinterpret_cast<std::uintptr_t>(qkv) % 16 == 0;
  auto kernel = vec ? window_attention_k<T, L, D, true> : window_attention_k<T, L, D, false>;
  kernel<<<blocks_for(total, kThreads), kThreads, 0, s>>>(
      cast<T>(qkv), cast<T>(out), static_cast<ix>(total), static_cast<ix>(H), static_cast<ix>(W),
      static_cast<ix>(s_win), static_cast<ix>(heads), static_cast<ix>(d), scale);
}

template <class T, int L>
void launch_d(const void* qkv, void* out, i64 B, i64 H, i64 W, i64 s_win, i64 heads, i64 d, float scale,
              cudaStream_t s) {
  if (d <= 32) {
    launch<T, L, 32>(qkv, out, B, H, W, s_win, heads, d, scale, s);
  } else {
    launch<T, L, 64>(qkv, out, B, H, W, s_win, heads, d, scale, s);
  }
}

// L, D: register budgets for the scores (kv_len ≤ L) and a row (d ≤ D), unrolled so that the query,
// the scores and the output row stay in registers.
}  // namespace

void window_attention(Elem e, const void* qkv, void* out, i64 B, i64 H, i64 W, i64 s_win, i64 heads, i64 d, float scale,
                      cudaStream_t s) {
  need_32bit(B * H * W * 3 * heads * d, "window_attention");
  if (d > kWindowAttentionMaxD) throw CudaError("window_attention: head dim above 64");
  if (B * H * W * heads > kMaxIndex / 2) throw CudaError("window_attention: too many queries for one launch");
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    switch (s_win * s_win) {
      case 4: launch_d<T, 4>(qkv, out, B, H, W, s_win, heads, d, scale, s); break;
      case 9: launch_d<T, 9>(qkv, out, B, H, W, s_win, heads, d, scale, s); break;
      case 16: launch_d<T, 16>(qkv, out, B, H, W, s_win, heads, d, scale, s); break;
      default: throw CudaError("window_attention: window side must be 2..4");
    }
  });
  check_launch("window_attention");
}

}  // namespace hwnas::prof::cuda::kernels
