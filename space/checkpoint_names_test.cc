// Checkpoint names against the layouts of the source projects (weights/CHECKPOINTS.md): DeiT-S's
// complete timm key set written out independently, and the renaming rules of Swin, PVTv2 and LIT.
#include "space/checkpoint_names.h"

#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "space/params.h"
#include "space/presets.h"

namespace hwnas::space {
namespace {

using Shape = std::vector<std::int64_t>;

TEST(CheckpointNames, DeitSmallIsExactlyTimmsStateDict) {
  const Arch a = preset("deit-small").value();
  ASSERT_EQ(default_convention(a), Convention::timm_vit);
  // timm VisionTransformer(patch 16, D 384, 12 blocks, 6 heads, mlp 4x, cls token, 1000 classes).
  std::map<std::string, Shape> want = {
      {"cls_token", {1, 1, 384}},       {"pos_embed", {1, 197, 384}}, {"patch_embed.proj.weight", {384, 3, 16, 16}},
      {"patch_embed.proj.bias", {384}}, {"norm.weight", {384}},       {"norm.bias", {384}},
      {"head.weight", {1000, 384}},     {"head.bias", {1000}}};
  for (int b = 0; b < 12; ++b) {
    const std::string p = "blocks." + std::to_string(b) + ".";
    for (const char* n : {"norm1", "norm2"}) {
      want[p + n + ".weight"] = {384};
      want[p + n + ".bias"] = {384};
    }
    want[p + "attn.qkv.weight"] = {1152, 384};
    want[p + "attn.qkv.bias"] = {1152};
    want[p + "attn.proj.weight"] = {384, 384};
    want[p + "attn.proj.bias"] = {384};
    want[p + "mlp.fc1.weight"] = {1536, 384};
    want[p + "mlp.fc1.bias"] = {1536};
    want[p + "mlp.fc2.weight"] = {384, 1536};
    want[p + "mlp.fc2.bias"] = {384};
  }
  std::map<std::string, Shape> got;
  for (const ParamSpec& s : param_specs(lower(a).value())) got[checkpoint_name(s.name, Convention::timm_vit)] = s.shape;
  EXPECT_EQ(got, want);
}

TEST(CheckpointNames, RenamingRulesOfEachFamily) {
  EXPECT_EQ(checkpoint_name("stages.0.blocks.1.attn.core.rel_pos_table", Convention::timm_swin),
            "layers.0.blocks.1.attn.relative_position_bias_table");
  EXPECT_EQ(checkpoint_name("stages.2.downsample.reduction.weight", Convention::timm_swin),
            "layers.2.downsample.reduction.weight");  // timm >= 0.9: merge at the stage start
  EXPECT_EQ(checkpoint_name("head.fc.weight", Convention::timm_swin), "head.fc.weight");
  EXPECT_EQ(checkpoint_name("head.norm.bias", Convention::timm_swin), "norm.bias");
  EXPECT_EQ(checkpoint_name("stem.norm.weight", Convention::timm_pvt), "patch_embed.norm.weight");
  EXPECT_EQ(checkpoint_name("stages.1.downsample.proj.weight", Convention::timm_pvt),
            "stages.1.downsample.proj.weight");
  EXPECT_EQ(checkpoint_name("stages.3.norm.weight", Convention::timm_pvt), "stages.3.norm.weight");
  EXPECT_EQ(checkpoint_name("head.fc.bias", Convention::timm_pvt), "head.bias");
  EXPECT_EQ(checkpoint_name("stages.1.downsample.norm.running_var", Convention::lit),
            "layers.0.downsample.norm_layer.running_var");
  EXPECT_EQ(checkpoint_name("stages.3.downsample.dconv.conv_offset.weight", Convention::lit),
            "layers.2.downsample.dconv.conv_offset.weight");
  EXPECT_EQ(checkpoint_name("stages.0.blocks.1.mlp.dwconv.weight", Convention::lit),
            "layers.0.blocks.1.mlp.dwconv.dwconv.weight");
  EXPECT_EQ(checkpoint_name("stages.2.blocks.5.attn.l_kv.weight", Convention::lit),
            "layers.2.blocks.5.attn.l_kv.weight");
  EXPECT_EQ(checkpoint_name("stages.2.blocks.0.attn.qkv.weight", Convention::hwnas),
            "stages.2.blocks.0.attn.qkv.weight");
  EXPECT_TRUE(derived_checkpoint_tensor("layers.0.downsample.norm_layer.num_batches_tracked"));
  EXPECT_TRUE(derived_checkpoint_tensor("layers.0.blocks.1.attn.relative_position_index"));
  EXPECT_FALSE(derived_checkpoint_tensor("layers.0.blocks.1.attn.relative_position_bias_table"));
}

TEST(CheckpointNames, EveryPresetHasDistinctNamesInItsConvention) {
  for (const auto& info : presets()) {
    const Arch a = preset(info.name).value();
    std::set<std::string> names;
    std::size_t n = 0;
    for (const ParamSpec& s : param_specs(lower(a).value())) {
      names.insert(checkpoint_name(s.name, default_convention(a)));
      ++n;
    }
    EXPECT_EQ(names.size(), n) << info.name;
  }
  for (auto c : convention_names()) EXPECT_EQ(name_of(*convention_from(c)), c);
}

}  // namespace
}  // namespace hwnas::space
