#include "compress/carving.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <span>

#include <fmt/format.h>

#include "profilers/host_gemm.h"
#include "space/params.h"
#include "space/window_geometry.h"

namespace hwnas::compress {

TapOffset tap_offset(int k) {
  return {k % 3 - 1, k / 3 - 1};
}

namespace {

constexpr float kBnEps = 1e-5f;  // as the engines fold BatchNorm (profilers/folding.cc)
constexpr double kShiftSd = 3;   // ReLU passes a∘z + e down to this many standard deviations below the minimum

using Vec = std::vector<float>;

void layer_norm_rows(const float* x, std::int64_t rows, std::int64_t D, const Vec& w, const Vec& b, double eps,
                     float* out) {
#pragma omp parallel for
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * D;
    double mean = 0, var = 0;
    for (std::int64_t c = 0; c < D; ++c) mean += xr[c];
    mean /= static_cast<double>(D);
    for (std::int64_t c = 0; c < D; ++c) var += (xr[c] - mean) * (xr[c] - mean);
    const double inv = 1.0 / std::sqrt(var / static_cast<double>(D) + eps);
    for (std::int64_t c = 0; c < D; ++c)
      out[r * D + c] =
          static_cast<float>((xr[c] - mean) * inv) * w[static_cast<std::size_t>(c)] + b[static_cast<std::size_t>(c)];
  }
}

void add_bias(float* x, std::int64_t rows, std::int64_t ld, const Vec& b) {
  const auto n = static_cast<std::int64_t>(b.size());
#pragma omp parallel for
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < n; ++c) x[r * ld + c] += b[static_cast<std::size_t>(c)];
}

// Solves A·x = y (n×n, row-major) by Gaussian elimination with partial pivoting.
std::vector<double> solve(std::vector<double> A, std::vector<double> y) {
  const std::size_t n = y.size();
  for (std::size_t col = 0; col < n; ++col) {
    std::size_t piv = col;
    for (std::size_t r = col + 1; r < n; ++r)
      if (std::abs(A[r * n + col]) > std::abs(A[piv * n + col])) piv = r;
    if (piv != col) {
      for (std::size_t c = 0; c < n; ++c) std::swap(A[col * n + c], A[piv * n + c]);
      std::swap(y[col], y[piv]);
    }
    const double d = A[col * n + col];
    if (d == 0) continue;  // a singular direction: left at 0 (the ridge term prevents it)
    for (std::size_t r = col + 1; r < n; ++r) {
      const double f = A[r * n + col] / d;
      if (f == 0) continue;
      for (std::size_t c = col; c < n; ++c) A[r * n + c] -= f * A[col * n + c];
      y[r] -= f * y[col];
    }
  }
  std::vector<double> x(n, 0.0);
  for (std::size_t i = n; i-- > 0;) {
    double s = y[i];
    for (std::size_t c = i + 1; c < n; ++c) s -= A[i * n + c] * x[c];
    x[i] = A[i * n + i] == 0 ? 0 : s / A[i * n + i];
  }
  return x;
}

// What one MSA block's carving is computed from: its weights and, over the calibration inputs, its
// values without bias (spatial tokens) and its MSA output (all tokens).
struct LayerPass {
  std::int64_t T = 0, extra = 0, gh = 0, gw = 0, n = 0, D = 0, heads = 0, d = 0;
  Vec qkv_w, qkv_b, proj_w, proj_b;
  std::vector<Vec> values;  // per input: [n, D] (v − bv)
  std::vector<Vec> msa;     // per input: [T, D] (with the projection bias)
  std::vector<Vec> inputs;  // per input: [T, D] the block's input
};

std::vector<int> taps_of(std::int64_t kernel) {
  if (kernel == 1) return {4};
  std::vector<int> all(kTaps);
  std::iota(all.begin(), all.end(), 0);
  return all;
}

// The conv's pre-BatchNorm output z [n, d] for one input (zero padding; bias Σ_k bv_{h(k)}).
void conv_output(const LayerPass& L, const Vec& values, const std::vector<int>& taps,
                 const std::array<int, kTaps>& head, const Vec& bias, Vec& z) {
  const std::int64_t d = L.d, D = L.D;
  z.assign(static_cast<std::size_t>(L.n * d), 0.0f);
#pragma omp parallel for
  for (std::int64_t i = 0; i < L.n; ++i) {
    const std::int64_t r = i / L.gw, c = i % L.gw;
    float* zi = z.data() + i * d;
    for (std::int64_t ch = 0; ch < d; ++ch) zi[ch] = bias[static_cast<std::size_t>(ch)];
    for (int k : taps) {
      const TapOffset o = tap_offset(k);
      const std::int64_t rr = r + o.dy, cc = c + o.dx;
      if (rr < 0 || rr >= L.gh || cc < 0 || cc >= L.gw) continue;
      const float* v = values.data() + (rr * L.gw + cc) * D + head[static_cast<std::size_t>(k)] * d;
      for (std::int64_t ch = 0; ch < d; ++ch) zi[ch] += v[ch];
    }
  }
}

CarvedConv carve_conv(const LayerPass& L, const std::array<int, kTaps>& head, std::int64_t kernel) {
  const std::int64_t d = L.d, D = L.D, K = kernel;
  const std::vector<int> taps = taps_of(kernel);
  CarvedConv cc;
  cc.kernel = kernel;
  // kernel[:, :, kh, kw] = Wv_{h(k)}, k = 3·kw + kh (the 1×1: the centre tap).
  cc.conv_weight.assign(static_cast<std::size_t>(d * D * K * K), 0.0f);
  cc.conv_bias.assign(static_cast<std::size_t>(d), 0.0f);
  Vec wp(static_cast<std::size_t>(D * d), 0.0f);  // Σ_k Wproj[:, h(k)], [D, d]
  for (int k : taps) {
    const int h = head[static_cast<std::size_t>(k)];
    const std::int64_t kh = K == 1 ? 0 : k % 3, kw = K == 1 ? 0 : k / 3;
    for (std::int64_t ch = 0; ch < d; ++ch) {
      const float* wv = L.qkv_w.data() + (2 * D + h * d + ch) * D;
      for (std::int64_t i = 0; i < D; ++i)
        cc.conv_weight[static_cast<std::size_t>(((ch * D + i) * K + kh) * K + kw)] = wv[i];
      cc.conv_bias[static_cast<std::size_t>(ch)] += L.qkv_b[static_cast<std::size_t>(2 * D + h * d + ch)];
    }
    for (std::int64_t o = 0; o < D; ++o)
      for (std::int64_t ch = 0; ch < d; ++ch)
        wp[static_cast<std::size_t>(o * d + ch)] += L.proj_w[static_cast<std::size_t>(o * D + h * d + ch)];
  }

  // Moments of z and of u = Wpᵀ·t over the calibration tokens (t: MSA output minus projection bias).
  const auto dd = static_cast<std::size_t>(d);
  std::vector<double> S(dd * dd, 0.0), m(dd, 0.0), r(dd, 0.0), q(dd, 0.0);
  std::vector<double> zmin(dd, std::numeric_limits<double>::infinity()),
      zmax(dd, -std::numeric_limits<double>::infinity());
  double N = 0, t_norm2 = 0;
  Vec z, t(static_cast<std::size_t>(L.n * D)), u(static_cast<std::size_t>(L.n * d));
  auto targets = [&](std::size_t img) {
    const Vec& mo = L.msa[img];
    for (std::int64_t i = 0; i < L.n; ++i)
      for (std::int64_t o = 0; o < D; ++o)
        t[static_cast<std::size_t>(i * D + o)] =
            mo[static_cast<std::size_t>((L.extra + i) * D + o)] - L.proj_b[static_cast<std::size_t>(o)];
  };
  for (std::size_t img = 0; img < L.values.size(); ++img) {
    conv_output(L, L.values[img], taps, head, cc.conv_bias, z);
    targets(img);
    prof::gemm_ab(L.n, d, D, t.data(), D, wp.data(), d, u.data(), d);
    for (std::int64_t i = 0; i < L.n; ++i) {
      const float* zi = z.data() + i * d;
      const float* ui = u.data() + i * d;
      for (std::size_t a = 0; a < dd; ++a) {
        const double za = zi[a];
        m[a] += za;
        r[a] += za * ui[a];
        q[a] += ui[a];
        zmin[a] = std::min(zmin[a], za);
        zmax[a] = std::max(zmax[a], za);
        for (std::size_t b = 0; b < dd; ++b) S[a * dd + b] += za * zi[b];
      }
      for (std::int64_t o = 0; o < D; ++o)
        t_norm2 += static_cast<double>(t[static_cast<std::size_t>(i * D + o)]) * t[static_cast<std::size_t>(i * D + o)];
    }
    N += static_cast<double>(L.n);
  }
  std::vector<double> M(dd * dd, 0.0);  // WpᵀWp
  for (std::int64_t o = 0; o < D; ++o)
    for (std::size_t a = 0; a < dd; ++a)
      for (std::size_t b = 0; b < dd; ++b)
        M[a * dd + b] +=
            static_cast<double>(wp[static_cast<std::size_t>(o) * dd + a]) * wp[static_cast<std::size_t>(o) * dd + b];

  // Normal equations of min Σ‖t − Wp·(a∘z + e)‖² in θ = [a, e], ridge towards a = 1, e = 0.
  const std::size_t n2 = 2 * dd;
  std::vector<double> A(n2 * n2, 0.0), y(n2, 0.0);
  for (std::size_t a = 0; a < dd; ++a) {
    for (std::size_t b = 0; b < dd; ++b) {
      A[a * n2 + b] = M[a * dd + b] * S[a * dd + b];
      A[a * n2 + dd + b] = M[a * dd + b] * m[a];
      A[(dd + a) * n2 + b] = M[a * dd + b] * m[b];
      A[(dd + a) * n2 + dd + b] = M[a * dd + b] * N;
    }
    y[a] = r[a];
    y[dd + a] = q[a];
  }
  double diag_a = 0, diag_e = 0;
  for (std::size_t a = 0; a < dd; ++a) {
    diag_a += A[a * n2 + a];
    diag_e += A[(dd + a) * n2 + dd + a];
  }
  const double lambda_a = 1e-7 * diag_a / static_cast<double>(dd) + 1e-30;
  const double lambda_e = 1e-7 * diag_e / static_cast<double>(dd) + 1e-30;
  for (std::size_t a = 0; a < dd; ++a) {
    A[a * n2 + a] += lambda_a;
    y[a] += lambda_a;
    A[(dd + a) * n2 + dd + a] += lambda_e;
  }
  const std::vector<double> theta = solve(std::move(A), std::move(y));

  cc.bn_weight.resize(dd);
  cc.bn_bias.resize(dd);
  cc.bn_mean.resize(dd);
  cc.bn_var.resize(dd);
  std::vector<double> shift(dd);
  for (std::size_t a = 0; a < dd; ++a) {
    const double ga = theta[a], ea = theta[dd + a];
    const double mu = m[a] / N, var = std::max(0.0, S[a * dd + a] / N - mu * mu);
    const double lo = (ga >= 0 ? ga * zmin[a] : ga * zmax[a]) + ea;
    shift[a] = std::max(0.0, kShiftSd * std::abs(ga) * std::sqrt(var) - lo);
    cc.bn_mean[a] = static_cast<float>(mu);
    cc.bn_var[a] = static_cast<float>(var);
    cc.bn_weight[a] = static_cast<float>(ga * std::sqrt(var + kBnEps));
    cc.bn_bias[a] = static_cast<float>(ga * mu + ea + shift[a]);
  }
  cc.proj_weight = wp;
  cc.proj_bias = L.proj_b;
  for (std::int64_t o = 0; o < D; ++o) {
    double s = 0;
    for (std::size_t a = 0; a < dd; ++a) s += static_cast<double>(wp[static_cast<std::size_t>(o) * dd + a]) * shift[a];
    cc.proj_bias[static_cast<std::size_t>(o)] -= static_cast<float>(s);
  }

  // How well the fitted linear branch reproduces the MSA's output on the calibration tokens.
  double err2 = 0;
  Vec w(static_cast<std::size_t>(L.n * d)), pred(static_cast<std::size_t>(L.n * D));
  for (std::size_t img = 0; img < L.values.size(); ++img) {
    conv_output(L, L.values[img], taps, head, cc.conv_bias, z);
    targets(img);
    for (std::int64_t i = 0; i < L.n; ++i)
      for (std::size_t a = 0; a < dd; ++a)
        w[static_cast<std::size_t>(i) * dd + a] =
            static_cast<float>(theta[a] * z[static_cast<std::size_t>(i) * dd + a] + theta[dd + a]);
    prof::gemm_abt(L.n, D, d, w.data(), d, wp.data(), d, pred.data(), D);
    for (std::size_t i = 0; i < pred.size(); ++i) err2 += (t[i] - pred[i]) * static_cast<double>(t[i] - pred[i]);
  }
  cc.fit_error = t_norm2 > 0 ? std::sqrt(err2 / t_norm2) : 0.0;
  return cc;
}

}  // namespace

Carver::Carver(const space::Arch& a, const space::WeightSource& w) : arch_(a), original_(w) {}

std::vector<float> Carver::tensor(const std::string& name) const {
  const auto it = specs_.find(name);
  if (it == specs_.end()) throw std::logic_error("carving: no tensor " + name);
  std::vector<float> v(static_cast<std::size_t>(it->second.numel()));
  original_.fill(it->second, v);
  return v;
}

const LayerCarving* Carver::layer(int stage, int block) const {
  for (const LayerCarving& l : layers_)
    if (l.stage == stage && l.block == block) return &l;
  return nullptr;
}

Result<std::unique_ptr<Carver>> Carver::create(const Fidelity& fid, const space::WeightSource& original,
                                               const std::function<void(int, int)>& on_layer) {
  if (!fid.base_is_original()) return Error{"carving: the fidelity's base must be the original network"};
  std::unique_ptr<Carver> c(new Carver(fid.arch(), original));
  const space::Lowered& net = fid.net();
  for (const space::ParamSpec& s : space::param_specs(net)) c->specs_[s.name] = s;
  std::vector<int> units;
  for (std::size_t u = 0; u < net.units.size(); ++u) {
    const space::Unit& un = net.units[u];
    if (un.kind != space::UnitKind::block || !un.in.grid) continue;
    const space::Block& b =
        c->arch_.stages[static_cast<std::size_t>(un.stage)].blocks[static_cast<std::size_t>(un.block)];
    if (b.mixer.kind == space::MixerKind::msa) units.push_back(static_cast<int>(u));
  }
  if (units.empty()) return Error{"carving: the network has no MSA block on a token grid to carve convolutions from"};
  const double eps = c->arch_.norm_eps;
  int done = 0;
  for (int u : units) {
    const space::Unit& un = net.units[static_cast<std::size_t>(u)];
    const space::Stage& st = c->arch_.stages[static_cast<std::size_t>(un.stage)];
    const space::Block& blk = st.blocks[static_cast<std::size_t>(un.block)];
    const std::string p = un.label;
    LayerPass L;
    L.T = un.in.total();
    L.extra = un.in.extra;
    L.gh = un.in.h;
    L.gw = un.in.w;
    L.n = un.in.n;
    L.D = un.in_dim;
    L.heads = st.heads;
    L.d = L.D / L.heads;
    const std::int64_t T = L.T, D = L.D, d = L.d, H = L.heads;
    const Vec n1w = c->tensor(p + ".norm1.weight"), n1b = c->tensor(p + ".norm1.bias");
    L.qkv_w = c->tensor(p + ".attn.qkv.weight");
    L.qkv_b =
        c->specs_.count(p + ".attn.qkv.bias") ? c->tensor(p + ".attn.qkv.bias") : Vec(static_cast<std::size_t>(3 * D));
    L.proj_w = c->tensor(p + ".attn.proj.weight");
    L.proj_b = c->tensor(p + ".attn.proj.bias");
    Vec rel_bias;  // [H, T, T]
    if (blk.mixer.msa_rel_pos) {
      const Vec table = c->tensor(p + ".attn.core.rel_pos_table");
      const std::vector<std::int64_t> idx = space::rel_pos_index(L.gh, L.gw);
      rel_bias.resize(static_cast<std::size_t>(H * T * T));
      for (std::int64_t h = 0; h < H; ++h)
        for (std::size_t ij = 0; ij < idx.size(); ++ij)
          rel_bias[static_cast<std::size_t>(h * T * T) + ij] = table[static_cast<std::size_t>(idx[ij] * H + h)];
    }
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));

    LayerCarving lc;
    lc.stage = un.stage;
    lc.block = un.block;
    lc.heads = H;
    std::vector<double> att(static_cast<std::size_t>(H * kTaps), 0.0), cnt(kTaps, 0.0);
    Vec y(static_cast<std::size_t>(T * D)), qkv(static_cast<std::size_t>(T * 3 * D)),
        ctx(static_cast<std::size_t>(T * D));
    Vec s(static_cast<std::size_t>(T * T));
    const auto& batches = fid.original_inputs(u);
    for (std::int64_t bi = 0; bi < fid.batches(); ++bi) {
      for (std::int64_t row = 0; row < fid.rows_in(bi); ++row) {
        const float* x = batches[static_cast<std::size_t>(bi)].data() + row * T * D;
        L.inputs.emplace_back(x, x + T * D);
        layer_norm_rows(x, T, D, n1w, n1b, eps, y.data());
        prof::gemm_abt(T, 3 * D, D, y.data(), D, L.qkv_w.data(), D, qkv.data(), 3 * D);
        add_bias(qkv.data(), T, 3 * D, L.qkv_b);
        for (std::int64_t h = 0; h < H; ++h) {
          prof::gemm_abt(T, T, d, qkv.data() + h * d, 3 * D, qkv.data() + D + h * d, 3 * D, s.data(), T);
#pragma omp parallel for
          for (std::int64_t i = 0; i < T; ++i) {
            float* si = s.data() + i * T;
            float mx = -std::numeric_limits<float>::infinity();
            for (std::int64_t j = 0; j < T; ++j) {
              si[j] =
                  si[j] * scale + (rel_bias.empty() ? 0.0f : rel_bias[static_cast<std::size_t>((h * T + i) * T + j)]);
              mx = std::max(mx, si[j]);
            }
            double sum = 0;
            for (std::int64_t j = 0; j < T; ++j) {
              si[j] = std::exp(si[j] - mx);
              sum += si[j];
            }
            const auto inv = static_cast<float>(1.0 / sum);
            for (std::int64_t j = 0; j < T; ++j) si[j] *= inv;
          }
          for (std::int64_t i = 0; i < L.n; ++i) {
            const std::int64_t r = i / L.gw, col = i % L.gw;
            for (int k = 0; k < kTaps; ++k) {
              const TapOffset o = tap_offset(k);
              const std::int64_t rr = r + o.dy, cc = col + o.dx;
              if (rr < 0 || rr >= L.gh || cc < 0 || cc >= L.gw) continue;
              att[static_cast<std::size_t>(h * kTaps + k)] +=
                  s[static_cast<std::size_t>((L.extra + i) * T + L.extra + rr * L.gw + cc)];
              if (h == 0) cnt[static_cast<std::size_t>(k)] += 1;
            }
          }
          prof::gemm_ab(T, d, T, s.data(), T, qkv.data() + 2 * D + h * d, 3 * D, ctx.data() + h * d, D);
        }
        Vec mo(static_cast<std::size_t>(T * D));
        prof::gemm_abt(T, D, D, ctx.data(), D, L.proj_w.data(), D, mo.data(), D);
        add_bias(mo.data(), T, D, L.proj_b);
        L.msa.push_back(std::move(mo));
        Vec v(static_cast<std::size_t>(L.n * D));
        for (std::int64_t i = 0; i < L.n; ++i)
          for (std::int64_t ch = 0; ch < D; ++ch)
            v[static_cast<std::size_t>(i * D + ch)] =
                qkv[static_cast<std::size_t>((L.extra + i) * 3 * D + 2 * D + ch)] -
                L.qkv_b[static_cast<std::size_t>(2 * D + ch)];
        L.values.push_back(std::move(v));
      }
    }
    lc.attention.resize(att.size());
    for (std::int64_t h = 0; h < H; ++h)
      for (int k = 0; k < kTaps; ++k)
        lc.attention[static_cast<std::size_t>(h * kTaps + k)] =
            cnt[static_cast<std::size_t>(k)] > 0
                ? att[static_cast<std::size_t>(h * kTaps + k)] / cnt[static_cast<std::size_t>(k)]
                : 0;
    for (int k = 0; k < kTaps; ++k) {
      int best = 0;
      for (std::int64_t h = 1; h < H; ++h)
        if (lc.attention[static_cast<std::size_t>(h * kTaps + k)] >
            lc.attention[static_cast<std::size_t>(best * kTaps + k)])
          best = static_cast<int>(h);
      lc.tap_head[static_cast<std::size_t>(k)] = best;
    }
    lc.conv1 = carve_conv(L, lc.tap_head, 1);
    lc.conv3 = carve_conv(L, lc.tap_head, 3);

    // FFN neurons, on the original's activations after the MSA.
    if (blk.ffn.kind == space::FfnKind::mlp) {
      const std::int64_t Hd = blk.ffn.hidden;
      const Vec n2w = c->tensor(p + ".norm2.weight"), n2b = c->tensor(p + ".norm2.bias");
      const Vec w1 = c->tensor(p + ".mlp.fc1.weight"), b1 = c->tensor(p + ".mlp.fc1.bias");
      const Vec w2 = c->tensor(p + ".mlp.fc2.weight");
      std::vector<double> sum(static_cast<std::size_t>(Hd), 0.0), sum2(static_cast<std::size_t>(Hd), 0.0);
      Vec mid(static_cast<std::size_t>(T * D)), hid(static_cast<std::size_t>(T * Hd));
      double tokens = 0;
      for (std::size_t img = 0; img < L.msa.size(); ++img) {
        for (std::size_t i = 0; i < mid.size(); ++i) mid[i] = L.inputs[img][i] + L.msa[img][i];
        layer_norm_rows(mid.data(), T, D, n2w, n2b, eps, y.data());
        prof::gemm_abt(T, Hd, D, y.data(), D, w1.data(), D, hid.data(), Hd);
#pragma omp parallel for
        for (std::int64_t j = 0; j < Hd; ++j) {
          double s1 = 0, s2 = 0;
          for (std::int64_t i = 0; i < T; ++i) {
            const double v = hid[static_cast<std::size_t>(i * Hd + j)] + b1[static_cast<std::size_t>(j)];
            const double a = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
            s1 += a;
            s2 += a * a;
          }
          sum[static_cast<std::size_t>(j)] += s1;
          sum2[static_cast<std::size_t>(j)] += s2;
        }
        tokens += static_cast<double>(T);
      }
      lc.ffn_ranked = true;
      lc.ffn.score.resize(static_cast<std::size_t>(Hd));
      lc.ffn.mean.resize(static_cast<std::size_t>(Hd));
      for (std::int64_t j = 0; j < Hd; ++j) {
        double col = 0;
        for (std::int64_t o = 0; o < D; ++o)
          col +=
              static_cast<double>(w2[static_cast<std::size_t>(o * Hd + j)]) * w2[static_cast<std::size_t>(o * Hd + j)];
        const double mean = sum[static_cast<std::size_t>(j)] / tokens;
        // Centred: a removed neuron's mean stays (in fc2's bias), only its variation is lost.
        const double var_sum = std::max(0.0, sum2[static_cast<std::size_t>(j)] - tokens * mean * mean);
        lc.ffn.score[static_cast<std::size_t>(j)] = std::sqrt(var_sum) * std::sqrt(col);
        lc.ffn.mean[static_cast<std::size_t>(j)] = mean;
      }
      lc.ffn.order.resize(static_cast<std::size_t>(Hd));
      std::iota(lc.ffn.order.begin(), lc.ffn.order.end(), 0);
      std::stable_sort(lc.ffn.order.begin(), lc.ffn.order.end(), [&](std::int64_t a, std::int64_t b) {
        return lc.ffn.score[static_cast<std::size_t>(a)] > lc.ffn.score[static_cast<std::size_t>(b)];
      });
    }
    c->layers_.push_back(std::move(lc));
    if (on_layer) on_layer(++done, static_cast<int>(units.size()));
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// A candidate's weights.

class CarvedWeights final : public space::WeightSource {
 public:
  struct BlockChange {
    const LayerCarving* layer = nullptr;
    const CarvedConv* conv = nullptr;  // the carved mixer, if any
    std::int64_t hidden = 0;           // original FFN width
    std::vector<std::int64_t> keep;    // kept neurons (ascending), empty: FFN unchanged
  };
  CarvedWeights(const Carver& c, std::map<std::pair<int, int>, BlockChange> changes)
      : carver_(c), changes_(std::move(changes)) {}

  void fill(const space::ParamSpec& spec, std::span<float> dst) const override {
    int s = -1, b = -1, used = 0;
    const std::string& n = spec.name;
    if (std::sscanf(n.c_str(), "stages.%d.blocks.%d.%n", &s, &b, &used) == 2 && used > 0) {
      const auto it = changes_.find({s, b});
      if (it != changes_.end() && fill_changed(it->second, n.substr(static_cast<std::size_t>(used)), n, dst)) return;
    }
    carver_.original_.fill(spec, dst);
  }

 private:
  static void put(const std::vector<float>& v, std::span<float> dst, const std::string& name) {
    if (v.size() != dst.size())
      throw std::logic_error(fmt::format("carving: {} has {} values, {} expected", name, v.size(), dst.size()));
    std::copy(v.begin(), v.end(), dst.begin());
  }

  bool fill_changed(const BlockChange& ch, const std::string& rest, const std::string& name,
                    std::span<float> dst) const {
    if (ch.conv != nullptr) {
      const CarvedConv& cc = *ch.conv;
      const std::pair<const char*, const std::vector<float>*> table[] = {
          {"attn.conv.weight", &cc.conv_weight}, {"attn.conv.bias", &cc.conv_bias},
          {"attn.bn.weight", &cc.bn_weight},     {"attn.bn.bias", &cc.bn_bias},
          {"attn.bn.running_mean", &cc.bn_mean}, {"attn.bn.running_var", &cc.bn_var},
          {"attn.proj.weight", &cc.proj_weight}, {"attn.proj.bias", &cc.proj_bias}};
      for (const auto& [suffix, v] : table)
        if (rest == suffix) {
          put(*v, dst, name);
          return true;
        }
    }
    if (ch.keep.empty() || rest.rfind("mlp.", 0) != 0) return false;
    const std::string prefix = name.substr(0, name.size() - rest.size());
    const std::int64_t Hd = ch.hidden, w = static_cast<std::int64_t>(ch.keep.size());
    if (rest == "mlp.fc1.weight" || rest == "mlp.fc1.bias") {
      const std::vector<float> full = carver_.tensor(name);
      const std::int64_t per = static_cast<std::int64_t>(full.size()) / Hd;
      std::vector<float> out(static_cast<std::size_t>(w * per));
      for (std::int64_t i = 0; i < w; ++i)
        std::copy_n(full.begin() + ch.keep[static_cast<std::size_t>(i)] * per, per, out.begin() + i * per);
      put(out, dst, name);
      return true;
    }
    if (rest == "mlp.fc2.weight") {
      const std::vector<float> full = carver_.tensor(name);
      const std::int64_t D = static_cast<std::int64_t>(full.size()) / Hd;
      std::vector<float> out(static_cast<std::size_t>(D * w));
      for (std::int64_t o = 0; o < D; ++o)
        for (std::int64_t i = 0; i < w; ++i)
          out[static_cast<std::size_t>(o * w + i)] =
              full[static_cast<std::size_t>(o * Hd + ch.keep[static_cast<std::size_t>(i)])];
      put(out, dst, name);
      return true;
    }
    if (rest == "mlp.fc2.bias") {
      std::vector<float> bias = carver_.tensor(name);
      const std::vector<float> w2 = carver_.tensor(prefix + "mlp.fc2.weight");
      const auto D = static_cast<std::int64_t>(bias.size());
      std::vector<char> kept(static_cast<std::size_t>(Hd), 0);
      for (std::int64_t j : ch.keep) kept[static_cast<std::size_t>(j)] = 1;
      for (std::int64_t o = 0; o < D; ++o) {
        double add = 0;
        for (std::int64_t j = 0; j < Hd; ++j)
          if (!kept[static_cast<std::size_t>(j)])
            add += static_cast<double>(w2[static_cast<std::size_t>(o * Hd + j)]) *
                   ch.layer->ffn.mean[static_cast<std::size_t>(j)];
        bias[static_cast<std::size_t>(o)] += static_cast<float>(add);
      }
      put(bias, dst, name);
      return true;
    }
    return false;
  }

  const Carver& carver_;
  std::map<std::pair<int, int>, BlockChange> changes_;
};

namespace {

// `a` with every block's mixer and FFN blanked: what carving must leave as it is.
space::Arch without_block_choices(space::Arch a) {
  for (space::Stage& st : a.stages)
    for (space::Block& b : st.blocks) {
      b.mixer = space::Mixer{};
      b.ffn = space::Ffn{};
    }
  return a;
}

}  // namespace

Status check_carving_target(const space::Arch& original, const space::Arch& target) {
  if (target.stages.size() != original.stages.size())
    return Error{fmt::format("carving: the target has {} stages, the original {}", target.stages.size(),
                             original.stages.size())};
  for (std::size_t s = 0; s < original.stages.size(); ++s) {
    const auto &os = original.stages[s], &cs = target.stages[s];
    if (os.blocks.size() != cs.blocks.size() || os.dim != cs.dim || os.heads != cs.heads ||
        !(os.downsample == cs.downsample) || os.pos_embed != cs.pos_embed || os.norm_out != cs.norm_out)
      return Error{fmt::format(
          "carving: stages[{}] differs from the original's in depth, dim, heads, downsample, pos_embed or norm_out",
          s)};
  }
  if (!without_block_choices(original).same_network(without_block_choices(target)))
    return Error{
        "carving: the target's input, norm eps, stem, cls token, head or token pooling differ from the "
        "original's"};
  for (std::size_t s = 0; s < original.stages.size(); ++s) {
    const auto &os = original.stages[s], &cs = target.stages[s];
    for (std::size_t b = 0; b < os.blocks.size(); ++b) {
      const space::Block &ob = os.blocks[b], &cb = cs.blocks[b];
      const std::string where = fmt::format("stages[{}].blocks[{}]", s, b);
      if (!(cb.mixer == ob.mixer)) {
        const space::MixerKind k = cb.mixer.kind;
        if (k == space::MixerKind::bconv && ob.mixer.kind != space::MixerKind::msa)
          return Error{fmt::format("carving: {}: no MSA to carve a convolution from", where)};
        if (k != space::MixerKind::bconv && k != space::MixerKind::skip && k != space::MixerKind::normskip)
          return Error{fmt::format("carving: {}: mixer {} is neither the original's nor skip/bconv", where,
                                   space::describe(cb.mixer))};
      }
      if (!(cb.ffn == ob.ffn) && cb.ffn.kind != space::FfnKind::none &&
          (cb.ffn.kind != ob.ffn.kind || ob.ffn.kind != space::FfnKind::mlp || cb.ffn.hidden < 1 ||
           cb.ffn.hidden > ob.ffn.hidden))
        return Error{fmt::format("carving: {}: FFN {} is not a narrowing of the original's MLP {}", where,
                                 space::describe(cb.ffn), space::describe(ob.ffn))};
      if (cb.pool_after != ob.pool_after) return Error{fmt::format("carving: {}: token pooling differs", where)};
    }
  }
  return true;
}

Result<std::unique_ptr<space::WeightSource>> Carver::weights_for(const space::Arch& candidate) const {
  if (Status ok = check_carving_target(arch_, candidate); !ok) return ok.error();
  std::map<std::pair<int, int>, CarvedWeights::BlockChange> changes;
  for (std::size_t s = 0; s < arch_.stages.size(); ++s) {
    const auto &os = arch_.stages[s], &cs = candidate.stages[s];
    for (std::size_t b = 0; b < os.blocks.size(); ++b) {
      const space::Block &ob = os.blocks[b], &cb = cs.blocks[b];
      const LayerCarving* lc = layer(static_cast<int>(s), static_cast<int>(b));
      CarvedWeights::BlockChange ch;
      ch.layer = lc;
      if (cb.mixer.kind == space::MixerKind::bconv && !(cb.mixer == ob.mixer)) {
        if (lc == nullptr)
          return Error{fmt::format("carving: stages[{}].blocks[{}]: its MSA is not on a token grid", s, b)};
        ch.conv = cb.mixer.bconv_kernel == 1 ? &lc->conv1 : &lc->conv3;
      }
      if (!(cb.ffn == ob.ffn) && cb.ffn.kind != space::FfnKind::none) {
        if (lc == nullptr || !lc->ffn_ranked)
          return Error{fmt::format("carving: stages[{}].blocks[{}]: its FFN neurons are not ranked", s, b)};
        ch.hidden = ob.ffn.hidden;
        ch.keep.assign(lc->ffn.order.begin(), lc->ffn.order.begin() + cb.ffn.hidden);
        std::sort(ch.keep.begin(), ch.keep.end());
      }
      if (ch.conv != nullptr || !ch.keep.empty()) changes[{static_cast<int>(s), static_cast<int>(b)}] = std::move(ch);
    }
  }
  return std::unique_ptr<space::WeightSource>(new CarvedWeights(*this, std::move(changes)));
}

}  // namespace hwnas::compress
