// Primitive operations of the reference: plain loops, double accumulation, fp32 results.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "tests/reference/reference.h"

namespace hwnas::ref {
namespace {

std::size_t sz(std::int64_t v) {
  if (v < 0) throw std::invalid_argument("reference: negative size " + std::to_string(v));
  return static_cast<std::size_t>(v);
}

void need(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(std::string("reference: ") + what);
}

void need_size(std::span<const float> s, std::size_t n, const char* what) {
  if (s.size() != n)
    throw std::invalid_argument(std::string("reference: ") + what + " has " + std::to_string(s.size()) +
                                " values, expected " + std::to_string(n));
}

std::int64_t conv_out(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p) {
  const std::int64_t padded = in + 2 * p;
  return padded < k ? 0 : (padded - k) / s + 1;
}

}  // namespace

std::int64_t Conv2dArgs::out_h() const {
  return conv_out(in_h, kernel, stride, padding);
}
std::int64_t Conv2dArgs::out_w() const {
  return conv_out(in_w, kernel, stride, padding);
}

std::vector<float> linear(std::span<const float> x, std::int64_t rows, std::int64_t in, std::span<const float> weight,
                          std::span<const float> bias, std::int64_t out) {
  const std::size_t R = sz(rows), I = sz(in), O = sz(out);
  need_size(x, R * I, "linear input");
  need_size(weight, O * I, "linear weight");
  need(bias.empty() || bias.size() == O, "linear bias size");
  std::vector<float> y(R * O);
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t o = 0; o < O; ++o) {
      double acc = bias.empty() ? 0.0 : static_cast<double>(bias[o]);
      for (std::size_t i = 0; i < I; ++i)
        acc += static_cast<double>(x[r * I + i]) * static_cast<double>(weight[o * I + i]);
      y[r * O + o] = static_cast<float>(acc);
    }
  }
  return y;
}

std::vector<float> conv2d(std::span<const float> x, const Conv2dArgs& a, std::span<const float> weight,
                          std::span<const float> bias) {
  need(a.groups > 0 && a.in_c % a.groups == 0 && a.out_c % a.groups == 0, "conv2d groups must divide the channels");
  need(a.stride > 0 && a.kernel > 0, "conv2d kernel and stride must be positive");
  const std::size_t C = sz(a.in_c), H = sz(a.in_h), W = sz(a.in_w), O = sz(a.out_c), K = sz(a.kernel);
  const std::size_t OH = sz(a.out_h()), OW = sz(a.out_w());
  const std::size_t cin_g = C / sz(a.groups), cout_g = O / sz(a.groups);
  need_size(x, C * H * W, "conv2d input");
  need_size(weight, O * cin_g * K * K, "conv2d weight");
  need(bias.empty() || bias.size() == O, "conv2d bias size");
  std::vector<float> y(O * OH * OW);
  for (std::size_t o = 0; o < O; ++o) {
    const std::size_t g = o / cout_g;
    for (std::size_t oy = 0; oy < OH; ++oy) {
      for (std::size_t ox = 0; ox < OW; ++ox) {
        double acc = bias.empty() ? 0.0 : static_cast<double>(bias[o]);
        for (std::size_t ci = 0; ci < cin_g; ++ci) {
          const std::size_t c = g * cin_g + ci;
          for (std::size_t ki = 0; ki < K; ++ki) {
            const std::int64_t iy =
                static_cast<std::int64_t>(oy) * a.stride - a.padding + static_cast<std::int64_t>(ki);
            if (iy < 0 || iy >= a.in_h) continue;
            for (std::size_t kj = 0; kj < K; ++kj) {
              const std::int64_t ix =
                  static_cast<std::int64_t>(ox) * a.stride - a.padding + static_cast<std::int64_t>(kj);
              if (ix < 0 || ix >= a.in_w) continue;
              const float xv = x[(c * H + sz(iy)) * W + sz(ix)];
              const float wv = weight[((o * cin_g + ci) * K + ki) * K + kj];
              acc += static_cast<double>(xv) * static_cast<double>(wv);
            }
          }
        }
        y[(o * OH + oy) * OW + ox] = static_cast<float>(acc);
      }
    }
  }
  return y;
}

double bilinear_zero(std::span<const float> plane, std::int64_t h, std::int64_t w, double y, double x) {
  if (y <= -1.0 || y >= static_cast<double>(h) || x <= -1.0 || x >= static_cast<double>(w)) return 0.0;
  const double y0 = std::floor(y), x0 = std::floor(x);
  const double ly = y - y0, lx = x - x0;  // weights of the high neighbours
  const auto iy0 = static_cast<std::int64_t>(y0), ix0 = static_cast<std::int64_t>(x0);
  auto at = [&](std::int64_t iy, std::int64_t ix) -> double {
    if (iy < 0 || iy >= h || ix < 0 || ix >= w) return 0.0;
    return static_cast<double>(plane[sz(iy) * sz(w) + sz(ix)]);
  };
  return (1 - ly) * (1 - lx) * at(iy0, ix0) + (1 - ly) * lx * at(iy0, ix0 + 1) + ly * (1 - lx) * at(iy0 + 1, ix0) +
         ly * lx * at(iy0 + 1, ix0 + 1);
}

std::vector<float> deform_conv2d(std::span<const float> x, std::span<const float> offset, const Conv2dArgs& a,
                                 std::span<const float> weight, std::span<const float> bias) {
  need(a.groups == 1, "deform_conv2d supports groups = 1 only");
  need(a.stride > 0 && a.kernel > 0, "deform_conv2d kernel and stride must be positive");
  const std::size_t C = sz(a.in_c), H = sz(a.in_h), W = sz(a.in_w), O = sz(a.out_c), K = sz(a.kernel);
  const std::size_t OH = sz(a.out_h()), OW = sz(a.out_w());
  need_size(x, C * H * W, "deform_conv2d input");
  need_size(offset, 2 * K * K * OH * OW, "deform_conv2d offset");
  need_size(weight, O * C * K * K, "deform_conv2d weight");
  need(bias.empty() || bias.size() == O, "deform_conv2d bias size");
  // Sampled input values per (cin, tap, oy, ox), then the conv sum.
  std::vector<double> cols(C * K * K * OH * OW);
  for (std::size_t ki = 0; ki < K; ++ki) {
    for (std::size_t kj = 0; kj < K; ++kj) {
      const std::size_t t = ki * K + kj;
      for (std::size_t oy = 0; oy < OH; ++oy) {
        for (std::size_t ox = 0; ox < OW; ++ox) {
          const double dy = static_cast<double>(offset[((2 * t) * OH + oy) * OW + ox]);
          const double dx = static_cast<double>(offset[((2 * t + 1) * OH + oy) * OW + ox]);
          const double py = static_cast<double>(static_cast<std::int64_t>(oy) * a.stride - a.padding +
                                                static_cast<std::int64_t>(ki)) +
                            dy;
          const double px = static_cast<double>(static_cast<std::int64_t>(ox) * a.stride - a.padding +
                                                static_cast<std::int64_t>(kj)) +
                            dx;
          for (std::size_t c = 0; c < C; ++c)
            cols[((c * K * K + t) * OH + oy) * OW + ox] =
                bilinear_zero(x.subspan(c * H * W, H * W), a.in_h, a.in_w, py, px);
        }
      }
    }
  }
  std::vector<float> y(O * OH * OW);
  for (std::size_t o = 0; o < O; ++o) {
    for (std::size_t p = 0; p < OH * OW; ++p) {
      double acc = bias.empty() ? 0.0 : static_cast<double>(bias[o]);
      for (std::size_t ct = 0; ct < C * K * K; ++ct)
        acc += static_cast<double>(weight[o * C * K * K + ct]) * cols[ct * OH * OW + p];
      y[o * OH * OW + p] = static_cast<float>(acc);
    }
  }
  return y;
}

std::vector<float> layer_norm(std::span<const float> x, std::int64_t rows, std::int64_t channels,
                              std::span<const float> gamma, std::span<const float> beta, double eps) {
  const std::size_t R = sz(rows), C = sz(channels);
  need_size(x, R * C, "layer_norm input");
  need_size(gamma, C, "layer_norm weight");
  need_size(beta, C, "layer_norm bias");
  std::vector<float> y(R * C);
  for (std::size_t r = 0; r < R; ++r) {
    double mean = 0;
    for (std::size_t c = 0; c < C; ++c) mean += static_cast<double>(x[r * C + c]);
    mean /= static_cast<double>(C);
    double var = 0;
    for (std::size_t c = 0; c < C; ++c) {
      const double d = static_cast<double>(x[r * C + c]) - mean;
      var += d * d;
    }
    var /= static_cast<double>(C);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (std::size_t c = 0; c < C; ++c)
      y[r * C + c] =
          static_cast<float>((static_cast<double>(x[r * C + c]) - mean) * inv * static_cast<double>(gamma[c]) +
                             static_cast<double>(beta[c]));
  }
  return y;
}

std::vector<float> batch_norm(std::span<const float> x, std::int64_t rows, std::int64_t channels,
                              std::span<const float> weight, std::span<const float> bias, std::span<const float> mean,
                              std::span<const float> var, double eps) {
  const std::size_t R = sz(rows), C = sz(channels);
  need_size(x, R * C, "batch_norm input");
  need_size(weight, C, "batch_norm weight");
  need_size(bias, C, "batch_norm bias");
  need_size(mean, C, "batch_norm running_mean");
  need_size(var, C, "batch_norm running_var");
  std::vector<float> y(R * C);
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t c = 0; c < C; ++c) {
      const double v = (static_cast<double>(x[r * C + c]) - static_cast<double>(mean[c])) /
                           std::sqrt(static_cast<double>(var[c]) + eps) * static_cast<double>(weight[c]) +
                       static_cast<double>(bias[c]);
      y[r * C + c] = static_cast<float>(v);
    }
  }
  return y;
}

float gelu(float x) {
  const double v = static_cast<double>(x);
  return static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
}

std::vector<float> gelu(std::span<const float> x) {
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = gelu(x[i]);
  return y;
}

std::vector<float> relu(std::span<const float> x) {
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
  return y;
}

void softmax_rows(std::span<float> x, std::int64_t rows, std::int64_t cols) {
  const std::size_t R = sz(rows), C = sz(cols);
  need(x.size() == R * C, "softmax size");
  for (std::size_t r = 0; r < R; ++r) {
    std::span<float> row = x.subspan(r * C, C);
    double mx = -std::numeric_limits<double>::infinity();
    for (float v : row) mx = std::max(mx, static_cast<double>(v));
    std::vector<double> e(C);
    double sum = 0;
    for (std::size_t c = 0; c < C; ++c) {
      e[c] = std::exp(static_cast<double>(row[c]) - mx);
      sum += e[c];
    }
    for (std::size_t c = 0; c < C; ++c) row[c] = static_cast<float>(e[c] / sum);
  }
}

std::vector<float> attention(std::span<const float> q, std::span<const float> k, std::span<const float> v,
                             std::int64_t q_len, std::int64_t kv_len, std::int64_t heads, std::int64_t head_dim,
                             std::span<const float> bias) {
  const std::size_t Lq = sz(q_len), Lk = sz(kv_len), NH = sz(heads), d = sz(head_dim), D = NH * d;
  need_size(q, Lq * D, "attention q");
  need_size(k, Lk * D, "attention k");
  need_size(v, Lk * D, "attention v");
  need(bias.empty() || bias.size() == NH * Lq * Lk, "attention bias size");
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  std::vector<float> out(Lq * D);
  std::vector<float> scores(Lq * Lk);
  for (std::size_t h = 0; h < NH; ++h) {
    for (std::size_t i = 0; i < Lq; ++i) {
      for (std::size_t j = 0; j < Lk; ++j) {
        double dot = 0;
        for (std::size_t e = 0; e < d; ++e)
          dot += static_cast<double>(q[i * D + h * d + e]) * static_cast<double>(k[j * D + h * d + e]);
        double s = dot * scale;
        if (!bias.empty()) s += static_cast<double>(bias[(h * Lq + i) * Lk + j]);
        scores[i * Lk + j] = static_cast<float>(s);
      }
    }
    softmax_rows(scores, q_len, kv_len);
    for (std::size_t i = 0; i < Lq; ++i) {
      for (std::size_t e = 0; e < d; ++e) {
        double acc = 0;
        for (std::size_t j = 0; j < Lk; ++j)
          acc += static_cast<double>(scores[i * Lk + j]) * static_cast<double>(v[j * D + h * d + e]);
        out[i * D + h * d + e] = static_cast<float>(acc);
      }
    }
  }
  return out;
}

std::vector<float> avg_pool2d(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c,
                              std::int64_t s) {
  need(s > 0, "avg_pool2d stride must be positive");
  const std::size_t H = sz(h), W = sz(w), C = sz(c), S = sz(s);
  need_size(x, H * W * C, "avg_pool2d input");
  const std::size_t OH = H / S, OW = W / S;
  std::vector<float> y(OH * OW * C);
  for (std::size_t oy = 0; oy < OH; ++oy) {
    for (std::size_t ox = 0; ox < OW; ++ox) {
      for (std::size_t ch = 0; ch < C; ++ch) {
        double acc = 0;
        for (std::size_t i = 0; i < S; ++i)
          for (std::size_t j = 0; j < S; ++j) acc += static_cast<double>(x[((oy * S + i) * W + ox * S + j) * C + ch]);
        y[(oy * OW + ox) * C + ch] = static_cast<float>(acc / static_cast<double>(S * S));
      }
    }
  }
  return y;
}

std::vector<float> max_pool1d(std::span<const float> x, std::int64_t len, std::int64_t c, std::int64_t kernel,
                              std::int64_t stride) {
  need(kernel > 0 && stride > 0 && len >= kernel, "max_pool1d needs kernel <= len and positive kernel/stride");
  const std::size_t L = sz(len), C = sz(c), K = sz(kernel), S = sz(stride);
  need_size(x, L * C, "max_pool1d input");
  const std::size_t LO = (L - K) / S + 1;
  std::vector<float> y(LO * C);
  for (std::size_t o = 0; o < LO; ++o) {
    for (std::size_t ch = 0; ch < C; ++ch) {
      float m = x[(o * S) * C + ch];
      for (std::size_t t = 1; t < K; ++t) m = std::max(m, x[(o * S + t) * C + ch]);
      y[o * C + ch] = m;
    }
  }
  return y;
}

std::vector<float> tokens_to_chw(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c) {
  const std::size_t H = sz(h), W = sz(w), C = sz(c);
  need_size(x, H * W * C, "tokens_to_chw input");
  std::vector<float> y(C * H * W);
  for (std::size_t p = 0; p < H * W; ++p)
    for (std::size_t ch = 0; ch < C; ++ch) y[ch * H * W + p] = x[p * C + ch];
  return y;
}

std::vector<float> chw_to_tokens(std::span<const float> x, std::int64_t c, std::int64_t h, std::int64_t w) {
  const std::size_t H = sz(h), W = sz(w), C = sz(c);
  need_size(x, H * W * C, "chw_to_tokens input");
  std::vector<float> y(C * H * W);
  for (std::size_t p = 0; p < H * W; ++p)
    for (std::size_t ch = 0; ch < C; ++ch) y[p * C + ch] = x[ch * H * W + p];
  return y;
}

std::vector<float> slice_cols(std::span<const float> x, std::int64_t rows, std::int64_t cols, std::int64_t begin,
                              std::int64_t width) {
  const std::size_t R = sz(rows), C = sz(cols), B = sz(begin), N = sz(width);
  need_size(x, R * C, "slice_cols input");
  need(B + N <= C, "slice_cols range");
  std::vector<float> y(R * N);
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t i = 0; i < N; ++i) y[r * N + i] = x[r * C + B + i];
  return y;
}

std::vector<float> roll(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c, std::int64_t dy,
                        std::int64_t dx) {
  const std::size_t H = sz(h), W = sz(w), C = sz(c);
  need_size(x, H * W * C, "roll input");
  std::vector<float> y(H * W * C);
  for (std::int64_t i = 0; i < h; ++i) {
    for (std::int64_t j = 0; j < w; ++j) {
      const std::int64_t ti = ((i + dy) % h + h) % h, tj = ((j + dx) % w + w) % w;
      for (std::size_t ch = 0; ch < C; ++ch) y[(sz(ti) * W + sz(tj)) * C + ch] = x[(sz(i) * W + sz(j)) * C + ch];
    }
  }
  return y;
}

std::vector<float> window_partition(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c,
                                    std::int64_t ws) {
  need(ws > 0 && h % ws == 0 && w % ws == 0, "window_partition needs the window to divide the map");
  const std::size_t H = sz(h), W = sz(w), C = sz(c), S = sz(ws);
  need_size(x, H * W * C, "window_partition input");
  std::vector<float> y(H * W * C);
  std::size_t t = 0;
  for (std::size_t wy = 0; wy < H / S; ++wy)
    for (std::size_t wx = 0; wx < W / S; ++wx)
      for (std::size_t i = 0; i < S; ++i)
        for (std::size_t j = 0; j < S; ++j, ++t)
          for (std::size_t ch = 0; ch < C; ++ch) y[t * C + ch] = x[((wy * S + i) * W + wx * S + j) * C + ch];
  return y;
}

std::vector<float> window_merge(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c,
                                std::int64_t ws) {
  need(ws > 0 && h % ws == 0 && w % ws == 0, "window_merge needs the window to divide the map");
  const std::size_t H = sz(h), W = sz(w), C = sz(c), S = sz(ws);
  need_size(x, H * W * C, "window_merge input");
  std::vector<float> y(H * W * C);
  std::size_t t = 0;
  for (std::size_t wy = 0; wy < H / S; ++wy)
    for (std::size_t wx = 0; wx < W / S; ++wx)
      for (std::size_t i = 0; i < S; ++i)
        for (std::size_t j = 0; j < S; ++j, ++t)
          for (std::size_t ch = 0; ch < C; ++ch) y[((wy * S + i) * W + wx * S + j) * C + ch] = x[t * C + ch];
  return y;
}

std::vector<float> pad_map(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c, std::int64_t hp,
                           std::int64_t wp) {
  need(hp >= h && wp >= w, "pad_map target smaller than the map");
  const std::size_t H = sz(h), W = sz(w), C = sz(c), HP = sz(hp), WP = sz(wp);
  need_size(x, H * W * C, "pad_map input");
  std::vector<float> y(HP * WP * C, 0.0f);
  for (std::size_t i = 0; i < H; ++i)
    for (std::size_t j = 0; j < W; ++j)
      for (std::size_t ch = 0; ch < C; ++ch) y[(i * WP + j) * C + ch] = x[(i * W + j) * C + ch];
  return y;
}

std::vector<float> crop_map(std::span<const float> x, std::int64_t hp, std::int64_t wp, std::int64_t c, std::int64_t h,
                            std::int64_t w) {
  need(hp >= h && wp >= w, "crop_map target larger than the map");
  const std::size_t H = sz(h), W = sz(w), C = sz(c), HP = sz(hp), WP = sz(wp);
  need_size(x, HP * WP * C, "crop_map input");
  std::vector<float> y(H * W * C);
  for (std::size_t i = 0; i < H; ++i)
    for (std::size_t j = 0; j < W; ++j)
      for (std::size_t ch = 0; ch < C; ++ch) y[(i * W + j) * C + ch] = x[(i * WP + j) * C + ch];
  return y;
}

std::vector<float> patch_merge_gather(std::span<const float> x, std::int64_t h, std::int64_t w, std::int64_t c) {
  need(h % 2 == 0 && w % 2 == 0, "patch merging needs an even map");
  const std::size_t H = sz(h), W = sz(w), C = sz(c);
  need_size(x, H * W * C, "patch_merge_gather input");
  const std::size_t OH = H / 2, OW = W / 2;
  std::vector<float> y(OH * OW * 4 * C);
  // Part order (row offset, column offset): x0 (0,0), x1 (1,0), x2 (0,1), x3 (1,1) — Swin's PatchMerging.
  const std::size_t dr[4] = {0, 1, 0, 1}, dc[4] = {0, 0, 1, 1};
  for (std::size_t r = 0; r < OH; ++r)
    for (std::size_t col = 0; col < OW; ++col)
      for (std::size_t part = 0; part < 4; ++part)
        for (std::size_t ch = 0; ch < C; ++ch)
          y[(r * OW + col) * 4 * C + part * C + ch] = x[((2 * r + dr[part]) * W + 2 * col + dc[part]) * C + ch];
  return y;
}

std::vector<float> rel_pos_bias(std::span<const float> table, std::int64_t heads, std::int64_t gh, std::int64_t gw) {
  const std::size_t NH = sz(heads), N = sz(gh) * sz(gw);
  need_size(table, sz(2 * gh - 1) * sz(2 * gw - 1) * NH, "relative position table");
  std::vector<float> bias(NH * N * N);
  for (std::int64_t i = 0; i < gh * gw; ++i) {
    const std::int64_t ih = i / gw, iw = i % gw;
    for (std::int64_t j = 0; j < gh * gw; ++j) {
      const std::int64_t jh = j / gw, jw = j % gw;
      const std::int64_t idx = (ih - jh + gh - 1) * (2 * gw - 1) + (iw - jw + gw - 1);
      for (std::size_t h = 0; h < NH; ++h) bias[(h * N + sz(i)) * N + sz(j)] = table[sz(idx) * NH + h];
    }
  }
  return bias;
}

std::vector<float> swin_shift_mask(std::int64_t h, std::int64_t w, std::int64_t ws, std::int64_t shift) {
  need(ws > 0 && h % ws == 0 && w % ws == 0, "swin_shift_mask needs the window to divide the map");
  // Region of a coordinate along one axis: [0, n - ws), [n - ws, n - shift), [n - shift, n).
  auto region = [&](std::int64_t p, std::int64_t n) { return p < n - ws ? 0 : (p < n - shift ? 1 : 2); };
  std::vector<std::int64_t> label(sz(h) * sz(w));
  for (std::int64_t i = 0; i < h; ++i)
    for (std::int64_t j = 0; j < w; ++j) label[sz(i) * sz(w) + sz(j)] = region(i, h) * 3 + region(j, w);
  const std::size_t N = sz(ws) * sz(ws), NW = sz(h / ws) * sz(w / ws);
  std::vector<float> mask(NW * N * N);
  std::size_t win = 0;
  for (std::int64_t wy = 0; wy < h / ws; ++wy) {
    for (std::int64_t wx = 0; wx < w / ws; ++wx, ++win) {
      for (std::int64_t a = 0; a < ws * ws; ++a) {
        const std::int64_t la = label[sz(wy * ws + a / ws) * sz(w) + sz(wx * ws + a % ws)];
        for (std::int64_t b = 0; b < ws * ws; ++b) {
          const std::int64_t lb = label[sz(wy * ws + b / ws) * sz(w) + sz(wx * ws + b % ws)];
          mask[(win * N + sz(a)) * N + sz(b)] = la == lb ? 0.0f : -100.0f;
        }
      }
    }
  }
  return mask;
}

}  // namespace hwnas::ref
