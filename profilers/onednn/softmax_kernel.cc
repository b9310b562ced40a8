#include "profilers/onednn/softmax_kernel.h"

#include "profilers/onednn/bf16.h"

// GCC 12's _mm512_reduce_*_ps use _mm512_undefined_*(), which -Wuninitialized flags inside the
// intrinsics header itself: a false positive, silenced for this file only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <immintrin.h>

namespace hwnas::prof::onednn::kernels {
namespace {

void softmax_row_scalar(float* x, std::int64_t n) {
  float mx = -INFINITY;
  for (std::int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const auto inv = static_cast<float>(1.0 / sum);
  for (std::int64_t i = 0; i < n; ++i) x[i] *= inv;
}

// e^x for x <= 0 (inputs are x - max): 2^k · p(r), r = x - k·ln2 in [-ln2/2, ln2/2], p a degree-6
// Taylor/minimax polynomial (Cephes expf coefficients), 2^k applied with vscalefps.
__attribute__((target("avx512f"))) inline __m512 exp512(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.33f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, k);
}

__attribute__((target("avx512f"))) void softmax_row_avx512(float* x, std::int64_t n) {
  __m512 vmax = _mm512_set1_ps(-INFINITY);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(x + i));
  const auto tail = static_cast<__mmask16>((1u << (n - i)) - 1u);
  if (i < n) vmax = _mm512_mask_max_ps(vmax, tail, vmax, _mm512_maskz_loadu_ps(tail, x + i));
  const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
  __m512 vsum = _mm512_setzero_ps();
  for (i = 0; i + 16 <= n; i += 16) {
    const __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), mx));
    _mm512_storeu_ps(x + i, e);
    vsum = _mm512_add_ps(vsum, e);
  }
  if (i < n) {
    const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + i), mx));
    _mm512_mask_storeu_ps(x + i, tail, e);
    vsum = _mm512_mask_add_ps(vsum, tail, vsum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
  for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
  if (i < n) _mm512_mask_storeu_ps(x + i, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + i), inv));
}

bool have_avx512() {
  static const bool kHave = __builtin_cpu_supports("avx512f") != 0;
  return kHave;
}

void softmax_row(float* x, std::int64_t n) {
  if (have_avx512()) {
    softmax_row_avx512(x, n);
  } else {
    softmax_row_scalar(x, n);
  }
}

}  // namespace

const char* softmax_impl() {
  return have_avx512() ? "hwnas:softmax_avx512" : "hwnas:softmax";
}

void softmax_rows(Elem e, void* data, std::int64_t rows, std::int64_t n) {
  if (e == Elem::f32) {
    auto* x = static_cast<float*>(data);
#pragma omp parallel for schedule(static)
    for (std::int64_t r = 0; r < rows; ++r) softmax_row(x + r * n, n);
    return;
  }
  auto* x = static_cast<std::uint16_t*>(data);
#pragma omp parallel
  {
    std::vector<float> row(static_cast<std::size_t>(n));
#pragma omp for schedule(static)
    for (std::int64_t r = 0; r < rows; ++r) {
      std::uint16_t* p = x + r * n;
      for (std::int64_t i = 0; i < n; ++i) row[static_cast<std::size_t>(i)] = bf16_to_f32(p[i]);
      softmax_row(row.data(), n);
      for (std::int64_t i = 0; i < n; ++i) p[i] = f32_to_bf16(row[static_cast<std::size_t>(i)]);
    }
  }
}

}  // namespace hwnas::prof::onednn::kernels
