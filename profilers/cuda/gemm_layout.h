// How strided activation views map onto cuBLAS's column-major operands: host-side logic of gemm.cc,
// kept apart so that it is tested on machines without a GPU (gemm_layout_test.cc).
#pragma once

#include <optional>
#include <string>

#include <cublas_v2.h>

#include "profilers/cuda/plan.h"

namespace hwnas::prof::cuda {

// The last two dims of a view as cuBLAS sees them: a row-major matrix X with row stride ld is the
// column-major Xᵀ (op N gives Xᵀ); a transposed view (unit row stride) is the column-major X (op T
// gives Xᵀ). Throws std::logic_error when neither stride is 1.
struct ColMajor {
  cublasOperation_t op;
  i64 ld;
};
ColMajor col_major(const View& v, const std::string& name);

// For a 4-D view [batch, heads, rows, cols]: the one stride s with offset(b, h) = (b·heads + h)·s
// for every matrix, if there is one (then a strided-batched call serves; otherwise pointer arrays).
std::optional<i64> uniform_stride(const View& v);

}  // namespace hwnas::prof::cuda
