// A small builder over ONNX's GraphProto (Debian's libonnx-dev, opset 17): nodes, constant and weight
// initializers, and the composite layers a ViT is made of (linear, LayerNorm, exact GELU, multi-head
// attention, token↔map reshapes, windows, cyclic shifts). Activations are token tensors
// [batch, tokens, channels] unless a name says map ([batch, C, H, W]) or grid ([batch, H, W, C]). The
// batch dimension stays symbolic: every Reshape puts -1 there and fixes the rest.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "space/params.h"
#include "space/weight_source.h"

namespace hwnas::weights::onnx_export {

using i64 = std::int64_t;

class Graph {
 public:
  // `names`: hwnas parameter name → initializer name (the checkpoint convention's).
  Graph(onnx::GraphProto* g, const std::vector<space::ParamSpec>& specs, const space::WeightSource& weights,
        std::map<std::string, std::string> names);

  // One node; returns its (first) output. `scope` names the node ("stages.1.blocks.0.attn.qkv/MatMul").
  std::string node(const std::string& op, const std::vector<std::string>& inputs, const std::string& scope,
                   const std::vector<onnx::AttributeProto>& attrs = {}, int outputs = 1,
                   std::vector<std::string>* all_outputs = nullptr);
  std::string ints(const std::vector<i64>& v);  // an int64 constant initializer
  std::string floats(const std::vector<float>& v, const std::vector<i64>& shape);
  std::string scalar(float v);
  // The parameter `hwnas_name` as an initializer (named in the checkpoint convention), added once.
  std::string param(const std::string& hwnas_name);
  bool has_param(const std::string& hwnas_name) const { return specs_.count(hwnas_name) != 0; }
  const space::ParamSpec& spec(const std::string& hwnas_name) const;
  // Parameters never asked for (a bug in the exporter if not empty).
  std::vector<std::string> unused() const;

  // ---- Layers (prefix = hwnas parameter prefix, e.g. "stages.2.blocks.3.attn.qkv") ------------
  std::string linear(const std::string& x, const std::string& prefix);  // x·Wᵀ (+ b) over the last axis
  std::string layer_norm(const std::string& x, const std::string& prefix, double eps);
  std::string batch_norm_map(const std::string& map, const std::string& prefix);  // eval, eps 1e-5
  std::string gelu(const std::string& x, const std::string& scope);               // exact: x·Φ(x) via Erf
  std::string add(const std::string& a, const std::string& b, const std::string& scope);
  std::string reshape(const std::string& x, const std::vector<i64>& shape, const std::string& scope);
  std::string transpose(const std::string& x, const std::vector<i64>& perm, const std::string& scope);
  std::string slice(const std::string& x, i64 axis, i64 begin, i64 end, const std::string& scope, i64 step = 1);
  std::string concat(const std::vector<std::string>& xs, i64 axis, const std::string& scope);
  // Tokens [B, h·w, C] ↔ map [B, C, h, w].
  std::string tokens_to_map(const std::string& x, i64 h, i64 w, i64 c, const std::string& scope);
  std::string map_to_tokens(const std::string& m, i64 c, const std::string& scope);
  // Conv2d `prefix` (weight [O, C/g, k, k], optional bias) on a map.
  std::string conv(const std::string& map, const std::string& prefix, i64 kernel, i64 stride, i64 pad, i64 groups = 1);
  // softmax(q·kᵀ·d^-½ (+ bias))·v with q [B', nq, heads·d], k/v [B', nk, heads·d] → [B', nq, heads·d].
  // `bias` (optional) broadcasts against the scores [B', heads, nq, nk]; with windows > 0 against the
  // scores viewed as [B'/windows, windows, heads, nq, nk] (a bias that differs per window).
  std::string attention(const std::string& q, const std::string& k, const std::string& v, i64 nq, i64 nk, i64 heads,
                        i64 d, const std::string& bias, const std::string& scope, i64 windows = 0);
  // Grid [B, H, W, C] → windows [B·nW, ws², C] (window-major, row-major inside) and back.
  std::string window_partition(const std::string& grid, i64 h, i64 w, i64 c, i64 ws, const std::string& scope);
  std::string window_merge(const std::string& win, i64 h, i64 w, i64 c, i64 ws, const std::string& scope);
  // torch.roll(grid, (s, s), dims (1, 2)) on a grid [B, H, W, C].
  std::string roll(const std::string& grid, i64 h, i64 w, i64 s, const std::string& scope);

 private:
  std::string fresh(const std::string& hint);
  onnx::GraphProto* g_;
  std::map<std::string, space::ParamSpec> specs_;
  const space::WeightSource& weights_;
  std::map<std::string, std::string> names_;
  std::set<std::string> added_;
  int counter_ = 0;
};

onnx::AttributeProto attr(const std::string& name, i64 v);
onnx::AttributeProto attr(const std::string& name, float v);
onnx::AttributeProto attr(const std::string& name, const std::vector<i64>& v);
onnx::AttributeProto attr(const std::string& name, const std::string& v);

}  // namespace hwnas::weights::onnx_export
