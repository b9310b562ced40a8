#include "cost_models/holdout.h"

#include <fmt/format.h>

#include "space/canonical.h"
#include "space/presets.h"
#include "space/rng.h"

namespace hwnas::cost {

Result<Holdout> holdout_set(const space::SearchSpace& space) {
  Holdout h;
  for (const space::PresetInfo& p : space::presets()) {
    auto a = space::preset(p.name);
    if (!a) return a.error();
    h.hashes.insert(space::hash_hex(space::arch_hash(*a)));
    h.presets.push_back(std::move(a).value());
  }
  const space::Sampler sampler(space);
  space::Rng rng(kHoldoutSeed);
  for (int i = 0; i < kHoldoutSamples; ++i) {
    auto c = sampler.sample(rng);
    if (!c) return c.error();
    c->arch.meta.name = fmt::format("holdout-{}", i);
    h.hashes.insert(space::hash_hex(space::arch_hash(c->arch)));
    h.samples.push_back(std::move(c->arch));
  }
  return h;
}

std::string leak(const std::vector<std::string>& training_hashes, const Holdout& holdout) {
  for (const std::string& t : training_hashes)
    if (holdout.contains(t))
      return fmt::format("held-out arch {} is in the training data: the evaluation would be optimistic", t);
  return "";
}

}  // namespace hwnas::cost
