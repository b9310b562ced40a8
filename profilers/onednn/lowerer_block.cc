// Blocks: token mixers and FFNs, each a residual; HVT pooling after a block.
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "profilers/folding.h"
#include "profilers/onednn/lowerer.h"

namespace hwnas::prof::onednn {
namespace {

// Scales the q rows (the first D outputs) of a fused [3·D, K] qkv weight and its bias: q·kᵀ·s = (s·q)·kᵀ.
void fold_scale_into_q(std::vector<float>& w, std::vector<float>& b, std::int64_t D, float scale) {
  const std::size_t k = w.size() / static_cast<std::size_t>(3 * D);
  for (std::size_t i = 0; i < static_cast<std::size_t>(D) * k; ++i) w[i] *= scale;
  for (std::size_t i = 0; i < std::min(b.size(), static_cast<std::size_t>(D)); ++i) b[i] *= scale;
}

}  // namespace

void Lowerer::qkv_dense(int u, const std::string& name, const View& src, Buffer* dst, std::int64_t rows_n,
                        std::int64_t D, float scale) {
  // q, k, v as three dense [rows, D] matrices (one after the other in `dst`): oneDNN picks its
  // brgemm kernels for dense q/k/v head views (a broadcast-batched matmul would fall back to ref).
  std::vector<float> w = param(name + ".weight");
  std::vector<float> b = specs_.count(name + ".bias") != 0 ? param(name + ".bias") : std::vector<float>{};
  fold_scale_into_q(w, b, D, scale);
  const std::size_t K = w.size() / static_cast<std::size_t>(3 * D);
  for (std::int64_t g = 0; g < 3; ++g) {
    const auto lo = static_cast<std::size_t>(g * D);
    std::vector<float> wg(w.begin() + static_cast<long>(lo * K),
                          w.begin() + static_cast<long>((lo + static_cast<std::size_t>(D)) * K));
    std::vector<float> bg;
    if (!b.empty())
      bg.assign(b.begin() + static_cast<long>(lo), b.begin() + static_cast<long>(lo + static_cast<std::size_t>(D)));
    linear(plan_, name + "." + "qkv"[static_cast<std::size_t>(g)], u, src, plan_.view(dst, {rows_n, D}, g * rows_n * D),
           wg, bg.empty() ? nullptr : &bg);
  }
}

Tok Lowerer::block(int u, const Tok& in) {
  const space::Unit& un = net_.units[static_cast<std::size_t>(u)];
  const space::Stage& st = arch_.stages[static_cast<std::size_t>(un.stage)];
  const space::Block& blk = st.blocks[static_cast<std::size_t>(un.block)];
  Buffer* a = stream({in.buf});
  Buffer* b = stream({in.buf, a});
  Tok x1 = mixer(u, st, blk.mixer, in, a);
  Tok x2 = ffn(u, blk.ffn, x1, b);
  if (!blk.pool_after) return x2;
  const std::int64_t L = x2.T, Lp = un.out.n, C = x2.C;
  Buffer* pb = stream({in.buf, x2.buf});
  Tok y = tok(pb, Lp, C, 0, 0, 0);
  max_pool1d(plan_, un.label + ".pool", u, plan_.strided(x2.buf, {B_, C, L}, {L * C, 1, C}),
             plan_.strided(pb, {B_, C, Lp}, {Lp * C, 1, C}), 3, 2);
  const memory pos = constant_memory(plan_, memory::desc({1, Lp, C}, plan_.act_type(), memory::format_tag::abc),
                                     param(un.label + ".pos_embed"), {1, Lp, C}, {Lp * C, C, 1});
  const View v = plan_.view(pb, {B_, Lp, C});
  add_constant(plan_, un.label + ".pos_embed", u, v, pos, v);
  return y;
}

Tok Lowerer::mixer(int u, const space::Stage& st, const space::Mixer& m, const Tok& x, Buffer* out) {
  const std::string p = label(u);
  const std::int64_t D = x.C, heads = st.heads, d = D / heads, T = x.T, B = B_;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const float eps = static_cast<float>(arch_.norm_eps);
  const kernels::Elem e = elem();
  Tok x1 = tok(out, T, D, x.h, x.w, x.extra);
  if (m.kind == space::MixerKind::none || m.kind == space::MixerKind::skip) return x;
  Tok ln = tok(scratch("ln"), T, D, x.h, x.w, x.extra);
  layer_norm(plan_, p + ".norm1", u, rows(x), rows(ln), param(p + ".norm1.weight"), param(p + ".norm1.bias"), eps);
  switch (m.kind) {
    case space::MixerKind::none:
    case space::MixerKind::skip:
    case space::MixerKind::kCount: return x;
    case space::MixerKind::normskip: add(plan_, p + ".residual", u, rows(x), rows(ln), rows(x1)); return x1;
    case space::MixerKind::msa: {
      // q, k, v dense, the d^-0.5 scale folded into q's weights and bias.
      Buffer* qkv = scratch("qkv");
      qkv_dense(u, p + ".attn.qkv", rows(ln), qkv, B * T, D, scale);
      auto part = [&](std::int64_t which) {
        return plan_.strided(qkv, {B, heads, T, d}, {T * D, d, D, 1}, which * B * T * D);
      };
      Buffer* ctx = scratch("ctx");
      const View o = plan_.strided(ctx, {B, heads, T, d}, {T * D, d, D, 1});
      std::optional<memory> bias;
      if (m.msa_rel_pos) {
        const auto table = param(p + ".attn.core.rel_pos_table");
        const auto dense_bias = relative_bias(table, heads, x.h, x.w);
        bias = constant_memory(plan_, memory::desc({1, heads, T, T}, plan_.act_type(), memory::format_tag::abcd),
                               dense_bias, {1, heads, T, T}, {heads * T * T, T * T, T, 1});
      }
      attention(p + ".attn.core", u, part(0), part(1), part(2), o, 1.0f, bias, {B, heads, T, T});
      linear_param(u, p + ".attn.proj", plan_.view(ctx, {B * T, D}), rows(x1), adds(rows(x)));
      return x1;
    }
    case space::MixerKind::hilo: {
      const std::int64_t s = m.hilo_window;
      const std::int64_t l = space::hilo_lofi_heads(heads, m.hilo_alpha, s), h = heads - l;
      const std::int64_t ld = l * d, hd = h * d;
      const std::int64_t Hp = (x.h + s - 1) / s * s, Wp = (x.w + s - 1) / s * s, Np = Hp * Wp, nw = Np / (s * s);
      const bool padded = Hp != x.h || Wp != x.w;
      Tok src = ln;
      if (padded) {
        // A buffer of its own: its zero border must never be overwritten by another unit.
        src = tok(plan_.buffer(p + ".pad"), Np, D, Hp, Wp, 0);
        const Tok from = ln;
        plan_.add_kernel(p + ".attn.pad", u, "hwnas:pad_copy", [=] {
          kernels::pad_copy(e, from.buf->data(), src.buf->data(), B, from.h, from.w, Hp, Wp, D);
        });
      }
      // Only Lo-Fi (s = 1 or alpha = 1) without padding: the projection adds the residual itself.
      const bool direct = h == 0 && !padded;
      Buffer* y = direct ? out : scratch("hilo_y");
      if (h > 0) {
        Buffer* hqkv = scratch("h_qkv");
        linear_param(u, p + ".attn.h_qkv", rows(src), plan_.view(hqkv, {B * Np, 3 * hd}));
        Buffer* win = scratch("h_windows");
        plan_.view(win, {B * Np, 3 * hd});
        plan_.add_kernel(p + ".attn.h_partition", u, "hwnas:window_partition", [=] {
          kernels::window_partition(e, hqkv->data(), 3 * hd, win->data(), B, Hp, Wp, s, 0, 3 * hd);
        });
        const std::int64_t L = s * s;
        auto part = [&](std::int64_t which) {
          return plan_.strided(win, {B * nw, h, L, d}, {L * 3 * hd, d, 3 * hd, 1}, which * hd);
        };
        Buffer* hctx = scratch("h_ctx");
        attention(p + ".attn.h_core", u, part(0), part(1), part(2),
                  plan_.strided(hctx, {B * nw, h, L, d}, {L * hd, d, hd, 1}), scale);
        Buffer* hmap = scratch("h_map");
        plan_.view(hmap, {B * Np, hd});
        plan_.add_kernel(p + ".attn.h_merge", u, "hwnas:window_merge",
                         [=] { kernels::window_merge(e, hctx->data(), hmap->data(), hd, B, Hp, Wp, s, 0, hd); });
        linear_param(u, p + ".attn.h_proj", plan_.view(hmap, {B * Np, hd}), channels(y, B * Np, D, 0, hd));
      }
      if (l > 0) {
        View kv_src = rows(src);
        std::int64_t nkv = Np;
        if (s > 1) {
          Buffer* pooled = scratch("l_pooled");
          Tok pt = tok(pooled, nw, D, Hp / s, Wp / s, 0);
          avg_pool2d(plan_, p + ".attn.l_pool", u, map(src), map(pt), s);
          kv_src = rows(pt);
          nkv = nw;
        }
        Buffer* lq = scratch("l_q");
        linear_param(u, p + ".attn.l_q", rows(src), plan_.view(lq, {B * Np, ld}));
        Buffer* lkv = scratch("l_kv");
        linear_param(u, p + ".attn.l_kv", kv_src, plan_.view(lkv, {B * nkv, 2 * ld}));
        Buffer* lctx = scratch("l_ctx");
        attention(p + ".attn.l_core", u, plan_.strided(lq, {B, l, Np, d}, {Np * ld, d, ld, 1}),
                  plan_.strided(lkv, {B, l, nkv, d}, {nkv * 2 * ld, d, 2 * ld, 1}),
                  plan_.strided(lkv, {B, l, nkv, d}, {nkv * 2 * ld, d, 2 * ld, 1}, ld),
                  plan_.strided(lctx, {B, l, Np, d}, {Np * ld, d, ld, 1}), scale);
        linear_param(u, p + ".attn.l_proj", plan_.view(lctx, {B * Np, ld}), channels(y, B * Np, D, hd, ld),
                     direct ? adds(rows(x)) : Epilogue{});
      }
      if (direct) return x1;
      if (padded) {
        const Tok xin = x;
        plan_.add_kernel(p + ".attn.crop_residual", u, "hwnas:crop_add", [=] {
          kernels::crop_add(e, xin.buf->data(), y->data(), out->data(), B, xin.h, xin.w, Hp, Wp, D);
        });
      } else {
        add(plan_, p + ".attn.residual", u, rows(x), plan_.view(y, {B * Np, D}), rows(x1));
      }
      return x1;
    }
    case space::MixerKind::window: {
      const std::int64_t w = m.window_size, shift = m.window_shift ? w / 2 : 0;
      const std::int64_t nw = (x.h / w) * (x.w / w), L = w * w, N = x.T;
      Buffer* win = scratch("windows");
      plan_.view(win, {B * N, D});
      const Tok from = ln;
      plan_.add_kernel(p + ".attn.partition", u, "hwnas:window_partition", [=] {
        kernels::window_partition(e, from.buf->data(), D, win->data(), B, from.h, from.w, w, shift, D);
      });
      Buffer* qkv = scratch("qkv");
      qkv_dense(u, p + ".attn.qkv", plan_.view(win, {B * N, D}), qkv, B * N, D, scale);
      auto part = [&](std::int64_t which) {
        return plan_.strided(qkv, {B * nw, heads, L, d}, {L * D, d, D, 1}, which * B * N * D);
      };
      // Relative-position bias per head, plus Swin's mask per window when shifted.
      const std::int64_t groups = shift > 0 ? nw : 1;
      const std::vector<float> bias = window_bias(param(p + ".attn.core.rel_pos_table"), heads, x.h, x.w, w, shift);
      const memory bm =
          constant_memory(plan_, memory::desc({1, groups, heads, L, L}, plan_.act_type(), memory::format_tag::abcde),
                          bias, {1, groups, heads, L, L}, {groups * heads * L * L, heads * L * L, L * L, L, 1});
      Buffer* ctx = scratch("ctx");
      attention(p + ".attn.core", u, part(0), part(1), part(2),
                plan_.strided(ctx, {B * nw, heads, L, d}, {L * D, d, D, 1}), 1.0f, bm, {B, nw, heads, L, L});
      Buffer* proj = scratch("proj");
      linear_param(u, p + ".attn.proj", plan_.view(ctx, {B * N, D}), plan_.view(proj, {B * N, D}));
      const Tok xin = x;
      plan_.add_kernel(p + ".attn.merge_residual", u, "hwnas:window_merge_add", [=] {
        kernels::window_merge_add(e, proj->data(), xin.buf->data(), out->data(), B, xin.h, xin.w, w, shift, D);
      });
      return x1;
    }
    case space::MixerKind::sra: {
      const std::int64_t r = m.sra_ratio, N = x.T;
      Buffer* q = scratch("q");
      linear_param(u, p + ".attn.q", rows(ln), plan_.view(q, {B * N, D}));
      Tok kv_src = ln;
      if (r > 1) {
        const std::int64_t h2 = (x.h - r) / r + 1, w2 = (x.w - r) / r + 1;
        Tok red = tok(scratch("sr"), h2 * w2, D, h2, w2, 0);
        conv_param(u, p + ".attn.sr", map(ln), map(red), {r, r, 0, 1});
        Tok rn = tok(scratch("sr_norm"), h2 * w2, D, h2, w2, 0);
        layer_norm(plan_, p + ".attn.norm", u, rows(red), rows(rn), param(p + ".attn.norm.weight"),
                   param(p + ".attn.norm.bias"), static_cast<float>(arch_.embed_eps()));
        kv_src = rn;
      }
      const std::int64_t nkv = kv_src.T;
      Buffer* kv = scratch("kv");
      linear_param(u, p + ".attn.kv", rows(kv_src), plan_.view(kv, {B * nkv, 2 * D}));
      Buffer* ctx = scratch("ctx");
      attention(p + ".attn.core", u, plan_.strided(q, {B, heads, N, d}, {N * D, d, D, 1}),
                plan_.strided(kv, {B, heads, nkv, d}, {nkv * 2 * D, d, 2 * D, 1}),
                plan_.strided(kv, {B, heads, nkv, d}, {nkv * 2 * D, d, 2 * D, 1}, D),
                plan_.strided(ctx, {B, heads, N, d}, {N * D, d, D, 1}), scale);
      linear_param(u, p + ".attn.proj", plan_.view(ctx, {B * N, D}), rows(x1), adds(rows(x)));
      return x1;
    }
    case space::MixerKind::bconv: {
      // SPViT: conv(D→d) with BatchNorm folded + ReLU, then Linear(d→D); the cls token bypasses it.
      const std::int64_t k = m.bconv_kernel, N = x.n();
      std::vector<float> wt = param(p + ".attn.conv.weight"), b, tmp;
      if (const auto* bb = bias_or_null(p + ".attn.conv.bias", tmp)) b = *bb;
      fold_batch_norm(wt, b, param(p + ".attn.bn.weight"), param(p + ".attn.bn.bias"),
                      param(p + ".attn.bn.running_mean"), param(p + ".attn.bn.running_var"));
      Tok c = tok(scratch("bconv"), N, d, x.h, x.w, 0);
      Epilogue relu;
      relu.act = Epilogue::Act::relu;
      // With a cls token the spatial tokens are a strided view, for which oneDNN only has a
      // reference conv (4.6 ms instead of ~0.05 ms on deit-tiny): copy them dense first.
      Tok conv_src = ln;
      if (x.extra > 0) {
        conv_src = tok(scratch("bconv_src"), N, D, x.h, x.w, 0);
        reorder(plan_, p + ".attn.spatial", u, map(ln), map(conv_src));
      }
      conv2d(plan_, p + ".attn.conv", u, map(conv_src), map(c), wt, &b, {k, 1, k / 2, 1}, relu);
      if (x.extra == 0) {
        linear_param(u, p + ".attn.proj", rows(c), rows(x1), adds(rows(x)));
        return x1;
      }
      Buffer* y = scratch("proj");
      linear_param(u, p + ".attn.proj", rows(c), plan_.view(y, {B * N, D}));
      const Tok xin = x, lnt = ln;
      plan_.add_kernel(p + ".attn.cls_bypass_residual", u, "hwnas:cls_bypass_residual", [=] {
        kernels::cls_bypass_residual(e, xin.buf->data(), lnt.buf->data(), y->data(), out->data(), B, N, D);
      });
      return x1;
    }
  }
  throw std::logic_error("bad mixer kind");
}

Tok Lowerer::ffn(int u, const space::Ffn& f, const Tok& x, Buffer* out) {
  if (f.kind == space::FfnKind::none) return x;
  const std::string p = label(u);
  const std::int64_t D = x.C, T = x.T, hidden = f.hidden;
  Tok ln = tok(scratch("ln"), T, D, x.h, x.w, x.extra);
  layer_norm(plan_, p + ".norm2", u, rows(x), rows(ln), param(p + ".norm2.weight"), param(p + ".norm2.bias"),
             static_cast<float>(arch_.norm_eps));
  Tok h = tok(scratch("hidden"), T, hidden, x.h, x.w, x.extra);
  Epilogue gelu;
  gelu.act = Epilogue::Act::gelu;
  if (f.kind == space::FfnKind::mlp) {
    linear_param(u, p + ".mlp.fc1", rows(ln), rows(h), gelu);
  } else {
    linear_param(u, p + ".mlp.fc1", rows(ln), rows(h));
    Tok h2 = tok(scratch("hidden2"), T, hidden, x.h, x.w, x.extra);
    conv_param(u, p + ".mlp.dwconv", map(h), map(h2), {3, 1, 1, hidden}, gelu);
    h = h2;
  }
  Tok y = tok(out, T, D, x.h, x.w, x.extra);
  linear_param(u, p + ".mlp.fc2", rows(h), rows(y), adds(rows(x)));
  return y;
}

}  // namespace hwnas::prof::onednn
