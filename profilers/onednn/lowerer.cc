#include "profilers/onednn/lowerer.h"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "profilers/folding.h"
#include "profilers/onednn/softmax_kernel.h"

namespace hwnas::prof::onednn {

using space::UnitKind;

Lowerer::Lowerer(Plan& plan, const space::Arch& arch, const space::Lowered& net, const WeightSource& weights)
    : plan_(plan), arch_(arch), net_(net), weights_(weights), B_(plan.batch()) {
  for (auto& s : space::param_specs(net)) specs_.emplace(s.name, s);
}

std::vector<float> Lowerer::param(const std::string& name) const {
  auto it = specs_.find(name);
  if (it == specs_.end()) throw std::logic_error(fmt::format("oneDNN lowering asked for unknown parameter '{}'", name));
  std::vector<float> v(static_cast<std::size_t>(it->second.numel()));
  weights_.fill(it->second, v);
  return v;
}

const std::vector<float>* Lowerer::bias_or_null(const std::string& name, std::vector<float>& storage) const {
  if (specs_.count(name) == 0) return nullptr;
  storage = param(name);
  return &storage;
}

void Lowerer::linear_param(int u, const std::string& name, const View& src, const View& dst, const Epilogue& ep) {
  std::vector<float> bias;
  linear(plan_, name, u, src, dst, param(name + ".weight"), bias_or_null(name + ".bias", bias), ep);
}

void Lowerer::conv_param(int u, const std::string& name, const View& src, const View& dst, const ConvGeometry& g,
                         const Epilogue& ep) {
  std::vector<float> bias;
  conv2d(plan_, name, u, src, dst, param(name + ".weight"), bias_or_null(name + ".bias", bias), g, ep);
}

View Lowerer::rows(const Tok& t) const {
  return plan_.view(t.buf, {B_ * t.T, t.C});
}

View Lowerer::map(const Tok& t) const {
  return plan_.strided(t.buf, {B_, t.C, t.h, t.w}, {t.T * t.C, 1, t.w * t.C, t.C}, t.extra * t.C);
}

View Lowerer::channels(Buffer* b, std::int64_t nrows, std::int64_t ld, std::int64_t offset, std::int64_t width) const {
  return plan_.strided(b, {nrows, width}, {ld, 1}, offset);
}

Tok Lowerer::tok(Buffer* b, std::int64_t T, std::int64_t C, std::int64_t h, std::int64_t w, std::int64_t extra) const {
  Tok t{b, T, C, h, w, extra};
  plan_.view(b, {B_ * T, C});  // sizes the buffer
  return t;
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
  const std::int64_t C = arch_.input.channels, H = arch_.input.height, W = arch_.input.width;
  Buffer* b = plan_.buffer("input.image");
  View v{b, 0, {B_, C, H, W}, {C * H * W, H * W, W, 1}, memory::data_type::f32};  // always fp32 NCHW
  b->require(v.extent_bytes());
  return v;
}

Tok Lowerer::unit(int u, const Tok& in) {
  switch (net_.units[static_cast<std::size_t>(u)].kind) {
    case UnitKind::stem: return stem(u, in);
    case UnitKind::downsample: return downsample(u, in);
    case UnitKind::block: return block(u, in);
    case UnitKind::head: return head(u, in);
    case UnitKind::kCount: break;
  }
  throw std::logic_error("bad unit kind");
}

void Lowerer::attention(const std::string& name, int u, const View& q, const View& k, const View& v, const View& out,
                        float scale, const std::optional<memory>& bias, const dims& bias_view) {
  const std::int64_t batch = q.shape[0], heads = q.shape[1], lq = q.shape[2], lk = k.shape[2];
  Buffer* sb = scratch("scores");
  const View scores = plan_.view(sb, {batch, heads, lq, lk});
  const View kt = plan_.strided(k.buf, {batch, heads, k.shape[3], lk},
                                {k.strides[0], k.strides[1], k.strides[3], k.strides[2]}, k.offset);
  Epilogue ep;
  ep.scale = scale;
  matmul(plan_, name + ".qk", u, q, kt, scores, ep);
  if (bias) {
    const View sv = plan_.view(sb, bias_view);
    add_constant(plan_, name + ".bias", u, sv, *bias, sv);
  }
  // Own row softmax (softmax_kernel.h): the scores are dense with rows of lk.
  const kernels::Elem e = elem();
  const std::int64_t rows_n = batch * heads * lq;
  plan_.add_kernel(name + ".softmax", u, kernels::softmax_impl(),
                   [=] { kernels::softmax_rows(e, sb->data(), rows_n, lk); });
  matmul(plan_, name + ".pv", u, scores, v, out);
}

Tok Lowerer::stage_norm(int u, int stage, const Tok& x) {
  if (stage < 0 || !arch_.stages[static_cast<std::size_t>(stage)].norm_out) return x;
  const std::string name = fmt::format("stages.{}.norm", stage);
  Tok y = tok(scratch("stage_norm"), x.T, x.C, x.h, x.w, x.extra);
  layer_norm(plan_, name, u, rows(x), rows(y), param(name + ".weight"), param(name + ".bias"),
             static_cast<float>(arch_.norm_eps));
  return y;
}

Tok Lowerer::stem(int u, const Tok&) {
  const space::Unit& un = net_.units[static_cast<std::size_t>(u)];
  const std::string p = un.label;
  const space::Patch& ps = arch_.stem;
  const std::int64_t C = un.out_dim, h = un.out.h, w = un.out.w, cin = arch_.input.channels;
  const std::int64_t H = arch_.input.height, W = arch_.input.width;
  // The image (fp32 NCHW) is reordered to channels-last in the activation type first.
  const View image = image_view();
  Buffer* nhwc = scratch("image_nhwc");
  const View img = plan_.strided(nhwc, {B_, cin, H, W}, {H * W * cin, 1, W * cin, cin});
  reorder(plan_, p + ".to_nhwc", u, image, img);
  Buffer* out = stream({});
  const bool post = ps.norm || arch_.cls_token;
  Tok conv_out = tok(post ? scratch("stem_conv") : out, h * w, C, h, w, 0);
  conv_param(u, p + ".proj", img, map(conv_out), {ps.kernel, ps.stride, ps.padding, 1});
  Tok x = conv_out;
  if (ps.norm) {
    Tok y = tok(arch_.cls_token ? scratch("stem_norm") : out, h * w, C, h, w, 0);
    layer_norm(plan_, p + ".norm", u, rows(x), rows(y), param(p + ".norm.weight"), param(p + ".norm.bias"),
               static_cast<float>(arch_.embed_eps()));
    x = y;
  }
  if (arch_.cls_token) {
    Tok y = tok(out, h * w + 1, C, h, w, 1);
    const std::vector<float> cls = param(p + ".cls_token");
    const Tok src = x;
    const kernels::Elem e = elem();
    const std::int64_t B = B_, N = h * w;
    plan_.add_kernel(p + ".cls_token", u, "hwnas:cls_concat",
                     [=] { kernels::cls_concat(e, cls.data(), src.buf->data(), y.buf->data(), B, N, C); });
    x = y;
  }
  if (arch_.stages[0].pos_embed) {
    const memory pos = constant_memory(plan_, memory::desc({1, x.T, C}, plan_.act_type(), memory::format_tag::abc),
                                       param(p + ".pos_embed"), {1, x.T, C}, {x.T * C, C, 1});
    const View v = plan_.view(x.buf, {B_, x.T, C});
    add_constant(plan_, p + ".pos_embed", u, v, pos, v);
  }
  return x;
}

Tok Lowerer::downsample(int u, const Tok& in) {
  const space::Unit& un = net_.units[static_cast<std::size_t>(u)];
  const std::string p = un.label;
  const space::Stage& st = arch_.stages[static_cast<std::size_t>(un.stage)];
  const space::Patch& ps = st.downsample;
  Tok x = stage_norm(u, un.stage - 1, in);
  const std::int64_t C = un.out_dim, h = un.out.h, w = un.out.w;
  Buffer* out = stream({in.buf});
  switch (ps.kind) {
    case space::PatchKind::none: break;
    case space::PatchKind::patch:
    case space::PatchKind::overlap: {
      Tok c = tok(ps.norm ? scratch("down_conv") : out, h * w, C, h, w, 0);
      conv_param(u, p + ".proj", map(x), map(c), {ps.kernel, ps.stride, ps.padding, 1});
      x = c;
      if (ps.norm) {
        Tok y = tok(out, h * w, C, h, w, 0);
        layer_norm(plan_, p + ".norm", u, rows(x), rows(y), param(p + ".norm.weight"), param(p + ".norm.bias"),
                   static_cast<float>(arch_.embed_eps()));
        x = y;
      }
      break;
    }
    case space::PatchKind::merge: {
      Tok g = tok(scratch("merge_gather"), h * w, 4 * x.C, h, w, 0);
      const Tok src = x;
      const kernels::Elem e = elem();
      const std::int64_t B = B_;
      plan_.add_kernel(p + ".gather", u, "hwnas:patch_gather",
                       [=] { kernels::patch_gather(e, src.buf->data(), g.buf->data(), B, src.h, src.w, src.C); });
      Tok n = tok(scratch("merge_norm"), h * w, 4 * x.C, h, w, 0);
      layer_norm(plan_, p + ".norm", u, rows(g), rows(n), param(p + ".norm.weight"), param(p + ".norm.bias"),
                 static_cast<float>(arch_.norm_eps));
      Tok y = tok(out, h * w, C, h, w, 0);
      linear(plan_, p + ".reduction", u, rows(n), rows(y), param(p + ".reduction.weight"), nullptr);
      x = y;
      break;
    }
    case space::PatchKind::dtm: {
      // Offsets from a 2×2/2 conv, bilinear im2col, then one matmul with BatchNorm folded + GELU.
      Tok off = tok(scratch("dtm_offsets"), h * w, 8, h, w, 0);
      conv_param(u, p + ".dconv.conv_offset", map(x), map(off), {2, 2, 0, 1});
      Tok cols = tok(scratch("dtm_cols"), h * w, 4 * x.C, h, w, 0);
      const Tok src = x;
      const kernels::Elem e = elem();
      const std::int64_t B = B_;
      plan_.add_kernel(p + ".dconv.sample", u, "hwnas:deform_im2col", [=] {
        kernels::deform_im2col(e, src.buf->data(), off.buf->data(), cols.buf->data(), B, src.h, src.w, src.C, h, w);
      });
      // [Cout, Cin, 2, 2] → the sampled columns' order (tap, then channel); BatchNorm folded in.
      std::vector<float> wt = taps_outer(param(p + ".dconv.weight"), C, x.C, 4), b, tmp;
      if (const auto* bb = bias_or_null(p + ".dconv.bias", tmp)) b = *bb;
      fold_batch_norm(wt, b, param(p + ".norm.weight"), param(p + ".norm.bias"), param(p + ".norm.running_mean"),
                      param(p + ".norm.running_var"));
      Tok y = tok(out, h * w, C, h, w, 0);
      Epilogue ep;
      ep.act = Epilogue::Act::gelu;
      linear(plan_, p + ".dconv", u, rows(cols), rows(y), wt, &b, ep);
      x = y;
      break;
    }
    case space::PatchKind::kCount: break;
  }
  if (st.pos_embed) {
    const memory pos = constant_memory(plan_, memory::desc({1, x.T, C}, plan_.act_type(), memory::format_tag::abc),
                                       param(p + ".pos_embed"), {1, x.T, C}, {x.T * C, C, 1});
    const View v = plan_.view(x.buf, {B_, x.T, C});
    if (x.buf == in.buf) throw std::logic_error("downsample 'none' with a position embedding would write its input");
    add_constant(plan_, p + ".pos_embed", u, v, pos, v);
  }
  return x;
}

Tok Lowerer::head(int u, const Tok& in) {
  const space::Unit& un = net_.units[static_cast<std::size_t>(u)];
  const std::string p = un.label;
  Tok x = stage_norm(u, static_cast<int>(arch_.stages.size()) - 1, in);
  if (arch_.head.norm) {
    Tok y = tok(scratch("head_norm"), x.T, x.C, x.h, x.w, x.extra);
    layer_norm(plan_, p + ".norm", u, rows(x), rows(y), param(p + ".norm.weight"), param(p + ".norm.bias"),
               static_cast<float>(arch_.norm_eps));
    x = y;
  }
  View feat;
  if (arch_.head.kind == space::HeadKind::cls) {
    feat = plan_.strided(x.buf, {B_, x.C}, {x.T * x.C, 1});
  } else {
    // Own kernel: oneDNN 2.6's reduction falls back to ref:any here (205 µs on litv2-s).
    Buffer* m = scratch("head_mean");
    feat = plan_.view(m, {B_, x.C});
    const Tok src = x;
    const kernels::Elem e = elem();
    const std::int64_t B = B_;
    plan_.add_kernel(p + ".pool", u, "hwnas:mean_tokens",
                     [=] { kernels::mean_tokens(e, src.buf->data(), m->data(), B, src.T, src.C); });
  }
  const std::int64_t classes = arch_.input.classes;
  Tok logits = tok(plan_.buffer("output.logits"), 1, classes, 0, 0, 0);
  linear_param(u, p + ".fc", feat, plan_.view(logits.buf, {B_, classes}));
  return logits;
}

}  // namespace hwnas::prof::onednn
