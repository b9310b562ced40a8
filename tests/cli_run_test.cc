// hwnas run end to end: seeded weights written by `weights init` in a checkpoint convention, an
// input written as .npy, the logits `run` writes compared with the naive reference on the same
// weights (by hwnas name) and input; bad inputs refused with one line, nothing written.
#include "cli_run.h"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "backend_cases.h"
#include "backend_compare.h"
#include "reference/reference.h"
#include "space/arch_json.h"
#include "weights/npy.h"
#include "weights/safetensors.h"

namespace {

using namespace hwnas;

// The convention each case's shape of network comes from, so that the names are exercised too.
std::string names_for(const std::string& c) {
  if (c.starts_with("deit_like")) return "timm-vit";
  if (c.starts_with("litv2_like")) return "lit";
  if (c.starts_with("swin_like")) return "timm-swin";
  if (c.starts_with("pvt_like")) return "timm-pvt";
  return "hwnas";
}

class CliRunCase : public testing::TestWithParam<Case> {};

TEST_P(CliRunCase, LogitsEqualTheReferenceOnTheSameCheckpoint) {
  const Case& c = GetParam();
  auto arch = space::parse_arch(c.json, c.name);
  ASSERT_TRUE(arch) << arch.error().message;
  auto net = space::lower(*arch);
  ASSERT_TRUE(net);
  const std::string file = temp_file(std::string(c.name) + ".json", c.json);
  const std::string w = tmp(std::string(c.name) + ".safetensors"), x = tmp(std::string(c.name) + "_x.npy"),
                    out = tmp(std::string(c.name) + "_logits.npy"), js = tmp(std::string(c.name) + ".json.out");
  const std::string names = names_for(c.name);
  const CliRun init = run("weights init " + file + " --seed 99 --names " + names + " -o " + w);
  ASSERT_EQ(init.code, 0) << init.out;

  const std::int64_t batch = 2;
  const std::vector<std::int64_t> shape = {batch, arch->input.channels, arch->input.height, arch->input.width};
  const auto input = random_input(numel(shape), 5);
  ASSERT_TRUE(weights::write_npy(x, shape, input));
  const CliRun r = run("run " + file + " --weights " + w + " --names " + names + " --input " + x + " --logits " + out +
                       " --json " + js + " --top 2");
  ASSERT_EQ(r.code, 0) << r.out;

  auto logits = weights::read_npy(out);
  ASSERT_TRUE(logits) << logits.error().message;
  EXPECT_EQ(logits->shape, (std::vector<std::int64_t>{batch, arch->input.classes}));
  const prof::RandomWeights same(99);  // what `weights init --seed 99` wrote, by hwnas name
  const auto ref = ref::run_units(*arch, *net, 0, static_cast<int>(net->units.size()) - 1, same, input, batch);
  EXPECT_LT(relative_error(logits->values, ref), 1e-4) << c.name;

  // The JSON record: per input the top-2 classes, the first being the arg max of the logits.
  const auto record = nlohmann::json::parse(read_text(js));
  ASSERT_EQ(record["inputs"].size(), 2u);
  for (std::int64_t i = 0; i < batch; ++i) {
    const auto* row = ref.data() + i * arch->input.classes;
    const auto best = std::max_element(row, row + arch->input.classes) - row;
    EXPECT_EQ(record["inputs"][i]["top"][0]["class"].get<std::int64_t>(), best);
    EXPECT_EQ(record["inputs"][i]["logits"].size(), static_cast<std::size_t>(arch->input.classes));
  }
  EXPECT_EQ(record["names"], names);
}

INSTANTIATE_TEST_SUITE_P(Cases, CliRunCase, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

TEST(CliRun, BadInputsAreOneLineErrorsAndWriteNothing) {
  const std::string w = tmp("dt.safetensors"), x = tmp("wrong_x.npy"), out = tmp("never.npy");
  ASSERT_EQ(run("weights init --preset deit-tiny -o " + w).code, 0);
  ASSERT_TRUE(weights::write_npy(x, {1, 3, 32, 32}, std::vector<float>(3 * 32 * 32, 0.5f)));
  struct Bad {
    std::string args, says;
  };
  const Bad bad[] = {
      {"run --preset deit-tiny --weights " + w + " --input " + x, x + ": shape [1, 3, 32, 32] does not fit"},
      {"run --preset deit-small --weights " + w + " --input " + x,
       w + ": does not fit the architecture (timm-vit names): 151 problem(s): mis-shaped: patch_embed.proj.weight"},
      {"run --preset deit-tiny --weights " + w + " --names hwnas --input " + x, "missing: stem.proj.weight"},
      {"run --preset deit-tiny --weights " + tmp("absent.safetensors") + " --input " + x, "absent.safetensors"},
      {"run --preset deit-tiny --weights " + w + " --image " + w, w + ": not an image hwnas reads"},
      {"run --preset deit-tiny --weights " + w, "give exactly one of --input"},
      {"run --preset deit-tiny --input " + x, "--weights W.safetensors is required"},
      {"run --preset deit-tiny --weights " + w + " --input " + w, w + ": not a .npy file"},
  };
  for (const Bad& b : bad) {
    const CliRun r = run(b.args + " --logits " + out);
    EXPECT_EQ(r.code, 2) << b.args << "\n" << r.out;
    EXPECT_NE(r.out.find(b.says), std::string::npos) << b.args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_FALSE(std::filesystem::exists(out)) << b.args;
  }
}

// export --format pytorch of a timm-named checkpoint: the weights file beside the module holds the
// same tensors under hwnas's names (the module's state_dict keys).
TEST(CliExport, PytorchWeightsAreTheCheckpointsUnderHwnasNames) {
  const std::string w = tmp("pt_dt.safetensors"), py = tmp("pt_dt_module.py");
  ASSERT_EQ(run("weights init --preset deit-tiny --seed 7 -o " + w).code, 0);
  const CliRun r = run("export --preset deit-tiny --weights " + w + " --format pytorch -o " + py);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(read_text(py).find("class Net(nn.Module):"), std::string::npos);
  auto in = weights::SafetensorsFile::open(w);
  auto out = weights::SafetensorsFile::open(tmp("pt_dt_module.safetensors"));
  ASSERT_TRUE(in && out);
  ASSERT_EQ(out->tensors().size(), in->tensors().size());
  for (const auto& [timm, hw] :
       {std::pair<const char*, const char*>{"blocks.3.attn.qkv.weight", "stages.0.blocks.3.attn.qkv.weight"},
        {"patch_embed.proj.bias", "stem.proj.bias"},
        {"cls_token", "stem.cls_token"},
        {"head.weight", "head.fc.weight"}}) {
    const auto* a = in->find(timm);
    const auto* b = out->find(hw);
    ASSERT_TRUE(a && b) << timm;
    std::vector<float> va(static_cast<std::size_t>(a->numel())), vb(va.size());
    ASSERT_EQ(b->numel(), a->numel());
    ASSERT_TRUE(in->read_f32(*a, va) && out->read_f32(*b, vb));
    EXPECT_EQ(va, vb) << timm;
  }
}

TEST(CliExport, BadInputsAreOneLineErrorsAndWriteNothing) {
  const std::string w = tmp("ex_dt.safetensors"), py = tmp("never_module.py");
  ASSERT_EQ(run("weights init --preset deit-tiny -o " + w).code, 0);
  struct Bad {
    std::string args, says;
  };
  const Bad bad[] = {
      {"export --preset deit-tiny --format pytorch -o " + tmp("never.onnx"), "a PyTorch export is a .py file"},
      {"export --preset deit-tiny --format tflite -o " + py, "--format: must be onnx or pytorch"},
      {"export --preset deit-small --weights " + w + " --format pytorch -o " + py,
       "mis-shaped: patch_embed.proj.weight"},
      {"export --preset deit-tiny --format pytorch", "-o OUT is required"},
  };
  for (const Bad& b : bad) {
    const CliRun r = run(b.args);
    EXPECT_EQ(r.code, 2) << b.args << "\n" << r.out;
    EXPECT_NE(r.out.find(b.says), std::string::npos) << b.args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }
  for (const char* f : {"never_module.py", "never_module.safetensors", "never.onnx", "never.safetensors"})
    EXPECT_FALSE(std::filesystem::exists(tmp(f))) << f;
}

}  // namespace
