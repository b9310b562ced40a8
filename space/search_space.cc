#include "space/search_space.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "space/ops.h"
#include "space/spec_error.h"
#include "space/validate.h"

namespace hwnas::space {
namespace {

constexpr std::size_t kStageGenes = 4;  // depth, dim, head_dim, downsample
constexpr std::size_t kBlockGenes = 5;  // mixer, ffn_kind, ffn_ratio, drop_mixer, drop_ffn
enum BlockGene : std::size_t { kMixer = 0, kFfnKind, kFfnRatio, kDropMixer, kDropFfn };

std::size_t max_depth(const StageSpace& st) {
  return static_cast<std::size_t>(*std::max_element(st.depths.begin(), st.depths.end()));
}

std::uint32_t count(std::size_t n) {
  return static_cast<std::uint32_t>(std::max<std::size_t>(n, 1));
}

// Can `m` run on an h×w grid (with or without a cls token)? Mirrors the lowering's rules.
bool mixer_fits(const Mixer& m, Grid g, bool cls_token, std::int64_t dim, std::int64_t heads) {
  switch (m.kind) {
    case MixerKind::none:
    case MixerKind::skip:
    case MixerKind::normskip: return true;
    case MixerKind::msa: return !(m.msa_rel_pos && cls_token);
    case MixerKind::hilo: return !cls_token;
    case MixerKind::window:
      return !cls_token &&
             (std::min(g.h, g.w) <= m.window_size || (g.h % m.window_size == 0 && g.w % m.window_size == 0));
    case MixerKind::sra: return !cls_token && m.sra_ratio <= std::min(g.h, g.w);
    case MixerKind::bconv: return dim / heads >= 1;
    case MixerKind::kCount: break;
  }
  return false;
}

// First choice at or after `start` (cyclically) that `ok` accepts; -1 if none.
template <class F>
std::int64_t first_valid(std::uint32_t start, std::size_t n, F ok) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = (start + i) % n;
    if (ok(c)) return static_cast<std::int64_t>(c);
  }
  return -1;
}

double log10_sum_pow(double base, const std::vector<std::int64_t>& exps) {
  // log10(Σ base^e) without overflow.
  const double lb = std::log10(base);
  double mx = -HUGE_VAL;
  for (auto e : exps) mx = std::max(mx, lb * static_cast<double>(e));
  double s = 0;
  for (auto e : exps) s += std::pow(10.0, lb * static_cast<double>(e) - mx);
  return mx + std::log10(s);
}

}  // namespace

std::int64_t ffn_width(double ratio, std::int64_t dim) {
  return std::max<std::int64_t>(1, std::llround(ratio * static_cast<double>(dim)));
}

std::vector<Gene> gene_layout(const SearchSpace& space) {
  std::vector<Gene> genes;
  for (std::size_t s = 0; s < space.stages.size(); ++s) {
    const StageSpace& st = space.stages[s];
    const std::string sp = fmt::format("stages[{}]", s);
    genes.push_back({sp + ".depth", count(st.depths.size())});
    genes.push_back({sp + ".dim", count(st.dims.size())});
    genes.push_back({sp + ".head_dim", count(st.head_dims.size())});
    genes.push_back({sp + ".downsample", s == 0 ? 1u : count(st.downsamples.size())});
    for (std::size_t b = 0; b < max_depth(st); ++b) {
      const std::string bp = fmt::format("{}.blocks[{}]", sp, b);
      genes.push_back({bp + ".mixer", count(st.mixers.size())});
      genes.push_back({bp + ".ffn_kind", count(st.ffn_kinds.size())});
      genes.push_back({bp + ".ffn_ratio", count(st.ffn_ratios.size())});
      genes.push_back({bp + ".drop_mixer", st.removable ? 2u : 1u});
      genes.push_back({bp + ".drop_ffn", st.removable ? 2u : 1u});
    }
  }
  return genes;
}

Sampler::Sampler(const SearchSpace& space) : space_(space), genes_(gene_layout(space)) {}

Result<Candidate> Sampler::repair(Genome g) const {
  if (g.size() != genes_.size())
    return Error{fmt::format("genome has {} genes, space '{}' has {}", g.size(), space_.name, genes_.size())};
  for (std::size_t i = 0; i < g.size(); ++i) g[i] %= genes_[i].choices;

  Arch a = space_.base;
  a.stages.clear();
  a.stages.reserve(space_.stages.size());
  Grid grid = patch_output(a.stem, Grid{a.input.height, a.input.width});
  std::int64_t prev_dim = 0;
  std::size_t at = 0;
  for (std::size_t s = 0; s < space_.stages.size(); ++s) {
    const StageSpace& ss = space_.stages[s];
    const detail::JsonPath sp(static_cast<int>(s), "");  // formatted only for an error
    Stage st;
    const auto depth = static_cast<std::size_t>(ss.depths[g[at]]);
    st.blocks.reserve(depth);
    st.dim = ss.dims[g[at + 1]];
    const std::int64_t hd = first_valid(g[at + 2], ss.head_dims.size(), [&](std::size_t c) {
      return ss.head_dims[c] <= st.dim && st.dim % ss.head_dims[c] == 0;
    });
    if (hd < 0) return Error{fmt::format("{}: no head_dim choice divides dim {}", sp(), st.dim)};
    g[at + 2] = static_cast<std::uint32_t>(hd);
    st.heads = st.dim / ss.head_dims[static_cast<std::size_t>(hd)];
    if (s > 0) {
      const std::int64_t ds = first_valid(g[at + 3], ss.downsamples.size(), [&](std::size_t c) {
        const Patch& p = ss.downsamples[c];
        if (p.kind == PatchKind::none) return st.dim == prev_dim;
        const Grid out = patch_output(p, grid);
        return out.h >= 1 && out.w >= 1;
      });
      if (ds < 0) return Error{fmt::format("{}: no downsample choice fits a {}x{} grid", sp(), grid.h, grid.w)};
      g[at + 3] = static_cast<std::uint32_t>(ds);
      st.downsample = ss.downsamples[static_cast<std::size_t>(ds)];
      grid = patch_output(st.downsample, grid);
    }
    st.pos_embed = ss.pos_embed;
    st.norm_out = ss.norm_out;
    at += kStageGenes;
    for (std::size_t b = 0; b < max_depth(ss); ++b, at += kBlockGenes) {
      if (b >= depth) continue;  // inactive slot: kept as is
      Block blk;
      const std::int64_t mi = first_valid(g[at + kMixer], ss.mixers.size(), [&](std::size_t c) {
        return mixer_fits(ss.mixers[c], grid, a.cls_token, st.dim, st.heads);
      });
      if (mi < 0)
        return Error{fmt::format("{}.blocks[{}]: no mixer choice fits a {}x{} grid", sp(), b, grid.h, grid.w)};
      g[at + kMixer] = static_cast<std::uint32_t>(mi);
      blk.mixer = ss.mixers[static_cast<std::size_t>(mi)];
      const std::int64_t fk = first_valid(g[at + kFfnKind], ss.ffn_kinds.size(), [&](std::size_t c) {
        return !(ss.ffn_kinds[c] == FfnKind::convffn && a.cls_token);
      });
      if (fk < 0) return Error{fmt::format("{}.blocks[{}]: no FFN kind works with a cls token", sp(), b)};
      g[at + kFfnKind] = static_cast<std::uint32_t>(fk);
      blk.ffn.kind = ss.ffn_kinds[static_cast<std::size_t>(fk)];
      if (blk.ffn.kind != FfnKind::none) blk.ffn.hidden = ffn_width(ss.ffn_ratios[g[at + kFfnRatio]], st.dim);
      if (g[at + kDropMixer] == 1) blk.mixer = Mixer{MixerKind::skip};
      if (g[at + kDropFfn] == 1) blk.ffn = Ffn{FfnKind::none, 0};
      st.blocks.push_back(blk);
    }
    prev_dim = st.dim;
    a.stages.push_back(std::move(st));
  }
  a.meta = Meta{};
  auto v = validate(std::move(a));
  if (!v) return Error{fmt::format("space '{}': {}", space_.name, v.error().message)};
  return Candidate{std::move(g), std::move(v).value()};
}

Result<Candidate> Sampler::sample(Rng& rng) const {
  Error last{"no attempt"};
  for (int attempt = 0; attempt < 100; ++attempt) {
    Genome g(genes_.size());
    for (std::size_t i = 0; i < g.size(); ++i) g[i] = rng.below(genes_[i].choices);
    auto c = repair(std::move(g));
    if (c) return c;
    last = c.error();
  }
  return Error{
      fmt::format("no valid architecture in 100 samples of space '{}'; last error: {}", space_.name, last.message)};
}

Result<Candidate> Sampler::mutate(const Genome& parent, double p, Rng& rng) const {
  Genome g = parent;
  if (g.size() != genes_.size()) return repair(std::move(g));
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (genes_[i].choices > 1 && rng.uniform() < p) {
      // Another value, uniformly among the others.
      g[i] = (g[i] + 1 + rng.below(genes_[i].choices - 1)) % genes_[i].choices;
    }
  }
  return repair(std::move(g));
}

Result<Candidate> Sampler::crossover(const Genome& a, const Genome& b, Rng& rng) const {
  if (a.size() != b.size()) return Error{"crossover of genomes of different lengths"};
  Genome g(a.size());
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = (rng.next() & 1u) != 0 ? a[i] : b[i];
  return repair(std::move(g));
}

double Sampler::log10_size() const {
  double total = 0;
  for (std::size_t s = 0; s < space_.stages.size(); ++s) {
    const StageSpace& st = space_.stages[s];
    const double mixers = static_cast<double>(st.mixers.size()) + (st.removable ? 1 : 0);
    const double ffns = static_cast<double>(st.ffn_kinds.size() * st.ffn_ratios.size()) + (st.removable ? 1 : 0);
    total += std::log10(static_cast<double>(st.dims.size() * st.head_dims.size()));
    if (s > 0) total += std::log10(static_cast<double>(st.downsamples.size()));
    total += log10_sum_pow(mixers * ffns, st.depths);
  }
  return total;
}

}  // namespace hwnas::space
