// Distances against naive definitions written out here (probabilities by plain exp/sum, KL as
// Σ p·log(p/q)), FinerCut's value on a case computed by hand, and the properties SEEDS.md §5 states:
// zero for equal inputs, symmetric, js bounded by ln 2, finercut-js unbounded.
#include "compress/distance.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace hwnas::compress {
namespace {

using Vec = std::vector<float>;

std::vector<double> probs(const Vec& x, std::size_t r, std::size_t C) {
  std::vector<double> p(C);
  double z = 0;
  for (std::size_t i = 0; i < C; ++i) z += p[i] = std::exp(static_cast<double>(x[r * C + i]));
  for (double& v : p) v /= z;
  return p;
}

// Σ_i p_i log(p_i / q_i)
double kl(const std::vector<double>& p, const std::vector<double>& q) {
  double s = 0;
  for (std::size_t i = 0; i < p.size(); ++i) s += p[i] * std::log(p[i] / q[i]);
  return s;
}

double naive(Distance d, const Vec& a, const Vec& b, std::size_t C) {
  const std::size_t n = a.size() / C;
  double total = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const auto pa = probs(a, r, C), pb = probs(b, r, C);
    std::vector<double> m(C);
    for (std::size_t i = 0; i < C; ++i) m[i] = (pa[i] + pb[i]) / 2;
    if (d == Distance::js) total += (kl(pa, m) + kl(pb, m)) / 2;
    if (d == Distance::finercut_js) total += (kl(m, pa) + kl(m, pb)) / 2 / static_cast<double>(C);
    if (d == Distance::angular) {
      double dot = 0, na = 0, nb = 0;
      for (std::size_t i = 0; i < C; ++i) {
        dot += double(a[r * C + i]) * b[r * C + i];
        na += double(a[r * C + i]) * a[r * C + i];
        nb += double(b[r * C + i]) * b[r * C + i];
      }
      total += std::acos(std::min(1.0, std::max(0.0, dot / std::sqrt(na * nb))));
    }
  }
  if (d == Distance::rel_l2) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
      den += double(a[i]) * a[i];
    }
    return std::sqrt(num / den);
  }
  return total / static_cast<double>(n);
}

Vec random_logits(std::size_t n, unsigned seed, float scale) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  Vec v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

const Distance kAll[] = {Distance::finercut_js, Distance::js, Distance::angular, Distance::rel_l2};

TEST(Distance, EqualsTheNaiveDefinitions) {
  const std::size_t C = 10;
  const Vec a = random_logits(4 * C, 1, 2.0f), b = random_logits(4 * C, 2, 2.0f);
  for (Distance d : kAll)
    EXPECT_NEAR(distance(d, a, b, C), naive(d, a, b, C), 1e-12 + 1e-9 * naive(d, a, b, C)) << name_of(d);
}

TEST(Distance, FinercutJsOfAHandComputedCase) {
  // P_a = (1/2, 1/2), P_b = (3/4, 1/4), M = (5/8, 3/8):
  // ½[(5/8 ln(5/4) + 3/8 ln(3/4))/2 + (5/8 ln(5/6) + 3/8 ln(3/2))/2] = 0.0174205962…
  const Vec a = {0.0f, 0.0f}, b = {std::log(3.0f), 0.0f};
  EXPECT_NEAR(distance(Distance::finercut_js, a, b, 2), 0.017420596236575783, 1e-7);
}

TEST(Distance, ZeroForEqualInputsAndSymmetric) {
  const std::size_t C = 7;
  const Vec a = random_logits(3 * C, 3, 3.0f), b = random_logits(3 * C, 4, 3.0f);
  for (Distance d : kAll) {
    EXPECT_NEAR(distance(d, a, a, C), 0.0, 1e-7) << name_of(d);  // angular: acos of a rounded 1
    if (d != Distance::rel_l2) {
      EXPECT_NEAR(distance(d, a, b, C), distance(d, b, a, C), 1e-12) << name_of(d);
    }
    EXPECT_GT(distance(d, a, b, C), 0.0) << name_of(d);
  }
}

TEST(Distance, JsIsBoundedByLn2AndFinercutJsIsNot) {
  // Nearly disjoint distributions: js approaches ln 2 from below; FinerCut's KL(M‖P) grows without bound.
  const Vec a = {100.0f, 0.0f}, b = {0.0f, 100.0f};
  const double js = distance(Distance::js, a, b, 2);
  EXPECT_LE(js, std::log(2.0));
  EXPECT_GT(js, std::log(2.0) - 1e-6);
  EXPECT_GT(distance(Distance::finercut_js, a, b, 2), 20.0);
  const Vec c = random_logits(50 * 5, 9, 30.0f), e = random_logits(50 * 5, 10, 30.0f);
  EXPECT_LE(distance(Distance::js, c, e, 5), std::log(2.0));
}

TEST(Distance, NamesRoundTrip) {
  for (Distance d : kAll) EXPECT_EQ(distance_from(name_of(d)), d);
  EXPECT_FALSE(distance_from("kl"));
}

}  // namespace
}  // namespace hwnas::compress
