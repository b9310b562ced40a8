#include "profilers/cuda/lowerer.h"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "profilers/folding.h"

namespace hwnas::prof::cuda {

using space::UnitKind;

Lowerer::Lowerer(Plan& plan, const space::Arch& arch, const space::Lowered& net, const WeightSource& weights)
    : plan_(plan), arch_(arch), net_(net), weights_(weights), B_(plan.batch()), e_(plan.act()) {
  for (auto& s : space::param_specs(net)) specs_.emplace(s.name, s);
}

std::vector<float> Lowerer::param(const std::string& name) const {
  auto it = specs_.find(name);
  if (it == specs_.end()) throw std::logic_error(fmt::format("CUDA lowering asked for unknown parameter '{}'", name));
  std::vector<float> v(static_cast<std::size_t>(it->second.numel()));
  weights_.fill(it->second, v);
  return v;
}

std::vector<float> Lowerer::bias_or_empty(const std::string& name) const {
  return has_param(name) ? param(name) : std::vector<float>{};
}

View Lowerer::rows(const Tok& t) const {
  return plan_.view(t.buf, {B_ * t.T, t.C});
}

View Lowerer::channels(Buffer* b, i64 nrows, i64 ld, i64 offset, i64 width) const {
  return plan_.strided(b, {nrows, width}, {ld, 1}, offset);
}

Tok Lowerer::tok(Buffer* b, i64 T, i64 C, i64 h, i64 w, i64 extra) const {
  plan_.view(b, {B_ * T, C});  // sizes the buffer
  return Tok{b, T, C, h, w, extra};
}

Buffer* Lowerer::stream(std::initializer_list<const Buffer*> avoid) {
  for (int i = 0;; ++i) {
    Buffer* b = plan_.buffer(fmt::format("stream.{}", i));
    bool clash = false;
    for (const Buffer* a : avoid) clash = clash || a == b;
    if (!clash) return b;
  }
}

View Lowerer::image_view() {
  return plan_.typed(plan_.buffer("input.image"), {B_, arch_.input.channels, arch_.input.height, arch_.input.width},
                     Elem::f32);
}

void Lowerer::linear_values(int u, const std::string& name, const View& src, const View& dst,
                            const std::vector<float>& w, const std::vector<float>* bias, const Epilogue& ep) {
  linear(plan_, name, u, src, dst, w, bias, ep);
}

void Lowerer::linear_param(int u, const std::string& name, const View& src, const View& dst, const Epilogue& ep) {
  const std::vector<float> b = bias_or_empty(name + ".bias");
  linear(plan_, name, u, src, dst, param(name + ".weight"), b.empty() ? nullptr : &b, ep);
}

void Lowerer::conv_param(int u, const std::string& name, const Tok& src, const Tok& dst, const ConvGeometry& g,
                         const Epilogue& ep) {
  const std::vector<float> b = bias_or_empty(name + ".bias");
  conv_values(u, name, src, dst, g, param(name + ".weight"), b.empty() ? nullptr : &b, ep);
}

void Lowerer::conv_values(int u, const std::string& name, const Tok& src, const Tok& dst, const ConvGeometry& g,
                          std::vector<float> w, const std::vector<float>* bias, const Epilogue& ep) {
  const i64 cin = src.C, cout = dst.C, k = g.kernel, Ho = dst.h, Wo = dst.w;
  if (g.groups > 1) {
    // Depthwise: own kernel on dense maps, weights tap-major [k·k, C].
    if (g.groups != cin || cout != cin || src.extra != 0 || g.stride != 1 || g.padding != k / 2 ||
        ep.act == Epilogue::Act::relu || ep.residual)
      throw std::logic_error(fmt::format("{}: only depthwise k×k/1 'same' convolutions are grouped", name));
    std::vector<float> wt(w.size());
    for (i64 c = 0; c < cin; ++c)
      for (i64 t = 0; t < k * k; ++t)
        wt[static_cast<std::size_t>(t * cin + c)] = w[static_cast<std::size_t>(c * k * k + t)];
    const float* wd = plan_.upload_f32(wt);
    const float* bd =
        plan_.upload_f32(bias != nullptr ? *bias : std::vector<float>(static_cast<std::size_t>(cin), 0.f));
    const bool gelu = ep.act == Epilogue::Act::gelu;
    const Elem e = e_;
    const i64 B = B_, H = src.h, W = src.w;
    Buffer *sb = src.buf, *db = dst.buf;
    plan_.add(name, u, "hwnas:dwconv",
              [=](cudaStream_t s) { kernels::dwconv(e, sb->data(), db->data(), B, H, W, cin, k, wd, bd, gelu, s); });
    return;
  }
  // PyTorch [out, in, k, k] → [out, k, k, in]: the im2col column order (tap, then channel).
  std::vector<float> wt(w.size());
  for (i64 o = 0; o < cout; ++o)
    for (i64 c = 0; c < cin; ++c)
      for (i64 t = 0; t < k * k; ++t)
        wt[static_cast<std::size_t>((o * k * k + t) * cin + c)] =
            w[static_cast<std::size_t>((o * cin + c) * k * k + t)];
  if (k == 1 && g.stride == 1 && g.padding == 0 && src.extra == 0) {
    linear_values(u, name, rows(src), rows(dst), wt, bias, ep);
    return;
  }
  Buffer* cols = scratch("im2col");
  const View cv = plan_.view(cols, {B_ * Ho * Wo, k * k * cin});
  const Elem e = e_;
  const i64 B = B_, H = src.h, W = src.w, T = src.T, off = src.extra * cin, pad = g.padding, stride = g.stride;
  Buffer* sb = src.buf;
  plan_.add(name + ".im2col", u, "hwnas:im2col", [=](cudaStream_t s) {
    const kernels::MapRef m{sb->data() + static_cast<std::size_t>(off) * kernels::size_of(e), B, H, W, cin, T * cin};
    kernels::im2col(e, m, cols->data(), k, stride, pad, Ho, Wo, s);
  });
  linear_values(u, name, cv, rows(dst), wt, bias, ep);
}

void Lowerer::layer_norm(int u, const std::string& name, const Tok& src, const Tok& dst, float eps) {
  const float* g = plan_.upload_f32(param(name + ".weight"));
  const float* b = plan_.upload_f32(param(name + ".bias"));
  const Elem e = e_;
  const i64 n = B_ * src.T, C = src.C;
  Buffer *sb = src.buf, *db = dst.buf;
  plan_.add(name, u, "hwnas:layer_norm",
            [=](cudaStream_t s) { kernels::layer_norm(e, sb->data(), db->data(), n, C, g, b, eps, s); });
}

void Lowerer::add_position(int u, const std::string& name, const Tok& x) {
  const float* pos = plan_.upload_f32(param(name));
  const Elem e = e_;
  const i64 B = B_, per = x.T * x.C;
  Buffer* xb = x.buf;
  plan_.add(name, u, "hwnas:add_broadcast",
            [=](cudaStream_t s) { kernels::add_broadcast(e, xb->data(), pos, B, per, s); });
}

void Lowerer::residual_add(int u, const std::string& name, const View& a, const View& b, const View& out) {
  const Elem e = e_;
  const i64 n = out.shape[0] * out.shape[1];
  plan_.add(name, u, "hwnas:add", [=](cudaStream_t s) { kernels::add(e, a.ptr(), b.ptr(), out.ptr(), n, s); });
}

Tok Lowerer::unit(int u, const Tok& in) {
  switch (net_.units[static_cast<std::size_t>(u)].kind) {
    case UnitKind::stem: return stem(u);
    case UnitKind::downsample: return downsample(u, in);
    case UnitKind::block: return block(u, in);
    case UnitKind::head: return head(u, in);
    case UnitKind::kCount: break;
  }
  throw std::logic_error("bad unit kind");
}

void Lowerer::attention(const std::string& name, int u, const View& q, const View& k, const View& v, const View& out,
                        float scale, const float* bias, i64 bias_rows) {
  // Two batched products around a softmax. A fused thread-per-query kernel for short key sequences
  // (kv ≤ 64: HiLo's Lo-Fi, SRA, Swin windows) measured slower on the H200 in every case tried
  // (litv2-s Lo-Fi 1205 vs 790 µs, SRA layer 720 vs 348 µs at batch 64): see the GPU issue's note.
  const i64 batch = q.shape[0], heads = q.shape[1], lq = q.shape[2], lk = k.shape[2];
  const Elem e = e_;
  Buffer* sb = scratch("scores");
  const View scores = plan_.view(sb, {batch, heads, lq, lk});
  const View kt = plan_.strided(k.buf, {batch, heads, k.shape[3], lk},
                                {k.strides[0], k.strides[1], k.strides[3], k.strides[2]}, k.offset);
  batched_matmul(plan_, name + ".qk", u, q, kt, scores, scale);
  const i64 rows_n = batch * heads * lq;
  plan_.add(name + ".softmax", u, "hwnas:softmax",
            [=](cudaStream_t s) { kernels::softmax_rows(e, sb->data(), rows_n, lk, bias, bias_rows, s); });
  batched_matmul(plan_, name + ".pv", u, scores, v, out);
}

Tok Lowerer::stage_norm(int u, int stage, const Tok& x) {
  if (stage < 0 || !arch_.stages[static_cast<std::size_t>(stage)].norm_out) return x;
  Tok y = tok(scratch("stage_norm"), x.T, x.C, x.h, x.w, x.extra);
  layer_norm(u, fmt::format("stages.{}.norm", stage), x, y, eps());
  return y;
}

Tok Lowerer::stem(int u) {
  const space::Unit& un = net_.units[static_cast<std::size_t>(u)];
  const std::string p = un.label;
  const space::Patch& ps = arch_.stem;
  const i64 C = un.out_dim, h = un.out.h, w = un.out.w, cin = arch_.input.channels;
  const i64 H = arch_.input.height, W = arch_.input.width, k = ps.kernel;
  const View image = image_view();
  Buffer* out = stream({});
  const bool post = ps.norm || arch_.cls_token;
  Tok conv_out = tok(post ? scratch("stem_conv") : out, h * w, C, h, w, 0);
  // im2col straight from the fp32 NCHW image, then the GEMM.
  std::vector<float> wt = param(p + ".proj.weight"), wp(wt.size());
  for (i64 o = 0; o < C; ++o)
    for (i64 c = 0; c < cin; ++c)
      for (i64 t = 0; t < k * k; ++t)
        wp[static_cast<std::size_t>((o * k * k + t) * cin + c)] =
            wt[static_cast<std::size_t>((o * cin + c) * k * k + t)];
  Buffer* cols = scratch("im2col");
  const View cv = plan_.view(cols, {B_ * h * w, k * k * cin});
  const Elem e = e_;
  const i64 B = B_, stride = ps.stride, pad = ps.padding;
  plan_.add(p + ".proj.im2col", u, "hwnas:image_im2col", [=](cudaStream_t s) {
    kernels::image_im2col(e, static_cast<const float*>(image.ptr()), B, cin, H, W, cols->data(), k, stride, pad, h, w,
                          s);
  });
  const std::vector<float> b = bias_or_empty(p + ".proj.bias");
  linear_values(u, p + ".proj", cv, rows(conv_out), wp, b.empty() ? nullptr : &b);
  Tok x = conv_out;
  if (ps.norm) {
    Tok y = tok(arch_.cls_token ? scratch("stem_norm") : out, h * w, C, h, w, 0);
    layer_norm(u, p + ".norm", x, y, embed_eps());
    x = y;
  }
  if (arch_.cls_token) {
    Tok y = tok(out, h * w + 1, C, h, w, 1);
    const float* cls = plan_.upload_f32(param(p + ".cls_token"));
    Buffer *sb = x.buf, *db = y.buf;
    const i64 N = h * w;
    plan_.add(p + ".cls_token", u, "hwnas:cls_concat",
              [=](cudaStream_t s) { kernels::cls_concat(e, cls, sb->data(), db->data(), B, N, C, s); });
    x = y;
  }
  if (arch_.stages[0].pos_embed) add_position(u, p + ".pos_embed", x);
  return x;
}

Tok Lowerer::downsample(int u, const Tok& in) {
  const space::Unit& un = net_.units[static_cast<std::size_t>(u)];
  const std::string p = un.label;
  const space::Stage& st = arch_.stages[static_cast<std::size_t>(un.stage)];
  const space::Patch& ps = st.downsample;
  Tok x = stage_norm(u, un.stage - 1, in);
  const i64 C = un.out_dim, h = un.out.h, w = un.out.w;
  Buffer* out = stream({in.buf});
  const Elem e = e_;
  const i64 B = B_;
  switch (ps.kind) {
    case space::PatchKind::none: break;
    case space::PatchKind::patch:
    case space::PatchKind::overlap: {
      Tok c = tok(ps.norm ? scratch("down_conv") : out, h * w, C, h, w, 0);
      conv_param(u, p + ".proj", x, c, {ps.kernel, ps.stride, ps.padding, 1});
      x = c;
      if (ps.norm) {
        Tok y = tok(out, h * w, C, h, w, 0);
        layer_norm(u, p + ".norm", x, y, embed_eps());
        x = y;
      }
      break;
    }
    case space::PatchKind::merge: {
      Tok g = tok(scratch("merge_gather"), h * w, 4 * x.C, h, w, 0);
      Buffer *sb = x.buf, *gb = g.buf;
      const i64 sh = x.h, sw = x.w, sc = x.C;
      plan_.add(p + ".gather", u, "hwnas:patch_gather",
                [=](cudaStream_t s) { kernels::patch_gather(e, sb->data(), gb->data(), B, sh, sw, sc, s); });
      Tok n = tok(scratch("merge_norm"), h * w, 4 * x.C, h, w, 0);
      layer_norm(u, p + ".norm", g, n, eps());
      Tok y = tok(out, h * w, C, h, w, 0);
      linear_values(u, p + ".reduction", rows(n), rows(y), param(p + ".reduction.weight"), nullptr);
      x = y;
      break;
    }
    case space::PatchKind::dtm: {
      // Offsets from a 2×2/2 conv, bilinear im2col, then one GEMM with BatchNorm folded + GELU.
      Tok off = tok(scratch("dtm_offsets"), h * w, 8, h, w, 0);
      conv_param(u, p + ".dconv.conv_offset", x, off, {2, 2, 0, 1});
      Tok cols = tok(scratch("dtm_cols"), h * w, 4 * x.C, h, w, 0);
      Buffer *sb = x.buf, *ob = off.buf, *cb = cols.buf;
      const i64 sh = x.h, sw = x.w, sc = x.C;
      plan_.add(p + ".dconv.sample", u, "hwnas:deform_im2col", [=](cudaStream_t s) {
        kernels::deform_im2col(e, sb->data(), ob->data(), cb->data(), B, sh, sw, sc, h, w, s);
      });
      // [Cout, Cin, 2, 2] → the sampled columns' order (tap, then channel); BatchNorm folded in.
      std::vector<float> permuted = taps_outer(param(p + ".dconv.weight"), C, x.C, 4),
                         b = bias_or_empty(p + ".dconv.bias");
      fold_batch_norm(permuted, b, param(p + ".norm.weight"), param(p + ".norm.bias"), param(p + ".norm.running_mean"),
                      param(p + ".norm.running_var"));
      Tok y = tok(out, h * w, C, h, w, 0);
      Epilogue ep;
      ep.act = Epilogue::Act::gelu;
      linear_values(u, p + ".dconv", rows(cols), rows(y), permuted, &b, ep);
      x = y;
      break;
    }
    case space::PatchKind::kCount: break;
  }
  if (st.pos_embed) {
    if (x.buf == in.buf) throw std::logic_error("downsample 'none' with a position embedding would write its input");
    add_position(u, p + ".pos_embed", x);
  }
  return x;
}

Tok Lowerer::head(int u, const Tok& in) {
  const space::Unit& un = net_.units[static_cast<std::size_t>(u)];
  const std::string p = un.label;
  Tok x = stage_norm(u, static_cast<int>(arch_.stages.size()) - 1, in);
  if (arch_.head.norm) {
    Tok y = tok(scratch("head_norm"), x.T, x.C, x.h, x.w, x.extra);
    layer_norm(u, p + ".norm", x, y, eps());
    x = y;
  }
  View feat;
  if (arch_.head.kind == space::HeadKind::cls) {
    feat = plan_.strided(x.buf, {B_, x.C}, {x.T * x.C, 1});
  } else {
    Buffer* m = scratch("head_mean");
    feat = plan_.view(m, {B_, x.C});
    const Elem e = e_;
    const i64 B = B_, T = x.T, C = x.C;
    Buffer* sb = x.buf;
    plan_.add(p + ".pool", u, "hwnas:mean_tokens",
              [=](cudaStream_t s) { kernels::mean_tokens(e, sb->data(), m->data(), B, T, C, s); });
  }
  const i64 classes = arch_.input.classes;
  Tok logits = tok(plan_.buffer("output.logits"), 1, classes, 0, 0, 0);
  linear_param(u, p + ".fc", feat, plan_.view(logits.buf, {B_, classes}));
  return logits;
}

}  // namespace hwnas::prof::cuda
