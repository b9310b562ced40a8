// The held-out split: architectures that are never fitted on, fixed by definition so that every
// command (calibrate, fit, the bench) agrees without storing the split: every preset, and the first
// kHoldoutSamples samples of the search space drawn with kHoldoutSeed. Calibration measures a prefix
// of them (presets and the first N samples) as its evaluation set; fitting excludes all of them.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "space/arch.h"
#include "space/result.h"
#include "space/search_space.h"

namespace hwnas::cost {

inline constexpr std::uint64_t kHoldoutSeed = 0x6877'6e61'735f'686fULL;
inline constexpr int kHoldoutSamples = 200;

struct Holdout {
  std::unordered_set<std::string> hashes;  // presets ∪ the kHoldoutSamples samples
  std::vector<space::Arch> samples;        // the samples, in order (meta.name "holdout-<i>")
  std::vector<space::Arch> presets;

  bool contains(const std::string& arch_hash) const { return hashes.count(arch_hash) != 0; }
};

Result<Holdout> holdout_set(const space::SearchSpace& space);

// Empty when none of `training_hashes` is held out; else an error line naming the first that is.
std::string leak(const std::vector<std::string>& training_hashes, const Holdout& holdout);

}  // namespace hwnas::cost
