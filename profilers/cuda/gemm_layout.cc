#include "profilers/cuda/gemm_layout.h"

#include <stdexcept>

#include <fmt/format.h>

namespace hwnas::prof::cuda {

ColMajor col_major(const View& v, const std::string& name) {
  const std::size_t n = v.shape.size();
  const i64 rs = v.strides[n - 2], cs = v.strides[n - 1];
  if (cs == 1) return {CUBLAS_OP_N, rs};
  if (rs == 1) return {CUBLAS_OP_T, cs};
  throw std::logic_error(fmt::format("{}: matrix view has no unit stride", name));
}

std::optional<i64> uniform_stride(const View& v) {
  if (v.shape[1] == 1) return v.strides[0];
  if (v.shape[0] == 1 || v.strides[0] == v.shape[1] * v.strides[1]) return v.strides[1];
  return std::nullopt;
}

}  // namespace hwnas::prof::cuda
