// Named reference architectures (SEEDS.md §2–§7): DeiT, PVTv2, Swin-T, LITv2, LIT, HVT, SPViT.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "space/arch.h"
#include "space/result.h"

namespace hwnas::space {

struct PresetInfo {
  std::string name;
  std::string family;
  std::string description;
};

const std::vector<PresetInfo>& presets();
// The validated preset, or "unknown preset 'x' (did you mean 'y'?)".
Result<Arch> preset(std::string_view name);

// What the CLI accepts wherever an architecture is expected: a preset name or a JSON file path.
Result<Arch> load_arch(const std::string& preset_or_file);

}  // namespace hwnas::space
