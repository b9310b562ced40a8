// ONNX export of any architecture of the IR: a ModelProto (opset 17, IR version 8) with the weights as
// initializers named in a checkpoint convention, input "image" [batch, C, H, W] and output "logits"
// [batch, classes] with a symbolic batch dimension. Every mixer, FFN, stem, downsample and head kind
// is exported from its definition (SEEDS.md); DTM's deformable sampling uses GridSample. The model
// is validated with ONNX's checker and strict shape inference before it is written.
#pragma once

#include <string>

#include <onnx/onnx_pb.h>

#include "space/arch.h"
#include "space/checkpoint_names.h"
#include "space/result.h"
#include "space/weight_source.h"

namespace hwnas::weights {

struct OnnxExport {
  space::Convention names = space::Convention::hwnas;  // initializer names
  std::string producer_version;                        // hwnas's version, recorded in the model
};

// The model, checked (checker + strict shape inference, output shape [batch, classes]).
Result<onnx::ModelProto> build_onnx(const space::Arch& arch, const space::WeightSource& weights,
                                    const OnnxExport& opts);
// Builds and writes it beside `path`, then renames it into place.
Result<bool> write_onnx(const std::string& path, const space::Arch& arch, const space::WeightSource& weights,
                        const OnnxExport& opts);

}  // namespace hwnas::weights
