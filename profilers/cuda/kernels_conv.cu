// Convolution helpers (im2col for the GEMM convolutions, depthwise convolution) and pooling.
#include "profilers/cuda/elem.cuh"

namespace hwnas::prof::cuda::kernels {
namespace {

constexpr int kThreads = 256;

#define HWNAS_GRID_LOOP(i, n)                                                  \
  for (ix i = static_cast<ix>(blockIdx.x * blockDim.x + threadIdx.x); i < (n); \
       i += static_cast<ix>(gridDim.x * blockDim.x))

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
