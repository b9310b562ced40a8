#include "weights/onnx_export.h"

#include <stdexcept>

#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include "space/ops.h"
#include "space/params.h"
#include "space/window_geometry.h"
#include "weights/atomic_file.h"
#include "weights/onnx_graph.h"

namespace hwnas::weights {
namespace {

using onnx_export::attr;
using onnx_export::Graph;
using onnx_export::i64;

constexpr int kOpset = 17;
constexpr int kIrVersion = 8;

// The token tensor between units and what it holds.
struct Tokens {
  std::string t;
  i64 n = 0, extra = 0, h = 0, w = 0, C = 0;
  i64 total() const { return n + extra; }
};

class Exporter {
 public:
  Exporter(const space::Arch& arch, const space::Lowered& net, Graph& g) : arch_(arch), net_(net), g_(g) {}

  std::string run(const std::string& image) {
    Tokens x;
    std::string logits;
    for (const space::Unit& u : net_.units) {
      switch (u.kind) {
        case space::UnitKind::stem: x = stem(u, image); break;
        case space::UnitKind::downsample: x = downsample(u, x); break;
        case space::UnitKind::block: x = block(u, x); break;
        case space::UnitKind::head: logits = head(u, x); break;
        case space::UnitKind::kCount: throw std::logic_error("onnx export: bad unit kind");
      }
    }
    return logits;
  }

 private:
  const space::Stage& stage(int s) const { return arch_.stages.at(static_cast<std::size_t>(s)); }

  static Tokens like(const space::Tokens& t, i64 C, std::string name) {
    return Tokens{std::move(name), t.n, t.extra, t.h, t.w, C};
  }

  Tokens stem(const space::Unit& u, const std::string& image) {
    const space::Patch& ps = arch_.stem;
    const std::string p = u.label;
    const i64 D = u.out_dim;
    std::string x = g_.map_to_tokens(g_.conv(image, p + ".proj", ps.kernel, ps.stride, ps.padding), D, p);
    if (ps.norm) x = g_.layer_norm(x, p + ".norm", arch_.embed_eps());
    if (arch_.cls_token) {
      // cls [1, 1, D] expanded to [B, 1, D] (B read from the image's shape).
      const std::string b = g_.slice(g_.node("Shape", {image}, p), 0, 0, 1, p);
      const std::string shape = g_.concat({b, g_.ints({1, D})}, 0, p);
      x = g_.concat({g_.node("Expand", {g_.param(p + ".cls_token"), shape}, p), x}, 1, p);
    }
    if (stage(0).pos_embed) x = g_.add(x, g_.param(p + ".pos_embed"), p);
    return like(u.out, D, x);
  }

  Tokens downsample(const space::Unit& u, const Tokens& in) {
    const int s = u.stage;
    const space::Stage& st = stage(s);
    const std::string p = u.label;
    std::string x = in.t;
    if (stage(s - 1).norm_out) x = g_.layer_norm(x, fmt::format("stages.{}.norm", s - 1), arch_.norm_eps);
    const space::Patch& pk = st.downsample;
    const i64 h = in.h, w = in.w, D = in.C, O = st.dim;
    switch (pk.kind) {
      case space::PatchKind::none: break;
      case space::PatchKind::patch:
      case space::PatchKind::overlap:
        x = g_.map_to_tokens(g_.conv(g_.tokens_to_map(x, h, w, D, p), p + ".proj", pk.kernel, pk.stride, pk.padding), O,
                             p);
        if (pk.norm) x = g_.layer_norm(x, p + ".norm", arch_.embed_eps());
        break;
      case space::PatchKind::merge: {
        // Swin's PatchMerging: parts (row, col) offsets (0,0), (1,0), (0,1), (1,1), concatenated.
        const std::string grid = g_.reshape(x, {-1, h, w, D}, p);
        std::vector<std::string> parts;
        for (const auto& [dr, dc] : {std::pair<i64, i64>{0, 0}, {1, 0}, {0, 1}, {1, 1}})
          parts.push_back(g_.slice(g_.slice(grid, 1, dr, h, p, 2), 2, dc, w, p, 2));
        x = g_.reshape(g_.concat(parts, -1, p), {-1, (h / 2) * (w / 2), 4 * D}, p);
        x = g_.linear(g_.layer_norm(x, p + ".norm", arch_.norm_eps), p + ".reduction");
        break;
      }
      case space::PatchKind::dtm: x = dtm(p, x, h, w, D, O, u.out.h, u.out.w); break;
      case space::PatchKind::kCount: throw std::logic_error("onnx export: bad downsample kind");
    }
    if (st.pos_embed) x = g_.add(x, g_.param(p + ".pos_embed"), p);
    return like(u.out, u.out_dim, x);
  }

  // LIT's deformable token merging: offsets from a 2×2/2 conv, each of the 4 taps bilinearly sampled
  // (zeros outside) with GridSample, the taps' channels concatenated and mixed by the deformable
  // conv's weight as a 1×1 conv, then BatchNorm and GELU.
  std::string dtm(const std::string& p, const std::string& x, i64 h, i64 w, i64 C, i64 O, i64 oh, i64 ow) {
    const std::string map = g_.tokens_to_map(x, h, w, C, p);
    const std::string offset = g_.conv(map, p + ".dconv.conv_offset", 2, 2, 0);  // [B, 8, oh, ow]
    std::vector<std::string> taps;
    for (i64 t = 0; t < 4; ++t) {
      const i64 ki = t / 2, kj = t % 2;
      std::vector<float> by(static_cast<std::size_t>(oh * ow)), bx(by.size());
      for (i64 oy = 0; oy < oh; ++oy)
        for (i64 ox = 0; ox < ow; ++ox) {
          by[static_cast<std::size_t>(oy * ow + ox)] = static_cast<float>(oy * 2 + ki);
          bx[static_cast<std::size_t>(oy * ow + ox)] = static_cast<float>(ox * 2 + kj);
        }
      const std::string dy = g_.reshape(g_.slice(offset, 1, 2 * t, 2 * t + 1, p), {-1, oh, ow}, p);
      const std::string dx = g_.reshape(g_.slice(offset, 1, 2 * t + 1, 2 * t + 2, p), {-1, oh, ow}, p);
      // Pixel position → GridSample's normalised coordinate (align_corners = 0): (2·pos + 1)/size − 1.
      auto norm = [&](const std::string& d, const std::vector<float>& base, i64 size) {
        const std::string pos = g_.add(d, g_.floats(base, {oh, ow}), p);
        const std::string scaled = g_.node("Mul", {pos, g_.scalar(2.0f / static_cast<float>(size))}, p);
        return g_.reshape(g_.add(scaled, g_.scalar(1.0f / static_cast<float>(size) - 1.0f), p), {-1, oh, ow, 1}, p);
      };
      const std::string grid = g_.concat({norm(dx, bx, w), norm(dy, by, h)}, -1, p);  // (x, y) order
      taps.push_back(g_.node("GridSample", {map, grid}, p,
                             {attr("mode", std::string("bilinear")), attr("padding_mode", std::string("zeros")),
                              attr("align_corners", i64{0})}));
    }
    const std::string sampled = g_.concat(taps, 1, p);  // [B, 4C, oh, ow], channel = tap·C + c
    // weight [O, C, 2, 2] → [O, 4·C, 1, 1] in (tap, c) order.
    const std::string wk = g_.reshape(
        g_.transpose(g_.reshape(g_.param(p + ".dconv.weight"), {O, C, 4}, p), {0, 2, 1}, p), {O, 4 * C, 1, 1}, p);
    std::vector<std::string> in = {sampled, wk};
    if (g_.has_param(p + ".dconv.bias")) in.push_back(g_.param(p + ".dconv.bias"));
    const std::string y = g_.node("Conv", in, p + ".dconv", {attr("kernel_shape", std::vector<i64>{1, 1})});
    return g_.map_to_tokens(g_.gelu(g_.batch_norm_map(y, p + ".norm"), p), O, p);
  }

  Tokens block(const space::Unit& u, const Tokens& in) {
    const space::Stage& st = stage(u.stage);
    const space::Block& b = st.blocks.at(static_cast<std::size_t>(u.block));
    const std::string p = u.label + ".";
    std::string x = in.t;
    const std::string m = mixer(p, st.heads, b.mixer, in);
    if (!m.empty()) x = g_.add(x, m, u.label);
    const std::string f = ffn(p, b.ffn, Tokens{x, in.n, in.extra, in.h, in.w, in.C});
    if (!f.empty()) x = g_.add(x, f, u.label);
    if (b.pool_after) {  // HVT: MaxPool1d(3, 2) over tokens, then a new position embedding
      const std::string pooled =
          g_.node("MaxPool", {g_.transpose(x, {0, 2, 1}, u.label)}, u.label,
                  {attr("kernel_shape", std::vector<i64>{3}), attr("strides", std::vector<i64>{2})});
      x = g_.add(g_.transpose(pooled, {0, 2, 1}, u.label), g_.param(p + "pos_embed"), u.label);
    }
    return like(u.out, u.out_dim, x);
  }

  // The mixer branch (added to x by the caller), or "" when there is none.
  std::string mixer(const std::string& p, i64 heads, const space::Mixer& m, const Tokens& x) {
    const i64 D = x.C, d = D / heads, T = x.total();
    const double eps = arch_.norm_eps;
    switch (m.kind) {
      case space::MixerKind::none:
      case space::MixerKind::skip: return "";
      case space::MixerKind::normskip: return g_.layer_norm(x.t, p + "norm1", eps);
      case space::MixerKind::msa: {
        const std::string y = g_.layer_norm(x.t, p + "norm1", eps);
        const std::string qkv = g_.linear(y, p + "attn.qkv");
        std::string bias;
        if (m.msa_rel_pos) bias = rel_pos_bias(p + "attn.core.rel_pos_table", heads, x.h, x.w, p);
        const std::string o = g_.attention(g_.slice(qkv, 2, 0, D, p), g_.slice(qkv, 2, D, 2 * D, p),
                                           g_.slice(qkv, 2, 2 * D, 3 * D, p), T, T, heads, d, bias, p + "attn");
        return g_.linear(o, p + "attn.proj");
      }
      case space::MixerKind::hilo: return hilo(p, heads, m, x);
      case space::MixerKind::window: return window(p, heads, m, x);
      case space::MixerKind::sra: {
        const std::string y = g_.layer_norm(x.t, p + "norm1", eps);
        const std::string q = g_.linear(y, p + "attn.q");
        std::string z = y;
        i64 nk = x.n;
        const i64 r = m.sra_ratio;
        if (r > 1) {
          const i64 oh = (x.h - r) / r + 1, ow = (x.w - r) / r + 1;
          z = g_.map_to_tokens(g_.conv(g_.tokens_to_map(y, x.h, x.w, D, p), p + "attn.sr", r, r, 0), D, p);
          z = g_.layer_norm(z, p + "attn.norm", arch_.embed_eps());
          nk = oh * ow;
        }
        const std::string kv = g_.linear(z, p + "attn.kv");
        const std::string o =
            g_.attention(q, g_.slice(kv, 2, 0, D, p), g_.slice(kv, 2, D, 2 * D, p), x.n, nk, heads, d, "", p + "attn");
        return g_.linear(o, p + "attn.proj");
      }
      case space::MixerKind::bconv: {
        // SPViT: LN → conv k×k (D → d) → BN → ReLU → Linear (d → D) on the spatial tokens; the cls
        // token's branch is LN(x)_cls itself.
        const i64 k = m.bconv_kernel;
        const std::string y = g_.layer_norm(x.t, p + "norm1", eps);
        const std::string spatial = x.extra > 0 ? g_.slice(y, 1, x.extra, T, p) : y;
        std::string t = g_.conv(g_.tokens_to_map(spatial, x.h, x.w, D, p), p + "attn.conv", k, 1, k / 2);
        t = g_.node("Relu", {g_.batch_norm_map(t, p + "attn.bn")}, p);
        t = g_.linear(g_.map_to_tokens(t, d, p), p + "attn.proj");
        return x.extra > 0 ? g_.concat({g_.slice(y, 1, 0, x.extra, p), t}, 1, p) : t;
      }
      case space::MixerKind::kCount: break;
    }
    throw std::logic_error("onnx export: bad mixer kind");
  }

  // The relative position bias [1, heads, N, N] of an gh×gw grid, gathered from the table
  // [(2gh−1)(2gw−1), heads] at index (Δrow + gh − 1)(2gw − 1) + (Δcol + gw − 1).
  std::string rel_pos_bias(const std::string& table, i64 heads, i64 gh, i64 gw, const std::string& scope) {
    const i64 N = gh * gw;
    const std::string gathered =
        g_.node("Gather", {g_.param(table), g_.ints(space::rel_pos_index(gh, gw))}, scope, {attr("axis", i64{0})});
    return g_.reshape(g_.transpose(g_.reshape(gathered, {N, N, heads}, scope), {2, 0, 1}, scope), {1, heads, N, N},
                      scope);
  }

  // LITv2's HiLo: the map zero-padded to a multiple of s; Hi-Fi heads attend inside s×s windows
  // (channels [0, h_dim)), Lo-Fi heads attend to s×s-average-pooled keys/values (channels [h_dim, D));
  // the two outputs concatenated and cropped back.
  std::string hilo(const std::string& p, i64 heads, const space::Mixer& m, const Tokens& x) {
    const i64 D = x.C, d = D / heads, s = m.hilo_window;
    const i64 l = space::hilo_lofi_heads(heads, m.hilo_alpha, s), hh = heads - l, l_dim = l * d, h_dim = hh * d;
    const i64 Hp = (x.h + s - 1) / s * s, Wp = (x.w + s - 1) / s * s, Np = Hp * Wp;
    std::string y = g_.reshape(g_.layer_norm(x.t, p + "norm1", arch_.norm_eps), {-1, x.h, x.w, D}, p);
    if (Hp != x.h || Wp != x.w)
      y = g_.node("Pad", {y, g_.ints({0, 0, 0, 0, 0, Hp - x.h, Wp - x.w, 0})}, p);  // zeros after, rows and cols
    const std::string y_tok = g_.reshape(y, {-1, Np, D}, p);
    std::vector<std::string> parts;
    if (hh > 0) {
      const std::string qkv = g_.linear(y_tok, p + "attn.h_qkv");
      const std::string win = g_.window_partition(g_.reshape(qkv, {-1, Hp, Wp, 3 * h_dim}, p), Hp, Wp, 3 * h_dim, s, p);
      const std::string o =
          g_.attention(g_.slice(win, 2, 0, h_dim, p), g_.slice(win, 2, h_dim, 2 * h_dim, p),
                       g_.slice(win, 2, 2 * h_dim, 3 * h_dim, p), s * s, s * s, hh, d, "", p + "attn.hifi");
      const std::string merged = g_.reshape(g_.window_merge(o, Hp, Wp, h_dim, s, p), {-1, Np, h_dim}, p);
      parts.push_back(g_.linear(merged, p + "attn.h_proj"));
    }
    if (l > 0) {
      const std::string q = g_.linear(y_tok, p + "attn.l_q");
      std::string pooled = y_tok;
      if (s > 1) {
        const std::string map = g_.transpose(y, {0, 3, 1, 2}, p);
        pooled = g_.map_to_tokens(
            g_.node("AveragePool", {map}, p,
                    {attr("kernel_shape", std::vector<i64>{s, s}), attr("strides", std::vector<i64>{s, s})}),
            D, p);
      }
      const i64 nk = Np / (s * s);
      const std::string kv = g_.linear(pooled, p + "attn.l_kv");
      const std::string o = g_.attention(q, g_.slice(kv, 2, 0, l_dim, p), g_.slice(kv, 2, l_dim, 2 * l_dim, p), Np, nk,
                                         l, d, "", p + "attn.lofi");
      parts.push_back(g_.linear(o, p + "attn.l_proj"));
    }
    std::string out = parts.size() == 1 ? parts[0] : g_.concat(parts, -1, p);
    if (Hp != x.h || Wp != x.w) {
      const std::string grid = g_.reshape(out, {-1, Hp, Wp, D}, p);
      out = g_.slice(g_.slice(grid, 1, 0, x.h, p), 2, 0, x.w, p);
    }
    return g_.reshape(out, {-1, x.n, D}, p);
  }

  // Swin's (shifted) window attention with its relative position bias and shift mask.
  std::string window(const std::string& p, i64 heads, const space::Mixer& m, const Tokens& x) {
    const i64 D = x.C, d = D / heads, ws = m.window_size, win = ws * ws, nw = (x.h / ws) * (x.w / ws);
    const i64 sft = m.window_shift ? ws / 2 : 0;
    std::string y = g_.reshape(g_.layer_norm(x.t, p + "norm1", arch_.norm_eps), {-1, x.h, x.w, D}, p);
    if (sft > 0) y = g_.roll(y, x.h, x.w, -sft, p);
    const std::string qkv = g_.linear(g_.window_partition(y, x.h, x.w, D, ws, p), p + "attn.qkv");
    const std::string bias = rel_pos_bias(p + "attn.core.rel_pos_table", heads, ws, ws, p);  // [1, heads, win, win]
    const std::string q = g_.slice(qkv, 2, 0, D, p), k = g_.slice(qkv, 2, D, 2 * D, p),
                      v = g_.slice(qkv, 2, 2 * D, 3 * D, p);
    std::string o;
    if (sft > 0) {
      // The mask differs per window: scores [B·nW, heads, win, win] viewed as [B, nW, heads, win, win].
      const std::vector<float> mask = space::shift_mask(x.h, x.w, ws, sft);
      const std::string mask_t = g_.floats(mask, {1, nw, 1, win, win});
      const std::string full = g_.add(g_.reshape(bias, {1, 1, heads, win, win}, p), mask_t, p);  // [1, nW, heads, ..]
      o = g_.attention(q, k, v, win, win, heads, d, full, p + "attn", nw);
    } else {
      o = g_.attention(q, k, v, win, win, heads, d, bias, p + "attn");
    }
    std::string out = g_.window_merge(g_.linear(o, p + "attn.proj"), x.h, x.w, D, ws, p);
    if (sft > 0) out = g_.roll(out, x.h, x.w, sft, p);
    return g_.reshape(out, {-1, x.n, D}, p);
  }

  // The FFN branch, or "" when there is none.
  std::string ffn(const std::string& p, const space::Ffn& f, const Tokens& x) {
    switch (f.kind) {
      case space::FfnKind::none: return "";
      case space::FfnKind::mlp: {
        const std::string h = g_.gelu(g_.linear(g_.layer_norm(x.t, p + "norm2", arch_.norm_eps), p + "mlp.fc1"), p);
        return g_.linear(h, p + "mlp.fc2");
      }
      case space::FfnKind::convffn: {
        const std::string h = g_.linear(g_.layer_norm(x.t, p + "norm2", arch_.norm_eps), p + "mlp.fc1");
        const std::string c = g_.conv(g_.tokens_to_map(h, x.h, x.w, f.hidden, p), p + "mlp.dwconv", 3, 1, 1, f.hidden);
        return g_.linear(g_.gelu(g_.map_to_tokens(c, f.hidden, p), p), p + "mlp.fc2");
      }
      case space::FfnKind::kCount: break;
    }
    throw std::logic_error("onnx export: bad ffn kind");
  }

  std::string head(const space::Unit& u, const Tokens& in) {
    const std::string p = u.label;
    const int last = static_cast<int>(arch_.stages.size()) - 1;
    std::string x = in.t;
    if (stage(last).norm_out) x = g_.layer_norm(x, fmt::format("stages.{}.norm", last), arch_.norm_eps);
    if (arch_.head.norm) x = g_.layer_norm(x, p + ".norm", arch_.norm_eps);
    if (arch_.head.kind == space::HeadKind::cls) {
      x = g_.reshape(g_.slice(x, 1, 0, 1, p), {-1, in.C}, p);
    } else {
      x = g_.node("ReduceMean", {x}, p, {attr("axes", std::vector<i64>{1}), attr("keepdims", i64{0})});
    }
    return g_.linear(x, p + ".fc");
  }

  const space::Arch& arch_;
  const space::Lowered& net_;
  Graph& g_;
};

void set_shape(onnx::ValueInfoProto* v, const std::string& name, const std::vector<i64>& dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = t->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  for (i64 d : dims) shape->add_dim()->set_dim_value(d);
}

}  // namespace

Result<onnx::ModelProto> build_onnx(const space::Arch& arch, const space::WeightSource& weights,
                                    const OnnxExport& opts) {
  auto net = space::lower(arch);
  if (!net) return net.error();
  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  model.set_producer_name("hwnas");
  model.set_producer_version(opts.producer_version);
  model.set_doc_string(fmt::format("{} exported by hwnas ({} names)",
                                   arch.meta.name.empty() ? "architecture" : arch.meta.name,
                                   space::name_of(opts.names)));
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name(arch.meta.name.empty() ? "hwnas" : arch.meta.name);
  const auto specs = space::param_specs(*net);
  std::map<std::string, std::string> names;
  for (const space::ParamSpec& s : specs) names[s.name] = space::checkpoint_name(s.name, opts.names);
  Graph g(graph, specs, weights, names);
  set_shape(graph->add_input(), "image", {arch.input.channels, arch.input.height, arch.input.width});
  std::string logits;
  try {
    logits = Exporter(arch, *net, g).run("image");
  } catch (const std::logic_error& e) {
    return Error{e.what()};
  }
  if (auto left = g.unused(); !left.empty())
    return Error{fmt::format("onnx export: parameters left unused (an exporter bug): {}", fmt::join(left, ", "))};
  g.node("Identity", {logits}, "output");
  graph->mutable_node(graph->node_size() - 1)->set_output(0, "logits");
  set_shape(graph->add_output(), "logits", {arch.input.classes});
  try {
    onnx::checker::check_model(model);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*strict=*/1));
  } catch (const std::exception& e) {
    return Error{fmt::format("onnx export: the model fails ONNX's checker: {}", e.what())};
  }
  return model;
}

Result<bool> write_onnx(const std::string& path, const space::Arch& arch, const space::WeightSource& weights,
                        const OnnxExport& opts) {
  auto model = build_onnx(arch, weights, opts);
  if (!model) return model.error();
  return write_atomically(path, [&](std::ostream& out) {
    if (!model->SerializeToOstream(&out)) out.setstate(std::ios::failbit);
  });
}

}  // namespace hwnas::weights
