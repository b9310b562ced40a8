// The stem, the downsample units (patch/overlap conv, Swin patch merging, LIT's DTM) and the head.
#include <stdexcept>
#include <string>

#include "tests/reference/reference.h"
#include "tests/reference/reference_internal.h"

namespace hwnas::ref::detail {
namespace {

const space::Stage& stage_at(const space::Arch& arch, int s) {
  if (s < 0 || static_cast<std::size_t>(s) >= arch.stages.size())
    throw std::invalid_argument("reference: unit refers to stage " + std::to_string(s) + " of " +
                                std::to_string(arch.stages.size()));
  return arch.stages[static_cast<std::size_t>(s)];
}

// Conv2d `prefix` (weight [out_c, in_c, k, k] + bias) on a channels-last h×w token map; returns the
// output map as tokens, and its grid through oh/ow.
std::vector<float> conv_on_tokens(const UnitParams& p, const std::string& prefix, std::span<const float> x,
                                  std::int64_t h, std::int64_t w, std::int64_t in_c, std::int64_t out_c,
                                  const space::Patch& patch, std::int64_t& oh, std::int64_t& ow) {
  Conv2dArgs a;
  a.in_c = in_c;
  a.in_h = h;
  a.in_w = w;
  a.out_c = out_c;
  a.kernel = patch.kernel;
  a.stride = patch.stride;
  a.padding = patch.padding;
  const std::int64_t k = patch.kernel;
  auto y = conv2d(tokens_to_chw(x, h, w, in_c), a, p.get(prefix + ".weight", out_c * in_c * k * k),
                  p.get(prefix + ".bias", out_c));
  oh = a.out_h();
  ow = a.out_w();
  return chw_to_tokens(y, out_c, oh, ow);
}

}  // namespace

std::vector<float> run_stem(const space::Arch& arch, const space::Unit& unit, const UnitParams& p,
                            std::span<const float> image) {
  const std::int64_t C = arch.input.channels, D = unit.out_dim, k = arch.stem.kernel;
  Conv2dArgs a;
  a.in_c = C;
  a.in_h = arch.input.height;
  a.in_w = arch.input.width;
  a.out_c = D;
  a.kernel = k;
  a.stride = arch.stem.stride;
  a.padding = arch.stem.padding;
  const auto map = conv2d(image, a, p.get("stem.proj.weight", D * C * k * k), p.get("stem.proj.bias", D));
  auto x = chw_to_tokens(map, D, a.out_h(), a.out_w());  // row-major h, w
  const std::int64_t n = a.out_h() * a.out_w();
  if (arch.stem.norm) x = apply_layer_norm(p, "stem.norm", x, n, D, arch.embed_eps());
  if (arch.cls_token) {
    auto cls = p.get("stem.cls_token", D);
    x.insert(x.begin(), cls.begin(), cls.end());
  }
  const std::int64_t T = n + (arch.cls_token ? 1 : 0);
  if (stage_at(arch, 0).pos_embed) add_inplace(x, p.get("stem.pos_embed", T * D));
  return x;
}

std::vector<float> run_downsample(const space::Arch& arch, const space::Unit& unit, const UnitParams& p,
                                  std::span<const float> in) {
  const int s = unit.stage;
  const space::Stage& st = stage_at(arch, s);
  const space::Stage& prev = stage_at(arch, s - 1);
  const std::string pre = unit.label;  // "stages.{s}.downsample"
  std::int64_t h = unit.in.h, w = unit.in.w, D = unit.in_dim;
  const std::int64_t T = unit.in.total();
  std::vector<float> x(in.begin(), in.end());
  if (prev.norm_out) x = apply_layer_norm(p, "stages." + std::to_string(s - 1) + ".norm", x, T, D, arch.norm_eps);
  const space::Patch& pk = st.downsample;
  switch (pk.kind) {
    case space::PatchKind::none: break;
    case space::PatchKind::patch:
    case space::PatchKind::overlap: {
      std::int64_t oh = 0, ow = 0;
      x = conv_on_tokens(p, pre + ".proj", x, h, w, D, st.dim, pk, oh, ow);
      h = oh;
      w = ow;
      D = st.dim;
      if (pk.norm) x = apply_layer_norm(p, pre + ".norm", x, h * w, D, arch.embed_eps());
      break;
    }
    case space::PatchKind::merge: {
      x = patch_merge_gather(x, h, w, D);
      h /= 2;
      w /= 2;
      x = apply_layer_norm(p, pre + ".norm", x, h * w, 4 * D, arch.norm_eps);
      x = apply_linear(p, pre + ".reduction", x, h * w, 4 * D, st.dim, /*bias=*/false);
      D = st.dim;
      break;
    }
    case space::PatchKind::dtm: {
      const auto map = tokens_to_chw(x, h, w, D);
      Conv2dArgs a;
      a.in_c = D;
      a.in_h = h;
      a.in_w = w;
      a.kernel = 2;
      a.stride = 2;
      a.out_c = 8;  // (dy, dx) for each of the 4 taps
      const auto offset = conv2d(map, a, p.get(pre + ".dconv.conv_offset.weight", 8 * D * 4),
                                 p.get(pre + ".dconv.conv_offset.bias", 8));
      a.out_c = st.dim;
      const auto y = deform_conv2d(map, offset, a, p.get(pre + ".dconv.weight", st.dim * D * 4),
                                   p.get(pre + ".dconv.bias", st.dim));
      h = a.out_h();
      w = a.out_w();
      D = st.dim;
      x = chw_to_tokens(y, D, h, w);
      x = apply_batch_norm(p, pre + ".norm", x, h * w, D);
      x = gelu(x);
      break;
    }
    case space::PatchKind::kCount: throw std::invalid_argument("reference: bad downsample kind");
  }
  if (st.pos_embed) add_inplace(x, p.get(pre + ".pos_embed", (h * w + unit.in.extra) * D));
  return x;
}

std::vector<float> run_head(const space::Arch& arch, const space::Unit& unit, const UnitParams& p,
                            std::span<const float> in) {
  const int last = static_cast<int>(arch.stages.size()) - 1;
  const std::int64_t T = unit.in.total(), D = unit.in_dim;
  std::vector<float> x(in.begin(), in.end());
  if (stage_at(arch, last).norm_out)
    x = apply_layer_norm(p, "stages." + std::to_string(last) + ".norm", x, T, D, arch.norm_eps);
  if (arch.head.norm) x = apply_layer_norm(p, "head.norm", x, T, D, arch.norm_eps);
  std::vector<float> feat(static_cast<std::size_t>(D), 0.0f);
  if (arch.head.kind == space::HeadKind::cls) {
    for (std::size_t c = 0; c < feat.size(); ++c) feat[c] = x[c];
  } else {
    const std::size_t Dz = static_cast<std::size_t>(D), Tz = static_cast<std::size_t>(T);
    for (std::size_t c = 0; c < Dz; ++c) {
      double acc = 0;
      for (std::size_t t = 0; t < Tz; ++t) acc += static_cast<double>(x[t * Dz + c]);
      feat[c] = static_cast<float>(acc / static_cast<double>(T));
    }
  }
  return apply_linear(p, "head.fc", feat, 1, D, arch.input.classes);
}

}  // namespace hwnas::ref::detail
