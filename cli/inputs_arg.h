// The inputs of run and compress: one .npy tensor (--input, no preprocessing) or JPEG/PNG images
// (--image FILE..., --images DIR) decoded and preprocessed with timm's evaluation transform.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cli/options.h"
#include "space/arch.h"
#include "weights/eval_transform.h"
#include "weights/npy.h"

namespace hwnas::cli {

// Where the inputs come from: one .npy array, or image files decoded a batch at a time.
struct Inputs {
  std::vector<std::string> sources;  // one per input: "x.npy[3]" or the image path
  std::optional<weights::Array> array;
  std::vector<std::string> images;
  std::int64_t count() const { return static_cast<std::int64_t>(sources.size()); }
};

// --input / --image / --images (exactly one), checked against the architecture's input; UsageError otherwise.
Inputs inputs_from_options(const po::variables_map& vm, const space::Arch& arch);
// Input i as the network takes it (C·H·W values): copied from the array, or decoded and transformed.
void load_input(const Inputs& in, std::int64_t i, const weights::EvalTransform& transform, std::span<float> dst);

}  // namespace hwnas::cli
