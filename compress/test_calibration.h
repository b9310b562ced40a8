// Tests' calibration inputs: `n` Gaussian 3×32×32 images from a seeded generator.
#pragma once

#include <cstdint>
#include <random>

#include "compress/fidelity.h"

namespace hwnas::compress {

inline Calibration gaussian_calibration(std::int64_t n, unsigned seed) {
  Calibration c{std::vector<float>(static_cast<std::size_t>(n * 3 * 32 * 32)), n};
  std::mt19937 gen(seed);
  std::normal_distribution<float> d;
  for (float& v : c.images) v = d(gen);
  return c;
}

}  // namespace hwnas::compress
