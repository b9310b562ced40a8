// Fused attention for small windows (HiLo's Hi-Fi branch): a thread owns one query, computes its
// s·s scores in registers, normalises them and accumulates the values. The keys and values of a
// window are read by its s·s threads, from L1 after the first.
#include "profilers/cuda/elem.cuh"

namespace hwnas::prof::cuda::kernels {
namespace {

constexpr int kThreads = 128;

template <class T, int L>
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
  float p[L];
  float m = -INFINITY;
  for (ix j = 0; j < L; ++j) {
    const T* k = qkv + row(j) * ldq + hd + head * d;
    float acc = 0;
    for (ix c = 0; c < d; ++c) acc += ld(q, c) * ld(k, c);
    p[j] = acc * scale;
    m = fmaxf(m, p[j]);
  }
  float sum = 0;
  for (ix j = 0; j < L; ++j) {
    p[j] = __expf(p[j] - m);
    sum += p[j];
  }
  const float inv = 1.f / sum;
  T* o = out + row(i) * hd + head * d;
  for (ix c = 0; c < d; ++c) {
    float acc = 0;
    for (ix j = 0; j < L; ++j) acc += p[j] * ld(qkv + row(j) * ldq + 2 * hd + head * d, c);
    st(o, c, acc * inv);
  }
}

template <class T, int L>
void launch(const void* qkv, void* out, i64 B, i64 H, i64 W, i64 s_win, i64 heads, i64 d, float scale, cudaStream_t s) {
  const i64 total = B * H * W * heads;
  window_attention_k<T, L><<<blocks_for(total, kThreads), kThreads, 0, s>>>(
      cast<T>(qkv), cast<T>(out), static_cast<ix>(total), static_cast<ix>(H), static_cast<ix>(W),
      static_cast<ix>(s_win), static_cast<ix>(heads), static_cast<ix>(d), scale);
}

}  // namespace

void window_attention(Elem e, const void* qkv, void* out, i64 B, i64 H, i64 W, i64 s_win, i64 heads, i64 d, float scale,
                      cudaStream_t s) {
  need_32bit(B * H * W * 3 * heads * d, "window_attention");
  if (B * H * W * heads > kMaxIndex / 2) throw CudaError("window_attention: too many queries for one launch");
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    switch (s_win * s_win) {
      case 4: launch<T, 4>(qkv, out, B, H, W, s_win, heads, d, scale, s); break;
      case 9: launch<T, 9>(qkv, out, B, H, W, s_win, heads, d, scale, s); break;
      case 16: launch<T, 16>(qkv, out, B, H, W, s_win, heads, d, scale, s); break;
      case 25: launch<T, 25>(qkv, out, B, H, W, s_win, heads, d, scale, s); break;
      case 36: launch<T, 36>(qkv, out, B, H, W, s_win, heads, d, scale, s); break;
      case 49: launch<T, 49>(qkv, out, B, H, W, s_win, heads, d, scale, s); break;
      case 64: launch<T, 64>(qkv, out, B, H, W, s_win, heads, d, scale, s); break;
      default: throw CudaError("window_attention: window side must be 2..8");
    }
  });
  check_launch("window_attention");
}

}  // namespace hwnas::prof::cuda::kernels
