// Where parameter values come from: seeded random values (profilers/weight_source.h; latency does
// not depend on values) or a trained checkpoint (weights/checkpoint.h). Values are fp32, in the
// layouts of params.h. An interface only, so that backends and weight files need not know each other.
#pragma once

#include <span>

#include "space/params.h"

namespace hwnas::space {

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  // Writes spec.numel() values of tensor `spec` into dst.
  virtual void fill(const ParamSpec& spec, std::span<float> dst) const = 0;
};

}  // namespace hwnas::space
