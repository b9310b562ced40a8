#include "space/validate.h"

#include <algorithm>

#include <fmt/format.h>

#include "space/checked.h"
#include "space/count.h"
#include "space/ops.h"
#include "space/spec_error.h"

namespace hwnas::space {
namespace {

using detail::SpecError;

using detail::JsonPath;

void range(const JsonPath& path, std::string_view field, std::int64_t v, std::int64_t lo, std::int64_t hi) {
  if (v < lo || v > hi) throw SpecError(path(field), fmt::format("must be in [{}, {}] (got {})", lo, hi, v));
}

}  // namespace

namespace detail {

void check_patch(const Patch& p, const JsonPath& path, bool is_stem) {
  switch (p.kind) {
    case PatchKind::patch:
    case PatchKind::overlap:
      range(path, ".kernel", p.kernel, 1, kMaxKernel);
      range(path, ".stride", p.stride, 1, kMaxKernel);
      range(path, ".padding", p.padding, 0, p.kernel - 1);
      return;
    case PatchKind::none:
    case PatchKind::merge:
    case PatchKind::dtm:
      if (is_stem)
        throw SpecError(path(".kind"), fmt::format("a stem must be 'patch' or 'overlap' (got '{}')", name_of(p.kind)));
      return;
    case PatchKind::kCount: break;
  }
  throw SpecError(path(".kind"), "invalid kind");
}

void check_mixer(const Mixer& m, const JsonPath& path) {
  switch (m.kind) {
    case MixerKind::none:
    case MixerKind::skip:
    case MixerKind::normskip:
    case MixerKind::msa: return;
    case MixerKind::hilo:
      if (!(m.hilo_alpha >= 0.0 && m.hilo_alpha <= 1.0))
        throw SpecError(path(".alpha"), fmt::format("must be in [0, 1] (got {})", m.hilo_alpha));
      range(path, ".window", m.hilo_window, 1, kMaxKernel);
      return;
    case MixerKind::window: range(path, ".size", m.window_size, 1, 1024); return;
    case MixerKind::sra: range(path, ".ratio", m.sra_ratio, 1, kMaxKernel); return;
    case MixerKind::bconv:
      if (m.bconv_kernel != 1 && m.bconv_kernel != 3)
        throw SpecError(path(".kernel"), fmt::format("must be 1 or 3 (got {})", m.bconv_kernel));
      return;
    case MixerKind::kCount: break;
  }
  throw SpecError(path(".kind"), "invalid kind");
}

}  // namespace detail

namespace {

using detail::check_mixer;
using detail::check_patch;

void check_structure(const Arch& a) {
  const bool square = a.input.height == a.input.width;
  range(square ? "input.resolution" : "input.resolution[0]", {}, a.input.height, 1, kMaxResolution);
  range(square ? "input.resolution" : "input.resolution[1]", {}, a.input.width, 1, kMaxResolution);
  range("input.channels", {}, a.input.channels, 1, kMaxChannels);
  range("input.classes", {}, a.input.classes, 1, kMaxClasses);
  if (!(a.norm_eps > 0.0 && a.norm_eps < 1.0))
    throw SpecError("norm_eps", fmt::format("must be in (0, 1) (got {})", a.norm_eps));
  if (a.embed_norm_eps && !(*a.embed_norm_eps > 0.0 && *a.embed_norm_eps < 1.0))
    throw SpecError("embed_norm_eps", fmt::format("must be in (0, 1) (got {})", *a.embed_norm_eps));
  check_patch(a.stem, "stem", true);
  if (a.stages.empty()) throw SpecError("stages", "must have at least one stage");
  range("stages", {}, static_cast<std::int64_t>(a.stages.size()), 1, kMaxStages);
  if (a.cls_token && a.stages.size() != 1) throw SpecError("cls_token", "a cls token needs a single-stage network");
  for (std::size_t s = 0; s < a.stages.size(); ++s) {
    const Stage& st = a.stages[s];
    const JsonPath sp(static_cast<int>(s), "");
    range(sp, ".dim", st.dim, 1, kMaxDim);
    range(sp, ".heads", st.heads, 1, st.dim);
    if (st.dim % st.heads != 0)
      throw SpecError(sp(".heads"), fmt::format("must divide dim {} (got {})", st.dim, st.heads));
    if (s == 0 && st.downsample.kind != PatchKind::none)
      throw SpecError(sp(".downsample"), "stage 0 takes the stem's output: its downsample must be 'none'");
    if (s > 0) check_patch(st.downsample, JsonPath(static_cast<int>(s), "downsample"), false);
    if (st.blocks.empty()) throw SpecError(sp(".blocks"), "a stage needs at least one block");
    range(sp, ".blocks", static_cast<std::int64_t>(st.blocks.size()), 1, kMaxBlocksPerStage);
    for (std::size_t b = 0; b < st.blocks.size(); ++b) {
      const Block& blk = st.blocks[b];
      check_mixer(blk.mixer, JsonPath(static_cast<int>(s), static_cast<int>(b), "mixer"));
      if (blk.ffn.kind != FfnKind::none)
        range(JsonPath(static_cast<int>(s), static_cast<int>(b), "ffn"), ".hidden", blk.ffn.hidden, 1, kMaxHidden);
    }
  }
}

// Applies the source repos' own rules so that equal networks have equal IR.
// Returns whether it changed anything (then the arch is lowered again).
bool normalise(Arch& a, const Lowered& net) {
  bool changed = false;
  for (const Unit& u : net.units) {
    if (u.kind != UnitKind::block) continue;
    Mixer& m = a.stages[static_cast<std::size_t>(u.stage)].blocks[static_cast<std::size_t>(u.block)].mixer;
    if (m.kind == MixerKind::window && u.in.grid && std::min(u.in.h, u.in.w) <= m.window_size &&
        (m.window_size != std::min(u.in.h, u.in.w) || m.window_shift)) {
      m.window_size = std::min(u.in.h, u.in.w);  // Swin: the window is the whole map, no shift
      m.window_shift = false;
      changed = true;
    }
  }
  for (Stage& st : a.stages) {
    for (Block& b : st.blocks) {
      if (b.mixer.kind == MixerKind::hilo && b.mixer.hilo_window == 1 && b.mixer.hilo_alpha != 1.0) {
        b.mixer.hilo_alpha = 1.0;
        changed = true;
      }
      if (b.ffn.kind == FfnKind::none && b.ffn.hidden != 0) {
        b.ffn.hidden = 0;
        changed = true;
      }
    }
  }
  return changed;
}

}  // namespace

Result<Arch> validate(Arch arch) {
  try {
    check_structure(arch);
  } catch (const SpecError& e) {
    return Error{e.what()};
  }
  thread_local Lowerer lowerer;  // samplers validate archs back to back: no allocation
  auto net = lowerer.lower(arch);
  if (!net) return net.error();
  if (normalise(arch, **net)) {  // lowering is deterministic: only a changed arch lowers differently
    net = lowerer.lower(arch);
    if (!net) return net.error();
  }
  try {
    (void)count(**net);  // totals must fit in 64 bits too, not only each op
  } catch (const detail::Overflow&) {
    return Error{"input: the network is too large: its total counts overflow 64-bit integers"};
  }
  return arch;
}

}  // namespace hwnas::space
