// Blocks: token mixers and FFNs, each a residual; HVT pooling after a block.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "profilers/cuda/lowerer.h"
#include "profilers/folding.h"

namespace hwnas::prof::cuda {

void Lowerer::qkv_dense(int u, const std::string& name, const View& src, Buffer* dst, i64 rows_n, i64 D, float scale) {
  // q, k, v as three dense [rows, D] matrices one after the other in `dst` (so that the head views
  // of each have one batch stride), the scale folded into q's weights and bias.
  std::vector<float> w = param(name + ".weight");
  std::vector<float> b = bias_or_empty(name + ".bias");
  const std::size_t K = w.size() / static_cast<std::size_t>(3 * D);
  for (i64 g = 0; g < 3; ++g) {
    const auto lo = static_cast<std::size_t>(g * D);
    std::vector<float> wg(w.begin() + static_cast<long>(lo * K),
                          w.begin() + static_cast<long>((lo + static_cast<std::size_t>(D)) * K));
    std::vector<float> bg;
    if (!b.empty())
      bg.assign(b.begin() + static_cast<long>(lo), b.begin() + static_cast<long>(lo + static_cast<std::size_t>(D)));
    if (g == 0) {
      for (float& v : wg) v *= scale;
      for (float& v : bg) v *= scale;
    }
    linear_values(u, name + "." + "qkv"[static_cast<std::size_t>(g)], src, plan_.view(dst, {rows_n, D}, g * rows_n * D),
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
  const i64 L = x2.T, Lp = un.out.n, C = x2.C;
  Buffer* pb = stream({in.buf, x2.buf});
  Tok y = tok(pb, Lp, C, 0, 0, 0);
  const Elem e = e_;
  const i64 B = B_;
  Buffer* xb = x2.buf;
  plan_.add(un.label + ".pool", u, "hwnas:max_pool_tokens",
            [=](cudaStream_t s) { kernels::max_pool_tokens(e, xb->data(), pb->data(), B, L, C, 3, 2, s); });
  add_position(u, un.label + ".pos_embed", y);
  return y;
}

Tok Lowerer::mixer(int u, const space::Stage& st, const space::Mixer& m, const Tok& x, Buffer* out) {
  const std::string p = label(u);
  const i64 D = x.C, heads = st.heads, d = D / heads, T = x.T, B = B_;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  Tok x1 = tok(out, T, D, x.h, x.w, x.extra);
  if (m.kind == space::MixerKind::none || m.kind == space::MixerKind::skip) return x;
  Tok ln = tok(scratch("ln"), T, D, x.h, x.w, x.extra);
  layer_norm(u, p + ".norm1", x, ln, eps());
  switch (m.kind) {
    case space::MixerKind::none:
    case space::MixerKind::skip:
    case space::MixerKind::kCount: return x;
    case space::MixerKind::normskip: residual_add(u, p + ".residual", rows(x), rows(ln), rows(x1)); return x1;
    case space::MixerKind::msa: {
      Buffer* qkv = scratch("qkv");
      qkv_dense(u, p + ".attn.qkv", rows(ln), qkv, B * T, D, scale);
      auto part = [&](i64 which) { return plan_.strided(qkv, {B, heads, T, d}, {T * D, d, D, 1}, which * B * T * D); };
      Buffer* ctx = scratch("ctx");
      const View o = plan_.strided(ctx, {B, heads, T, d}, {T * D, d, D, 1});
      const float* bias = nullptr;
      if (m.msa_rel_pos) bias = plan_.upload_f32(relative_bias(param(p + ".attn.core.rel_pos_table"), heads, x.h, x.w));
      attention(p + ".attn.core", u, part(0), part(1), part(2), o, 1.0f, bias, heads * T);
      linear_param(u, p + ".attn.proj", plan_.view(ctx, {B * T, D}), rows(x1), adds(rows(x)));
      return x1;
    }
    case space::MixerKind::hilo: return hilo(u, st, m, x, ln, out);
    case space::MixerKind::window: return window(u, st, m, x, ln, out);
    case space::MixerKind::sra: {
      const i64 r = m.sra_ratio, N = x.T;
      Buffer* q = scratch("q");
      linear_param(u, p + ".attn.q", rows(ln), plan_.view(q, {B * N, D}));
      Tok kv_src = ln;
      if (r > 1) {
        const i64 h2 = (x.h - r) / r + 1, w2 = (x.w - r) / r + 1;
        Tok red = tok(scratch("sr"), h2 * w2, D, h2, w2, 0);
        conv_param(u, p + ".attn.sr", ln, red, {r, r, 0, 1});
        Tok rn = tok(scratch("sr_norm"), h2 * w2, D, h2, w2, 0);
        layer_norm(u, p + ".attn.norm", red, rn, embed_eps());
        kv_src = rn;
      }
      const i64 nkv = kv_src.T;
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
    case space::MixerKind::bconv: return bconv(u, st, m, x, ln, out);
  }
  throw std::logic_error("bad mixer kind");
}

Tok Lowerer::hilo(int u, const space::Stage& st, const space::Mixer& m, const Tok& x, const Tok& ln, Buffer* out) {
  const std::string p = label(u);
  const i64 D = x.C, heads = st.heads, d = D / heads, B = B_;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const Elem e = e_;
  Tok x1 = tok(out, x.T, D, x.h, x.w, x.extra);
  const i64 s = m.hilo_window;
  const i64 l = space::hilo_lofi_heads(heads, m.hilo_alpha, s), h = heads - l;
  const i64 ld = l * d, hd = h * d;
  const i64 Hp = (x.h + s - 1) / s * s, Wp = (x.w + s - 1) / s * s, Np = Hp * Wp, nw = Np / (s * s);
  const bool padded = Hp != x.h || Wp != x.w;
  Tok src = ln;
  if (padded) {
    // A buffer of its own: its zero border is never overwritten by another unit.
    src = tok(plan_.buffer(p + ".pad"), Np, D, Hp, Wp, 0);
    Buffer *fb = ln.buf, *pb = src.buf;
    const i64 fh = ln.h, fw = ln.w;
    plan_.add(p + ".attn.pad", u, "hwnas:pad_copy",
              [=](cudaStream_t cs) { kernels::pad_copy(e, fb->data(), pb->data(), B, fh, fw, Hp, Wp, D, cs); });
  }
  const bool direct = h == 0 && !padded;
  Buffer* y = direct ? out : scratch("hilo_y");
  if (h > 0) {
    Buffer* hqkv = scratch("h_qkv");
    linear_param(u, p + ".attn.h_qkv", rows(src), plan_.view(hqkv, {B * Np, 3 * hd}));
    Buffer* hmap = scratch("h_map");
    plan_.view(hmap, {B * Np, hd});
    if (s <= 4 && d <= kernels::kWindowAttentionMaxD) {
      // One fused kernel: windows read in place from the q|k|v map, results written in map order.
      plan_.add(p + ".attn.h_core", u, "hwnas:window_attention", [=](cudaStream_t cs) {
        kernels::window_attention(e, hqkv->data(), hmap->data(), B, Hp, Wp, s, h, d, scale, cs);
      });
    } else {
      Buffer* win = scratch("h_windows");
      plan_.view(win, {B * Np, 3 * hd});
      plan_.add(p + ".attn.h_partition", u, "hwnas:window_partition", [=](cudaStream_t cs) {
        kernels::window_partition(e, hqkv->data(), 3 * hd, win->data(), B, Hp, Wp, s, 0, 3 * hd, cs);
      });
      const i64 L = s * s;
      auto part = [&](i64 which) {
        return plan_.strided(win, {B * nw, h, L, d}, {L * 3 * hd, d, 3 * hd, 1}, which * hd);
      };
      Buffer* hctx = scratch("h_ctx");
      attention(p + ".attn.h_core", u, part(0), part(1), part(2),
                plan_.strided(hctx, {B * nw, h, L, d}, {L * hd, d, hd, 1}), scale);
      plan_.add(p + ".attn.h_merge", u, "hwnas:window_merge", [=](cudaStream_t cs) {
        kernels::window_merge(e, hctx->data(), hmap->data(), hd, B, Hp, Wp, s, 0, hd, cs);
      });
    }
    linear_param(u, p + ".attn.h_proj", plan_.view(hmap, {B * Np, hd}), channels(y, B * Np, D, 0, hd));
  }
  if (l > 0) {
    View kv_src = rows(src);
    i64 nkv = Np;
    if (s > 1) {
      Buffer* pooled = scratch("l_pooled");
      plan_.view(pooled, {B * nw, D});
      Buffer* sb = src.buf;
      plan_.add(p + ".attn.l_pool", u, "hwnas:avg_pool",
                [=](cudaStream_t cs) { kernels::avg_pool(e, sb->data(), pooled->data(), B, Hp, Wp, D, s, cs); });
      kv_src = plan_.view(pooled, {B * nw, D});
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
    Buffer* xb = x.buf;
    const i64 xh = x.h, xw = x.w;
    plan_.add(p + ".attn.crop_residual", u, "hwnas:crop_add", [=](cudaStream_t cs) {
      kernels::crop_add(e, xb->data(), y->data(), out->data(), B, xh, xw, Hp, Wp, D, cs);
    });
  } else {
    residual_add(u, p + ".attn.residual", rows(x), plan_.view(y, {B * Np, D}), rows(x1));
  }
  return x1;
}

Tok Lowerer::window(int u, const space::Stage& st, const space::Mixer& m, const Tok& x, const Tok& ln, Buffer* out) {
  const std::string p = label(u);
  const i64 D = x.C, heads = st.heads, d = D / heads, B = B_;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const Elem e = e_;
  Tok x1 = tok(out, x.T, D, x.h, x.w, x.extra);
  const i64 w = m.window_size, shift = m.window_shift ? w / 2 : 0;
  const i64 nw = (x.h / w) * (x.w / w), L = w * w, N = x.T, H = x.h, W = x.w;
  Buffer* win = scratch("windows");
  plan_.view(win, {B * N, D});
  Buffer* lb = ln.buf;
  plan_.add(p + ".attn.partition", u, "hwnas:window_partition", [=](cudaStream_t cs) {
    kernels::window_partition(e, lb->data(), D, win->data(), B, H, W, w, shift, D, cs);
  });
  Buffer* qkv = scratch("qkv");
  qkv_dense(u, p + ".attn.qkv", plan_.view(win, {B * N, D}), qkv, B * N, D, scale);
  auto part = [&](i64 which) { return plan_.strided(qkv, {B * nw, heads, L, d}, {L * D, d, D, 1}, which * B * N * D); };
  // Relative-position bias per head, plus Swin's mask per window when shifted.
  const i64 groups = shift > 0 ? nw : 1;
  const std::vector<float> bias = window_bias(param(p + ".attn.core.rel_pos_table"), heads, H, W, w, shift);
  const float* bd = plan_.upload_f32(bias);
  Buffer* ctx = scratch("ctx");
  attention(p + ".attn.core", u, part(0), part(1), part(2), plan_.strided(ctx, {B * nw, heads, L, d}, {L * D, d, D, 1}),
            1.0f, bd, groups * heads * L);
  Buffer* proj = scratch("proj");
  linear_param(u, p + ".attn.proj", plan_.view(ctx, {B * N, D}), plan_.view(proj, {B * N, D}));
  Buffer* xb = x.buf;
  plan_.add(p + ".attn.merge_residual", u, "hwnas:window_merge_add", [=](cudaStream_t cs) {
    kernels::window_merge_add(e, proj->data(), xb->data(), out->data(), B, H, W, w, shift, D, cs);
  });
  return x1;
}

Tok Lowerer::bconv(int u, const space::Stage& st, const space::Mixer& m, const Tok& x, const Tok& ln, Buffer* out) {
  // SPViT: conv(D→d) with BatchNorm folded + ReLU, then Linear(d→D); the cls token bypasses it.
  const std::string p = label(u);
  const i64 D = x.C, d = D / st.heads, B = B_, k = m.bconv_kernel, N = x.n();
  Tok x1 = tok(out, x.T, D, x.h, x.w, x.extra);
  std::vector<float> wt = param(p + ".attn.conv.weight"), b = bias_or_empty(p + ".attn.conv.bias");
  fold_batch_norm(wt, b, param(p + ".attn.bn.weight"), param(p + ".attn.bn.bias"), param(p + ".attn.bn.running_mean"),
                  param(p + ".attn.bn.running_var"));
  Tok c = tok(scratch("bconv"), N, d, x.h, x.w, 0);
  Epilogue relu;
  relu.act = Epilogue::Act::relu;
  conv_values(u, p + ".attn.conv", ln, c, {k, 1, k / 2, 1}, std::move(wt), &b, relu);
  if (x.extra == 0) {
    linear_param(u, p + ".attn.proj", rows(c), rows(x1), adds(rows(x)));
    return x1;
  }
  Buffer* y = scratch("proj");
  linear_param(u, p + ".attn.proj", rows(c), plan_.view(y, {B * N, D}));
  const Elem e = e_;
  Buffer *xb = x.buf, *lb = ln.buf;
  plan_.add(p + ".attn.cls_bypass_residual", u, "hwnas:cls_bypass_residual", [=](cudaStream_t cs) {
    kernels::cls_bypass_residual(e, xb->data(), lb->data(), y->data(), out->data(), B, N, D, cs);
  });
  return x1;
}

Tok Lowerer::ffn(int u, const space::Ffn& f, const Tok& x, Buffer* out) {
  if (f.kind == space::FfnKind::none) return x;
  const std::string p = label(u);
  const i64 D = x.C, T = x.T, hidden = f.hidden;
  Tok ln = tok(scratch("ln"), T, D, x.h, x.w, x.extra);
  layer_norm(u, p + ".norm2", x, ln, eps());
  Tok h = tok(scratch("hidden"), T, hidden, x.h, x.w, x.extra);
  Epilogue gelu;
  gelu.act = Epilogue::Act::gelu;
  if (f.kind == space::FfnKind::mlp) {
    linear_param(u, p + ".mlp.fc1", rows(ln), rows(h), gelu);
  } else {
    linear_param(u, p + ".mlp.fc1", rows(ln), rows(h));
    Tok h2 = tok(scratch("hidden2"), T, hidden, x.h, x.w, x.extra);
    conv_param(u, p + ".mlp.dwconv", h, h2, {3, 1, 1, hidden}, gelu);
    h = h2;
  }
  Tok y = tok(out, T, D, x.h, x.w, x.extra);
  linear_param(u, p + ".mlp.fc2", rows(h), rows(y), adds(rows(x)));
  return y;
}

}  // namespace hwnas::prof::cuda
