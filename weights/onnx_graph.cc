#include "weights/onnx_graph.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace hwnas::weights::onnx_export {

onnx::AttributeProto attr(const std::string& name, i64 v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(v);
  return a;
}
onnx::AttributeProto attr(const std::string& name, float v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(v);
  return a;
}
onnx::AttributeProto attr(const std::string& name, const std::vector<i64>& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (i64 x : v) a.add_ints(x);
  return a;
}
onnx::AttributeProto attr(const std::string& name, const std::string& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRING);
  a.set_s(v);
  return a;
}

Graph::Graph(onnx::GraphProto* g, const std::vector<space::ParamSpec>& specs, const space::WeightSource& weights,
             std::map<std::string, std::string> names)
    : g_(g), weights_(weights), names_(std::move(names)) {
  for (const space::ParamSpec& s : specs) specs_.emplace(s.name, s);
}

std::string Graph::fresh(const std::string& hint) {
  return fmt::format("{}:{}", hint, counter_++);
}

std::string Graph::node(const std::string& op, const std::vector<std::string>& inputs, const std::string& scope,
                        const std::vector<onnx::AttributeProto>& attrs, int outputs,
                        std::vector<std::string>* all_outputs) {
  onnx::NodeProto* n = g_->add_node();
  n->set_op_type(op);
  n->set_name(fresh(scope + "/" + op));
  for (const std::string& in : inputs) n->add_input(in);
  std::string first;
  for (int i = 0; i < outputs; ++i) {
    const std::string out = fresh(scope + "/" + op + "_out");
    n->add_output(out);
    if (i == 0) first = out;
    if (all_outputs) all_outputs->push_back(out);
  }
  for (const onnx::AttributeProto& a : attrs) *n->add_attribute() = a;
  return first;
}

std::string Graph::ints(const std::vector<i64>& v) {
  onnx::TensorProto* t = g_->add_initializer();
  const std::string name = fresh("const_i64");
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(static_cast<i64>(v.size()));
  for (i64 x : v) t->add_int64_data(x);
  return name;
}

std::string Graph::floats(const std::vector<float>& v, const std::vector<i64>& shape) {
  onnx::TensorProto* t = g_->add_initializer();
  const std::string name = fresh("const_f32");
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (i64 d : shape) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
  return name;
}

std::string Graph::scalar(float v) {
  return floats({v}, {});
}

const space::ParamSpec& Graph::spec(const std::string& hwnas_name) const {
  auto it = specs_.find(hwnas_name);
  if (it == specs_.end()) throw std::logic_error("onnx export: the network has no parameter '" + hwnas_name + "'");
  return it->second;
}

std::string Graph::param(const std::string& hwnas_name) {
  const space::ParamSpec& s = spec(hwnas_name);
  auto named = names_.find(hwnas_name);
  const std::string name = named == names_.end() ? hwnas_name : named->second;
  if (added_.insert(hwnas_name).second) {
    std::vector<float> values(static_cast<std::size_t>(s.numel()));
    weights_.fill(s, values);
    onnx::TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (i64 d : s.shape) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  }
  return name;
}

std::vector<std::string> Graph::unused() const {
  std::vector<std::string> out;
  for (const auto& [name, s] : specs_)
    if (added_.count(name) == 0) out.push_back(name);
  return out;
}

std::string Graph::linear(const std::string& x, const std::string& prefix) {
  const std::string wt = transpose(param(prefix + ".weight"), {1, 0}, prefix);
  std::string y = node("MatMul", {x, wt}, prefix);
  if (has_param(prefix + ".bias")) y = node("Add", {y, param(prefix + ".bias")}, prefix);
  return y;
}

std::string Graph::layer_norm(const std::string& x, const std::string& prefix, double eps) {
  return node("LayerNormalization", {x, param(prefix + ".weight"), param(prefix + ".bias")}, prefix,
              {attr("axis", i64{-1}), attr("epsilon", static_cast<float>(eps))});
}

std::string Graph::batch_norm_map(const std::string& map, const std::string& prefix) {
  return node("BatchNormalization",
              {map, param(prefix + ".weight"), param(prefix + ".bias"), param(prefix + ".running_mean"),
               param(prefix + ".running_var")},
              prefix, {attr("epsilon", 1e-5f)});
}

std::string Graph::gelu(const std::string& x, const std::string& scope) {
  const std::string e = node("Erf", {node("Div", {x, scalar(std::sqrt(2.0f))}, scope)}, scope);
  const std::string half_x = node("Mul", {x, scalar(0.5f)}, scope);
  return node("Mul", {half_x, node("Add", {e, scalar(1.0f)}, scope)}, scope);
}

std::string Graph::add(const std::string& a, const std::string& b, const std::string& scope) {
  return node("Add", {a, b}, scope);
}

std::string Graph::reshape(const std::string& x, const std::vector<i64>& shape, const std::string& scope) {
  return node("Reshape", {x, ints(shape)}, scope);
}

std::string Graph::transpose(const std::string& x, const std::vector<i64>& perm, const std::string& scope) {
  return node("Transpose", {x}, scope, {attr("perm", perm)});
}

std::string Graph::slice(const std::string& x, i64 axis, i64 begin, i64 end, const std::string& scope, i64 step) {
  return node("Slice", {x, ints({begin}), ints({end}), ints({axis}), ints({step})}, scope);
}

std::string Graph::concat(const std::vector<std::string>& xs, i64 axis, const std::string& scope) {
  return node("Concat", xs, scope, {attr("axis", axis)});
}

std::string Graph::tokens_to_map(const std::string& x, i64 h, i64 w, i64 c, const std::string& scope) {
  return reshape(transpose(x, {0, 2, 1}, scope), {-1, c, h, w}, scope);
}

std::string Graph::map_to_tokens(const std::string& m, i64 c, const std::string& scope) {
  return transpose(reshape(m, {0, c, -1}, scope), {0, 2, 1}, scope);
}

std::string Graph::conv(const std::string& map, const std::string& prefix, i64 kernel, i64 stride, i64 pad,
                        i64 groups) {
  std::vector<std::string> in = {map, param(prefix + ".weight")};
  if (has_param(prefix + ".bias")) in.push_back(param(prefix + ".bias"));
  return node(
      "Conv", in, prefix,
      {attr("kernel_shape", std::vector<i64>{kernel, kernel}), attr("strides", std::vector<i64>{stride, stride}),
       attr("pads", std::vector<i64>{pad, pad, pad, pad}), attr("group", groups)});
}

std::string Graph::attention(const std::string& q, const std::string& k, const std::string& v, i64 nq, i64 nk,
                             i64 heads, i64 d, const std::string& bias, const std::string& scope, i64 windows) {
  const std::string qh = transpose(reshape(q, {-1, nq, heads, d}, scope), {0, 2, 1, 3}, scope);
  const std::string kt = transpose(reshape(k, {-1, nk, heads, d}, scope), {0, 2, 3, 1}, scope);
  const std::string vh = transpose(reshape(v, {-1, nk, heads, d}, scope), {0, 2, 1, 3}, scope);
  std::string s =
      node("Mul", {node("MatMul", {qh, kt}, scope), scalar(1.0f / std::sqrt(static_cast<float>(d)))}, scope);
  if (!bias.empty() && windows > 0) {
    s = reshape(node("Add", {reshape(s, {-1, windows, heads, nq, nk}, scope), bias}, scope), {-1, heads, nq, nk},
                scope);
  } else if (!bias.empty()) {
    s = node("Add", {s, bias}, scope);
  }
  const std::string p = node("Softmax", {s}, scope, {attr("axis", i64{-1})});
  const std::string o = node("MatMul", {p, vh}, scope);
  return reshape(transpose(o, {0, 2, 1, 3}, scope), {-1, nq, heads * d}, scope);
}

std::string Graph::window_partition(const std::string& grid, i64 h, i64 w, i64 c, i64 ws, const std::string& scope) {
  const std::string r = reshape(grid, {-1, h / ws, ws, w / ws, ws, c}, scope);
  return reshape(transpose(r, {0, 1, 3, 2, 4, 5}, scope), {-1, ws * ws, c}, scope);
}

std::string Graph::window_merge(const std::string& win, i64 h, i64 w, i64 c, i64 ws, const std::string& scope) {
  const std::string r = reshape(win, {-1, h / ws, w / ws, ws, ws, c}, scope);
  return reshape(transpose(r, {0, 1, 3, 2, 4, 5}, scope), {-1, h, w, c}, scope);
}

std::string Graph::roll(const std::string& grid, i64 h, i64 w, i64 s, const std::string& scope) {
  // out[i] = x[(i - s) mod n]: the last s rows first.
  std::string x = grid;
  for (const auto& [axis, n] : {std::pair<i64, i64>{1, h}, std::pair<i64, i64>{2, w}}) {
    const i64 t = (((-s) % n) + n) % n;
    if (t == 0) continue;
    x = concat({slice(x, axis, t, n, scope), slice(x, axis, 0, t, scope)}, axis, scope);
  }
  return x;
}

}  // namespace hwnas::weights::onnx_export
