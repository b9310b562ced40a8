// Builds without the CUDA toolkit: the CUDA backend is refused with the reason.
#include "profilers/backends.h"

namespace hwnas::prof {

bool cuda_built() {
  return false;
}

Result<std::unique_ptr<Backend>> make_cuda_backend(int /*device*/) {
  return Error{"this hwnas was built without CUDA (no toolkit found at configure time; HWNAS_CUDA=ON requires one)"};
}

}  // namespace hwnas::prof
