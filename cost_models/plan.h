// The calibration plan (nn-Meter style adaptive sampling): a pool of distinct units (stems,
// downsamples, blocks, heads) drawn from random training archs of the search space and of spaces
// around other families (the CLI adds FinerCut removals from every preset), a first round
// that covers every unit group from its smallest to its largest, then rounds that measure where the
// fitted model is worst: candidates near measured units with large residuals, or far from anything
// measured, score highest.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cost_models/features.h"
#include "cost_models/holdout.h"
#include "space/arch.h"
#include "space/result.h"
#include "space/search_space.h"

namespace hwnas::cost {

struct PoolItem {
  std::shared_ptr<const space::Arch> arch;  // the first training arch this unit was found in
  std::string arch_hash;
  int unit = 0;  // index into space::lower(*arch).units
  std::string label;
  Group group;
  UnitFeatures f;
  std::uint64_t signature = 0;  // equal for units with the same group and features
};

struct Pool {
  std::vector<PoolItem> units;                               // distinct units
  std::vector<std::shared_ptr<const space::Arch>> networks;  // training archs, for whole-network runs
};

inline constexpr std::uint64_t kTrainingSeed = 0x7472'6169'6e5f'7365ULL;

// Samples `archs` training archs (never a held-out one), lowers them and keeps one pool item per
// distinct unit; the first `networks` archs also go to the network list. Then `per_neighbour`
// archs of each of `neighbours` (spaces around other families, e.g. FinerCut removals from the
// presets: their block shapes and plain stacks of one block kind), never a held-out one either: their
// units join the pool and the archs the network list, interleaved with the first ones.
Result<Pool> build_pool(const space::SearchSpace& space, const Holdout& holdout, int archs, int networks,
                        std::int64_t batch, std::uint64_t seed = kTrainingSeed,
                        const std::vector<space::SearchSpace>& neighbours = {}, int per_neighbour = 0);

std::uint64_t unit_signature(Group g, const UnitFeatures& f);

class Planner {
 public:
  explicit Planner(const Pool& pool);

  // Marks a pool item measured (from the store or just now), with the model's relative residual
  // there when known.
  void mark_measured(std::size_t item, double rel_residual = 0);
  void set_residual(std::size_t item, double rel_residual);
  bool measured(std::size_t item) const { return measured_[item]; }
  std::size_t remaining() const;

  // Round 0: per group up to `per_group` unmeasured items spread evenly over log MACs.
  std::vector<std::size_t> initial(std::size_t per_group) const;
  // Next `n` unmeasured items by score: |residual of the nearest measured item of the same group| +
  // a distance bonus; a group with nothing measured first. Picks are spread (each pick lowers the
  // score of its neighbours).
  std::vector<std::size_t> next(std::size_t n) const;

 private:
  const Pool& pool_;
  std::vector<std::vector<double>> coords_;  // log-space position per item
  std::vector<bool> measured_;
  std::vector<double> residual_;
};

}  // namespace hwnas::cost
