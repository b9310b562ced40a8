#include "profilers/weight_source.h"

#include <cmath>

#include "space/canonical.h"
#include "space/rng.h"

namespace hwnas::prof {

void RandomWeights::fill(const space::ParamSpec& spec, std::span<float> dst) const {
  space::Rng rng(space::hash64(spec.name) ^ seed_);
  auto uniform = [&](double lo, double hi) { return static_cast<float>(lo + (hi - lo) * rng.uniform()); };
  const double a = 1.0 / std::sqrt(static_cast<double>(std::max<std::int64_t>(spec.fan_in, 1)));
  for (float& v : dst) {
    switch (spec.role) {
      case space::ParamRole::weight: v = uniform(-a, a); break;
      case space::ParamRole::bias: v = uniform(-a, a) * 0.5f; break;
      case space::ParamRole::norm_weight: v = uniform(0.8, 1.2); break;
      case space::ParamRole::norm_bias: v = uniform(-0.1, 0.1); break;
      case space::ParamRole::running_mean: v = uniform(-0.1, 0.1); break;
      case space::ParamRole::running_var: v = uniform(0.5, 1.5); break;
      case space::ParamRole::table:
      case space::ParamRole::embedding: v = uniform(-0.04, 0.04); break;
    }
  }
}

}  // namespace hwnas::prof
