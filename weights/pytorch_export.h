// PyTorch export of any architecture of the IR: one self-contained Python file (torch only) defining
// `Net(nn.Module)` from one class per stem/downsample/mixer/FFN kind the architecture uses
// (weights/pytorch_modules.cc), plus the weights as a .safetensors file beside it whose names are
// the module's own state_dict keys (hwnas's parameter names), so that
//   model = Net(); model.load_state_dict(load_safetensors("OUT.safetensors"))
// works with strict key checking (or `load()` from the file does it). Numerical agreement with
// hwnas's engine is checked by the peer test (tests/peers).
#pragma once

#include <string>

#include "space/arch.h"
#include "space/result.h"
#include "space/weight_source.h"

namespace hwnas::weights {

struct PytorchExport {
  std::string producer_version;  // hwnas's version, recorded in the file
  std::string weights_from;      // where the weights come from: "from W.safetensors", "random with seed 24301"
};

// The Python source for `arch` (validated); an error if it does not lower.
Result<std::string> pytorch_source(const space::Arch& arch, const PytorchExport& opts);
// The weights file that goes with the module file `py_path`: same stem, ".safetensors".
std::string pytorch_weights_path(const std::string& py_path);
// Writes the weights (pytorch_weights_path) and then the module file, each whole or not at all.
// `py_path` must end in ".py".
Result<bool> write_pytorch(const std::string& py_path, const space::Arch& arch, const space::WeightSource& weights,
                           const PytorchExport& opts);

}  // namespace hwnas::weights
