#include "space/params.h"

namespace hwnas::space {

std::int64_t ParamSpec::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string param_prefix(const Unit& unit, const Op& op) {
  return op.name.starts_with("stages.") ? op.name : unit.label + "." + op.name;
}

std::vector<ParamSpec> param_specs(const Op& op, const std::string& prefix) {
  std::vector<ParamSpec> out;
  auto add = [&](std::string suffix, std::vector<std::int64_t> shape, ParamRole role, std::int64_t fan_in,
                 bool trainable = true) {
    out.push_back(
        ParamSpec{suffix.empty() ? prefix : prefix + "." + suffix, std::move(shape), role, fan_in, trainable});
  };
  switch (op.kind) {
    case OpKind::linear:
      add("weight", {op.linear.out, op.linear.in}, ParamRole::weight, op.linear.in);
      if (op.linear.bias) add("bias", {op.linear.out}, ParamRole::bias, op.linear.in);
      break;
    case OpKind::conv2d:
    case OpKind::dwconv2d:
    case OpKind::deform_conv2d: {
      const ConvShape& c = op.conv;
      const std::int64_t fan_in = c.in_c / c.groups * c.kernel * c.kernel;
      add("weight", {c.out_c, c.in_c / c.groups, c.kernel, c.kernel}, ParamRole::weight, fan_in);
      if (c.bias) add("bias", {c.out_c}, ParamRole::bias, fan_in);
      break;
    }
    case OpKind::layer_norm:
    case OpKind::batch_norm: {
      const std::int64_t channels = op.channels;
      add("weight", {channels}, ParamRole::norm_weight, 1);
      add("bias", {channels}, ParamRole::norm_bias, 1);
      if (op.kind == OpKind::batch_norm) {
        add("running_mean", {channels}, ParamRole::running_mean, 1, false);
        add("running_var", {channels}, ParamRole::running_var, 1, false);
      }
      break;
    }
    case OpKind::attention:
      if (op.params > 0) add("rel_pos_table", {op.params / op.attn.heads, op.attn.heads}, ParamRole::table, 1);
      break;
    case OpKind::add:
    case OpKind::concat:
      // Position embeddings [1, T, C] and the cls token [1, 1, C] are the only params of these ops.
      if (op.params > 0) add("", {1, op.params / op.channels, op.channels}, ParamRole::embedding, 1);
      break;
    case OpKind::gelu:
    case OpKind::relu:
    case OpKind::avg_pool2d:
    case OpKind::max_pool1d:
    case OpKind::window_partition:
    case OpKind::patch_gather:
    case OpKind::pad:
    case OpKind::mean_tokens:
    case OpKind::select_token:
    case OpKind::kCount: break;
  }
  return out;
}

std::vector<ParamSpec> param_specs(const Unit& unit) {
  std::vector<ParamSpec> out;
  for (const Op& op : unit.ops) {
    auto p = param_specs(op, param_prefix(unit, op));
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

std::vector<ParamSpec> param_specs(const Lowered& net) {
  std::vector<ParamSpec> out;
  for (const Unit& u : net.units) {
    auto p = param_specs(u);
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

}  // namespace hwnas::space
