#include "cost_models/features.h"

#include <array>

namespace hwnas::cost {
namespace {

constexpr std::array<std::string_view, kFeatureCount> kFeatureNames = {
    "gemm_macs",     "gemm_out_elems", "gemm_weight_elems", "gemm_in_elems", "attn_macs",   "attn_scores",
    "attn_matrices", "conv_macs",      "conv_out_elems",    "dwconv_macs",   "deform_macs", "deform_out_elems",
    "norm_bytes",    "eltwise_bytes",  "move_bytes",        "ops",           "one"};
static_assert(kFeatureNames.size() == kFeatureCount);

double d(std::int64_t v) {
  return static_cast<double>(v);
}

std::size_t at(Feature f) {
  return static_cast<std::size_t>(f);
}

}  // namespace

std::string_view name_of(Feature f) {
  return kFeatureNames[at(f)];
}

UnitFeatures unit_features(const space::Unit& unit, std::int64_t batch) {
  UnitFeatures r;
  FeatureVector& x = r.x;
  const double b = d(batch);
  double act_bytes = 0, weight_bytes = 0, macs = 0;
  for (const space::Op& op : unit.ops) {
    const double io = d(op.in_bytes) + d(op.out_bytes);
    act_bytes += io;
    weight_bytes += d(op.weight_bytes());
    macs += d(op.macs);
    switch (op.kind) {
      case space::OpKind::linear: {
        const space::LinearShape& s = op.linear;
        x[at(Feature::gemm_macs)] += b * d(op.macs);
        x[at(Feature::gemm_out_elems)] += b * d(s.rows) * d(s.out);
        x[at(Feature::gemm_weight_elems)] += d(s.in) * d(s.out);
        x[at(Feature::gemm_in_elems)] += b * d(s.rows) * d(s.in);
        break;
      }
      case space::OpKind::attention: {
        const space::AttentionShape& s = op.attn;
        x[at(Feature::attn_macs)] += b * d(op.macs);
        x[at(Feature::attn_scores)] += b * d(s.batch()) * d(s.q_len) * d(s.kv_len);
        x[at(Feature::attn_matrices)] += b * d(s.batch());
        break;
      }
      case space::OpKind::conv2d:
        x[at(Feature::conv_macs)] += b * d(op.macs);
        x[at(Feature::conv_out_elems)] += b * d(op.elements);
        break;
      case space::OpKind::dwconv2d: x[at(Feature::dwconv_macs)] += b * d(op.macs); break;
      case space::OpKind::deform_conv2d:
        x[at(Feature::deform_macs)] += b * d(op.macs);
        x[at(Feature::deform_out_elems)] += b * d(op.elements);
        break;
      case space::OpKind::layer_norm:
      case space::OpKind::batch_norm: x[at(Feature::norm_bytes)] += b * io; break;
      case space::OpKind::gelu:
      case space::OpKind::relu:
      case space::OpKind::add: x[at(Feature::eltwise_bytes)] += b * io; break;
      case space::OpKind::avg_pool2d:
      case space::OpKind::max_pool1d:
      case space::OpKind::window_partition:
      case space::OpKind::patch_gather:
      case space::OpKind::pad:
      case space::OpKind::concat:
      case space::OpKind::mean_tokens:
      case space::OpKind::select_token: x[at(Feature::move_bytes)] += b * io; break;
      case space::OpKind::kCount: break;
    }
  }
  x[at(Feature::ops)] = d(static_cast<std::int64_t>(unit.ops.size()));
  r.runs = !unit.runs_nothing();
  x[at(Feature::one)] = r.runs ? 1 : 0;
  r.roof.macs = b * macs;
  r.roof.bytes = b * act_bytes + weight_bytes;
  return r;
}

Group group_of(const space::Arch& arch, const space::Unit& unit) {
  Group g;
  g.unit = unit.kind;
  switch (unit.kind) {
    case space::UnitKind::stem: g.sub = static_cast<std::uint8_t>(arch.stem.kind); break;
    case space::UnitKind::downsample:
      g.sub = static_cast<std::uint8_t>(arch.stages[static_cast<std::size_t>(unit.stage)].downsample.kind);
      break;
    case space::UnitKind::block:
      g.sub = static_cast<std::uint8_t>(
          arch.stages[static_cast<std::size_t>(unit.stage)].blocks[static_cast<std::size_t>(unit.block)].mixer.kind);
      break;
    case space::UnitKind::head: g.sub = static_cast<std::uint8_t>(arch.head.kind); break;
    case space::UnitKind::kCount: break;
  }
  return g;
}

std::string group_name(Group g) {
  std::string sub;
  switch (g.unit) {
    case space::UnitKind::stem:
    case space::UnitKind::downsample: sub = space::name_of(static_cast<space::PatchKind>(g.sub)); break;
    case space::UnitKind::block: sub = space::name_of(static_cast<space::MixerKind>(g.sub)); break;
    case space::UnitKind::head: sub = space::name_of(static_cast<space::HeadKind>(g.sub)); break;
    case space::UnitKind::kCount: break;
  }
  return std::string(space::name_of(g.unit)) + "/" + sub;
}

std::optional<Group> group_from_name(std::string_view name) {
  const auto slash = name.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view unit = name.substr(0, slash), sub = name.substr(slash + 1);
  for (std::size_t u = 0; u < static_cast<std::size_t>(space::UnitKind::kCount); ++u) {
    const auto kind = static_cast<space::UnitKind>(u);
    if (space::name_of(kind) != unit) continue;
    std::optional<std::uint8_t> s;
    switch (kind) {
      case space::UnitKind::stem:
      case space::UnitKind::downsample:
        if (auto p = space::patch_kind_from(sub)) s = static_cast<std::uint8_t>(*p);
        break;
      case space::UnitKind::block:
        if (auto m = space::mixer_kind_from(sub)) s = static_cast<std::uint8_t>(*m);
        break;
      case space::UnitKind::head:
        if (auto h = space::head_kind_from(sub)) s = static_cast<std::uint8_t>(*h);
        break;
      case space::UnitKind::kCount: break;
    }
    if (!s) return std::nullopt;
    return Group{kind, *s};
  }
  return std::nullopt;
}

}  // namespace hwnas::cost
