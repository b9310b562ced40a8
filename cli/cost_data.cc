#include "cli/cost_data.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "cli/command.h"
#include "profilers/fake/fake_backend.h"
#include "profilers/onednn/onednn_backend.h"
#include "space/arch_json.h"
#include "space/ops.h"

namespace hwnas::cli {

std::unique_ptr<prof::Backend> make_backend(const std::string& name, int threads) {
  if (name == "onednn") return std::make_unique<prof::OnednnBackend>(threads);
  if (name == "fake") {
    prof::FakeBackend::Params p;
    p.threads = std::max(threads, 1);
    return std::make_unique<prof::FakeBackend>(p);
  }
  throw UsageError(fmt::format("--backend: must be onednn or fake (got '{}')", name));
}

CostKey cost_key(const prof::Backend& backend, const std::string& backend_name, const prof::RunConfig& run) {
  CostKey k;
  const prof::DeviceInfo& d = backend.device();
  k.model.device = d.fingerprint();
  k.model.device_model = fmt::format("{} ({} threads)", d.model, d.threads);
  k.model.backend = backend_name;
  k.model.batch = run.batch;
  k.model.dtype = std::string(prof::name_of(run.dtype));
  k.model.threads = d.threads;
  k.run = run;
  return k;
}

void resolve_device(store::Store& db, const std::string& prefix, CostKey& key) {
  auto devices = db.list_devices();
  if (!devices) throw RuntimeFailure(devices.error().message);
  std::vector<const store::DeviceRecord*> hits;
  for (const auto& d : *devices)
    if (d.fingerprint.rfind(prefix, 0) == 0) hits.push_back(&d);
  if (hits.size() != 1)
    throw UsageError(
        fmt::format("--device: '{}' matches {} devices in {} (give a unique fingerprint prefix; 'hwnas "
                    "db stats' lists them)",
                    prefix, hits.size(), db.path()));
  key.model.device = hits.front()->fingerprint;
  key.model.device_model = fmt::format("{} ({} threads)", hits.front()->model, hits.front()->threads);
  key.model.threads = hits.front()->threads;
}

store::MeasurementKey measurement_key(const CostKey& key, const std::string& subject_hash) {
  store::MeasurementKey k;
  k.subject_hash = subject_hash;
  k.device = key.model.device;
  k.backend = key.model.backend;
  k.batch = key.model.batch;
  k.dtype = key.model.dtype;
  k.threads = key.model.threads;
  k.protocol = key.protocol;
  return k;
}

cost::Holdout default_holdout() {
  auto sp = space::builtin_space("hybrid-vit");
  if (!sp) throw RuntimeFailure(sp.error().message);
  auto h = cost::holdout_set(*sp);
  if (!h) throw RuntimeFailure(h.error().message);
  return std::move(h).value();
}

namespace {

struct LoweredArch {
  space::Arch arch;
  space::Lowered net;
  std::vector<cost::NetworkUnit> units;
  double macs = 0;
};

}  // namespace

CostData load_cost_data(store::Store& db, const CostKey& key, const cost::Holdout& holdout) {
  store::MeasurementFilter filter;
  filter.device = key.model.device;
  filter.backend = key.model.backend;
  filter.batch = key.model.batch;
  filter.dtype = key.model.dtype;
  filter.threads = key.model.threads;
  filter.protocol = key.protocol;
  auto rows = db.list_measurements(filter);
  if (!rows) throw RuntimeFailure(rows.error().message);
  CostData data;
  std::unordered_map<std::string, std::optional<LoweredArch>> archs;
  auto lowered = [&](const std::string& hash) -> const LoweredArch* {
    auto it = archs.find(hash);
    if (it == archs.end()) {
      std::optional<LoweredArch> la;
      auto rec = db.find_arch(hash);
      if (rec && *rec) {
        auto arch = space::parse_arch((*rec)->canonical, "store arch " + hash);
        if (arch) {
          auto net = space::lower(*arch);
          if (net) {
            LoweredArch l{std::move(arch).value(), std::move(net).value(), {}, 0};
            for (const space::Unit& u : l.net.units) {
              cost::NetworkUnit nu{cost::group_of(l.arch, u), cost::unit_features(u, key.model.batch)};
              l.macs += nu.f.roof.macs;
              l.units.push_back(nu);
            }
            l.arch.meta.name = (*rec)->name;
            la = std::move(l);
          }
        }
      }
      it = archs.emplace(hash, std::move(la)).first;
    }
    return it->second ? &*it->second : nullptr;
  };
  // Held-out units, to form the sum-of-blocks baseline: arch → position → µs.
  std::map<std::string, std::map<int, double>> held_units;
  std::vector<std::string> training_hashes;
  for (const store::MeasurementRecord& r : *rows) {
    if (r.kind == store::SubjectKind::step) continue;
    const double us = r.figures.figure_us;
    const LoweredArch* la = lowered(r.arch_hash);
    if (la == nullptr || !(us > 0)) {
      ++data.skipped;
      continue;
    }
    ++data.measurements;
    if (r.figures.noisy) ++data.noisy;
    const bool held = holdout.contains(r.arch_hash);
    (held ? data.held_out_s : data.training_s) += r.figures.elapsed_ms / 1e3;
    if (r.kind == store::SubjectKind::unit) {
      if (r.position < 0 || static_cast<std::size_t>(r.position) >= la->units.size()) {
        ++data.skipped;
        continue;
      }
      if (held) {
        held_units[r.arch_hash][r.position] = us;
        continue;
      }
      const cost::NetworkUnit& u = la->units[static_cast<std::size_t>(r.position)];
      data.units.push_back({u.group, u.f, us, r.arch_hash});
      training_hashes.push_back(r.arch_hash);
    } else {
      cost::NetworkSample n{r.arch_hash, la->arch.meta.name, la->units, us, la->macs, std::nullopt};
      if (held) {
        data.held_out.push_back(std::move(n));
      } else {
        data.networks.push_back(std::move(n));
        training_hashes.push_back(r.arch_hash);
      }
    }
  }
  for (cost::NetworkSample& n : data.held_out) {
    const auto it = held_units.find(n.arch_hash);
    if (it == held_units.end() || it->second.size() != n.units.size()) continue;
    double sum = 0;
    for (const auto& [pos, us] : it->second) sum += us;
    n.block_sum_us = sum;
  }
  if (const std::string why = cost::leak(training_hashes, holdout); !why.empty()) throw RuntimeFailure(why);
  return data;
}

}  // namespace hwnas::cli
