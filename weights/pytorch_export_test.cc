// PyTorch export: the module source defines exactly the classes its Net constructs (one per kind
// used, none unused), carries the architecture's LayerNorm eps, and the safetensors written beside
// it hold exactly the network's parameters under hwnas's names with the weight source's values. That
// the module loads them (strict) and computes hwnas's logits is the peer test's (tests/peers).
#include "weights/pytorch_export.h"

#include <filesystem>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "space/arch_json.h"
#include "space/params.h"
#include "space/presets.h"
#include "tests/scratch.h"
#include "weights/safetensors.h"

namespace hwnas::weights {
namespace {

namespace fs = std::filesystem;

class Counting final : public space::WeightSource {
 public:
  void fill(const space::ParamSpec& spec, std::span<float> dst) const override {
    for (std::size_t i = 0; i < dst.size(); ++i)
      dst[i] = static_cast<float>(spec.numel() % 89) + static_cast<float>(i) * 1e-6f;
  }
};

std::set<std::string> matches(const std::string& text, const std::string& pattern) {
  std::set<std::string> out;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    out.insert((*it)[1].str());
  return out;
}

// The classes the file defines, and those Net's constructor calls (CapitalisedName( in __init__).
struct Classes {
  std::set<std::string> defined, constructed;
};
Classes classes_of(const std::string& py) {
  const std::size_t init = py.find("class Net(nn.Module):");
  const std::size_t forward = py.find("    def forward(self, images):", init);
  EXPECT_NE(init, std::string::npos);
  EXPECT_NE(forward, std::string::npos);
  Classes c{matches(py, R"(\nclass (\w+)\()"), matches(py.substr(init, forward - init), R"(\b([A-Z]\w*)\()")};
  c.defined.erase("Net");
  for (const char* torch_or_self : {"Net", "ModuleList", "LayerNorm"}) c.constructed.erase(torch_or_self);
  return c;
}

std::string source_of(const space::Arch& arch) {
  auto py = pytorch_source(arch, {"test", "random with seed 1"});
  EXPECT_TRUE(py) << py.error().message;
  return py ? *py : std::string();
}

TEST(PytorchExport, DefinesOneClassPerKindUsedAndNoOther) {
  struct Case {
    const char* preset;
    std::set<std::string> classes;  // constructed by Net
  };
  const Case cases[] = {
      {"deit-tiny", {"PatchEmbed", "Stage", "Block", "Attention", "Mlp", "Head"}},
      {"litv2-s", {"PatchEmbed", "Stage", "Block", "ConvFfn", "DeformTokenMerge", "HiLo", "Head"}},
      {"swin-t", {"PatchEmbed", "Stage", "Block", "WindowAttention", "Mlp", "PatchMerging", "Head"}},
      {"pvtv2-b0", {"PatchEmbed", "Stage", "Block", "SRAttention", "ConvFfn", "Head"}},
      {"lit-s", {"PatchEmbed", "Stage", "Block", "Attention", "Mlp", "DeformTokenMerge", "Head"}},
      {"spvit-deit-tiny", {"PatchEmbed", "Stage", "Block", "Attention", "BConv", "Mlp", "Head"}},
  };
  for (const Case& c : cases) {
    auto arch = space::preset(c.preset);
    ASSERT_TRUE(arch);
    const Classes got = classes_of(source_of(*arch));
    EXPECT_EQ(got.constructed, c.classes) << c.preset;
    // Defined: what Net constructs plus the bases and parts those use, nothing else.
    std::set<std::string> parts = c.classes;
    parts.insert("TokenEmbed");
    if (c.classes.count("DeformTokenMerge") != 0) parts.insert("DeformConv2d");
    if (c.classes.count("WindowAttention") != 0 || std::string(c.preset) == "lit-s")
      parts.insert("RelativePositionBias");
    EXPECT_EQ(got.defined, parts) << c.preset;
  }
}

TEST(PytorchExport, CarriesTheArchitecturesNormEpsAndShapes) {
  auto arch = space::preset("pvtv2-b0");  // blocks 1e-6, patch embeds and SRA norm 1e-5
  ASSERT_TRUE(arch);
  const std::string py = source_of(*arch);
  EXPECT_NE(py.find("\nNORM_EPS = 1e-06"), std::string::npos);
  EXPECT_NE(py.find("\nEMBED_NORM_EPS = 1e-05"), std::string::npos);
  EXPECT_NE(py.find("PatchEmbed(3, 32, kernel=7, stride=4, padding=3, norm=True)"), std::string::npos);
  EXPECT_NE(py.find("SRAttention(32, 1, ratio=8)"), std::string::npos);
  EXPECT_NE(py.find("norm=nn.LayerNorm(256, eps=NORM_EPS)"), std::string::npos);

  auto net = space::parse_arch(
      R"({"input": {"resolution": 32, "classes": 7}, "stem": {"kind": "patch", "kernel": 4}, "stages": [
          {"dim": 16, "heads": 2, "blocks": [{"mixer": {"kind": "window", "size": 4, "shift": true}, "ffn": "none"},
                                             {"mixer": {"kind": "hilo", "alpha": 0.5, "window": 3}, "ffn": "none"},
                                             {"mixer": "normskip", "ffn": {"kind": "mlp", "hidden": 8}, "pool": true}]}],
          "head": {"kind": "mean", "norm": false}})",
      "net.json");
  ASSERT_TRUE(net) << net.error().message;
  const std::string small = source_of(*net);
  EXPECT_NE(small.find("WindowAttention(16, 2, window=4, shift=2, grid=(8, 8))"), std::string::npos) << small;
  EXPECT_NE(small.find("HiLo(16, 2, lofi_heads=1, window=3)"), std::string::npos);
  EXPECT_NE(small.find("Block(16, mlp=Mlp(16, 8), normskip=True, pooled_tokens=31)"), std::string::npos);
  EXPECT_NE(small.find("Head(16, 7, pool=\"mean\", norm=False)"), std::string::npos);
}

TEST(PytorchExport, WritesTheNetworksParametersBesideTheModule) {
  auto arch = space::preset("litv2-s");
  ASSERT_TRUE(arch);
  const fs::path dir = fs::path(test::scratch_path("pt"));
  fs::create_directories(dir);
  const std::string py = (dir / "m.py").string();
  ASSERT_EQ(pytorch_weights_path(py), (dir / "m.safetensors").string());
  auto put = write_pytorch(py, *arch, Counting{}, {"test", "random with seed 1"});
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_TRUE(fs::exists(py));
  auto file = SafetensorsFile::open(pytorch_weights_path(py));
  ASSERT_TRUE(file) << file.error().message;
  auto net = space::lower(*arch);
  ASSERT_TRUE(net);
  const auto specs = space::param_specs(*net);
  ASSERT_EQ(file->tensors().size(), specs.size());
  const Counting values;
  for (const space::ParamSpec& s : specs) {
    const TensorInfo* t = file->find(s.name);
    ASSERT_NE(t, nullptr) << s.name;
    EXPECT_EQ(t->shape, s.shape) << s.name;
    std::vector<float> want(static_cast<std::size_t>(s.numel())), got(want.size());
    values.fill(s, want);
    ASSERT_TRUE(file->read_f32(*t, got));
    EXPECT_EQ(got, want) << s.name;
  }
  EXPECT_EQ(file->metadata().at("format"), "pt");
  fs::remove_all(dir);
}

TEST(PytorchExport, RefusesAModulePathThatIsNotPythonAndWritesNothing) {
  auto arch = space::preset("deit-tiny");
  ASSERT_TRUE(arch);
  const fs::path dir = fs::path(test::scratch_path("pt_bad"));
  fs::create_directories(dir);
  auto r = write_pytorch((dir / "m.onnx").string(), *arch, Counting{}, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("m.onnx"), std::string::npos) << r.error().message;
  EXPECT_TRUE(fs::is_empty(dir));
  r = write_pytorch("/nonexistent-dir/m.py", *arch, Counting{}, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/nonexistent-dir/m.safetensors"), std::string::npos) << r.error().message;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hwnas::weights
