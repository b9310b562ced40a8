// CUDA / cuBLAS status checks: any failure becomes a cuda::Error naming the call, so that the
// backend turns it into a clear one-line message instead of a crash.
#pragma once

#include <stdexcept>
#include <string>

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

namespace hwnas::prof::cuda {

struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(cudaError_t status, const char* what);
void check(cublasStatus_t status, const char* what);

}  // namespace hwnas::prof::cuda
