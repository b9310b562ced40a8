#include "space/seed_spaces.h"

#include <fmt/format.h>

#include "space/presets.h"

namespace hwnas::space {
namespace {

// SPViT's kept FFN widths are free per block (SEEDS.md §4: deit-small keeps 103..1399 of 1536);
// eighths of the base width cover that range with one gene of 8 choices.
constexpr double kFfnShares[] = {0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0};

Result<SearchSpace> from_base(std::string_view method, const Arch& base, const std::string& base_name) {
  const bool spvit = method == "spvit";
  SearchSpace sp;
  sp.name = fmt::format("{}:{}", method, base_name);
  sp.description = spvit ? fmt::format(
                               "SPViT on {}: per block skip / 1x1 conv / 3x3 conv / MSA, FFN width in "
                               "eighths of the base",
                               base_name)
                         : fmt::format("FinerCut on {}: each attention and FFN sublayer kept or removed", base_name);
  sp.base = base;
  sp.base.stages.clear();
  sp.base.meta = Meta{};
  for (std::size_t s = 0; s < base.stages.size(); ++s) {
    const Stage& st = base.stages[s];
    if (st.blocks.empty()) return Error{fmt::format("{}: stages[{}] has no blocks", base_name, s)};
    StageSpace ss;
    ss.depths = {static_cast<std::int64_t>(st.blocks.size())};
    ss.dims = {st.dim};
    ss.head_dims = {st.dim / st.heads};
    ss.downsamples = {st.downsample};
    ss.pos_embed = st.pos_embed;
    ss.norm_out = st.norm_out;
    const Block& b0 = st.blocks.front();
    for (std::size_t b = 1; b < st.blocks.size(); ++b) {
      const Block& bb = st.blocks[b];
      // A stage-level space has one choice list per stage: its blocks must agree on what they are.
      if (!(bb.mixer == b0.mixer) && !(spvit && bb.mixer.kind == MixerKind::msa && b0.mixer.kind == MixerKind::msa))
        return Error{
            fmt::format("{}: stages[{}].blocks[{}]: mixer {} differs from blocks[0] ({}); {} needs the "
                        "blocks of a stage alike",
                        base_name, s, b, describe(bb.mixer), describe(b0.mixer), method)};
      if (!(bb.ffn == b0.ffn))
        return Error{
            fmt::format("{}: stages[{}].blocks[{}]: FFN {} differs from blocks[0] ({}); {} needs the "
                        "blocks of a stage alike",
                        base_name, s, b, describe(bb.ffn), describe(b0.ffn), method)};
      if (bb.pool_after) return Error{fmt::format("{}: token pooling (HVT) is not supported by {}", base_name, method)};
    }
    if (b0.pool_after) return Error{fmt::format("{}: token pooling (HVT) is not supported by {}", base_name, method)};
    const double ratio = static_cast<double>(b0.ffn.hidden) / static_cast<double>(st.dim);
    ss.ffn_kinds = {b0.ffn.kind};
    if (spvit) {
      if (b0.mixer.kind != MixerKind::msa)
        return Error{fmt::format("{}: stages[{}]: spvit carves convolutions out of MSA; this stage's mixer is {}",
                                 base_name, s, describe(b0.mixer))};
      Mixer msa = b0.mixer;
      ss.mixers = {Mixer{MixerKind::normskip}, Mixer{.kind = MixerKind::bconv, .bconv_kernel = 1},
                   Mixer{.kind = MixerKind::bconv, .bconv_kernel = 3}, msa};
      if (b0.ffn.kind == FfnKind::none) {
        ss.ffn_ratios = {1.0};
      } else {
        for (double share : kFfnShares) ss.ffn_ratios.push_back(ratio * share);
      }
    } else {
      ss.mixers = {b0.mixer};
      ss.ffn_ratios = {b0.ffn.kind == FfnKind::none ? 1.0 : ratio};
      ss.removable = true;
    }
    sp.stages.push_back(std::move(ss));
  }
  return sp;
}

}  // namespace

std::vector<std::string> seed_method_names() {
  return {"spvit", "finercut"};
}

bool is_seed_space_spec(const std::string& spec) {
  for (const auto& m : seed_method_names())
    if (spec.starts_with(m + ":")) return true;
  return false;
}

Result<SearchSpace> seed_space(std::string_view method, const Arch& base, const std::string& base_name) {
  if (method != "spvit" && method != "finercut")
    return Error{fmt::format("unknown seed method '{}' (known: spvit, finercut)", method)};
  return from_base(method, base, base_name);
}

Result<SearchSpace> parse_seed_space(const std::string& spec) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos || !is_seed_space_spec(spec))
    return Error{fmt::format("'{}': a seed-method space is METHOD:BASE with METHOD spvit or finercut", spec)};
  const std::string method = spec.substr(0, colon);
  const std::string base_name = spec.substr(colon + 1);
  if (base_name.empty()) return Error{fmt::format("'{}': no base architecture after '{}:'", spec, method)};
  auto base = load_arch(base_name);
  if (!base) return Error{fmt::format("{}: {}", spec, base.error().message)};
  return seed_space(method, *base, base_name);
}

}  // namespace hwnas::space
