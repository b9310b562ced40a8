#include "space/arch.h"

#include <array>
#include <cmath>

#include <fmt/format.h>

namespace hwnas::space {
namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(MixerKind::kCount)> kMixerNames = {
    "none", "skip", "normskip", "msa", "hilo", "window", "sra", "bconv"};
constexpr std::array<std::string_view, static_cast<std::size_t>(FfnKind::kCount)> kFfnNames = {"none", "mlp",
                                                                                               "convffn"};
constexpr std::array<std::string_view, static_cast<std::size_t>(PatchKind::kCount)> kPatchNames = {
    "none", "patch", "overlap", "merge", "dtm"};
constexpr std::array<std::string_view, static_cast<std::size_t>(HeadKind::kCount)> kHeadNames = {"mean", "cls"};

template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::string_view, N>& names, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view name_of(MixerKind k) {
  return kMixerNames.at(static_cast<std::size_t>(k));
}
std::string_view name_of(FfnKind k) {
  return kFfnNames.at(static_cast<std::size_t>(k));
}
std::string_view name_of(PatchKind k) {
  return kPatchNames.at(static_cast<std::size_t>(k));
}
std::string_view name_of(HeadKind k) {
  return kHeadNames.at(static_cast<std::size_t>(k));
}
std::optional<MixerKind> mixer_kind_from(std::string_view s) {
  return lookup<MixerKind>(kMixerNames, s);
}
std::optional<FfnKind> ffn_kind_from(std::string_view s) {
  return lookup<FfnKind>(kFfnNames, s);
}
std::optional<PatchKind> patch_kind_from(std::string_view s) {
  return lookup<PatchKind>(kPatchNames, s);
}
std::optional<HeadKind> head_kind_from(std::string_view s) {
  return lookup<HeadKind>(kHeadNames, s);
}

std::string describe(const Mixer& m) {
  switch (m.kind) {
    case MixerKind::msa: return m.msa_rel_pos ? "msa(rel-pos)" : "msa";
    case MixerKind::hilo: return fmt::format("hilo(a={},s={})", m.hilo_alpha, m.hilo_window);
    case MixerKind::window: return fmt::format("window({}{})", m.window_size, m.window_shift ? ",shift" : "");
    case MixerKind::sra: return fmt::format("sra(r={})", m.sra_ratio);
    case MixerKind::bconv: return fmt::format("bconv{}x{}", m.bconv_kernel, m.bconv_kernel);
    case MixerKind::none:
    case MixerKind::skip:
    case MixerKind::normskip:
    case MixerKind::kCount: break;
  }
  return std::string(name_of(m.kind));
}

std::string describe(const Ffn& f) {
  if (f.kind == FfnKind::none) return "none";
  return fmt::format("{}({})", name_of(f.kind), f.hidden);
}

std::string describe(const Patch& p) {
  switch (p.kind) {
    case PatchKind::patch: return fmt::format("patch(k={},s={}{})", p.kernel, p.stride, p.norm ? ",ln" : "");
    case PatchKind::overlap:
      return fmt::format("overlap(k={},s={},p={}{})", p.kernel, p.stride, p.padding, p.norm ? ",ln" : "");
    case PatchKind::none:
    case PatchKind::merge:
    case PatchKind::dtm:
    case PatchKind::kCount: break;
  }
  return std::string(name_of(p.kind));
}

std::int64_t hilo_lofi_heads(std::int64_t heads, double alpha, std::int64_t window) {
  if (window == 1) return heads;
  // int(Nh * alpha) in Python truncates the double product; do the same.
  return static_cast<std::int64_t>(static_cast<double>(heads) * alpha);
}

}  // namespace hwnas::space
