// Block units: token mixer then FFN, each in a residual, then optional HVT token pooling.
#include <stdexcept>
#include <string>

#include "tests/reference/reference.h"
#include "tests/reference/reference_internal.h"

namespace hwnas::ref::detail {
namespace {

// What every mixer needs to know about the block's input.
struct Ctx {
  const space::Arch& arch;
  const UnitParams& p;
  std::string pre;  // "stages.{s}.blocks.{b}."
  std::int64_t heads = 1;
  std::int64_t D = 0;         // width
  std::int64_t T = 0;         // all tokens (extra + n)
  std::int64_t n = 0;         // spatial tokens
  std::int64_t extra = 0;     // cls token(s), first
  std::int64_t h = 0, w = 0;  // grid (when `grid`)
  bool grid = true;
  double eps() const { return arch.norm_eps; }
  std::int64_t head_dim() const { return D / heads; }
};

void need_grid(const Ctx& c, const char* what) {
  if (!c.grid) throw std::invalid_argument(std::string("reference: ") + what + " needs a spatial token grid");
  if (c.extra != 0) throw std::invalid_argument(std::string("reference: ") + what + " cannot take a cls token");
}

// Conv2d `prefix` on a channels-last h×w token map (stride 1 unless given); returns tokens.
std::vector<float> conv_tokens(const UnitParams& p, const std::string& prefix, std::span<const float> x, std::int64_t h,
                               std::int64_t w, std::int64_t in_c, std::int64_t out_c, std::int64_t k,
                               std::int64_t stride, std::int64_t pad, std::int64_t groups, std::int64_t& oh,
                               std::int64_t& ow) {
  Conv2dArgs a;
  a.in_c = in_c;
  a.in_h = h;
  a.in_w = w;
  a.out_c = out_c;
  a.kernel = k;
  a.stride = stride;
  a.padding = pad;
  a.groups = groups;
  auto y = conv2d(tokens_to_chw(x, h, w, in_c), a, p.get(prefix + ".weight", out_c * (in_c / groups) * k * k),
                  p.get(prefix + ".bias", out_c));
  oh = a.out_h();
  ow = a.out_w();
  return chw_to_tokens(y, out_c, oh, ow);
}

// ---- Mixers: each returns the mixer branch (to be added to x) --------------------------------------

std::vector<float> msa(const Ctx& c, const space::Mixer& m, std::span<const float> x) {
  const std::int64_t D = c.D, T = c.T;
  auto y = apply_layer_norm(c.p, c.pre + "norm1", x, T, D, c.eps());
  auto qkv = apply_linear(c.p, c.pre + "attn.qkv", y, T, D, 3 * D);
  std::vector<float> bias;
  if (m.msa_rel_pos) {
    need_grid(c, "msa with a relative position bias");
    bias = rel_pos_bias(c.p.get(c.pre + "attn.core.rel_pos_table", (2 * c.h - 1) * (2 * c.w - 1) * c.heads), c.heads,
                        c.h, c.w);
  }
  auto o = attention(slice_cols(qkv, T, 3 * D, 0, D), slice_cols(qkv, T, 3 * D, D, D),
                     slice_cols(qkv, T, 3 * D, 2 * D, D), T, T, c.heads, c.head_dim(), bias);
  return apply_linear(c.p, c.pre + "attn.proj", o, T, D, D);
}

std::vector<float> hilo(const Ctx& c, const space::Mixer& m, std::span<const float> x) {
  need_grid(c, "hilo");
  const std::int64_t D = c.D, d = c.head_dim(), s = m.hilo_window;
  const std::int64_t l = space::hilo_lofi_heads(c.heads, m.hilo_alpha, s), hh = c.heads - l;
  const std::int64_t l_dim = l * d, h_dim = hh * d;
  const std::int64_t Hp = (c.h + s - 1) / s * s, Wp = (c.w + s - 1) / s * s, Np = Hp * Wp;
  auto y = pad_map(apply_layer_norm(c.p, c.pre + "norm1", x, c.n, D, c.eps()), c.h, c.w, D, Hp, Wp);
  std::vector<float> out(static_cast<std::size_t>(Np * D), 0.0f);
  auto put_cols = [&](std::span<const float> src, std::int64_t begin, std::int64_t width) {
    const std::size_t Dz = static_cast<std::size_t>(D), B = static_cast<std::size_t>(begin),
                      Wd = static_cast<std::size_t>(width);
    for (std::size_t r = 0; r < static_cast<std::size_t>(Np); ++r)
      for (std::size_t i = 0; i < Wd; ++i) out[r * Dz + B + i] = src[r * Wd + i];
  };
  if (hh > 0) {  // Hi-Fi: attention inside each s×s window, channels [0, h_dim)
    auto qkv = apply_linear(c.p, c.pre + "attn.h_qkv", y, Np, D, 3 * h_dim);
    const std::int64_t win = s * s, nw = Np / win;
    auto qkv_w = window_partition(qkv, Hp, Wp, 3 * h_dim, s);
    std::vector<float> o_w;
    o_w.reserve(static_cast<std::size_t>(Np * h_dim));
    for (std::int64_t wi = 0; wi < nw; ++wi) {
      std::span<const float> rows(qkv_w.data() + wi * win * 3 * h_dim, static_cast<std::size_t>(win * 3 * h_dim));
      auto o = attention(slice_cols(rows, win, 3 * h_dim, 0, h_dim), slice_cols(rows, win, 3 * h_dim, h_dim, h_dim),
                         slice_cols(rows, win, 3 * h_dim, 2 * h_dim, h_dim), win, win, hh, d);
      o_w.insert(o_w.end(), o.begin(), o.end());
    }
    auto o = apply_linear(c.p, c.pre + "attn.h_proj", window_merge(o_w, Hp, Wp, h_dim, s), Np, h_dim, h_dim);
    put_cols(o, 0, h_dim);
  }
  if (l > 0) {  // Lo-Fi: every token's query over the s×s-average-pooled keys/values, channels [h_dim, D)
    auto q = apply_linear(c.p, c.pre + "attn.l_q", y, Np, D, l_dim);
    const auto pooled = s > 1 ? avg_pool2d(y, Hp, Wp, D, s) : y;
    const std::int64_t nk = Np / (s * s);
    auto kv = apply_linear(c.p, c.pre + "attn.l_kv", pooled, nk, D, 2 * l_dim);
    auto o = attention(q, slice_cols(kv, nk, 2 * l_dim, 0, l_dim), slice_cols(kv, nk, 2 * l_dim, l_dim, l_dim), Np, nk,
                       l, d);
    o = apply_linear(c.p, c.pre + "attn.l_proj", o, Np, l_dim, l_dim);
    put_cols(o, h_dim, l_dim);
  }
  return crop_map(out, Hp, Wp, D, c.h, c.w);
}

std::vector<float> window(const Ctx& c, const space::Mixer& m, std::span<const float> x) {
  need_grid(c, "window attention");
  const std::int64_t D = c.D, ws = m.window_size, win = ws * ws, N = c.n;
  const std::int64_t sft = m.window_shift ? ws / 2 : 0;
  auto y = apply_layer_norm(c.p, c.pre + "norm1", x, N, D, c.eps());
  if (sft > 0) y = roll(y, c.h, c.w, D, -sft, -sft);
  auto qkv = apply_linear(c.p, c.pre + "attn.qkv", window_partition(y, c.h, c.w, D, ws), N, D, 3 * D);
  const auto bias =
      rel_pos_bias(c.p.get(c.pre + "attn.core.rel_pos_table", (2 * ws - 1) * (2 * ws - 1) * c.heads), c.heads, ws, ws);
  const auto mask = sft > 0 ? swin_shift_mask(c.h, c.w, ws, sft) : std::vector<float>{};
  const std::int64_t nw = N / win;
  const std::size_t wz = static_cast<std::size_t>(win);
  std::vector<float> o_w;
  o_w.reserve(static_cast<std::size_t>(N * D));
  for (std::int64_t wi = 0; wi < nw; ++wi) {
    std::vector<float> b = bias;  // [heads, win, win] + this window's mask on every head
    if (!mask.empty()) {
      for (std::size_t hd = 0; hd < static_cast<std::size_t>(c.heads); ++hd)
        for (std::size_t e = 0; e < wz * wz; ++e)
          b[hd * wz * wz + e] += mask[static_cast<std::size_t>(wi) * wz * wz + e];
    }
    std::span<const float> rows(qkv.data() + wi * win * 3 * D, static_cast<std::size_t>(win * 3 * D));
    auto o = attention(slice_cols(rows, win, 3 * D, 0, D), slice_cols(rows, win, 3 * D, D, D),
                       slice_cols(rows, win, 3 * D, 2 * D, D), win, win, c.heads, c.head_dim(), b);
    o_w.insert(o_w.end(), o.begin(), o.end());
  }
  auto o = window_merge(apply_linear(c.p, c.pre + "attn.proj", o_w, N, D, D), c.h, c.w, D, ws);
  if (sft > 0) o = roll(o, c.h, c.w, D, sft, sft);
  return o;
}

std::vector<float> sra(const Ctx& c, const space::Mixer& m, std::span<const float> x) {
  need_grid(c, "sra");
  const std::int64_t D = c.D, N = c.n, r = m.sra_ratio;
  auto y = apply_layer_norm(c.p, c.pre + "norm1", x, N, D, c.eps());
  auto q = apply_linear(c.p, c.pre + "attn.q", y, N, D, D);
  std::vector<float> z = y;
  std::int64_t nk = N;
  if (r > 1) {
    std::int64_t oh = 0, ow = 0;
    z = conv_tokens(c.p, c.pre + "attn.sr", y, c.h, c.w, D, D, r, r, 0, 1, oh, ow);
    nk = oh * ow;
    z = apply_layer_norm(c.p, c.pre + "attn.norm", z, nk, D, c.arch.embed_eps());
  }
  auto kv = apply_linear(c.p, c.pre + "attn.kv", z, nk, D, 2 * D);
  auto o = attention(q, slice_cols(kv, nk, 2 * D, 0, D), slice_cols(kv, nk, 2 * D, D, D), N, nk, c.heads, c.head_dim());
  return apply_linear(c.p, c.pre + "attn.proj", o, N, D, D);
}

std::vector<float> bconv(const Ctx& c, const space::Mixer& m, std::span<const float> x) {
  if (!c.grid) throw std::invalid_argument("reference: bconv needs a spatial token grid");
  const std::int64_t D = c.D, d = c.head_dim(), k = m.bconv_kernel;
  auto y = apply_layer_norm(c.p, c.pre + "norm1", x, c.T, D, c.eps());
  const std::size_t cls_values = static_cast<std::size_t>(c.extra * D);
  std::span<const float> spatial(y.data() + cls_values, y.size() - cls_values);
  std::int64_t oh = 0, ow = 0;
  auto t = conv_tokens(c.p, c.pre + "attn.conv", spatial, c.h, c.w, D, d, k, 1, k / 2, 1, oh, ow);
  t = relu(apply_batch_norm(c.p, c.pre + "attn.bn", t, c.n, d));
  t = apply_linear(c.p, c.pre + "attn.proj", t, c.n, d, D);
  // The cls token bypasses the conv: its branch output is LN(x)_cls itself (SPViT, as coded).
  std::vector<float> out(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(cls_values));
  out.insert(out.end(), t.begin(), t.end());
  return out;
}

void run_mixer(const Ctx& c, const space::Mixer& m, std::vector<float>& x) {
  switch (m.kind) {
    case space::MixerKind::none:
    case space::MixerKind::skip: return;
    case space::MixerKind::normskip:
      add_inplace(x, apply_layer_norm(c.p, c.pre + "norm1", x, c.T, c.D, c.eps()));
      return;
    case space::MixerKind::msa: add_inplace(x, msa(c, m, x)); return;
    case space::MixerKind::hilo: add_inplace(x, hilo(c, m, x)); return;
    case space::MixerKind::window: add_inplace(x, window(c, m, x)); return;
    case space::MixerKind::sra: add_inplace(x, sra(c, m, x)); return;
    case space::MixerKind::bconv: add_inplace(x, bconv(c, m, x)); return;
    case space::MixerKind::kCount: break;
  }
  throw std::invalid_argument("reference: bad mixer kind");
}

void run_ffn(const Ctx& c, const space::Ffn& f, std::vector<float>& x) {
  const std::int64_t D = c.D, hid = f.hidden;
  switch (f.kind) {
    case space::FfnKind::none: return;
    case space::FfnKind::mlp: {
      auto y = apply_layer_norm(c.p, c.pre + "norm2", x, c.T, D, c.eps());
      auto t = gelu(apply_linear(c.p, c.pre + "mlp.fc1", y, c.T, D, hid));
      add_inplace(x, apply_linear(c.p, c.pre + "mlp.fc2", t, c.T, hid, D));
      return;
    }
    case space::FfnKind::convffn: {
      need_grid(c, "convffn");
      auto y = apply_layer_norm(c.p, c.pre + "norm2", x, c.n, D, c.eps());
      auto t = apply_linear(c.p, c.pre + "mlp.fc1", y, c.n, D, hid);
      std::int64_t oh = 0, ow = 0;
      t = gelu(conv_tokens(c.p, c.pre + "mlp.dwconv", t, c.h, c.w, hid, hid, 3, 1, 1, hid, oh, ow));
      add_inplace(x, apply_linear(c.p, c.pre + "mlp.fc2", t, c.n, hid, D));
      return;
    }
    case space::FfnKind::kCount: break;
  }
  throw std::invalid_argument("reference: bad ffn kind");
}

}  // namespace

std::vector<float> run_block(const space::Arch& arch, const space::Unit& unit, const UnitParams& p,
                             std::span<const float> in) {
  if (unit.stage < 0 || static_cast<std::size_t>(unit.stage) >= arch.stages.size())
    throw std::invalid_argument("reference: block unit " + unit.label + " outside the arch's stages");
  const space::Stage& st = arch.stages[static_cast<std::size_t>(unit.stage)];
  if (unit.block < 0 || static_cast<std::size_t>(unit.block) >= st.blocks.size())
    throw std::invalid_argument("reference: block unit " + unit.label + " outside its stage");
  const space::Block& blk = st.blocks[static_cast<std::size_t>(unit.block)];
  const Ctx c{arch,          p,         unit.label + ".", st.heads,    unit.in_dim, unit.in.total(), unit.in.n,
              unit.in.extra, unit.in.h, unit.in.w,        unit.in.grid};
  std::vector<float> x(in.begin(), in.end());
  run_mixer(c, blk.mixer, x);
  run_ffn(c, blk.ffn, x);
  if (blk.pool_after) {  // HVT: MaxPool1d(3, 2) over the tokens, then a new position embedding
    if (c.extra != 0) throw std::invalid_argument("reference: token pooling cannot take a cls token");
    const std::int64_t L = (c.T - 3) / 2 + 1;
    x = max_pool1d(x, c.T, c.D, 3, 2);
    add_inplace(x, p.get(c.pre + "pos_embed", L * c.D));
  }
  return x;
}

}  // namespace hwnas::ref::detail
