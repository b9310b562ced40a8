// A trained checkpoint as the engine's weight source: the tensors an architecture expects (names in a
// checkpoint convention, shapes from space/params.h) checked against a safetensors file, then read
// on demand (F32/F16/BF16 → fp32) straight from the mapped file. Layouts are PyTorch's, as hwnas's
// own, so nothing is transposed (weights/CHECKPOINTS.md).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "space/checkpoint_names.h"
#include "space/ops.h"
#include "space/params.h"
#include "space/weight_source.h"
#include "weights/safetensors.h"

namespace hwnas::weights {

struct ExpectedTensor {
  std::string name;  // in the convention
  space::ParamSpec spec;
};
std::vector<ExpectedTensor> expected_tensors(const space::Lowered& net, space::Convention c);

// Every disagreement of `file` with `expected`, one line each: "missing: NAME (expected [..])",
// "mis-shaped: NAME: expected [..], found [..]", "wrong dtype: NAME: I64 (…)", "unexpected: NAME …".
// Tensors a checkpoint carries that hwnas derives itself are never unexpected.
std::vector<std::string> check_tensors(const SafetensorsFile& file, const std::vector<ExpectedTensor>& expected);

// Writes the network's parameters, taken from `source`, as a safetensors file named in convention
// `c`: trainable tensors stored as `dtype`, BatchNorm statistics as F32 (as PyTorch keeps buffers).
Status write_checkpoint(const std::string& path, const space::Lowered& net, space::Convention c,
                        const space::WeightSource& source, DType dtype = DType::f32,
                        const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

class CheckpointWeights final : public space::WeightSource {
 public:
  // Opens and checks `path` against the network; any disagreement is an error naming the file, the
  // count of problems and the first few.
  static Result<std::unique_ptr<CheckpointWeights>> open(const std::string& path, const space::Lowered& net,
                                                         space::Convention c);
  // `spec` must be one of the network's (by hwnas name); anything else is a programming error.
  void fill(const space::ParamSpec& spec, std::span<float> dst) const override;
  const SafetensorsFile& file() const { return file_; }
  space::Convention convention() const { return convention_; }

 private:
  CheckpointWeights(SafetensorsFile f, space::Convention c) : file_(std::move(f)), convention_(c) {}
  SafetensorsFile file_;
  space::Convention convention_;
  std::map<std::string, const TensorInfo*> by_hwnas_name_;
};

}  // namespace hwnas::weights
