#include "profilers/onednn/kernels.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "profilers/onednn/bf16.h"

namespace hwnas::prof::onednn::kernels {
namespace {

using bf16 = std::uint16_t;

inline float load(const float* p, std::int64_t i) {
  return p[i];
}
inline float load(const bf16* p, std::int64_t i) {
  return bf16_to_f32(p[i]);
}
inline void store(float* p, std::int64_t i, float v) {
  p[i] = v;
}
inline void store(bf16* p, std::int64_t i, float v) {
  p[i] = f32_to_bf16(v);
}

std::size_t esize(Elem e) {
  return e == Elem::f32 ? 4 : 2;
}

template <class T>
const T* as(const void* p) {
  return static_cast<const T*>(p);
}
template <class T>
T* as(void* p) {
  return static_cast<T*>(p);
}

// Calls f.template operator()<T>() for the element type.
template <class F>
void dispatch(Elem e, F&& f) {
  if (e == Elem::f32) {
    f(float{});
  } else {
    f(bf16{});
  }
}

inline std::int64_t wrap(std::int64_t i, std::int64_t n) {
  return ((i % n) + n) % n;
}

}  // namespace

void pad_copy(Elem e, const void* src, void* dst, std::int64_t B, std::int64_t H, std::int64_t W, std::int64_t Hp,
              std::int64_t Wp, std::int64_t C) {
  const std::size_t row = static_cast<std::size_t>(W * C) * esize(e);
  const auto* s = static_cast<const std::byte*>(src);
  auto* d = static_cast<std::byte*>(dst);
#pragma omp parallel for collapse(2)
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t i = 0; i < H; ++i)
      std::memcpy(d + static_cast<std::size_t>((b * Hp + i) * Wp * C) * esize(e),
                  s + static_cast<std::size_t>((b * H + i) * W * C) * esize(e), row);
}

void crop_add(Elem e, const void* x, const void* y, void* out, std::int64_t B, std::int64_t H, std::int64_t W,
              std::int64_t Hp, std::int64_t Wp, std::int64_t C) {
  dispatch(e, [&](auto t) {
    using T = decltype(t);
    const T* xs = as<T>(x);
    const T* ys = as<T>(y);
    T* os = as<T>(out);
#pragma omp parallel for collapse(2)
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t i = 0; i < H; ++i)
        for (std::int64_t j = 0; j < W; ++j) {
          const std::int64_t xo = ((b * H + i) * W + j) * C, yo = ((b * Hp + i) * Wp + j) * C;
          for (std::int64_t c = 0; c < C; ++c) store(os, xo + c, load(xs, xo + c) + load(ys, yo + c));
        }
  });
}

void window_partition(Elem e, const void* src, std::int64_t src_ld, void* dst, std::int64_t B, std::int64_t H,
                      std::int64_t W, std::int64_t w, std::int64_t shift, std::int64_t C) {
  const std::size_t es = esize(e), row = static_cast<std::size_t>(C) * es;
  const auto* s = static_cast<const std::byte*>(src);
  auto* d = static_cast<std::byte*>(dst);
  const std::int64_t nwc = W / w;
#pragma omp parallel for collapse(2)
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t p = 0; p < H; ++p) {  // p: row of the rolled map
      const std::int64_t si = wrap(p + shift, H);
      for (std::int64_t q = 0; q < W; ++q) {
        const std::int64_t sj = wrap(q + shift, W);
        const std::int64_t win = (p / w) * nwc + q / w, pos = (p % w) * w + q % w;
        const std::int64_t di = ((b * (H / w) * nwc + win) * w * w + pos) * C;
        std::memcpy(d + static_cast<std::size_t>(di) * es,
                    s + static_cast<std::size_t>((b * H * W + si * W + sj) * src_ld) * es, row);
      }
    }
}

void window_merge(Elem e, const void* windows, void* dst, std::int64_t dst_ld, std::int64_t B, std::int64_t H,
                  std::int64_t W, std::int64_t w, std::int64_t shift, std::int64_t C) {
  const std::size_t es = esize(e), row = static_cast<std::size_t>(C) * es;
  const auto* s = static_cast<const std::byte*>(windows);
  auto* d = static_cast<std::byte*>(dst);
  const std::int64_t nwc = W / w;
#pragma omp parallel for collapse(2)
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t i = 0; i < H; ++i) {
      const std::int64_t p = wrap(i - shift, H);
      for (std::int64_t j = 0; j < W; ++j) {
        const std::int64_t q = wrap(j - shift, W);
        const std::int64_t win = (p / w) * nwc + q / w, pos = (p % w) * w + q % w;
        const std::int64_t si = ((b * (H / w) * nwc + win) * w * w + pos) * C;
        std::memcpy(d + static_cast<std::size_t>((b * H * W + i * W + j) * dst_ld) * es,
                    s + static_cast<std::size_t>(si) * es, row);
      }
    }
}

void window_merge_add(Elem e, const void* windows, const void* x, void* out, std::int64_t B, std::int64_t H,
                      std::int64_t W, std::int64_t w, std::int64_t shift, std::int64_t C) {
  dispatch(e, [&](auto t) {
    using T = decltype(t);
    const T* ws = as<T>(windows);
    const T* xs = as<T>(x);
    T* os = as<T>(out);
    const std::int64_t nwc = W / w;
#pragma omp parallel for collapse(2)
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t i = 0; i < H; ++i) {
        const std::int64_t p = wrap(i - shift, H);
        for (std::int64_t j = 0; j < W; ++j) {
          const std::int64_t q = wrap(j - shift, W);
          const std::int64_t win = (p / w) * nwc + q / w, pos = (p % w) * w + q % w;
          const std::int64_t so = ((b * (H / w) * nwc + win) * w * w + pos) * C;
          const std::int64_t xo = ((b * H + i) * W + j) * C;
          for (std::int64_t c = 0; c < C; ++c) store(os, xo + c, load(xs, xo + c) + load(ws, so + c));
        }
      }
  });
}

void patch_gather(Elem e, const void* src, void* dst, std::int64_t B, std::int64_t H, std::int64_t W, std::int64_t C) {
  const std::size_t es = esize(e), row = static_cast<std::size_t>(C) * es;
  const auto* s = static_cast<const std::byte*>(src);
  auto* d = static_cast<std::byte*>(dst);
  const std::int64_t Ho = H / 2, Wo = W / 2;
  const std::int64_t di[4] = {0, 1, 0, 1}, dj[4] = {0, 0, 1, 1};
#pragma omp parallel for collapse(2)
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t r = 0; r < Ho; ++r)
      for (std::int64_t c = 0; c < Wo; ++c)
        for (int k = 0; k < 4; ++k) {
          const std::int64_t si = (b * H + 2 * r + di[k]) * W + 2 * c + dj[k];
          const std::int64_t dt = ((b * Ho + r) * Wo + c) * 4 + k;
          std::memcpy(d + static_cast<std::size_t>(dt * C) * es, s + static_cast<std::size_t>(si * C) * es, row);
        }
}

void deform_im2col(Elem e, const void* src, const void* offsets, void* cols, std::int64_t B, std::int64_t H,
                   std::int64_t W, std::int64_t C, std::int64_t Ho, std::int64_t Wo) {
  dispatch(e, [&](auto t) {
    using T = decltype(t);
    const T* x = as<T>(src);
    const T* off = as<T>(offsets);
    T* out = as<T>(cols);
#pragma omp parallel for collapse(2)
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t oy = 0; oy < Ho; ++oy)
        for (std::int64_t ox = 0; ox < Wo; ++ox) {
          const std::int64_t pos = (b * Ho + oy) * Wo + ox;
          for (std::int64_t k = 0; k < 4; ++k) {
            const float py = static_cast<float>(2 * oy + k / 2) + load(off, pos * 8 + 2 * k);
            const float px = static_cast<float>(2 * ox + k % 2) + load(off, pos * 8 + 2 * k + 1);
            const float fy = std::floor(py), fx = std::floor(px);
            const float ly = py - fy, lx = px - fx;
            const auto y0 = static_cast<std::int64_t>(fy), x0 = static_cast<std::int64_t>(fx);
            float wgt[4] = {(1 - ly) * (1 - lx), (1 - ly) * lx, ly * (1 - lx), ly * lx};
            const T* nb[4];
            for (int n = 0; n < 4; ++n) {
              const std::int64_t yy = y0 + n / 2, xx = x0 + n % 2;
              const bool inside = yy >= 0 && yy < H && xx >= 0 && xx < W;
              // Outside the map: weight 0 on any valid row (branch-free channel loop below).
              nb[n] = x + (inside ? ((b * H + yy) * W + xx) * C : 0);
              if (!inside) wgt[n] = 0;
            }
            T* col = out + (pos * 4 + k) * C;
            for (std::int64_t c = 0; c < C; ++c)
              store(col, c,
                    wgt[0] * load(nb[0], c) + wgt[1] * load(nb[1], c) + wgt[2] * load(nb[2], c) +
                        wgt[3] * load(nb[3], c));
          }
        }
  });
}

void mean_tokens(Elem e, const void* src, void* dst, std::int64_t B, std::int64_t T, std::int64_t C) {
  dispatch(e, [&](auto t) {
    using E = decltype(t);
    const E* s = as<E>(src);
    E* d = as<E>(dst);
    const float inv = 1.0f / static_cast<float>(T);
#pragma omp parallel for
    for (std::int64_t b = 0; b < B; ++b) {
      std::vector<float> acc(static_cast<std::size_t>(C), 0.0f);
      for (std::int64_t tok = 0; tok < T; ++tok)
        for (std::int64_t c = 0; c < C; ++c) acc[static_cast<std::size_t>(c)] += load(s, (b * T + tok) * C + c);
      for (std::int64_t c = 0; c < C; ++c) store(d, b * C + c, acc[static_cast<std::size_t>(c)] * inv);
    }
  });
}

void cls_concat(Elem e, const float* cls, const void* src, void* out, std::int64_t B, std::int64_t N, std::int64_t C) {
  dispatch(e, [&](auto t) {
    using T = decltype(t);
    const T* s = as<T>(src);
    T* o = as<T>(out);
#pragma omp parallel for
    for (std::int64_t b = 0; b < B; ++b) {
      for (std::int64_t c = 0; c < C; ++c) store(o, b * (N + 1) * C + c, cls[c]);
      std::memcpy(o + (b * (N + 1) + 1) * C, s + b * N * C, static_cast<std::size_t>(N * C) * sizeof(T));
    }
  });
}

void cls_bypass_residual(Elem e, const void* x, const void* ln, const void* y, void* out, std::int64_t B,
                         std::int64_t N, std::int64_t C) {
  dispatch(e, [&](auto t) {
    using T = decltype(t);
    const T* xs = as<T>(x);
    const T* ls = as<T>(ln);
    const T* ys = as<T>(y);
    T* os = as<T>(out);
#pragma omp parallel for collapse(2)
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t tok = 0; tok <= N; ++tok) {
        const std::int64_t xo = (b * (N + 1) + tok) * C;
        const std::int64_t yo = (b * N + tok - 1) * C;
        for (std::int64_t c = 0; c < C; ++c)
          store(os, xo + c, load(xs, xo + c) + (tok == 0 ? load(ls, xo + c) : load(ys, yo + c)));
      }
  });
}

}  // namespace hwnas::prof::onednn::kernels
