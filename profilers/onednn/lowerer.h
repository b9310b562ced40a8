// Lowers the units of a space::Lowered network onto a Plan: one method per unit kind and mixer/FFN
// kind. Activations are token maps [B, T, C] (C contiguous; spatial tokens row-major, the cls token
// first). A unit never writes its input buffer, so a unit can be timed alone, repeatedly.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "profilers/onednn/kernels.h"
#include "profilers/onednn/plan.h"
#include "profilers/onednn/prims.h"
#include "profilers/weight_source.h"
#include "space/ops.h"
#include "space/params.h"

namespace hwnas::prof::onednn {

// A dense token tensor [B, T, C] in a plan buffer; spatial tokens form an h×w map after `extra`.
struct Tok {
  Buffer* buf = nullptr;
  std::int64_t T = 0, C = 0;
  std::int64_t h = 0, w = 0;  // grid of the spatial tokens (0 after HVT pooling)
  std::int64_t extra = 0;     // cls tokens before the spatial ones
  std::int64_t n() const { return T - extra; }
};

class Lowerer {
 public:
  Lowerer(Plan& plan, const space::Arch& arch, const space::Lowered& net, const WeightSource& weights);

  // Unit u with input `in`; returns its output.
  Tok unit(int u, const Tok& in);
  // The image input of the stem: [B, channels, H, W], fp32 NCHW.
  View image_view();

 private:
  Tok stem(int u, const Tok& in);
  Tok downsample(int u, const Tok& in);
  Tok block(int u, const Tok& in);
  Tok head(int u, const Tok& in);
  Tok mixer(int u, const space::Stage& st, const space::Mixer& m, const Tok& x, Buffer* out);
  Tok ffn(int u, const space::Ffn& f, const Tok& x, Buffer* out);
  Tok stage_norm(int u, int stage, const Tok& x);

  // softmax(q·kᵀ·scale (+ bias))·v for 4-D views [batch, heads, len, d]; `bias` is added to the
  // scores viewed as `bias_view` (dims broadcast where 1).
  void attention(const std::string& name, int u, const View& q, const View& k, const View& v, const View& out,
                 float scale, const std::optional<memory>& bias = std::nullopt, const dims& bias_view = {});

  // q, k, v of a fused qkv linear `name` as three dense [rows, D] matrices in `dst`, the attention
  // scale folded into q.
  void qkv_dense(int u, const std::string& name, const View& src, Buffer* dst, std::int64_t rows_n, std::int64_t D,
                 float scale);

  // Linear `name` (parameters name.weight [out, in] and, if declared, name.bias) from src to dst.
  void linear_param(int u, const std::string& name, const View& src, const View& dst, const Epilogue& ep = {});
  // Conv `name` (name.weight [out, in/groups, k, k] and, if declared, name.bias) on [B, C, H, W] views.
  void conv_param(int u, const std::string& name, const View& src, const View& dst, const ConvGeometry& g,
                  const Epilogue& ep = {});
  // An epilogue that adds `v` (a residual) to the result.
  static Epilogue adds(const View& v) {
    Epilogue ep;
    ep.residual = v;
    return ep;
  }

  // Views of a token tensor.
  View rows(const Tok& t) const;  // [B·T, C]
  View map(const Tok& t) const;   // [B, C, h, w] over the spatial tokens
  View channels(Buffer* b, std::int64_t rows, std::int64_t ld, std::int64_t offset, std::int64_t width) const;
  Tok tok(Buffer* b, std::int64_t T, std::int64_t C, std::int64_t h, std::int64_t w, std::int64_t extra) const;
  Buffer* scratch(const std::string& role) { return plan_.buffer("scratch." + role); }
  // An output stream buffer that is none of `avoid`.
  Buffer* stream(std::initializer_list<const Buffer*> avoid);

  std::vector<float> param(const std::string& name) const;
  const std::vector<float>* bias_or_null(const std::string& name, std::vector<float>& storage) const;
  std::string label(int u) const { return net_.units[static_cast<std::size_t>(u)].label; }
  kernels::Elem elem() const {
    return plan_.act_type() == memory::data_type::f32 ? kernels::Elem::f32 : kernels::Elem::bf16;
  }

  Plan& plan_;
  const space::Arch& arch_;
  const space::Lowered& net_;
  const WeightSource& weights_;
  std::map<std::string, space::ParamSpec> specs_;
  std::int64_t B_;
};

}  // namespace hwnas::prof::onednn
