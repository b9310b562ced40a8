// Convolution helpers (im2col for the GEMM convolutions, depthwise convolution) and pooling.
#include "profilers/cuda/elem.cuh"

namespace hwnas::prof::cuda::kernels {
namespace {

constexpr int kThreads = 256;

template <class T>
__global__ void im2col_k(const T* src, ix B, ix H, ix W, ix C, ix image_stride, T* cols, ix k, ix stride, ix pad, ix Ho,
                         ix Wo) {
  const ix K = k * k * C;
  HWNAS_GRID_LOOP(i, B * Ho * Wo * K) {
    const ix col = i % K, row = i / K, c = col % C, tap = col / C;
    const ix ox = row % Wo, oy = (row / Wo) % Ho, b = row / (Wo * Ho);
    const ix y = oy * stride - pad + tap / k, x = ox * stride - pad + tap % k;
    cols[i] = (y >= 0 && y < H && x >= 0 && x < W) ? src[b * image_stride + (y * W + x) * C + c] : T(0.f);
  }
}

// 16 bytes of channels per thread (C a multiple of the vector).
template <class T>
__global__ void im2col_vec_k(const T* src, ix B, ix H, ix W, ix C, ix image_stride, T* cols, ix k, ix stride, ix pad,
                             ix Ho, ix Wo) {
  constexpr int V = Vec<T>::n;
  const ix G = C / V, kk = k * k;
  HWNAS_GRID_LOOP(i, B * Ho * Wo * kk * G) {
    const ix c0 = (i % G) * V, tap = (i / G) % kk, row = i / (G * kk);
    const ix ox = row % Wo, oy = (row / Wo) % Ho, b = row / (Wo * Ho);
    const ix y = oy * stride - pad + tap / k, x = ox * stride - pad + tap % k;
    uint4 v = make_uint4(0, 0, 0, 0);
    if (y >= 0 && y < H && x >= 0 && x < W)
      v = *reinterpret_cast<const uint4*>(src + b * image_stride + (y * W + x) * C + c0);
    *reinterpret_cast<uint4*>(cols + row * kk * C + tap * C + c0) = v;
  }
}

template <class T>
__global__ void image_im2col_k(const float* img, ix B, ix C, ix H, ix W, T* cols, ix k, ix stride, ix pad, ix Ho,
                               ix Wo) {
  const ix K = k * k * C;
  HWNAS_GRID_LOOP(i, B * Ho * Wo * K) {
    const ix col = i % K, row = i / K, c = col % C, tap = col / C;
    const ix ox = row % Wo, oy = (row / Wo) % Ho, b = row / (Wo * Ho);
    const ix y = oy * stride - pad + tap / k, x = ox * stride - pad + tap % k;
    st(cols, i, (y >= 0 && y < H && x >= 0 && x < W) ? img[((b * C + c) * H + y) * W + x] : 0.f);
  }
}

template <class T, bool kGelu>
__global__ void dwconv_k(const T* src, T* dst, ix B, ix H, ix W, ix C, ix k, const float* w, const float* bias) {
  const ix r = k / 2;
  HWNAS_GRID_LOOP(i, B * H * W * C) {
    const ix c = i % C, p = i / C, x = p % W, y = (p / W) % H, b = p / (W * H);
    float acc = bias[c];
    for (ix ky = 0; ky < k; ++ky) {
      const ix yy = y + ky - r;
      if (yy < 0 || yy >= H) continue;
      for (ix kx = 0; kx < k; ++kx) {
        const ix xx = x + kx - r;
        if (xx < 0 || xx >= W) continue;
        acc += w[(ky * k + kx) * C + c] * ld(src, ((b * H + yy) * W + xx) * C + c);
      }
    }
    if (kGelu) acc = 0.5f * acc * (1.f + erff(acc * 0.70710678118654752f));
    st(dst, i, acc);
  }
}

// V fp32 values (V a multiple of 4, p 16-byte aligned) in float4 loads.
template <int V>
__device__ __forceinline__ void load_f32(const float* p, float* f) {
#pragma unroll
  for (int i = 0; i < V / 4; ++i) {
    const float4 x = reinterpret_cast<const float4*>(p)[i];
    f[4 * i] = x.x;
    f[4 * i + 1] = x.y;
    f[4 * i + 2] = x.z;
    f[4 * i + 3] = x.w;
  }
}

// Vectorised depthwise convolution: a thread owns one pixel and 16 bytes of channels, so the index
// arithmetic and the tap loop are shared by 8 (16-bit) or 4 (fp32) outputs.
template <class T, int K, bool kGelu>
__global__ void dwconv_vec_k(const T* src, T* dst, ix B, ix H, ix W, ix C, const float* w, const float* bias) {
  constexpr int V = Vec<T>::n;
  const ix G = C / V;
  HWNAS_GRID_LOOP(i, B * H * W * G) {
    const ix c0 = (i % G) * V, p = i / G, x = p % W, y = (p / W) % H, b = p / (W * H);
    float acc[V], in[V], wv[V];
    load_f32<V>(bias + c0, acc);
#pragma unroll
    for (int ky = 0; ky < K; ++ky) {
      const ix yy = y + ky - K / 2;
      if (yy < 0 || yy >= H) continue;
#pragma unroll
      for (int kx = 0; kx < K; ++kx) {
        const ix xx = x + kx - K / 2;
        if (xx < 0 || xx >= W) continue;
        load_vec(src + ((b * H + yy) * W + xx) * C + c0, in);
        load_f32<V>(w + (ky * K + kx) * C + c0, wv);  // 16-byte loads: scalar ones wasted 7/8 of L1
#pragma unroll
        for (int v = 0; v < V; ++v) acc[v] += wv[v] * in[v];
      }
    }
    if (kGelu) {
#pragma unroll
      for (int v = 0; v < V; ++v) acc[v] = 0.5f * acc[v] * (1.f + erff(acc[v] * 0.70710678118654752f));
    }
    store_vec(dst + p * C + c0, acc);
  }
}

template <class T>
__global__ void avg_pool_k(const T* src, T* dst, ix B, ix H, ix W, ix C, ix s) {
  const ix Ho = H / s, Wo = W / s;
  HWNAS_GRID_LOOP(i, B * Ho * Wo * C) {
    const ix c = i % C, p = i / C, x = p % Wo, y = (p / Wo) % Ho, b = p / (Wo * Ho);
    float acc = 0;
    for (ix dy = 0; dy < s; ++dy)
      for (ix dx = 0; dx < s; ++dx) acc += ld(src, ((b * H + y * s + dy) * W + x * s + dx) * C + c);
    st(dst, i, acc / static_cast<float>(s * s));
  }
}

template <class T>
__global__ void max_pool_tokens_k(const T* src, T* dst, ix B, ix L, ix C, ix k, ix stride) {
  const ix Lo = (L - k) / stride + 1;
  HWNAS_GRID_LOOP(i, B * Lo * C) {
    const ix c = i % C, o = (i / C) % Lo, b = i / (Lo * C);
    float m = ld(src, (b * L + o * stride) * C + c);
    for (ix t = 1; t < k; ++t) m = fmaxf(m, ld(src, (b * L + o * stride + t) * C + c));
    st(dst, i, m);
  }
}

}  // namespace

void im2col(Elem e, const MapRef& m, void* cols, i64 k, i64 stride, i64 pad, i64 Ho, i64 Wo, cudaStream_t s) {
  need_32bit(m.B * m.image_stride, "im2col");
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    if (vectorizable<T>(m.C, m.image_stride)) {
      im2col_vec_k<T><<<blocks_for(m.B * Ho * Wo * k * k * m.C / Vec<T>::n, kThreads), kThreads, 0, s>>>(
          cast<T>(m.base), m.B, m.H, m.W, m.C, m.image_stride, cast<T>(cols), k, stride, pad, Ho, Wo);
      return;
    }
    im2col_k<T><<<blocks_for(m.B * Ho * Wo * k * k * m.C, kThreads), kThreads, 0, s>>>(
        cast<T>(m.base), m.B, m.H, m.W, m.C, m.image_stride, cast<T>(cols), k, stride, pad, Ho, Wo);
  });
  check_launch("im2col");
}

void image_im2col(Elem e, const float* image, i64 B, i64 C, i64 H, i64 W, void* cols, i64 k, i64 stride, i64 pad,
                  i64 Ho, i64 Wo, cudaStream_t s) {
  need_32bit(B * C * H * W, "image_im2col");
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    image_im2col_k<T><<<blocks_for(B * Ho * Wo * k * k * C, kThreads), kThreads, 0, s>>>(
        image, B, C, H, W, cast<T>(cols), k, stride, pad, Ho, Wo);
  });
  check_launch("image_im2col");
}

void dwconv(Elem e, const void* src, void* dst, i64 B, i64 H, i64 W, i64 C, i64 k, const float* weight,
            const float* bias, bool gelu, cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    if (k == 3 && vectorizable<T>(C)) {
      const unsigned gv = blocks_for(B * H * W * C / Vec<T>::n, kThreads);
      if (gelu) {
        dwconv_vec_k<T, 3, true><<<gv, kThreads, 0, s>>>(cast<T>(src), cast<T>(dst), B, H, W, C, weight, bias);
      } else {
        dwconv_vec_k<T, 3, false><<<gv, kThreads, 0, s>>>(cast<T>(src), cast<T>(dst), B, H, W, C, weight, bias);
      }
      return;
    }
    const unsigned g = blocks_for(B * H * W * C, kThreads);
    if (gelu) {
      dwconv_k<T, true><<<g, kThreads, 0, s>>>(cast<T>(src), cast<T>(dst), B, H, W, C, k, weight, bias);
    } else {
      dwconv_k<T, false><<<g, kThreads, 0, s>>>(cast<T>(src), cast<T>(dst), B, H, W, C, k, weight, bias);
    }
  });
  check_launch("dwconv");
}

void avg_pool(Elem e, const void* src, void* dst, i64 B, i64 H, i64 W, i64 C, i64 stride, cudaStream_t s) {
  need_32bit(B * H * W * C, "avg_pool");
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    avg_pool_k<T><<<blocks_for(B * (H / stride) * (W / stride) * C, kThreads), kThreads, 0, s>>>(
        cast<T>(src), cast<T>(dst), B, H, W, C, stride);
  });
  check_launch("avg_pool");
}

void max_pool_tokens(Elem e, const void* src, void* dst, i64 B, i64 L, i64 C, i64 k, i64 stride, cudaStream_t s) {
  need_32bit(B * L * C, "max_pool_tokens");
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    max_pool_tokens_k<T><<<blocks_for(B * ((L - k) / stride + 1) * C, kThreads), kThreads, 0, s>>>(
        cast<T>(src), cast<T>(dst), B, L, C, k, stride);
  });
  check_launch("max_pool_tokens");
}

}  // namespace hwnas::prof::cuda::kernels
