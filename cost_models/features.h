// Features of a unit (stem, downsample, block, head) for the cost model, computed from the IR only
// (space::lower's op table: MACs, shapes, bytes). Each feature is a work count of one op family at
// the model's batch; a fitted coefficient is then a cost per unit of work (µs per MAC = 1 / attained
// MAC/s, µs per byte = 1 / attained bandwidth, µs per op = dispatch overhead).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "space/arch.h"
#include "space/ops.h"

namespace hwnas::cost {

enum class Feature : std::uint8_t {
  gemm_macs,          // linear layers: multiply-accumulates
  gemm_out_elems,     // linear outputs (rows·out): per-output cost, short reductions
  gemm_weight_elems,  // linear weights (in·out, read once per pass): few rows, weight traffic
  gemm_in_elems,      // linear inputs (rows·in): narrow outputs
  attn_macs,          // q·kᵀ and p·v
  attn_scores,        // score elements (windows·heads·q·kv): softmax, scale, bias
  attn_matrices,      // windows·heads: small batched GEMMs
  conv_macs,          // dense convolutions (patch embeds, SRA reduction, bconv)
  conv_out_elems,     // their outputs
  dwconv_macs,        // depthwise 3×3 (ConvFFN)
  deform_macs,        // DTM's deformable conv
  deform_out_elems,   // its bilinear sampling, per output
  norm_bytes,         // layer/batch norm activations read + written
  eltwise_bytes,      // GELU, ReLU, residual adds
  move_bytes,         // pooling, window partition, gather, pad, concat, token mean/select
  ops,                // ops in the unit (primitive dispatches)
  one,                // per unit: fixed overhead
  kCount
};
inline constexpr std::size_t kFeatureCount = static_cast<std::size_t>(Feature::kCount);
std::string_view name_of(Feature f);

using FeatureVector = std::array<double, kFeatureCount>;

// The roofline's scalars of a unit at batch B: all MACs, and activations (×B) + weights moved.
struct Roofline {
  double macs = 0;   // Σ op.macs · B
  double bytes = 0;  // Σ (in + out bytes) · B + weight bytes
};

struct UnitFeatures {
  FeatureVector x{};
  Roofline roof;
  bool runs = true;  // false: the unit has no ops (space::Unit::runs_nothing); every feature is 0
};

UnitFeatures unit_features(const space::Unit& unit, std::int64_t batch);

// Units are grouped by what runs: the unit kind and its mixer (blocks) or patch kind (stem,
// downsample) or head kind. Each group gets its own coefficients.
struct Group {
  space::UnitKind unit = space::UnitKind::block;
  std::uint8_t sub = 0;  // MixerKind, PatchKind or HeadKind

  bool operator==(const Group&) const = default;
  // Dense index, for tables indexed by group.
  std::size_t index() const { return static_cast<std::size_t>(unit) * 16 + sub; }
};
inline constexpr std::size_t kGroupSlots = static_cast<std::size_t>(space::UnitKind::kCount) * 16;

Group group_of(const space::Arch& arch, const space::Unit& unit);
std::string group_name(Group g);  // "block/hilo", "stem/patch", "downsample/dtm", "head/mean"
std::optional<Group> group_from_name(std::string_view name);

}  // namespace hwnas::cost
