// hwnas weights end to end: timm's names for deit-small, a generated file that checks clean, and a
// file with one tensor renamed and one reshaped reported as exactly those (exit 2).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_run.h"
#include "weights/safetensors.h"

namespace {

int lines_with(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(CliWeights, ListNamesEveryTensorWithTimmsNames) {
  const CliRun r = run("weights list --preset deit-small");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* name : {"cls_token ", "pos_embed ", "patch_embed.proj.weight ", "blocks.11.attn.qkv.weight ",
                           "blocks.0.mlp.fc2.bias ", "norm.weight ", "head.weight "})
    EXPECT_NE(r.out.find(std::string("\n") + name), std::string::npos) << name << "\n" << r.out;
  EXPECT_NE(r.out.find("[1152, 384]"), std::string::npos);
  EXPECT_NE(r.out.find("152 tensors, 22050664 values (timm-vit names)"), std::string::npos) << r.out;
  const CliRun hw = run("weights list --preset deit-small --names hwnas");
  EXPECT_NE(hw.out.find("stages.0.blocks.11.attn.qkv.weight"), std::string::npos);
  const CliRun bad = run("weights list --preset deit-small --names torchvision");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("--names: must be one of hwnas, timm-vit, timm-pvt, timm-swin, lit"), std::string::npos);
}

TEST(CliWeights, CheckReportsExactlyTheRenamedAndTheReshapedTensor) {
  const std::string good = tmp("ds.safetensors"), bad = tmp("ds_bad.safetensors");
  const CliRun init = run("weights init --preset deit-small --dtype bf16 -o " + good);
  ASSERT_EQ(init.code, 0) << init.out;
  const CliRun ok = run("weights check --preset deit-small " + good);
  ASSERT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("ok: all 152 tensors of deit-small"), std::string::npos) << ok.out;

  // Rewrite it with blocks.3.attn.qkv.weight renamed and blocks.7.mlp.fc1.bias reshaped.
  auto file = hwnas::weights::SafetensorsFile::open(good);
  ASSERT_TRUE(file) << file.error().message;
  std::vector<std::vector<float>> values;
  std::vector<hwnas::weights::TensorToWrite> out;
  values.reserve(file->tensors().size());
  for (const auto& t : file->tensors()) {
    values.emplace_back(static_cast<std::size_t>(t.numel()));
    ASSERT_TRUE(file->read_f32(t, values.back()));
    hwnas::weights::TensorToWrite w{t.name, t.shape, values.back(), hwnas::weights::DType::f32};
    if (t.name == "blocks.3.attn.qkv.weight") w.name = "blocks.3.attn.qkv_renamed.weight";
    if (t.name == "blocks.7.mlp.fc1.bias") w.shape = {2, 768};
    out.push_back(w);
  }
  out.push_back({"blocks.0.attn.relative_position_index", {0}, {}, hwnas::weights::DType::f32});  // derived: ignored
  ASSERT_TRUE(hwnas::weights::write_safetensors(bad, out));
  const CliRun check = run("weights check --preset deit-small " + bad);
  EXPECT_EQ(check.code, 2) << check.out;
  EXPECT_NE(check.out.find("missing: blocks.3.attn.qkv.weight (expected [1152, 384])"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("unexpected: blocks.3.attn.qkv_renamed.weight F32 [1152, 384]"), std::string::npos)
      << check.out;
  EXPECT_NE(check.out.find("mis-shaped: blocks.7.mlp.fc1.bias: expected [1536], found [2, 768]"), std::string::npos)
      << check.out;
  EXPECT_EQ(lines_with(check.out, bad + ": missing") + lines_with(check.out, bad + ": unexpected") +
                lines_with(check.out, bad + ": mis-shaped"),
            3)
      << check.out;
  EXPECT_NE(check.out.find("3 problem(s) against deit-small"), std::string::npos) << check.out;

  const CliRun none = run("weights check --preset deit-small " + tmp("nope.safetensors"));
  EXPECT_EQ(none.code, 2) << none.out;
  EXPECT_NE(none.out.find("nope.safetensors: No such file or directory"), std::string::npos) << none.out;
}

}  // namespace
