// The oneDNN CPU backend: lowers any Arch (or one unit of it) to oneDNN primitives plus own kernels,
// fp32 or bf16 (bf16 only on CPUs with native AVX512_BF16).
#pragma once

#include <memory>

#include "profilers/backend.h"

namespace hwnas::prof {

class OnednnBackend final : public Backend {
 public:
  // threads = 0: every CPU available to the process. Threads are fixed before any primitive exists.
  explicit OnednnBackend(int threads = 0);

  std::string name() const override { return "onednn"; }
  const DeviceInfo& device() const override { return device_; }
  // For callers that know better peaks (the store's best for this fingerprint).
  DeviceInfo& mutable_device() { return device_; }
  std::string unsupported(const space::Arch& arch, const RunConfig& cfg) const override;
  Result<std::unique_ptr<Runnable>> prepare(const space::Arch& arch, Subject subject, const RunConfig& cfg,
                                            const WeightSource& weights) override;

  // Measures fp32 (and bf16) GEMM peaks with a 2048³ oneDNN matmul and a STREAM-like triad; fills
  // device(). Takes about a second.
  void measure_peaks() override;
  // A short fixed GEMM timing (µs) for the noise gate: re-run it and compare.
  double calibration_us() override;

 private:
  DeviceInfo device_;
};

bool cpu_has_avx512_bf16();

}  // namespace hwnas::prof
