// Checkpoint naming conventions: the names a trained model's tensors carry in the project the
// weights come from, derived from hwnas's own parameter names (params.h) by the rules of
// weights/CHECKPOINTS.md. Shapes and layouts are the same in every convention; only names differ.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "space/arch.h"

namespace hwnas::space {

enum class Convention {
  hwnas,      // params.h names (searched architectures)
  timm_vit,   // timm VisionTransformer / DeiT: blocks.N, patch_embed, cls_token, norm, head
  timm_pvt,   // timm pvt_v2: stages.i as hwnas, patch_embed, head
  timm_swin,  // timm >= 0.9 swin_transformer: layers.i (downsample at the stage start), head.fc
  lit,        // the official LIT / LITv2 repositories: layers.i, downsample at the end of stage i-1
};

std::string_view name_of(Convention c);
std::optional<Convention> convention_from(std::string_view s);
std::vector<std::string_view> convention_names();
// The convention of the project a preset comes from (by its name); hwnas for anything else.
Convention default_convention(const Arch& arch);

// The checkpoint name of hwnas parameter `name` in convention `c`.
std::string checkpoint_name(std::string_view name, Convention c);
// Tensors checkpoints carry that hwnas derives itself (index buffers, masks, BatchNorm counters):
// never reported as unexpected.
bool derived_checkpoint_tensor(std::string_view name);

}  // namespace hwnas::space
