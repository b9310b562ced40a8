#include "weights/eval_transform.h"

#include <algorithm>
#include <cmath>

namespace hwnas::weights {
namespace {

// PIL's 8-bit resampling precision (libImaging/Resample.c: 32 - 8 - 2 bits).
constexpr int kPrecisionBits = 22;

double bicubic(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

// Per output pixel: the first input index and fixed-point weights, as PIL's precompute_coeffs and
// normalize_coeffs_8bpc compute them.
struct Taps {
  std::vector<int> first, count;
  std::vector<std::vector<int>> weights;
};

Taps taps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 2.0 * filterscale;
  Taps t;
  t.first.resize(static_cast<std::size_t>(out_size));
  t.count.resize(static_cast<std::size_t>(out_size));
  t.weights.resize(static_cast<std::size_t>(out_size));
  for (int o = 0; o < out_size; ++o) {
    const double center = (o + 0.5) * scale;
    int lo = static_cast<int>(center - support + 0.5);
    lo = std::max(lo, 0);
    int hi = static_cast<int>(center + support + 0.5);
    hi = std::min(hi, in_size);
    std::vector<double> k(static_cast<std::size_t>(std::max(hi - lo, 0)));
    double sum = 0.0;
    for (int x = lo; x < hi; ++x)
      sum += k[static_cast<std::size_t>(x - lo)] = bicubic((x - center + 0.5) / filterscale);
    std::vector<int>& w = t.weights[static_cast<std::size_t>(o)];
    for (double v : k) {
      const double f = (sum != 0.0 ? v / sum : 0.0) * (1 << kPrecisionBits);
      w.push_back(static_cast<int>(f < 0 ? -0.5 + f : 0.5 + f));
    }
    t.first[static_cast<std::size_t>(o)] = lo;
    t.count[static_cast<std::size_t>(o)] = hi - lo;
  }
  return t;
}

std::uint8_t clip8(std::int64_t acc) {
  const std::int64_t v = acc >> kPrecisionBits;
  return static_cast<std::uint8_t>(std::clamp<std::int64_t>(v, 0, 255));
}

}  // namespace

std::int64_t EvalTransform::resize_to() const {
  return static_cast<std::int64_t>(std::floor(static_cast<double>(size) / crop_pct));
}

Image resize_bicubic(const Image& in, int width, int height) {
  Image mid = in;
  if (width != in.width) {  // horizontal pass
    const Taps t = taps(in.width, width);
    mid.width = width;
    mid.rgb.assign(static_cast<std::size_t>(width) * in.height * 3, 0);
    for (int y = 0; y < in.height; ++y)
      for (int x = 0; x < width; ++x)
        for (int c = 0; c < 3; ++c) {
          std::int64_t acc = std::int64_t{1} << (kPrecisionBits - 1);
          for (int k = 0; k < t.count[x]; ++k)
            acc +=
                static_cast<std::int64_t>(in.rgb[(static_cast<std::size_t>(y) * in.width + t.first[x] + k) * 3 + c]) *
                t.weights[x][k];
          mid.rgb[(static_cast<std::size_t>(y) * width + x) * 3 + c] = clip8(acc);
        }
  }
  if (height == in.height) return mid;
  const Taps t = taps(in.height, height);  // vertical pass
  Image out;
  out.width = width;
  out.height = height;
  out.rgb.assign(static_cast<std::size_t>(width) * height * 3, 0);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) {
        std::int64_t acc = std::int64_t{1} << (kPrecisionBits - 1);
        for (int k = 0; k < t.count[y]; ++k)
          acc += static_cast<std::int64_t>(mid.rgb[(static_cast<std::size_t>(t.first[y] + k) * width + x) * 3 + c]) *
                 t.weights[y][k];
        out.rgb[(static_cast<std::size_t>(y) * width + x) * 3 + c] = clip8(acc);
      }
  return out;
}

void apply(const EvalTransform& t, const Image& in, std::span<float> dst) {
  // torchvision Resize(int): the shorter side becomes `s`, the longer int(s · long / short).
  const std::int64_t s = t.resize_to();
  const bool wide = in.width > in.height;
  const double shorter = wide ? in.height : in.width, longer = wide ? in.width : in.height;
  const auto other = static_cast<int>(static_cast<double>(s) * longer / shorter);
  const int w = wide ? other : static_cast<int>(s), h = wide ? static_cast<int>(s) : other;
  const Image r = (w == in.width && h == in.height) ? in : resize_bicubic(in, w, h);
  // torchvision CenterCrop: offsets int(round((side - size) / 2)), Python's round (half to even).
  // A side shorter than the crop is zero-padded first, as torchvision does.
  const auto off = [&](int side) {
    const auto size = static_cast<int>(t.size);
    if (side < size) return -((size - side) / 2);  // padding left/top: (size - side) // 2
    return static_cast<int>(std::nearbyint((side - size) / 2.0));
  };
  const int top = off(r.height), left = off(r.width);
  const auto n = static_cast<std::size_t>(t.size);
  for (int c = 0; c < 3; ++c)
    for (std::size_t y = 0; y < n; ++y)
      for (std::size_t x = 0; x < n; ++x) {
        const long sy = static_cast<long>(y) + top, sx = static_cast<long>(x) + left;
        const bool inside = sy >= 0 && sy < r.height && sx >= 0 && sx < r.width;
        const float v = inside ? r.rgb[(static_cast<std::size_t>(sy) * r.width + sx) * 3 + c] / 255.0f : 0.0f;
        dst[(c * n + y) * n + x] = (v - EvalTransform::kMean[c]) / EvalTransform::kStd[c];
      }
}

}  // namespace hwnas::weights
