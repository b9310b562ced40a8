// Shared by the cost model tests: unit samples from real lowered archs with a chosen latency rule.
#pragma once

#include <functional>
#include <vector>

#include "cost_models/samples.h"
#include "space/canonical.h"
#include "space/rng.h"
#include "space/search_space.h"

namespace hwnas::cost::testing {

using UnitRule = std::function<double(const UnitFeatures&)>;

// What a timer reads for a unit with no ops (space::Unit::runs_nothing): its own overhead, which the
// fit must not learn from.
inline constexpr double kEmptyUnitReadingUs = 0.004;

// `count` archs of the built-in space `space_name` (or a seed method's, "finercut:deit-small"), from `seed`.
inline std::vector<space::Arch> sample_archs(const std::string& space_name, int count, std::uint64_t seed) {
  auto sp = space::load_search_space(space_name);
  std::vector<space::Arch> out;
  if (!sp) return out;
  const space::Sampler sampler(*sp);
  space::Rng rng(seed);
  for (int i = 0; i < count; ++i) {
    auto c = sampler.sample(rng);
    if (c) out.push_back(std::move(c->arch));
  }
  return out;
}

inline std::vector<UnitSample> unit_samples(const std::vector<space::Arch>& archs, std::int64_t batch,
                                            const UnitRule& rule) {
  std::vector<UnitSample> out;
  for (const space::Arch& a : archs) {
    auto net = space::lower(a);
    if (!net) continue;
    for (const space::Unit& u : net->units) {
      UnitSample s;
      s.group = group_of(a, u);
      s.f = unit_features(u, batch);
      s.us = u.ops.empty() ? kEmptyUnitReadingUs : rule(s.f);
      s.arch_hash = space::hash_hex(space::arch_hash(a));
      out.push_back(std::move(s));
    }
  }
  return out;
}

// Networks whose end-to-end time is scale · Σ rule(unit) + inter · (units − 1), over the units that
// have ops (one without runs nothing and is no boundary).
inline std::vector<NetworkSample> network_samples(const std::vector<space::Arch>& archs, std::int64_t batch,
                                                  const UnitRule& rule, double scale, double inter_us) {
  std::vector<NetworkSample> out;
  for (const space::Arch& a : archs) {
    auto net = space::lower(a);
    if (!net) continue;
    NetworkSample n;
    n.arch_hash = space::hash_hex(space::arch_hash(a));
    double sum = 0;
    int running = 0;
    for (const space::Unit& u : net->units) {
      NetworkUnit nu{group_of(a, u), unit_features(u, batch)};
      if (!u.ops.empty()) {
        sum += rule(nu.f);
        ++running;
      }
      n.macs += nu.f.roof.macs;
      n.units.push_back(nu);
    }
    n.us = scale * sum + inter_us * static_cast<double>(running - 1);
    n.block_sum_us = sum;
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace hwnas::cost::testing
