// Convolution helpers (im2col for the GEMM convolutions, depthwise convolution) and pooling.
#include "profilers/cuda/elem.cuh"

namespace hwnas::prof::cuda::kernels {
namespace {

constexpr int kThreads = 256;

#define HWNAS_GRID_LOOP(i, n) \
  for (i64 i = blockIdx.x * i64{blockDim.x} + threadIdx.x; i < (n); i += i64{gridDim.x} * blockDim.x)

template <class T>
__global__ void im2col_k(const T* src, i64 B, i64 H, i64 W, i64 C, i64 image_stride, T* cols, i64 k, i64 stride,
                         i64 pad, i64 Ho, i64 Wo) {
  const i64 K = k * k * C;
  HWNAS_GRID_LOOP(i, B * Ho * Wo * K) {
    const i64 col = i % K, row = i / K, c = col % C, tap = col / C;
    const i64 ox = row % Wo, oy = (row / Wo) % Ho, b = row / (Wo * Ho);
    const i64 y = oy * stride - pad + tap / k, x = ox * stride - pad + tap % k;
    cols[i] = (y >= 0 && y < H && x >= 0 && x < W) ? src[b * image_stride + (y * W + x) * C + c] : T(0.f);
  }
}

template <class T>
__global__ void image_im2col_k(const float* img, i64 B, i64 C, i64 H, i64 W, T* cols, i64 k, i64 stride, i64 pad,
                               i64 Ho, i64 Wo) {
  const i64 K = k * k * C;
  HWNAS_GRID_LOOP(i, B * Ho * Wo * K) {
    const i64 col = i % K, row = i / K, c = col % C, tap = col / C;
    const i64 ox = row % Wo, oy = (row / Wo) % Ho, b = row / (Wo * Ho);
    const i64 y = oy * stride - pad + tap / k, x = ox * stride - pad + tap % k;
    st(cols, i, (y >= 0 && y < H && x >= 0 && x < W) ? img[((b * C + c) * H + y) * W + x] : 0.f);
  }
}

template <class T, bool kGelu>
__global__ void dwconv_k(const T* src, T* dst, i64 B, i64 H, i64 W, i64 C, i64 k, const float* w, const float* bias) {
  const i64 r = k / 2;
  HWNAS_GRID_LOOP(i, B * H * W * C) {
    const i64 c = i % C, p = i / C, x = p % W, y = (p / W) % H, b = p / (W * H);
    float acc = bias[c];
    for (i64 ky = 0; ky < k; ++ky) {
      const i64 yy = y + ky - r;
      if (yy < 0 || yy >= H) continue;
      for (i64 kx = 0; kx < k; ++kx) {
        const i64 xx = x + kx - r;
        if (xx < 0 || xx >= W) continue;
        acc += w[(ky * k + kx) * C + c] * ld(src, ((b * H + yy) * W + xx) * C + c);
      }
    }
    if (kGelu) acc = 0.5f * acc * (1.f + erff(acc * 0.70710678118654752f));
    st(dst, i, acc);
  }
}

template <class T>
__global__ void avg_pool_k(const T* src, T* dst, i64 B, i64 H, i64 W, i64 C, i64 s) {
  const i64 Ho = H / s, Wo = W / s;
  HWNAS_GRID_LOOP(i, B * Ho * Wo * C) {
    const i64 c = i % C, p = i / C, x = p % Wo, y = (p / Wo) % Ho, b = p / (Wo * Ho);
    float acc = 0;
    for (i64 dy = 0; dy < s; ++dy)
      for (i64 dx = 0; dx < s; ++dx) acc += ld(src, ((b * H + y * s + dy) * W + x * s + dx) * C + c);
    st(dst, i, acc / static_cast<float>(s * s));
  }
}

template <class T>
__global__ void max_pool_tokens_k(const T* src, T* dst, i64 B, i64 L, i64 C, i64 k, i64 stride) {
  const i64 Lo = (L - k) / stride + 1;
  HWNAS_GRID_LOOP(i, B * Lo * C) {
    const i64 c = i % C, o = (i / C) % Lo, b = i / (Lo * C);
    float m = ld(src, (b * L + o * stride) * C + c);
    for (i64 t = 1; t < k; ++t) m = fmaxf(m, ld(src, (b * L + o * stride + t) * C + c));
    st(dst, i, m);
  }
}

}  // namespace

void im2col(Elem e, const MapRef& m, void* cols, i64 k, i64 stride, i64 pad, i64 Ho, i64 Wo, cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    im2col_k<T><<<blocks_for(m.B * Ho * Wo * k * k * m.C, kThreads), kThreads, 0, s>>>(
        cast<T>(m.base), m.B, m.H, m.W, m.C, m.image_stride, cast<T>(cols), k, stride, pad, Ho, Wo);
  });
  check_launch("im2col");
}

void image_im2col(Elem e, const float* image, i64 B, i64 C, i64 H, i64 W, void* cols, i64 k, i64 stride, i64 pad,
                  i64 Ho, i64 Wo, cudaStream_t s) {
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
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    avg_pool_k<T><<<blocks_for(B * (H / stride) * (W / stride) * C, kThreads), kThreads, 0, s>>>(
        cast<T>(src), cast<T>(dst), B, H, W, C, stride);
  });
  check_launch("avg_pool");
}

void max_pool_tokens(Elem e, const void* src, void* dst, i64 B, i64 L, i64 C, i64 k, i64 stride, cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    max_pool_tokens_k<T><<<blocks_for(B * ((L - k) / stride + 1) * C, kThreads), kThreads, 0, s>>>(
        cast<T>(src), cast<T>(dst), B, L, C, k, stride);
  });
  check_launch("max_pool_tokens");
}

}  // namespace hwnas::prof::cuda::kernels
