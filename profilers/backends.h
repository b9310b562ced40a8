// Backends by device name: "cpu" is the oneDNN engine, "cuda" / "cuda:N" the CUDA engine (built only
// where the toolkit was found; refused with a clear message where no GPU is usable).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "profilers/backend.h"

namespace hwnas::prof {

struct DeviceSpec {
  std::string kind = "cpu";  // "cpu" or "cuda"
  int index = 0;             // GPU ordinal
  std::string str() const;
};
// "cpu", "cuda", "cuda:N"; an error names the rule.
Result<DeviceSpec> parse_device(std::string_view s);

// Whether this build has the CUDA backend.
bool cuda_built();

// threads: CPU threads (0 = all); ignored by the CUDA backend.
Result<std::unique_ptr<Backend>> make_backend(const DeviceSpec& device, int threads);

// Defined by profilers/cuda/cuda_backend.cc, or by profilers/cuda_absent.cc in builds without CUDA.
Result<std::unique_ptr<Backend>> make_cuda_backend(int device);

}  // namespace hwnas::prof
