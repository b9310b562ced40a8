#include "profilers/folding.h"

#include <cmath>

#include "space/window_geometry.h"

namespace hwnas::prof {

std::vector<float> relative_bias(const std::vector<float>& table, std::int64_t heads, std::int64_t H, std::int64_t W) {
  const std::int64_t L = H * W;
  const std::vector<std::int64_t> index = space::rel_pos_index(H, W);
  std::vector<float> bias(static_cast<std::size_t>(heads * L * L));
  for (std::int64_t i = 0; i < L * L; ++i)
    for (std::int64_t h = 0; h < heads; ++h)
      bias[static_cast<std::size_t>(h * L * L + i)] =
          table[static_cast<std::size_t>(index[static_cast<std::size_t>(i)] * heads + h)];
  return bias;
}

std::vector<float> window_bias(const std::vector<float>& table, std::int64_t heads, std::int64_t H, std::int64_t W,
                               std::int64_t w, std::int64_t shift) {
  const std::int64_t L = w * w, nw = (H / w) * (W / w), groups = shift > 0 ? nw : 1;
  const auto rel = relative_bias(table, heads, w, w);
  const std::vector<float> mask = shift > 0 ? space::shift_mask(H, W, w, shift) : std::vector<float>{};
  std::vector<float> bias(static_cast<std::size_t>(groups * heads * L * L));
  for (std::int64_t g = 0; g < groups; ++g)
    for (std::int64_t h = 0; h < heads; ++h)
      for (std::int64_t k = 0; k < L * L; ++k)
        bias[static_cast<std::size_t>((g * heads + h) * L * L + k)] =
            rel[static_cast<std::size_t>(h * L * L + k)] +
            (shift > 0 ? mask[static_cast<std::size_t>(g * L * L + k)] : 0.f);
  return bias;
}

void fold_batch_norm(std::vector<float>& weight, std::vector<float>& bias, const std::vector<float>& gamma,
                     const std::vector<float>& beta, const std::vector<float>& mean, const std::vector<float>& var) {
  const std::size_t out = gamma.size(), per = weight.size() / out;
  if (bias.empty()) bias.assign(out, 0.f);
  for (std::size_t o = 0; o < out; ++o) {
    const float s = gamma[o] / std::sqrt(var[o] + 1e-5f);
    for (std::size_t i = 0; i < per; ++i) weight[o * per + i] *= s;
    bias[o] = (bias[o] - mean[o]) * s + beta[o];
  }
}

std::vector<float> taps_outer(const std::vector<float>& weight, std::int64_t out, std::int64_t in, std::int64_t taps) {
  std::vector<float> r(weight.size());
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t c = 0; c < in; ++c)
      for (std::int64_t t = 0; t < taps; ++t)
        r[static_cast<std::size_t>((o * taps + t) * in + c)] =
            weight[static_cast<std::size_t>((o * in + c) * taps + t)];
  return r;
}

}  // namespace hwnas::prof
