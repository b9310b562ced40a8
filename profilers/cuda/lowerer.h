// Lowers the units of a space::Lowered network onto a CUDA Plan, one method per unit kind and
// mixer/FFN kind, mirroring the CPU lowerer (profilers/onednn/lowerer.h): activations are token maps
// [B, T, C] (C contiguous; spatial tokens row-major after `extra` cls tokens), and a unit never
// writes its input buffer. Convolutions run as im2col + cuBLASLt GEMM (depthwise: own kernel).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "profilers/cuda/gemm.h"
#include "profilers/cuda/plan.h"
#include "profilers/weight_source.h"
#include "space/ops.h"
#include "space/params.h"

namespace hwnas::prof::cuda {

struct Tok {
  Buffer* buf = nullptr;
  i64 T = 0, C = 0;
  i64 h = 0, w = 0;  // grid of the spatial tokens (0 after HVT pooling)
  i64 extra = 0;     // cls tokens before the spatial ones
  i64 n() const { return T - extra; }
};

struct ConvGeometry {
  i64 kernel = 1, stride = 1, padding = 0, groups = 1;
};

class Lowerer {
 public:
  Lowerer(Plan& plan, const space::Arch& arch, const space::Lowered& net, const WeightSource& weights);

  Tok unit(int u, const Tok& in);
  // The image input of the stem: [B, channels, H, W], fp32 NCHW.
  View image_view();

 private:
  Tok stem(int u);
  Tok downsample(int u, const Tok& in);
  Tok block(int u, const Tok& in);
  Tok head(int u, const Tok& in);
  Tok mixer(int u, const space::Stage& st, const space::Mixer& m, const Tok& x, Buffer* out);
  Tok hilo(int u, const space::Stage& st, const space::Mixer& m, const Tok& x, const Tok& ln, Buffer* out);
  Tok window(int u, const space::Stage& st, const space::Mixer& m, const Tok& x, const Tok& ln, Buffer* out);
  Tok bconv(int u, const space::Stage& st, const space::Mixer& m, const Tok& x, const Tok& ln, Buffer* out);
  Tok ffn(int u, const space::Ffn& f, const Tok& x, Buffer* out);
  Tok stage_norm(int u, int stage, const Tok& x);

  // softmax(scale·q·kᵀ (+ bias))·v over 4-D views [batch, heads, len, d]; `bias` (fp32, on the
  // device) has bias_rows rows of kv_len, repeating over the score rows.
  void attention(const std::string& name, int u, const View& q, const View& k, const View& v, const View& out,
                 float scale, const float* bias = nullptr, i64 bias_rows = 0);
  void qkv_dense(int u, const std::string& name, const View& src, Buffer* dst, i64 rows_n, i64 D, float scale);
  void linear_param(int u, const std::string& name, const View& src, const View& dst, const Epilogue& ep = {});
  // Linear with explicit weights (BatchNorm folded) under the parameter name `name`.
  void linear_values(int u, const std::string& name, const View& src, const View& dst, const std::vector<float>& w,
                     const std::vector<float>* bias, const Epilogue& ep = {});
  // Convolution `name` of the token map `src` into the dense token map `dst` (its grid is the output).
  void conv_param(int u, const std::string& name, const Tok& src, const Tok& dst, const ConvGeometry& g,
                  const Epilogue& ep = {});
  void conv_values(int u, const std::string& name, const Tok& src, const Tok& dst, const ConvGeometry& g,
                   std::vector<float> w, const std::vector<float>* bias, const Epilogue& ep);
  void layer_norm(int u, const std::string& name, const Tok& src, const Tok& dst, float eps);
  void add_position(int u, const std::string& name, const Tok& x);
  void residual_add(int u, const std::string& name, const View& a, const View& b, const View& out);
  static Epilogue adds(const View& v) {
    Epilogue ep;
    ep.residual = v;
    return ep;
  }

  View rows(const Tok& t) const;
  View channels(Buffer* b, i64 rows, i64 ld, i64 offset, i64 width) const;
  Tok tok(Buffer* b, i64 T, i64 C, i64 h, i64 w, i64 extra) const;
  Buffer* scratch(const std::string& role) { return plan_.buffer("scratch." + role); }
  Buffer* stream(std::initializer_list<const Buffer*> avoid);

  std::vector<float> param(const std::string& name) const;
  bool has_param(const std::string& name) const { return specs_.count(name) != 0; }
  std::vector<float> bias_or_empty(const std::string& name) const;
  std::string label(int u) const { return net_.units[static_cast<std::size_t>(u)].label; }
  float eps() const { return static_cast<float>(arch_.norm_eps); }
  float embed_eps() const { return static_cast<float>(arch_.embed_eps()); }  // patch-embed and SRA norms

  Plan& plan_;
  const space::Arch& arch_;
  const space::Lowered& net_;
  const WeightSource& weights_;
  std::map<std::string, space::ParamSpec> specs_;
  i64 B_;
  Elem e_;
};

}  // namespace hwnas::prof::cuda
