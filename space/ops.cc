#include "space/ops.h"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "space/checked.h"
#include "space/spec_error.h"

namespace hwnas::space {
namespace {

using detail::add;
using detail::JsonPath;
using detail::mul;
using detail::SpecError;

constexpr std::int64_t kF32Bytes = 4;

constexpr std::array<std::string_view, static_cast<std::size_t>(OpKind::kCount)> kOpNames = {
    "conv2d",           "dwconv2d",     "deform_conv2d", "linear", "attention",   "layer_norm",
    "batch_norm",       "gelu",         "relu",          "add",    "avg_pool2d",  "max_pool1d",
    "window_partition", "patch_gather", "pad",           "concat", "mean_tokens", "select_token"};
constexpr std::array<std::string_view, static_cast<std::size_t>(UnitKind::kCount)> kUnitNames = {"stem", "downsample",
                                                                                                 "block", "head"};

std::int64_t conv_out(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p) {
  std::int64_t padded = add(in, mul(2, p));
  if (padded < k) return 0;
  return (padded - k) / s + 1;
}

// Builds the op list of one unit in place: ops left in `unit.ops` by an earlier network are
// overwritten (their strings keep their storage); those left over are cut off when it goes.
class UnitBuilder {
 public:
  UnitBuilder(Unit& unit, const PaperRules& rules) : unit_(unit), rules_(rules) {}
  UnitBuilder(const UnitBuilder&) = delete;
  UnitBuilder& operator=(const UnitBuilder&) = delete;
  ~UnitBuilder() { unit_.ops.resize(used_); }

  Op& linear(std::string_view name, std::int64_t rows, std::int64_t in, std::int64_t out, bool bias) {
    Op& op = start(OpKind::linear, name);
    op.linear = {rows, in, out, bias};
    op.params = add(mul(in, out), bias ? out : 0);
    op.macs = mul(rows, in, out);
    op.elements = mul(rows, out);
    op.channels = out;
    op.in_bytes = mul(rows, in, kF32Bytes);
    return finish(op);
  }

  Op& conv(OpKind kind, std::string_view name, ConvShape c, bool paper_bias) {
    Op& op = start(kind, name);
    op.conv = c;
    const std::int64_t taps = mul(c.in_c / c.groups, c.kernel, c.kernel);
    const std::int64_t positions = mul(c.out_h, c.out_w);
    op.params = add(mul(c.out_c, taps), c.bias ? c.out_c : 0);
    op.macs = mul(positions, c.out_c, taps);
    op.elements = mul(positions, c.out_c);
    op.channels = c.out_c;
    op.in_bytes = mul(c.in_c, c.in_h, c.in_w, kF32Bytes);
    finish(op);
    if (paper_bias && rules_.conv_bias && c.bias) op.paper_macs = add(op.paper_macs, op.elements);
    return op;
  }

  Op& attention(std::string_view name, AttentionShape a) {
    Op& op = start(OpKind::attention, name);
    op.attn = a;
    op.macs = mul(2, a.batch(), a.q_len, a.kv_len, a.head_dim);
    op.elements = mul(a.batch(), a.q_len, a.head_dim);
    op.channels = mul(a.heads, a.head_dim);
    op.in_bytes = mul(a.batch(), add(a.q_len, mul(2, a.kv_len)), a.head_dim, kF32Bytes);
    return finish(op);
  }

  Op& layer_norm(std::string_view name, std::int64_t rows, std::int64_t channels) {
    Op& op = norm(OpKind::layer_norm, name, rows, channels);
    if (rules_.layer_norm) op.paper_macs = op.elements;
    return op;
  }

  Op& norm(OpKind kind, std::string_view name, std::int64_t rows, std::int64_t channels) {
    Op& op = start(kind, name);
    op.params = mul(2, channels);
    op.elements = mul(rows, channels);
    op.channels = channels;
    op.in_bytes = mul(op.elements, kF32Bytes);
    return finish(op);
  }

  // Elementwise / data-movement op writing `elements`, reading `in_elements`.
  Op& simple(OpKind kind, std::string_view name, std::int64_t channels, std::int64_t elements, std::int64_t in_elements,
             std::int64_t params = 0) {
    Op& op = start(kind, name);
    op.channels = channels;
    op.elements = elements;
    op.params = params;
    op.in_bytes = mul(in_elements, kF32Bytes);
    return finish(op);
  }

 private:
  // The next op, reset, named `name`; a reused op keeps its name's storage.
  Op& start(OpKind kind, std::string_view name) {
    if (used_ == unit_.ops.size()) unit_.ops.emplace_back();
    Op& op = unit_.ops[used_++];
    // Field by field: `op = Op{}` zeroed all 264 bytes with `rep stos`, a fifth of lowering's time.
    op.kind = kind;
    op.name.assign(name);
    op.conv = ConvShape{};
    op.linear = LinearShape{};
    op.attn = AttentionShape{};
    op.elements = op.channels = op.params = op.macs = op.paper_macs = op.in_bytes = op.out_bytes = 0;
    return op;
  }
  static Op& finish(Op& op) {
    op.out_bytes = mul(op.elements, kF32Bytes);
    op.paper_macs = op.macs;
    return op;
  }

  Unit& unit_;
  const PaperRules& rules_;
  std::size_t used_ = 0;
};

// The most ops one unit lowers to (a padded HiLo block with a ConvFFN has ~20); more only regrows.
constexpr std::size_t kOpsPerUnit = 24;

// Lowers into `out`, reusing the storage of the units it already holds and of `spare`.
class Lowering {
 public:
  Lowering(const Arch& arch, const PaperRules& rules, Lowered& out, std::vector<Unit>& spare)
      : arch_(arch), rules_(rules), out_(out), spare_(spare) {}

  void run() {
    std::size_t blocks = 0;
    for (const Stage& st : arch_.stages) blocks += st.blocks.size();
    // Reversed, so that begin() (which takes the last spare) gives each unit the storage of the unit
    // at the same place last time: a HiLo block's 20 ops are not cut to a head's 3 and regrown.
    for (auto u = out_.units.rbegin(); u != out_.units.rend(); ++u) spare_.push_back(std::move(*u));
    out_.units.clear();
    out_.units.reserve(blocks + arch_.stages.size() + 1);  // units are referenced while later ones are added
    stem();
    for (std::size_t s = 0; s < arch_.stages.size(); ++s) {
      const Stage& stage = arch_.stages[s];
      if (s > 0) downsample(static_cast<int>(s));
      for (std::size_t b = 0; b < stage.blocks.size(); ++b) block(static_cast<int>(s), static_cast<int>(b));
    }
    head();
  }

 private:
  // A unit taken from the spares when there is one (its ops and label keep their storage).
  template <class... Args>
  Unit& begin(UnitKind kind, int stage, int block, fmt::format_string<Args...> label, Args&&... args) {
    if (spare_.empty()) {
      out_.units.emplace_back();
    } else {
      out_.units.push_back(std::move(spare_.back()));
      spare_.pop_back();
    }
    Unit& u = out_.units.back();
    u.kind = kind;
    u.stage = stage;
    u.block = block;
    u.label.clear();
    fmt::format_to(std::back_inserter(u.label), label, std::forward<Args>(args)...);
    u.in = tokens_;
    u.in_dim = dim_;
    u.out = {};
    u.out_dim = 0;
    u.ops.reserve(kOpsPerUnit);  // no regrowth while ops are added (lowering runs in the search loop)
    return u;
  }
  void end(Unit& u) {
    u.out = tokens_;
    u.out_dim = dim_;
  }

  // conv stem / patch-embed style downsample: conv (+ LN)
  void patch_conv(UnitBuilder& ub, const Patch& p, std::int64_t out_dim, const JsonPath& path) {
    if (!tokens_.grid)
      throw SpecError(path(), "needs a spatial token grid, but tokens were pooled to a sequence before it");
    ConvShape c;
    c.in_c = dim_;
    c.out_c = out_dim;
    c.in_h = tokens_.h;
    c.in_w = tokens_.w;
    c.kernel = p.kernel;
    c.stride = p.stride;
    c.padding = p.padding;
    c.out_h = conv_out(tokens_.h, p.kernel, p.stride, p.padding);
    c.out_w = conv_out(tokens_.w, p.kernel, p.stride, p.padding);
    if (c.out_h < 1 || c.out_w < 1)
      throw SpecError(path(".kernel"),
                      fmt::format("kernel {} does not fit the {}x{} input", p.kernel, tokens_.h, tokens_.w));
    ub.conv(OpKind::conv2d, "proj", c, /*paper_bias=*/false);
    set_grid(c.out_h, c.out_w);
    dim_ = out_dim;
    if (p.norm) ub.layer_norm("norm", tokens_.n, dim_);
  }

  void stem() {
    Unit& u = begin(UnitKind::stem, 0, -1, "stem");
    UnitBuilder ub(u, rules_);
    tokens_ = Tokens{arch_.input.height, arch_.input.width, mul(arch_.input.height, arch_.input.width), true, 0};
    dim_ = arch_.input.channels;
    u.in = tokens_;
    u.in_dim = dim_;
    patch_conv(ub, arch_.stem, arch_.stages.at(0).dim, JsonPath{"stem"});
    stem_tokens_ = tokens_.n;
    if (arch_.cls_token) {
      ub.simple(OpKind::concat, "cls_token", dim_, mul(add(tokens_.n, 1), dim_), mul(tokens_.n, dim_), dim_);
      tokens_.extra = 1;
    }
    stage_entry(ub, 0);
    end(u);
  }

  void stage_entry(UnitBuilder& ub, int s) {
    const Stage& st = arch_.stages[static_cast<std::size_t>(s)];
    if (st.pos_embed) {
      const std::int64_t el = mul(tokens_.total(), dim_);
      ub.simple(OpKind::add, "pos_embed", dim_, el, mul(2, el), el);
    }
  }

  void stage_exit_norm(UnitBuilder& ub, int prev_stage) {
    if (prev_stage < 0) return;
    if (arch_.stages[static_cast<std::size_t>(prev_stage)].norm_out)
      ub.layer_norm(fmt::format("stages.{}.norm", prev_stage), tokens_.total(), dim_);
  }

  void downsample(int s) {
    const Stage& st = arch_.stages[static_cast<std::size_t>(s)];
    const JsonPath path{s, "downsample"};
    Unit& u = begin(UnitKind::downsample, s, -1, "stages.{}.downsample", s);
    UnitBuilder ub(u, rules_);
    stage_exit_norm(ub, s - 1);
    const Patch& p = st.downsample;
    if (p.kind != PatchKind::none && tokens_.extra > 0)
      throw SpecError(path(), "a cls token cannot pass a downsample (use a single stage with a cls token)");
    switch (p.kind) {
      case PatchKind::none:
        if (st.dim != dim_)
          throw SpecError(path(),
                          fmt::format("kind 'none' keeps the width, but stage dim {} != previous {}", st.dim, dim_));
        break;
      case PatchKind::patch:
      case PatchKind::overlap: patch_conv(ub, p, st.dim, path); break;
      case PatchKind::merge: {
        if (!tokens_.grid || tokens_.h % 2 != 0 || tokens_.w % 2 != 0)
          throw SpecError(path(),
                          fmt::format("patch merging needs an even token grid, got {}x{}", tokens_.h, tokens_.w));
        const std::int64_t rows = mul(tokens_.h / 2, tokens_.w / 2);
        ub.simple(OpKind::patch_gather, "gather", mul(4, dim_), mul(rows, 4, dim_), mul(tokens_.n, dim_));
        ub.layer_norm("norm", rows, mul(4, dim_));
        ub.linear("reduction", rows, mul(4, dim_), st.dim, /*bias=*/false);
        set_grid(tokens_.h / 2, tokens_.w / 2);
        dim_ = st.dim;
        break;
      }
      case PatchKind::dtm: {
        if (!tokens_.grid || tokens_.h < 2 || tokens_.w < 2)
          throw SpecError(path(), fmt::format("deformable token merging needs a grid of at least 2x2, got {}x{}",
                                              tokens_.h, tokens_.w));
        ConvShape c;
        c.in_c = dim_;
        c.in_h = tokens_.h;
        c.in_w = tokens_.w;
        c.kernel = 2;
        c.stride = 2;
        c.out_h = conv_out(tokens_.h, 2, 2, 0);
        c.out_w = conv_out(tokens_.w, 2, 2, 0);
        ConvShape offset = c;
        offset.out_c = 8;  // 2·k² offsets of a 2×2 deformable conv
        Op& off = ub.conv(OpKind::conv2d, "dconv.conv_offset", offset, /*paper_bias=*/false);
        if (rules_.dtm_offset_channels != 8) {
          const std::int64_t counted = mul(c.out_h, c.out_w, rules_.dtm_offset_channels);
          off.paper_macs = mul(counted, c.in_c, 4);
          if (rules_.conv_bias) off.paper_macs = add(off.paper_macs, counted);
        } else if (rules_.conv_bias) {
          off.paper_macs = add(off.paper_macs, off.elements);
        }
        c.out_c = st.dim;
        ub.conv(OpKind::deform_conv2d, "dconv", c, /*paper_bias=*/true);
        Op& bn = ub.norm(OpKind::batch_norm, "norm", mul(c.out_h, c.out_w), st.dim);
        if (rules_.dtm_batch_norm) bn.paper_macs = bn.elements;  // C_out·H·W (SEEDS: 2C·(H/2)(W/2))
        ub.simple(OpKind::gelu, "act", st.dim, bn.elements, bn.elements);
        set_grid(c.out_h, c.out_w);
        dim_ = st.dim;
        break;
      }
      case PatchKind::kCount: break;
    }
    stage_entry(ub, s);
    end(u);
  }

  void residual(UnitBuilder& ub, const std::string& name) {
    const std::int64_t el = mul(tokens_.total(), dim_);
    ub.simple(OpKind::add, name, dim_, el, mul(2, el));
  }

  void mixer(UnitBuilder& ub, const Stage& st, const Mixer& m, const JsonPath& path) {
    const std::int64_t D = dim_;
    const std::int64_t heads = st.heads;
    const std::int64_t d = D / heads;
    const std::int64_t T = tokens_.total();
    auto need_grid = [&](const char* what) {
      if (!tokens_.grid)
        throw SpecError(
            path(), fmt::format("{} needs a spatial token grid, but tokens were pooled to a sequence before it", what));
      if (tokens_.extra > 0) throw SpecError(path(), fmt::format("{} cannot be used with a cls token", what));
    };
    switch (m.kind) {
      case MixerKind::none:
      case MixerKind::skip: return;
      case MixerKind::normskip:
        ub.layer_norm("norm1", T, D);
        residual(ub, "attn.residual");
        return;
      case MixerKind::msa: {
        if (m.msa_rel_pos && (!tokens_.grid || tokens_.extra > 0))
          throw SpecError(path(".rel_pos"), "a relative position bias needs a spatial grid without a cls token");
        ub.layer_norm("norm1", T, D);
        ub.linear("attn.qkv", T, D, mul(3, D), true);
        Op& a = ub.attention("attn.core", {1, heads, T, T, d, m.msa_rel_pos});
        if (m.msa_rel_pos) a.params = mul(2 * tokens_.h - 1, 2 * tokens_.w - 1, heads);
        ub.linear("attn.proj", T, D, D, true);
        residual(ub, "attn.residual");
        return;
      }
      case MixerKind::hilo: {
        need_grid("hilo");
        const std::int64_t s = m.hilo_window;
        const std::int64_t l = hilo_lofi_heads(heads, m.hilo_alpha, s);
        const std::int64_t h = heads - l;
        const std::int64_t l_dim = l * d, h_dim = h * d;
        const std::int64_t hp = (tokens_.h + s - 1) / s * s, wp = (tokens_.w + s - 1) / s * s;
        const std::int64_t np = mul(hp, wp), nw = np / (s * s);
        ub.layer_norm("norm1", T, D);
        const bool padded = hp != tokens_.h || wp != tokens_.w;
        if (padded) ub.simple(OpKind::pad, "attn.pad", D, mul(np, D), mul(tokens_.n, D));
        if (h > 0) {
          ub.linear("attn.h_qkv", np, D, mul(3, h_dim), true);
          ub.simple(OpKind::window_partition, "attn.h_partition", mul(3, h_dim), mul(np, 3, h_dim), mul(np, 3, h_dim));
          ub.attention("attn.h_core", {nw, h, s * s, s * s, d, false});
          ub.linear("attn.h_proj", np, h_dim, h_dim, true);
        }
        if (l > 0) {
          if (s > 1) ub.simple(OpKind::avg_pool2d, "attn.l_pool", D, mul(nw, D), mul(np, D));
          ub.linear("attn.l_q", np, D, l_dim, true);
          ub.linear("attn.l_kv", nw, D, mul(2, l_dim), true);
          ub.attention("attn.l_core", {1, l, np, nw, d, false});
          ub.linear("attn.l_proj", np, l_dim, l_dim, true);
        }
        if (h > 0 && l > 0) ub.simple(OpKind::concat, "attn.concat", D, mul(np, D), mul(np, D));
        if (padded) ub.simple(OpKind::pad, "attn.crop", D, mul(tokens_.n, D), mul(np, D));
        residual(ub, "attn.residual");
        return;
      }
      case MixerKind::window: {
        need_grid("window attention");
        // Swin: a window not smaller than the map becomes the map (validate() writes this back).
        const std::int64_t w = std::min({m.window_size, tokens_.h, tokens_.w});
        if (tokens_.h % w != 0 || tokens_.w % w != 0)
          throw SpecError(path(".size"),
                          fmt::format("window {} does not divide the {}x{} token grid", w, tokens_.h, tokens_.w));
        const std::int64_t nw = (tokens_.h / w) * (tokens_.w / w);
        const std::int64_t N = tokens_.n;
        ub.layer_norm("norm1", N, D);
        ub.simple(OpKind::window_partition, "attn.partition", D, mul(N, D), mul(N, D));
        ub.linear("attn.qkv", N, D, mul(3, D), true);
        Op& a = ub.attention("attn.core", {nw, heads, w * w, w * w, d, true});
        a.params = mul(2 * w - 1, 2 * w - 1, heads);
        ub.linear("attn.proj", N, D, D, true);
        ub.simple(OpKind::window_partition, "attn.merge", D, mul(N, D), mul(N, D));
        residual(ub, "attn.residual");
        return;
      }
      case MixerKind::sra: {
        need_grid("sra");
        const std::int64_t r = m.sra_ratio;
        const std::int64_t N = tokens_.n;
        ub.layer_norm("norm1", N, D);
        ub.linear("attn.q", N, D, D, true);
        std::int64_t nkv = N;
        if (r > 1) {
          ConvShape c;
          c.in_c = D;
          c.out_c = D;
          c.in_h = tokens_.h;
          c.in_w = tokens_.w;
          c.kernel = r;
          c.stride = r;
          c.out_h = conv_out(tokens_.h, r, r, 0);
          c.out_w = conv_out(tokens_.w, r, r, 0);
          if (c.out_h < 1 || c.out_w < 1)
            throw SpecError(path(".ratio"),
                            fmt::format("ratio {} is larger than the {}x{} token grid", r, tokens_.h, tokens_.w));
          ub.conv(OpKind::conv2d, "attn.sr", c, /*paper_bias=*/false);
          nkv = mul(c.out_h, c.out_w);
          ub.layer_norm("attn.norm", nkv, D);
        }
        ub.linear("attn.kv", nkv, D, mul(2, D), true);
        ub.attention("attn.core", {1, heads, N, nkv, d, false});
        ub.linear("attn.proj", N, D, D, true);
        residual(ub, "attn.residual");
        return;
      }
      case MixerKind::bconv: {
        if (!tokens_.grid)
          throw SpecError(path(), "bconv needs a spatial token grid, but tokens were pooled to a sequence before it");
        const std::int64_t k = m.bconv_kernel;
        ub.layer_norm("norm1", T, D);
        ConvShape c;
        c.in_c = D;
        c.out_c = d;
        c.in_h = tokens_.h;
        c.in_w = tokens_.w;
        c.kernel = k;
        c.padding = k / 2;
        c.out_h = tokens_.h;
        c.out_w = tokens_.w;
        ub.conv(OpKind::conv2d, "attn.conv", c, /*paper_bias=*/false);
        ub.norm(OpKind::batch_norm, "attn.bn", tokens_.n, d);
        ub.simple(OpKind::relu, "attn.act", d, mul(tokens_.n, d), mul(tokens_.n, d));
        ub.linear("attn.proj", tokens_.n, d, D, true);
        if (tokens_.extra > 0) ub.simple(OpKind::concat, "attn.cls_bypass", D, mul(T, D), mul(T, D));
        residual(ub, "attn.residual");
        return;
      }
      case MixerKind::kCount: return;
    }
  }

  void ffn(UnitBuilder& ub, const Ffn& f, const JsonPath& path) {
    const std::int64_t D = dim_;
    const std::int64_t T = tokens_.total();
    switch (f.kind) {
      case FfnKind::none: return;
      case FfnKind::mlp:
        ub.layer_norm("norm2", T, D);
        ub.linear("mlp.fc1", T, D, f.hidden, true);
        ub.simple(OpKind::gelu, "mlp.act", f.hidden, mul(T, f.hidden), mul(T, f.hidden));
        ub.linear("mlp.fc2", T, f.hidden, D, true);
        residual(ub, "mlp.residual");
        return;
      case FfnKind::convffn: {
        if (!tokens_.grid || tokens_.extra > 0)
          throw SpecError(path(), "convffn needs a spatial token grid without a cls token");
        const std::int64_t N = tokens_.n;
        ub.layer_norm("norm2", N, D);
        ub.linear("mlp.fc1", N, D, f.hidden, true);
        ConvShape c;
        c.in_c = f.hidden;
        c.out_c = f.hidden;
        c.in_h = tokens_.h;
        c.in_w = tokens_.w;
        c.out_h = tokens_.h;
        c.out_w = tokens_.w;
        c.kernel = 3;
        c.padding = 1;
        c.groups = f.hidden;
        ub.conv(OpKind::dwconv2d, "mlp.dwconv", c, /*paper_bias=*/true);
        ub.simple(OpKind::gelu, "mlp.act", f.hidden, mul(N, f.hidden), mul(N, f.hidden));
        ub.linear("mlp.fc2", N, f.hidden, D, true);
        residual(ub, "mlp.residual");
        return;
      }
      case FfnKind::kCount: return;
    }
  }

  void block(int s, int b) {
    const Stage& st = arch_.stages[static_cast<std::size_t>(s)];
    const Block& blk = st.blocks[static_cast<std::size_t>(b)];
    Unit& u = begin(UnitKind::block, s, b, "stages.{}.blocks.{}", s, b);
    UnitBuilder ub(u, rules_);
    mixer(ub, st, blk.mixer, JsonPath{s, b, "mixer"});
    ffn(ub, blk.ffn, JsonPath{s, b, "ffn"});
    const JsonPath path{s, b, "pool"};
    if (blk.pool_after) {
      if (tokens_.extra > 0) throw SpecError(path(), "token pooling cannot be used with a cls token");
      if (tokens_.n < 3)
        throw SpecError(path(),
                        fmt::format("token pooling (kernel 3, stride 2) needs at least 3 tokens, got {}", tokens_.n));
      const std::int64_t n_out = (tokens_.n - 3) / 2 + 1;
      ub.simple(OpKind::max_pool1d, "pool", dim_, mul(n_out, dim_), mul(tokens_.n, dim_));
      tokens_ = Tokens{0, 0, n_out, false, 0};
      ub.simple(OpKind::add, "pos_embed", dim_, mul(n_out, dim_), mul(2, n_out, dim_), mul(n_out, dim_));
    }
    end(u);
  }

  void head() {
    Unit& u = begin(UnitKind::head, static_cast<int>(arch_.stages.size()) - 1, -1, "head");
    UnitBuilder ub(u, rules_);
    stage_exit_norm(ub, static_cast<int>(arch_.stages.size()) - 1);
    if (arch_.head.norm) {
      Op& n = ub.layer_norm("norm", tokens_.total(), dim_);
      if (rules_.final_norm_stage3)
        n.paper_macs = mul(dim_, stem_tokens_ >> std::min<std::size_t>(arch_.stages.size(), 62));
    }
    if (arch_.head.kind == HeadKind::cls) {
      if (tokens_.extra == 0) throw SpecError("head.kind", "'cls' needs \"cls_token\": true");
      ub.simple(OpKind::select_token, "select_cls", dim_, dim_, dim_);
    } else {
      if (tokens_.extra > 0) throw SpecError("head.kind", "'mean' with a cls token is not supported: use 'cls'");
      ub.simple(OpKind::mean_tokens, "pool", dim_, dim_, mul(tokens_.n, dim_));
    }
    ub.linear("fc", 1, dim_, arch_.input.classes, true);
    tokens_ = Tokens{1, 1, 1, false, 0};
    dim_ = arch_.input.classes;
    end(u);
  }

  void set_grid(std::int64_t h, std::int64_t w) {
    tokens_.h = h;
    tokens_.w = w;
    tokens_.n = mul(h, w);
    tokens_.grid = true;
  }

  const Arch& arch_;
  const PaperRules& rules_;
  Lowered& out_;
  std::vector<Unit>& spare_;
  Tokens tokens_;
  std::int64_t dim_ = 0;
  std::int64_t stem_tokens_ = 0;
};

}  // namespace

Grid patch_output(const Patch& p, Grid in) {
  switch (p.kind) {
    case PatchKind::none: return in;
    case PatchKind::patch:
    case PatchKind::overlap:
      return {conv_out(in.h, p.kernel, p.stride, p.padding), conv_out(in.w, p.kernel, p.stride, p.padding)};
    case PatchKind::merge: return in.h % 2 == 0 && in.w % 2 == 0 ? Grid{in.h / 2, in.w / 2} : Grid{};
    case PatchKind::dtm: return {conv_out(in.h, 2, 2, 0), conv_out(in.w, 2, 2, 0)};
    case PatchKind::kCount: break;
  }
  return {};
}

std::string_view name_of(OpKind k) {
  return kOpNames.at(static_cast<std::size_t>(k));
}
std::string_view name_of(UnitKind k) {
  return kUnitNames.at(static_cast<std::size_t>(k));
}

std::string describe_mixer(const Arch& a, const Unit& u) {
  switch (u.kind) {
    case UnitKind::stem: return describe(a.stem);
    case UnitKind::downsample: return describe(a.stages[static_cast<std::size_t>(u.stage)].downsample);
    case UnitKind::block:
      return describe(a.stages[static_cast<std::size_t>(u.stage)].blocks[static_cast<std::size_t>(u.block)].mixer);
    case UnitKind::head: return std::string(name_of(a.head.kind)) + "-head";
    case UnitKind::kCount: break;
  }
  return "";
}

std::string describe_ffn(const Arch& a, const Unit& u) {
  if (u.kind != UnitKind::block) return "";
  const Block& b = a.stages[static_cast<std::size_t>(u.stage)].blocks[static_cast<std::size_t>(u.block)];
  return describe(b.ffn) + (b.pool_after ? " +pool" : "");
}

Result<PaperRules> paper_rules(std::string_view convention) {
  PaperRules r;
  if (convention.empty()) return r;
  if (convention == "litv2" || convention == "lit") {
    r.layer_norm = true;
    r.conv_bias = true;
    r.dtm_offset_channels = 12;
    r.dtm_batch_norm = true;
    r.final_norm_stage3 = true;
    return r;
  }
  if (convention == "swin") {
    r.layer_norm = true;
    r.final_norm_stage3 = true;
    return r;
  }
  return Error{fmt::format("meta.paper_count: unknown convention '{}' (known: litv2, lit, swin)", convention)};
}

Result<const Lowered*> Lowerer::lower(const Arch& arch) {
  if (arch.stages.empty()) return Error{"stages: must not be empty"};
  auto rules = paper_rules(arch.meta.paper_count);
  if (!rules) return rules.error();
  try {
    Lowering(arch, *rules, net_, spare_).run();
    return &net_;
  } catch (const SpecError& e) {
    return Error{e.what()};
  } catch (const detail::Overflow&) {
    return Error{"input: the network is too large: its counts overflow 64-bit integers"};
  }
}

Result<Lowered> lower(const Arch& arch) {
  Lowerer lowerer;
  auto net = lowerer.lower(arch);
  if (!net) return net.error();
  return std::move(lowerer.net_);
}

}  // namespace hwnas::space
