// fp32 GEMM on the host, for arithmetic outside a lowered network (compression's calibration
// statistics): oneDNN's sgemm, row-major, threaded like the engine. Without this, the statistics of
// one deit-small pass (~120 GMACs) would take minutes in plain loops.
#pragma once

#include <cstdint>

namespace hwnas::prof {

// C[m, n] = A[m, k] · B[n, k]ᵀ (+ C when `accumulate`): B as a Linear's weight [out, in].
void gemm_abt(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda, const float* b,
              std::int64_t ldb, float* c, std::int64_t ldc, bool accumulate = false);
// C[m, n] = A[m, k] · B[k, n] (+ C when `accumulate`).
void gemm_ab(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda, const float* b,
             std::int64_t ldb, float* c, std::int64_t ldc, bool accumulate = false);

}  // namespace hwnas::prof
