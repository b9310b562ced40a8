#include "profilers/onednn/prims.h"

#include <cstring>

#include <fmt/format.h>

namespace hwnas::prof::onednn {
namespace {

using tag = memory::format_tag;
using dt = memory::data_type;
using algo = dnnl::algorithm;

struct Attr {
  dnnl::primitive_attr attr;
  std::vector<std::pair<int, View>> views;
  std::unordered_map<int, memory> mems;
};

// Post-ops in the order: scale (eltwise_linear), activation, residual (binary_add).
Attr make_attr(const Epilogue& ep) {
  Attr a;
  dnnl::post_ops po;
  int idx = 0;
  if (ep.scale != 1.0f) {
    po.append_eltwise(1.f, algo::eltwise_linear, ep.scale, 0.f);
    ++idx;
  }
  if (ep.act == Epilogue::Act::gelu) {
    po.append_eltwise(1.f, algo::eltwise_gelu_erf, 0.f, 0.f);
    ++idx;
  } else if (ep.act == Epilogue::Act::relu) {
    po.append_eltwise(1.f, algo::eltwise_relu, 0.f, 0.f);
    ++idx;
  }
  if (ep.residual) {
    po.append_binary(algo::binary_add, ep.residual->desc());
    a.views.emplace_back(DNNL_ARG_ATTR_MULTIPLE_POST_OP(idx) | DNNL_ARG_SRC_1, *ep.residual);
    ++idx;
  }
  a.attr.set_post_ops(po);
  return a;
}

template <class PD>
std::string impl_of(const PD& pd) {
  const char* s = pd.impl_info_str();
  return s != nullptr ? s : "";
}

}  // namespace

memory constant_memory(Plan& plan, const memory::desc& want, const std::vector<float>& values, const dims& shape,
                       const dims& strides) {
  memory user(memory::desc(shape, dt::f32, strides), plan.engine());
  std::memcpy(user.get_data_handle(), values.data(), values.size() * sizeof(float));
  if (user.get_desc() == want) return user;
  memory out(want, plan.engine());
  dnnl::reorder(user, out).execute(plan.stream(), user, out);
  plan.stream().wait();
  return out;
}

memory f32_vector_memory(Plan& plan, const std::vector<float>& values) {
  const dims shape = {static_cast<std::int64_t>(values.size())};
  return constant_memory(plan, memory::desc(shape, dt::f32, tag::a), values, shape, {1});
}

void linear(Plan& plan, const std::string& name, int unit, const View& src, const View& dst,
            const std::vector<float>& w, const std::vector<float>* bias, const Epilogue& ep) {
  const std::int64_t K = src.shape.back(), N = dst.shape.back();
  const memory::desc w_any({K, N}, plan.act_type(), tag::any);
  std::optional<memory::desc> b_md;
  if (bias != nullptr) b_md = memory::desc({1, N}, dt::f32, tag::ab);
  Attr a = make_attr(ep);
  const auto desc = b_md ? dnnl::matmul::desc(src.desc(), w_any, *b_md, dst.desc())
                         : dnnl::matmul::desc(src.desc(), w_any, dst.desc());
  dnnl::matmul::primitive_desc pd(desc, a.attr, plan.engine());
  // W is [N, K] row-major = a [K, N] matrix with strides {1, K}.
  a.mems[DNNL_ARG_WEIGHTS] = constant_memory(plan, pd.weights_desc(), w, {K, N}, {1, K});
  if (bias != nullptr) a.mems[DNNL_ARG_BIAS] = constant_memory(plan, *b_md, *bias, {1, N}, {N, 1});
  a.views.emplace_back(DNNL_ARG_SRC, src);
  a.views.emplace_back(DNNL_ARG_DST, dst);
  plan.add_primitive(name, unit, dnnl::matmul(pd), impl_of(pd), std::move(a.views), std::move(a.mems));
}

void matmul(Plan& plan, const std::string& name, int unit, const View& a, const View& b, const View& c,
            const Epilogue& ep) {
  Attr at = make_attr(ep);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a.desc(), b.desc(), c.desc()), at.attr, plan.engine());
  at.views.emplace_back(DNNL_ARG_SRC, a);
  at.views.emplace_back(DNNL_ARG_WEIGHTS, b);
  at.views.emplace_back(DNNL_ARG_DST, c);
  plan.add_primitive(name, unit, dnnl::matmul(pd), impl_of(pd), std::move(at.views), std::move(at.mems));
}

void conv2d(Plan& plan, const std::string& name, int unit, const View& src, const View& dst,
            const std::vector<float>& w, const std::vector<float>* bias, const ConvGeometry& g, const Epilogue& ep) {
  const std::int64_t ic = src.shape[1], oc = dst.shape[1];
  const std::int64_t oh = dst.shape[2], ow = dst.shape[3], ih = src.shape[2], iw = src.shape[3];
  // Right/bottom padding so that the output size matches floor((in + 2p - k)/s) + 1.
  const std::int64_t pr_h = (oh - 1) * g.stride + g.kernel - ih - g.padding;
  const std::int64_t pr_w = (ow - 1) * g.stride + g.kernel - iw - g.padding;
  dims w_shape = g.groups == 1 ? dims{oc, ic, g.kernel, g.kernel}
                               : dims{g.groups, oc / g.groups, ic / g.groups, g.kernel, g.kernel};
  const memory::desc w_any(w_shape, plan.act_type(), tag::any);
  std::optional<memory::desc> b_md;
  if (bias != nullptr) b_md = memory::desc({oc}, dt::f32, tag::a);
  // Let oneDNN pick the activation layouts it is fastest with only when they match the views.
  const auto desc =
      b_md ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, algo::convolution_direct, src.desc(),
                                             w_any, *b_md, dst.desc(), {g.stride, g.stride}, {g.padding, g.padding},
                                             {std::max<std::int64_t>(pr_h, 0), std::max<std::int64_t>(pr_w, 0)})
           : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, algo::convolution_direct, src.desc(),
                                             w_any, dst.desc(), {g.stride, g.stride}, {g.padding, g.padding},
                                             {std::max<std::int64_t>(pr_h, 0), std::max<std::int64_t>(pr_w, 0)});
  Attr a = make_attr(ep);
  dnnl::convolution_forward::primitive_desc pd(desc, a.attr, plan.engine());
  dims w_strides(w_shape.size());
  std::int64_t s = 1;
  for (std::size_t i = w_shape.size(); i-- > 0;) {
    w_strides[i] = s;
    s *= w_shape[i];
  }
  a.mems[DNNL_ARG_WEIGHTS] = constant_memory(plan, pd.weights_desc(), w, w_shape, w_strides);
  if (bias != nullptr) a.mems[DNNL_ARG_BIAS] = constant_memory(plan, *b_md, *bias, {oc}, {1});
  a.views.emplace_back(DNNL_ARG_SRC, src);
  a.views.emplace_back(DNNL_ARG_DST, dst);
  plan.add_primitive(name, unit, dnnl::convolution_forward(pd), impl_of(pd), std::move(a.views), std::move(a.mems));
}

void layer_norm(Plan& plan, const std::string& name, int unit, const View& src, const View& dst,
                const std::vector<float>& gamma, const std::vector<float>& beta, float eps) {
  const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
  dnnl::layer_normalization_forward::desc desc(dnnl::prop_kind::forward_inference, src.desc(), eps, flags);
  dnnl::layer_normalization_forward::primitive_desc pd(desc, plan.engine());
  std::unordered_map<int, memory> mems;
  mems[DNNL_ARG_SCALE] = f32_vector_memory(plan, gamma);
  mems[DNNL_ARG_SHIFT] = f32_vector_memory(plan, beta);
  plan.add_primitive(name, unit, dnnl::layer_normalization_forward(pd), impl_of(pd),
                     {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, std::move(mems));
}

void add(Plan& plan, const std::string& name, int unit, const View& a, const View& b, const View& dst) {
  dnnl::binary::primitive_desc pd(dnnl::binary::desc(algo::binary_add, a.desc(), b.desc(), dst.desc()), plan.engine());
  plan.add_primitive(name, unit, dnnl::binary(pd), impl_of(pd),
                     {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, b}, {DNNL_ARG_DST, dst}});
}

void add_constant(Plan& plan, const std::string& name, int unit, const View& a, const memory& c, const View& dst) {
  dnnl::binary::primitive_desc pd(dnnl::binary::desc(algo::binary_add, a.desc(), c.get_desc(), dst.desc()),
                                  plan.engine());
  plan.add_primitive(name, unit, dnnl::binary(pd), impl_of(pd), {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_DST, dst}},
                     {{DNNL_ARG_SRC_1, c}});
}

void avg_pool2d(Plan& plan, const std::string& name, int unit, const View& src, const View& dst, std::int64_t k) {
  dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, algo::pooling_avg_include_padding, src.desc(),
                                      dst.desc(), {k, k}, {k, k}, {0, 0}, {0, 0}, {0, 0});
  dnnl::pooling_v2_forward::primitive_desc pd(desc, plan.engine());
  plan.add_primitive(name, unit, dnnl::pooling_v2_forward(pd), impl_of(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
}

void max_pool1d(Plan& plan, const std::string& name, int unit, const View& src, const View& dst, std::int64_t k,
                std::int64_t stride) {
  dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, algo::pooling_max, src.desc(), dst.desc(),
                                      {stride}, {k}, {0}, {0}, {0});
  dnnl::pooling_v2_forward::primitive_desc pd(desc, plan.engine());
  plan.add_primitive(name, unit, dnnl::pooling_v2_forward(pd), impl_of(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
}

void reorder(Plan& plan, const std::string& name, int unit, const View& src, const View& dst) {
  // Bound at finalize like the others; the primitive descriptor only needs the descs.
  dnnl::reorder::primitive_desc pd(plan.engine(), src.desc(), plan.engine(), dst.desc());
  plan.add_primitive(name, unit, dnnl::reorder(pd), impl_of(pd), {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}});
}

}  // namespace hwnas::prof::onednn
