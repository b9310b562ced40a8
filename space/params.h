// Parameter tensors of a lowered network: names and shapes (PyTorch layouts), declared once from the
// op table. Linear [out, in] + bias [out]; conv [out, in/groups, k, k] + bias; LayerNorm/BatchNorm
// weight, bias [C] (+ BatchNorm running_mean/var buffers); relative-position tables
// [(2h-1)(2w-1), heads]; position embeddings [1, T, C]; cls token [1, 1, C].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "space/ops.h"

namespace hwnas::space {

enum class ParamRole : std::uint8_t {
  weight,
  bias,
  norm_weight,
  norm_bias,
  running_mean,
  running_var,
  table,
  embedding
};

struct ParamSpec {
  std::string name;  // "stages.2.blocks.3.attn.qkv.weight"
  std::vector<std::int64_t> shape;
  ParamRole role = ParamRole::weight;
  std::int64_t fan_in = 1;  // for initialisation scales
  bool trainable = true;    // false for BatchNorm running statistics (buffers)
  std::int64_t numel() const;
};

// The op's parameters; `prefix` is its unit-qualified name (see param_prefix).
std::vector<ParamSpec> param_specs(const Op& op, const std::string& prefix);
// "stem.proj", "stages.2.blocks.3.attn.qkv", "head.fc"; stage-end norms are "stages.{i}.norm".
std::string param_prefix(const Unit& unit, const Op& op);
std::vector<ParamSpec> param_specs(const Unit& unit);
std::vector<ParamSpec> param_specs(const Lowered& net);

}  // namespace hwnas::space
