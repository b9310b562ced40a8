#include "compress/distance.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace hwnas::compress {
namespace {

// log-softmax of one row, stable.
void log_softmax(std::span<const float> row, std::vector<double>& out) {
  const double mx = *std::max_element(row.begin(), row.end());
  double z = 0;
  for (float v : row) z += std::exp(static_cast<double>(v) - mx);
  const double lz = mx + std::log(z);
  out.resize(row.size());
  for (std::size_t i = 0; i < row.size(); ++i) out[i] = static_cast<double>(row[i]) - lz;
}

// x·log(x/y) with 0·log 0 = 0, for x = exp(lx), y = exp(ly) given in logs (lx = -inf allowed).
double kl_term(double x, double lx, double ly) {
  return x > 0 ? x * (lx - ly) : 0.0;
}

}  // namespace

std::string_view name_of(Distance d) {
  switch (d) {
    case Distance::finercut_js: return "finercut-js";
    case Distance::js: return "js";
    case Distance::angular: return "angular";
    case Distance::rel_l2: return "rel-l2";
  }
  return "?";
}

std::optional<Distance> distance_from(std::string_view s) {
  for (Distance d : {Distance::finercut_js, Distance::js, Distance::angular, Distance::rel_l2})
    if (name_of(d) == s) return d;
  return std::nullopt;
}

std::string distance_names() {
  return "finercut-js, js, angular, rel-l2";
}

double distance(Distance d, std::span<const float> a, std::span<const float> b, std::int64_t classes) {
  if (a.size() != b.size() || classes <= 0 || a.size() % static_cast<std::size_t>(classes) != 0 || a.empty())
    throw std::invalid_argument("distance: logits of different or empty shapes");
  const auto C = static_cast<std::size_t>(classes), n = a.size() / C;
  if (d == Distance::rel_l2) {
    double diff = 0, ref = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      diff += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
      ref += static_cast<double>(a[i]) * a[i];
    }
    return ref > 0 ? std::sqrt(diff / ref) : std::sqrt(diff);
  }
  double total = 0;
  std::vector<double> la, lb;
  for (std::size_t r = 0; r < n; ++r) {
    const auto ra = a.subspan(r * C, C), rb = b.subspan(r * C, C);
    if (d == Distance::angular) {
      double dot = 0, na = 0, nb = 0;
      for (std::size_t i = 0; i < C; ++i) {
        dot += static_cast<double>(ra[i]) * rb[i];
        na += static_cast<double>(ra[i]) * ra[i];
        nb += static_cast<double>(rb[i]) * rb[i];
      }
      const double cos = na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : (na == nb ? 1.0 : 0.0);
      total += std::acos(std::clamp(cos, 0.0, 1.0));
      continue;
    }
    log_softmax(ra, la);
    log_softmax(rb, lb);
    for (std::size_t i = 0; i < C; ++i) {
      const double pa = std::exp(la[i]), pb = std::exp(lb[i]), m = 0.5 * (pa + pb);
      const double lm = std::log(m);
      if (d == Distance::finercut_js)
        total += 0.5 * (kl_term(m, lm, la[i]) + kl_term(m, lm, lb[i]));  // KL(M‖P_a), KL(M‖P_b)
      else
        total += 0.5 * (kl_term(pa, la[i], lm) + kl_term(pb, lb[i], lm));  // KL(P_a‖M), KL(P_b‖M)
    }
  }
  // finercut-js: each KL is a mean over all n·C elements; the others are means over the n inputs.
  return d == Distance::finercut_js ? total / static_cast<double>(n * C) : total / static_cast<double>(n);
}

}  // namespace hwnas::compress
