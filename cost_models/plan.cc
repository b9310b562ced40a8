#include "cost_models/plan.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_set>

#include "space/canonical.h"
#include "space/ops.h"
#include "space/rng.h"

namespace hwnas::cost {
namespace {

std::vector<double> coords_of(const UnitFeatures& f) {
  auto lg = [&](Feature k) { return std::log1p(f.x[static_cast<std::size_t>(k)]); };
  return {lg(Feature::gemm_macs),   lg(Feature::gemm_weight_elems), lg(Feature::attn_macs),
          lg(Feature::attn_scores), lg(Feature::conv_macs),         lg(Feature::dwconv_macs),
          lg(Feature::deform_macs), std::log1p(f.roof.bytes),       lg(Feature::ops)};
}

double distance(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s);
}

constexpr double kDistanceWeight = 0.02;  // residual points per unit of log-distance
constexpr double kUnseenGroup = 1e9;      // a group with nothing measured comes first

}  // namespace

std::uint64_t unit_signature(Group g, const UnitFeatures& f) {
  std::string bytes(sizeof(double) * (kFeatureCount + 2) + 2, '\0');
  std::memcpy(bytes.data(), f.x.data(), sizeof(double) * kFeatureCount);
  std::memcpy(bytes.data() + sizeof(double) * kFeatureCount, &f.roof.macs, sizeof(double));
  std::memcpy(bytes.data() + sizeof(double) * (kFeatureCount + 1), &f.roof.bytes, sizeof(double));
  bytes[bytes.size() - 2] = static_cast<char>(g.unit);
  bytes[bytes.size() - 1] = static_cast<char>(g.sub);
  return space::hash64(bytes);
}

Result<Pool> build_pool(const space::SearchSpace& space, const Holdout& holdout, int archs, int networks,
                        std::int64_t batch, std::uint64_t seed, const std::vector<space::SearchSpace>& neighbours,
                        int per_neighbour) {
  Pool pool;
  std::unordered_set<std::uint64_t> seen;
  std::unordered_set<std::string> archs_seen;
  std::vector<std::shared_ptr<const space::Arch>> neighbour_networks;
  // Adds the new units of one sampled arch and returns it; null when it is held out or came before.
  auto add = [&](space::Arch a) -> Result<std::shared_ptr<const space::Arch>> {
    const std::string hash = space::hash_hex(space::arch_hash(a));
    if (holdout.contains(hash) || !archs_seen.insert(hash).second) return std::shared_ptr<const space::Arch>{};
    a.meta.name = "calib-" + hash;
    auto net = space::lower(a);
    if (!net) return net.error();
    auto arch = std::make_shared<const space::Arch>(std::move(a));
    for (std::size_t u = 0; u < net->units.size(); ++u) {
      const space::Unit& unit = net->units[u];
      if (unit.runs_nothing()) continue;  // nothing to time: predicted 0
      PoolItem item;
      item.group = group_of(*arch, unit);
      item.f = unit_features(unit, batch);
      item.signature = unit_signature(item.group, item.f);
      if (!seen.insert(item.signature).second) continue;
      item.arch = arch;
      item.arch_hash = hash;
      item.unit = static_cast<int>(u);
      item.label = unit.label;
      pool.units.push_back(std::move(item));
    }
    return arch;
  };
  const space::Sampler sampler(space);
  space::Rng rng(seed);
  for (int i = 0; i < archs; ++i) {
    auto c = sampler.sample(rng);
    if (!c) return c.error();
    auto arch = add(std::move(c->arch));  // never train on a held-out arch
    if (!arch) return arch.error();
    if (*arch && static_cast<int>(pool.networks.size()) < networks) pool.networks.push_back(*arch);
  }
  for (std::size_t n = 0; n < neighbours.size(); ++n) {
    const space::Sampler s(neighbours[n]);
    space::Rng r(seed + 0x9e37'79b9'7f4a'7c15ULL * (n + 1));
    for (int i = 0, tries = 0; i < per_neighbour && tries < 8 * per_neighbour; ++tries) {
      auto c = s.sample(r);
      if (!c) return c.error();
      auto arch = add(std::move(c->arch));
      if (!arch) return arch.error();
      if (*arch) {
        neighbour_networks.push_back(*arch);
        ++i;
      }
    }
  }
  // Interleaved, so that a budget that reaches only the first networks measures both kinds.
  std::vector<std::shared_ptr<const space::Arch>> first = std::move(pool.networks);
  pool.networks.clear();
  for (std::size_t i = 0; i < std::max(first.size(), neighbour_networks.size()); ++i) {
    if (i < first.size()) pool.networks.push_back(first[i]);
    if (i < neighbour_networks.size()) pool.networks.push_back(neighbour_networks[i]);
  }
  return pool;
}

Planner::Planner(const Pool& pool)
    : pool_(pool), measured_(pool.units.size(), false), residual_(pool.units.size(), 0.0) {
  for (const PoolItem& it : pool.units) coords_.push_back(coords_of(it.f));
}

void Planner::mark_measured(std::size_t item, double rel_residual) {
  measured_[item] = true;
  residual_[item] = std::abs(rel_residual);
}

void Planner::set_residual(std::size_t item, double rel_residual) {
  residual_[item] = std::abs(rel_residual);
}

std::size_t Planner::remaining() const {
  return static_cast<std::size_t>(std::count(measured_.begin(), measured_.end(), false));
}

std::vector<std::size_t> Planner::initial(std::size_t per_group) const {
  std::vector<std::vector<std::size_t>> by_group(kGroupSlots);
  for (std::size_t i = 0; i < pool_.units.size(); ++i) by_group[pool_.units[i].group.index()].push_back(i);
  std::vector<std::size_t> out;
  for (auto& items : by_group) {
    if (items.empty() || per_group == 0) continue;
    std::sort(items.begin(), items.end(),
              [&](std::size_t a, std::size_t b) { return pool_.units[a].f.roof.macs < pool_.units[b].f.roof.macs; });
    const std::size_t k = std::min(per_group, items.size());
    std::vector<std::size_t> picks;
    for (std::size_t j = 0; j < k; ++j) {
      const std::size_t idx = k == 1 ? items.size() / 2 : j * (items.size() - 1) / (k - 1);
      if (!measured_[items[idx]] && std::find(picks.begin(), picks.end(), items[idx]) == picks.end())
        picks.push_back(items[idx]);
    }
    out.insert(out.end(), picks.begin(), picks.end());
  }
  return out;
}

std::vector<std::size_t> Planner::next(std::size_t n) const {
  const std::size_t count = pool_.units.size();
  // Nearest measured item of the same group: its distance and residual.
  std::vector<double> nn_dist(count, std::numeric_limits<double>::infinity()), nn_res(count, 0.0);
  std::vector<std::vector<std::size_t>> measured_by_group(kGroupSlots);
  for (std::size_t i = 0; i < count; ++i)
    if (measured_[i]) measured_by_group[pool_.units[i].group.index()].push_back(i);
  for (std::size_t c = 0; c < count; ++c) {
    if (measured_[c]) continue;
    for (std::size_t m : measured_by_group[pool_.units[c].group.index()]) {
      const double dd = distance(coords_[c], coords_[m]);
      if (dd < nn_dist[c]) {
        nn_dist[c] = dd;
        nn_res[c] = residual_[m];
      }
    }
  }
  auto score = [&](std::size_t c) {
    return std::isinf(nn_dist[c]) ? kUnseenGroup : nn_res[c] + kDistanceWeight * std::min(nn_dist[c], 10.0);
  };
  std::vector<bool> taken(measured_);
  std::vector<std::size_t> out;
  while (out.size() < n) {
    std::size_t best = count;
    double best_score = -1;
    for (std::size_t c = 0; c < count; ++c) {
      if (taken[c]) continue;
      const double s = score(c);
      if (s > best_score) {
        best_score = s;
        best = c;
      }
    }
    if (best == count) break;
    taken[best] = true;
    out.push_back(best);
    // The pick stands in for a measurement with half its neighbour's residual.
    const double res = std::isinf(nn_dist[best]) ? 0.1 : nn_res[best] / 2;
    for (std::size_t c = 0; c < count; ++c) {
      if (taken[c] || pool_.units[c].group.index() != pool_.units[best].group.index()) continue;
      const double dd = distance(coords_[c], coords_[best]);
      if (dd < nn_dist[c]) {
        nn_dist[c] = dd;
        nn_res[c] = res;
      }
    }
  }
  return out;
}

}  // namespace hwnas::cost
