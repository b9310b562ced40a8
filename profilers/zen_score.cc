#include "profilers/zen_score.h"

#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "space/canonical.h"
#include "space/rng.h"

namespace hwnas::prof {
namespace {

// Standard normal draws (Box-Muller on the portable Rng: the same values everywhere).
class Normal {
 public:
  explicit Normal(std::uint64_t seed) : rng_(seed) {}
  double next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0;
    while (u <= 0) u = rng_.uniform();
    const double v = rng_.uniform();
    const double r = std::sqrt(-2.0 * std::log(u));
    spare_ = r * std::sin(2 * std::numbers::pi * v);
    has_spare_ = true;
    return r * std::cos(2 * std::numbers::pi * v);
  }

 private:
  space::Rng rng_;
  double spare_ = 0;
  bool has_spare_ = false;
};

std::int64_t final_dim(const space::Arch& arch) {
  return arch.stages.empty() ? arch.input.channels : arch.stages.back().dim;
}

}  // namespace

void ZenWeights::fill(const space::ParamSpec& spec, std::span<float> dst) const {
  space::Rng rng(space::hash64(spec.name) ^ seed_);
  // Uniform with the variance of N(0, 1/fan_in): ~15x cheaper to draw than Box-Muller normals, which
  // made filling a 20M-parameter network take seconds.
  const double a = std::sqrt(3.0 / static_cast<double>(std::max<std::int64_t>(spec.fan_in, 1)));
  for (float& v : dst) {
    switch (spec.role) {
      case space::ParamRole::weight: v = static_cast<float>(a * (2 * rng.uniform() - 1)); break;
      case space::ParamRole::bias:
      case space::ParamRole::norm_bias:
      case space::ParamRole::running_mean: v = 0.0f; break;
      case space::ParamRole::norm_weight:
      case space::ParamRole::running_var: v = 1.0f; break;
      case space::ParamRole::table:
      case space::ParamRole::embedding: v = static_cast<float>(0.02 * std::sqrt(3.0) * (2 * rng.uniform() - 1)); break;
    }
  }
}

double zen_score_from(const space::Arch& arch, const Forward& forward, const ZenOptions& opts) {
  const std::int64_t pairs = std::max(opts.pairs, 1);
  const std::int64_t per_image = arch.input.channels * arch.input.height * arch.input.width;
  std::vector<float> images(static_cast<std::size_t>(2 * pairs * per_image));
  Normal n(opts.seed ^ 0x7a656e5f696e7075ULL);
  const auto half = static_cast<std::size_t>(pairs * per_image);
  for (std::size_t i = 0; i < half; ++i) {
    const double x = n.next();
    images[i] = static_cast<float>(x);
    images[half + i] = static_cast<float>(x + opts.alpha * n.next());
  }
  const std::vector<float> logits = forward(images, 2 * pairs);
  const std::size_t classes = logits.size() / static_cast<std::size_t>(2 * pairs);
  const std::size_t off = static_cast<std::size_t>(pairs) * classes;
  double mean_norm = 0;
  for (std::int64_t p = 0; p < pairs; ++p) {
    double ss = 0;
    for (std::size_t c = 0; c < classes; ++c) {
      const std::size_t i = static_cast<std::size_t>(p) * classes + c;
      const double d = static_cast<double>(logits[i]) - static_cast<double>(logits[off + i]);
      ss += d * d;
    }
    mean_norm += std::sqrt(ss) / static_cast<double>(pairs);
  }
  const double head_gain = static_cast<double>(classes) / static_cast<double>(final_dim(arch));
  return std::log(std::max(mean_norm, 1e-300)) - 0.5 * std::log(head_gain);
}

Result<double> zen_score(Backend& backend, const space::Arch& arch, const ZenOptions& opts) {
  RunConfig cfg;
  cfg.batch = 2 * std::max(opts.pairs, 1);
  cfg.threads = opts.threads;
  if (auto why = backend.unsupported(arch, cfg); !why.empty()) return Error{why};
  const ZenWeights weights(opts.seed);
  auto run = backend.prepare(arch, Subject::network(), cfg, weights);
  if (!run) return run.error();
  Runnable& r = **run;
  const double score = zen_score_from(
      arch,
      [&](std::span<const float> images, std::int64_t) {
        r.set_input(images);
        r.run();
        return r.output();
      },
      opts);
  if (!std::isfinite(score)) return Error{fmt::format("zen-score is not finite ({})", score)};
  return score;
}

}  // namespace hwnas::prof
