// Token-layout kernels: padding/cropping (HiLo), windows with Swin's cyclic shift, the 2×2 patch
// gather (Swin merging), cls-token handling (DeiT, SPViT), mean pooling (heads). One thread per
// output element, channels fastest, so every warp reads and writes contiguous channels.
#include "profilers/cuda/elem.cuh"

namespace hwnas::prof::cuda::kernels {
namespace {

constexpr int kThreads = 256;

template <class T>
__global__ void pad_copy_k(const T* src, T* dst, ix B, ix H, ix W, ix Hp, ix Wp, ix C) {
  HWNAS_GRID_LOOP(i, B * H * W * C) {
    const ix c = i % C, p = i / C, x = p % W, y = (p / W) % H, b = p / (W * H);
    dst[((b * Hp + y) * Wp + x) * C + c] = src[i];
  }
}

template <class T>
__global__ void crop_add_k(const T* x, const T* yv, T* out, ix B, ix H, ix W, ix Hp, ix Wp, ix C) {
  HWNAS_GRID_LOOP(i, B * H * W * C) {
    const ix c = i % C, p = i / C, xx = p % W, y = (p / W) % H, b = p / (W * H);
    st(out, i, ld(x, i) + ld(yv, ((b * Hp + y) * Wp + xx) * C + c));
  }
}

// Window-major position of map pixel (p, q) of the rolled map.
__device__ __forceinline__ ix window_row(ix b, ix p, ix q, ix H, ix W, ix w) {
  const ix nwc = W / w;
  const ix win = (p / w) * nwc + q / w, pos = (p % w) * w + q % w;
  return (b * (H / w) * nwc + win) * w * w + pos;
}

template <class T>
__global__ void window_partition_k(const T* src, ix src_ld, T* dst, ix B, ix H, ix W, ix w, ix shift, ix C) {
  HWNAS_GRID_LOOP(i, B * H * W * C) {
    const ix c = i % C, t = i / C, q = t % W, p = (t / W) % H, b = t / (W * H);
    const ix si = wrap(p + shift, H), sj = wrap(q + shift, W);
    dst[window_row(b, p, q, H, W, w) * C + c] = src[(b * H * W + si * W + sj) * src_ld + c];
  }
}

template <class T>
__global__ void window_merge_k(const T* win, T* dst, ix dst_ld, ix B, ix H, ix W, ix w, ix shift, ix C) {
  HWNAS_GRID_LOOP(i, B * H * W * C) {
    const ix c = i % C, t = i / C, j = t % W, r = (t / W) % H, b = t / (W * H);
    const ix p = wrap(r - shift, H), q = wrap(j - shift, W);
    dst[t * dst_ld + c] = win[window_row(b, p, q, H, W, w) * C + c];
  }
}

template <class T>
__global__ void window_merge_add_k(const T* win, const T* x, T* out, ix B, ix H, ix W, ix w, ix shift, ix C) {
  HWNAS_GRID_LOOP(i, B * H * W * C) {
    const ix c = i % C, t = i / C, j = t % W, r = (t / W) % H, b = t / (W * H);
    const ix p = wrap(r - shift, H), q = wrap(j - shift, W);
    st(out, i, ld(x, i) + ld(win, window_row(b, p, q, H, W, w) * C + c));
  }
}

template <class T>
__global__ void patch_gather_k(const T* src, T* dst, ix B, ix H, ix W, ix C) {
  const ix Ho = H / 2, Wo = W / 2;
  HWNAS_GRID_LOOP(i, B * Ho * Wo * 4 * C) {
    const ix c = i % C, k = (i / C) % 4, t = i / (4 * C), x = t % Wo, y = (t / Wo) % Ho, b = t / (Wo * Ho);
    dst[i] = src[((b * H + 2 * y + (k & 1)) * W + 2 * x + (k >> 1)) * C + c];
  }
}

template <class T>
__global__ void deform_im2col_k(const T* x, const T* off, T* out, ix B, ix H, ix W, ix C, ix Ho, ix Wo) {
  HWNAS_GRID_LOOP(i, B * Ho * Wo * 4 * C) {
    const ix c = i % C, k = (i / C) % 4, pos = i / (4 * C), ox = pos % Wo, oy = (pos / Wo) % Ho, b = pos / (Wo * Ho);
    const float py = static_cast<float>(2 * oy + k / 2) + ld(off, pos * 8 + 2 * k);
    const float px = static_cast<float>(2 * ox + k % 2) + ld(off, pos * 8 + 2 * k + 1);
    const float fy = floorf(py), fx = floorf(px), ly = py - fy, lx = px - fx;
    const ix y0 = static_cast<ix>(fy), x0 = static_cast<ix>(fx);
    const float wgt[4] = {(1 - ly) * (1 - lx), (1 - ly) * lx, ly * (1 - lx), ly * lx};
    float acc = 0;
    for (int n = 0; n < 4; ++n) {
      const ix yy = y0 + n / 2, xx = x0 + n % 2;
      if (yy >= 0 && yy < H && xx >= 0 && xx < W) acc += wgt[n] * ld(x, ((b * H + yy) * W + xx) * C + c);
    }
    st(out, i, acc);
  }
}

// The same, 16 bytes of channels per thread: the bilinear weights are computed once per vector.
template <class T>
__global__ void deform_im2col_vec_k(const T* x, const T* off, T* out, ix B, ix H, ix W, ix C, ix Ho, ix Wo) {
  constexpr int V = Vec<T>::n;
  const ix G = C / V;
  HWNAS_GRID_LOOP(i, B * Ho * Wo * 4 * G) {
    const ix c0 = (i % G) * V, k = (i / G) % 4, pos = i / (4 * G), ox = pos % Wo, oy = (pos / Wo) % Ho,
             b = pos / (Wo * Ho);
    const float py = static_cast<float>(2 * oy + k / 2) + ld(off, pos * 8 + 2 * k);
    const float px = static_cast<float>(2 * ox + k % 2) + ld(off, pos * 8 + 2 * k + 1);
    const float fy = floorf(py), fx = floorf(px), ly = py - fy, lx = px - fx;
    const ix y0 = static_cast<ix>(fy), x0 = static_cast<ix>(fx);
    const float wgt[4] = {(1 - ly) * (1 - lx), (1 - ly) * lx, ly * (1 - lx), ly * lx};
    float acc[V] = {}, in[V];
    for (int n = 0; n < 4; ++n) {
      const ix yy = y0 + n / 2, xx = x0 + n % 2;
      if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
      load_vec(x + ((b * H + yy) * W + xx) * C + c0, in);
#pragma unroll
      for (int v = 0; v < V; ++v) acc[v] += wgt[n] * in[v];
    }
    store_vec(out + (pos * 4 + k) * C + c0, acc);
  }
}

template <class T>
__global__ void mean_tokens_k(const T* src, T* dst, ix B, ix T_, ix C) {
  HWNAS_GRID_LOOP(i, B * C) {
    const ix c = i % C, b = i / C;
    float acc = 0;
    for (ix t = 0; t < T_; ++t) acc += ld(src, (b * T_ + t) * C + c);
    st(dst, i, acc / static_cast<float>(T_));
  }
}

template <class T>
__global__ void cls_concat_k(const float* cls, const T* src, T* out, ix B, ix N, ix C) {
  HWNAS_GRID_LOOP(i, B * (N + 1) * C) {
    const ix c = i % C, t = (i / C) % (N + 1), b = i / ((N + 1) * C);
    if (t == 0) {
      st(out, i, cls[c]);
    } else {
      out[i] = src[(b * N + t - 1) * C + c];
    }
  }
}

template <class T>
__global__ void cls_bypass_residual_k(const T* x, const T* ln, const T* y, T* out, ix B, ix N, ix C) {
  HWNAS_GRID_LOOP(i, B * (N + 1) * C) {
    const ix c = i % C, t = (i / C) % (N + 1), b = i / ((N + 1) * C);
    st(out, i, ld(x, i) + (t == 0 ? ld(ln, i) : ld(y, (b * N + t - 1) * C + c)));
  }
}

}  // namespace

void pad_copy(Elem e, const void* src, void* dst, i64 B, i64 H, i64 W, i64 Hp, i64 Wp, i64 C, cudaStream_t s) {
  need_32bit(B * Hp * Wp * C, "pad_copy");
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    pad_copy_k<T>
        <<<blocks_for(B * H * W * C, kThreads), kThreads, 0, s>>>(cast<T>(src), cast<T>(dst), B, H, W, Hp, Wp, C);
  });
  check_launch("pad_copy");
}

void crop_add(Elem e, const void* x, const void* y, void* out, i64 B, i64 H, i64 W, i64 Hp, i64 Wp, i64 C,
              cudaStream_t s) {
  need_32bit(B * Hp * Wp * C, "crop_add");
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    crop_add_k<T><<<blocks_for(B * H * W * C, kThreads), kThreads, 0, s>>>(cast<T>(x), cast<T>(y), cast<T>(out), B, H,
                                                                           W, Hp, Wp, C);
  });
  check_launch("crop_add");
}

void window_partition(Elem e, const void* src, i64 src_ld, void* dst, i64 B, i64 H, i64 W, i64 w, i64 shift, i64 C,
                      cudaStream_t s) {
  need_32bit(B * H * W * src_ld, "window_partition");
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    window_partition_k<T><<<blocks_for(B * H * W * C, kThreads), kThreads, 0, s>>>(cast<T>(src), src_ld, cast<T>(dst),
                                                                                   B, H, W, w, shift, C);
  });
  check_launch("window_partition");
}

void window_merge(Elem e, const void* windows, void* dst, i64 dst_ld, i64 B, i64 H, i64 W, i64 w, i64 shift, i64 C,
                  cudaStream_t s) {
  need_32bit(B * H * W * dst_ld, "window_merge");
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    window_merge_k<T><<<blocks_for(B * H * W * C, kThreads), kThreads, 0, s>>>(cast<T>(windows), cast<T>(dst), dst_ld,
                                                                               B, H, W, w, shift, C);
  });
  check_launch("window_merge");
}

void window_merge_add(Elem e, const void* windows, const void* x, void* out, i64 B, i64 H, i64 W, i64 w, i64 shift,
                      i64 C, cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    window_merge_add_k<T><<<blocks_for(B * H * W * C, kThreads), kThreads, 0, s>>>(cast<T>(windows), cast<T>(x),
                                                                                   cast<T>(out), B, H, W, w, shift, C);
  });
  check_launch("window_merge_add");
}

void patch_gather(Elem e, const void* src, void* dst, i64 B, i64 H, i64 W, i64 C, cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    patch_gather_k<T><<<blocks_for(B * H * W * C, kThreads), kThreads, 0, s>>>(cast<T>(src), cast<T>(dst), B, H, W, C);
  });
  check_launch("patch_gather");
}

void deform_im2col(Elem e, const void* src, const void* offsets, void* cols, i64 B, i64 H, i64 W, i64 C, i64 Ho, i64 Wo,
                   cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    if (vectorizable<T>(C)) {
      deform_im2col_vec_k<T><<<blocks_for(B * Ho * Wo * 4 * C / Vec<T>::n, kThreads), kThreads, 0, s>>>(
          cast<T>(src), cast<T>(offsets), cast<T>(cols), B, H, W, C, Ho, Wo);
      return;
    }
    deform_im2col_k<T><<<blocks_for(B * Ho * Wo * 4 * C, kThreads), kThreads, 0, s>>>(
        cast<T>(src), cast<T>(offsets), cast<T>(cols), B, H, W, C, Ho, Wo);
  });
  check_launch("deform_im2col");
}

void mean_tokens(Elem e, const void* src, void* dst, i64 B, i64 T_, i64 C, cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    mean_tokens_k<T><<<blocks_for(B * C, kThreads), kThreads, 0, s>>>(cast<T>(src), cast<T>(dst), B, T_, C);
  });
  check_launch("mean_tokens");
}

void cls_concat(Elem e, const float* cls, const void* src, void* out, i64 B, i64 N, i64 C, cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    cls_concat_k<T>
        <<<blocks_for(B * (N + 1) * C, kThreads), kThreads, 0, s>>>(cls, cast<T>(src), cast<T>(out), B, N, C);
  });
  check_launch("cls_concat");
}

void cls_bypass_residual(Elem e, const void* x, const void* ln, const void* y, void* out, i64 B, i64 N, i64 C,
                         cudaStream_t s) {
  dispatch(e, [&](auto t) {
    using T = typename decltype(t)::type;
    cls_bypass_residual_k<T><<<blocks_for(B * (N + 1) * C, kThreads), kThreads, 0, s>>>(
        cast<T>(x), cast<T>(ln), cast<T>(y), cast<T>(out), B, N, C);
  });
  check_launch("cls_bypass_residual");
}

}  // namespace hwnas::prof::cuda::kernels
