// The CUDA GPU backend: lowers any Arch (or one unit of it) to cuBLASLt/cuBLAS products and own
// kernels (lowerer.h), fp32, fp16 or bf16; times on the device with CUDA events, eagerly or as a
// CUDA graph; measures the GPU's GEMM peaks and copy bandwidth.
#pragma once

#include <memory>

#include "profilers/backend.h"
#include "profilers/cuda/plan.h"

namespace hwnas::prof::cuda {

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device);
  ~CudaBackend() override;

  std::string name() const override { return "cuda"; }
  const DeviceInfo& device() const override { return device_; }
  std::string unsupported(const space::Arch& arch, const RunConfig& cfg) const override;
  Result<std::unique_ptr<Runnable>> prepare(const space::Arch& arch, Subject subject, const RunConfig& cfg,
                                            const WeightSource& weights) override;
  Clock clock() const override;
  Measurement time(const std::function<void()>& call, const TimingConfig& cfg) override;
  std::string device_state() const override;
  void measure_peaks() override;
  double calibration_us() override;

 private:
  double gemm_gflops(Elem e, std::int64_t n, int reps);
  double copy_gbs();

  std::shared_ptr<Context> ctx_;
  DeviceInfo device_;
  int compute_capability_ = 0;  // major·10 + minor
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

}  // namespace hwnas::prof::cuda
