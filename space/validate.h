// Semantic validation and normalisation of an Arch, whatever its origin (JSON, preset, sampler):
// ranges, divisibility, shape inference through the whole network, 64-bit count overflow.
// Errors name the JSON path and the rule: "stages[2].heads: must divide dim 320 (got 7)".
#pragma once

#include <string>

#include "space/arch.h"
#include "space/result.h"

namespace hwnas::space {

// Limits that keep every count inside 64 bits with room to spare.
inline constexpr std::int64_t kMaxResolution = 16384;
inline constexpr std::int64_t kMaxChannels = 4096;
inline constexpr std::int64_t kMaxClasses = 1'000'000;
inline constexpr std::int64_t kMaxDim = 65536;
inline constexpr std::int64_t kMaxHidden = 1 << 20;
inline constexpr std::int64_t kMaxStages = 16;
inline constexpr std::int64_t kMaxBlocksPerStage = 1024;
inline constexpr std::int64_t kMaxKernel = 64;

// Returns the normalised arch: Swin's rule (a window not smaller than the map becomes the map, no
// shift) and HiLo's (s = 1 means all heads Lo-Fi, alpha = 1) are applied, so equal networks compare
// and hash equal.
Result<Arch> validate(Arch arch);

namespace detail {
class JsonPath;
// Range rules of one stem/downsample or mixer, shared with the search-space loader (throw SpecError).
void check_patch(const Patch& p, const JsonPath& path, bool is_stem);
void check_mixer(const Mixer& m, const JsonPath& path);
}  // namespace detail

}  // namespace hwnas::space
