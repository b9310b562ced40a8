#include "space/checkpoint_names.h"

#include <array>
#include <charconv>

namespace hwnas::space {
namespace {

constexpr std::array<std::string_view, 5> kNames = {"hwnas", "timm-vit", "timm-pvt", "timm-swin", "lit"};

bool replace_prefix(std::string& s, std::string_view from, std::string_view to) {
  if (!s.starts_with(from)) return false;
  s.replace(0, from.size(), to);
  return true;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
}

// "stages.{i}.downsample." → "layers.{i-1}.downsample." (LIT/LITv2 and the official Swin keep the
// merge at the end of the previous stage); the rest "stages." → "layers.".
void stages_to_layers(std::string& s, bool downsample_to_previous) {
  if (!s.starts_with("stages.")) return;
  const std::size_t dot = s.find('.', 7);
  int stage = 0;
  if (dot == std::string::npos || std::from_chars(s.data() + 7, s.data() + dot, stage).ec != std::errc{}) return;
  const bool downsample = s.compare(dot, 12, ".downsample.") == 0;
  if (downsample && downsample_to_previous && stage > 0) --stage;
  s = "layers." + std::to_string(stage) + s.substr(dot);
}

}  // namespace

std::string_view name_of(Convention c) {
  return kNames[static_cast<std::size_t>(c)];
}

std::optional<Convention> convention_from(std::string_view s) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == s) return static_cast<Convention>(i);
  return std::nullopt;
}

std::vector<std::string_view> convention_names() {
  return {kNames.begin(), kNames.end()};
}

Convention default_convention(const Arch& arch) {
  const std::string& n = arch.meta.name;
  if (n.starts_with("deit-")) return Convention::timm_vit;
  if (n.starts_with("pvtv2-")) return Convention::timm_pvt;
  if (n == "swin-t") return Convention::timm_swin;
  if (n.starts_with("litv2-") || n.starts_with("lit-")) return Convention::lit;
  return Convention::hwnas;
}

std::string checkpoint_name(std::string_view name, Convention c) {
  std::string s(name);
  if (c == Convention::hwnas) return s;
  // Stem: patch_embed; a ViT's class token and position embedding are top-level.
  if (c == Convention::timm_vit &&
      (replace_prefix(s, "stem.cls_token", "cls_token") || replace_prefix(s, "stem.pos_embed", "pos_embed")))
    return s;
  replace_prefix(s, "stem.", "patch_embed.");
  // Head: the final norm is top-level; the classifier is head (head.fc in new timm Swin).
  replace_prefix(s, "head.norm.", "norm.");
  if (c != Convention::timm_swin) replace_prefix(s, "head.fc.", "head.");
  replace_all(s, ".attn.core.rel_pos_table", ".attn.relative_position_bias_table");
  switch (c) {
    case Convention::timm_vit: replace_prefix(s, "stages.0.blocks.", "blocks."); break;
    case Convention::timm_swin: stages_to_layers(s, false); break;
    case Convention::lit:
      stages_to_layers(s, true);
      replace_all(s, ".downsample.norm.", ".downsample.norm_layer.");
      replace_all(s, ".mlp.dwconv.", ".mlp.dwconv.dwconv.");
      break;
    case Convention::hwnas:
    case Convention::timm_pvt: break;
  }
  return s;
}

bool derived_checkpoint_tensor(std::string_view name) {
  return name.ends_with(".num_batches_tracked") || name.ends_with("relative_position_index") ||
         name.ends_with("attn_mask");
}

}  // namespace hwnas::space
