#include "profilers/cuda/check.h"

#include <fmt/format.h>

namespace hwnas::prof::cuda {

void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  throw CudaError(fmt::format("{}: {} ({})", what, cudaGetErrorString(status), cudaGetErrorName(status)));
}

void check(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw CudaError(fmt::format("{}: {} ({})", what, cublasGetStatusString(status), cublasGetStatusName(status)));
}

}  // namespace hwnas::prof::cuda
