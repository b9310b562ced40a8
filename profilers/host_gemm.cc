#include "profilers/host_gemm.h"

#include <stdexcept>
#include <string>

#include <dnnl.h>

namespace hwnas::prof {
namespace {

void sgemm(char tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda, const float* b,
           std::int64_t ldb, float* c, std::int64_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  const dnnl_status_t s = dnnl_sgemm('N', tb, m, n, k, 1.0f, a, lda, b, ldb, accumulate ? 1.0f : 0.0f, c, ldc);
  if (s != dnnl_success) throw std::runtime_error("dnnl_sgemm failed with status " + std::to_string(s));
}

}  // namespace

void gemm_abt(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda, const float* b,
              std::int64_t ldb, float* c, std::int64_t ldc, bool accumulate) {
  sgemm('T', m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

void gemm_ab(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda, const float* b,
             std::int64_t ldb, float* c, std::int64_t ldc, bool accumulate) {
  sgemm('N', m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

}  // namespace hwnas::prof
