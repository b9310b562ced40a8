// ONNX export: every case network (all mixer/FFN/stem/downsample/head kinds) builds a model that
// ONNX's checker and strict shape inference accept (build_onnx runs both), with input "image" and
// output "logits" [batch, classes] (batch symbolic), and exactly the network's parameters as
// initializers, named in the checkpoint convention, holding the weight source's values.
// Numerical agreement with ONNX Runtime is the peer test's (tests/peers).
#include "weights/onnx_export.h"

#include <cstring>
#include <map>

#include <gtest/gtest.h>

#include "space/arch_json.h"
#include "space/ops.h"
#include "space/params.h"
#include "space/presets.h"
#include "weights/checkpoint.h"

namespace hwnas::weights {
namespace {

// A deterministic source whose values say where they came from: tensor index + element / 1e6.
class Counting final : public space::WeightSource {
 public:
  void fill(const space::ParamSpec& spec, std::span<float> dst) const override {
    for (std::size_t i = 0; i < dst.size(); ++i)
      dst[i] = static_cast<float>(spec.numel() % 97) + static_cast<float>(i) * 1e-6f;
  }
};

const char* const kNets[] = {
    R"({"input": {"resolution": 32, "classes": 7}, "stem": {"kind": "patch", "kernel": 8}, "cls_token": true,
        "head": {"kind": "cls"}, "stages": [{"dim": 32, "heads": 2, "pos_embed": true, "blocks": [
        {"mixer": "msa", "ffn": {"kind": "mlp", "ratio": 2}}, {"mixer": {"kind": "bconv", "kernel": 3}, "ffn": "none"},
        {"mixer": "normskip", "ffn": {"kind": "mlp", "ratio": 1}}]}]})",
    R"({"input": {"resolution": 64, "classes": 5}, "norm_eps": 1e-5, "stem": {"kind": "patch", "kernel": 4, "norm": true},
        "stages": [{"dim": 16, "heads": 1, "blocks": [{"mixer": "none", "ffn": {"kind": "convffn", "ratio": 2}}]},
        {"dim": 32, "heads": 4, "downsample": "dtm", "blocks": [
          {"mixer": {"kind": "hilo", "alpha": 0.5, "window": 3}, "ffn": {"kind": "convffn", "ratio": 2}},
          {"mixer": {"kind": "msa", "rel_pos": true}, "ffn": "none"}]}]})",
    R"({"input": {"resolution": 64, "classes": 6}, "stem": {"kind": "overlap", "kernel": 7, "stride": 4},
        "embed_norm_eps": 1e-5, "stages": [
        {"dim": 16, "heads": 2, "norm_out": true, "blocks": [
          {"mixer": {"kind": "window", "size": 4}, "ffn": {"kind": "mlp", "ratio": 2}},
          {"mixer": {"kind": "window", "size": 4, "shift": true}, "ffn": {"kind": "mlp", "ratio": 2}}]},
        {"dim": 32, "heads": 2, "downsample": "merge", "blocks": [{"mixer": {"kind": "sra", "ratio": 2}, "ffn": "none"}]},
        {"dim": 32, "heads": 2, "downsample": {"kind": "overlap", "kernel": 3, "stride": 2}, "blocks": [
          {"mixer": "msa", "ffn": {"kind": "mlp", "ratio": 2}, "pool": true}]}]})",
};

void expect_model_of(const space::Arch& arch, space::Convention c) {
  auto model = build_onnx(arch, Counting{}, {c, "test"});
  ASSERT_TRUE(model) << model.error().message;
  const onnx::GraphProto& g = model->graph();
  EXPECT_EQ(model->opset_import(0).version(), 17);
  ASSERT_EQ(g.input_size(), 1);
  ASSERT_EQ(g.output_size(), 1);
  EXPECT_EQ(g.input(0).name(), "image");
  EXPECT_EQ(g.output(0).name(), "logits");
  const auto& out = g.output(0).type().tensor_type().shape();
  ASSERT_EQ(out.dim_size(), 2);
  EXPECT_EQ(out.dim(0).dim_param(), "batch");
  EXPECT_EQ(out.dim(1).dim_value(), arch.input.classes);

  auto net = space::lower(arch);
  ASSERT_TRUE(net);
  std::map<std::string, const onnx::TensorProto*> inits;
  for (const auto& t : g.initializer()) inits[t.name()] = &t;
  const Counting values;
  for (const ExpectedTensor& e : expected_tensors(*net, c)) {
    auto it = inits.find(e.name);
    ASSERT_NE(it, inits.end()) << "no initializer " << e.name;
    const onnx::TensorProto& t = *it->second;
    EXPECT_EQ(std::vector<std::int64_t>(t.dims().begin(), t.dims().end()), e.spec.shape) << e.name;
    std::vector<float> want(static_cast<std::size_t>(e.spec.numel())), got(want.size());
    values.fill(e.spec, want);
    ASSERT_EQ(t.raw_data().size(), got.size() * 4) << e.name;
    std::memcpy(got.data(), t.raw_data().data(), t.raw_data().size());
    EXPECT_EQ(got, want) << e.name;
  }
}

TEST(OnnxExport, EveryKindBuildsACheckedModelWithTheNetworksParameters) {
  for (const char* text : kNets) {
    auto arch = space::parse_arch(text, "net.json");
    ASSERT_TRUE(arch) << arch.error().message;
    expect_model_of(*arch, space::Convention::hwnas);
  }
}

TEST(OnnxExport, PresetInitializersCarryTheirProjectsNames) {
  for (const char* name : {"deit-tiny", "litv2-s", "swin-t", "pvtv2-b0"}) {
    auto arch = space::preset(name);
    ASSERT_TRUE(arch);
    expect_model_of(*arch, space::default_convention(*arch));
  }
}

TEST(OnnxExport, AnUnwritablePathIsAnErrorNamingIt) {
  auto arch = space::parse_arch(kNets[0], "net.json");
  ASSERT_TRUE(arch);
  auto r = write_onnx("/nonexistent-dir/m.onnx", *arch, Counting{}, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/nonexistent-dir/m.onnx"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace hwnas::weights
