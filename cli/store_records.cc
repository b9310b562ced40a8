#include "cli/store_records.h"

#include <nlohmann/json.hpp>

#include "space/canonical.h"
#include "space/count.h"

namespace hwnas::cli {

store::DeviceRecord device_record(const prof::DeviceInfo& d) {
  store::DeviceRecord r;
  r.fingerprint = d.fingerprint();
  r.kind = d.kind;
  r.model = d.model;
  r.cores = d.cores;
  r.threads = d.threads;
  r.isa = d.isa;
  r.bf16_native = d.bf16_native;
  r.engine = d.engine;
  r.peak_f32_gflops = d.peak_f32_gflops;
  r.peak_bf16_gflops = d.peak_bf16_gflops;
  r.triad_gbs = d.triad_gbs;
  return r;
}

prof::DeviceInfo device_info(const store::DeviceRecord& d) {
  prof::DeviceInfo r;
  r.kind = d.kind;
  r.model = d.model;
  r.cores = d.cores;
  r.threads = d.threads;
  r.isa = d.isa;
  r.bf16_native = d.bf16_native;
  r.engine = d.engine;
  r.peak_f32_gflops = d.peak_f32_gflops;
  r.peak_bf16_gflops = d.peak_bf16_gflops;
  r.triad_gbs = d.triad_gbs;
  return r;
}

store::ArchRecord arch_record(const space::Arch& arch) {
  store::ArchRecord r;
  r.hash = space::hash_hex(space::arch_hash(arch));
  r.canonical = space::canonical_text(arch);
  r.name = arch.meta.name;
  auto net = space::lower(arch);
  if (net) {
    const space::Counts c = space::count(*net);
    r.macs = c.macs;
    r.params = c.params;
  }
  return r;
}

store::Figures figures(const prof::Measurement& m) {
  store::Figures f;
  f.figure_us = m.figure_us;
  f.median_us = m.median_us;
  f.min_us = m.min_us;
  f.p10_us = m.p10_us;
  f.p90_us = m.p90_us;
  f.p99_us = m.p99_us;
  f.mean_us = m.mean_us;
  f.ci_low_us = m.ci_low_us;
  f.ci_high_us = m.ci_high_us;
  f.cv = m.cv;
  f.n = m.n;
  f.calls_per_sample = m.calls_per_sample;
  f.warmup_runs = m.warmup_runs;
  f.elapsed_ms = m.elapsed_ms;
  f.noisy = m.noisy;
  f.noise_reason = m.noise_reason;
  f.samples_us = m.samples_us;
  return f;
}

prof::Measurement measurement(const store::Figures& f) {
  prof::Measurement m;
  m.figure_us = f.figure_us;
  m.median_us = f.median_us;
  m.min_us = f.min_us;
  m.p10_us = f.p10_us;
  m.p90_us = f.p90_us;
  m.p99_us = f.p99_us;
  m.mean_us = f.mean_us;
  m.ci_low_us = f.ci_low_us;
  m.ci_high_us = f.ci_high_us;
  m.cv = f.cv;
  m.n = f.n;
  m.calls_per_sample = f.calls_per_sample;
  m.warmup_runs = f.warmup_runs;
  m.elapsed_ms = f.elapsed_ms;
  m.noisy = f.noisy;
  m.noise_reason = f.noise_reason;
  m.samples_us = f.samples_us;
  return m;
}

nlohmann::json unit_detail(const prof::UnitProfile& u) {
  return {{"mixer", u.mixer},
          {"ffn", u.ffn},
          {"tokens", u.tokens},
          {"dim", u.dim},
          {"macs", u.counts.macs},
          {"params", u.counts.params},
          {"act_bytes", u.counts.act_bytes},
          {"weight_bytes", u.counts.weight_bytes},
          {"creation_ms", u.creation_ms}};
}

store::MeasurementKey network_key(const std::string& arch_hash, const prof::DeviceInfo& device,
                                  const prof::ProfileOptions& opts, const std::string& backend) {
  store::MeasurementKey k;
  k.subject_hash = arch_hash;
  k.device = device.fingerprint();
  k.backend = backend;
  k.batch = opts.run.batch;
  k.dtype = std::string(prof::name_of(opts.run.dtype));
  k.threads = device.threads;
  k.protocol = std::string(prof::name_of(opts.protocol));
  return k;
}

std::vector<store::MeasurementRecord> measurement_records(const prof::ProfileResult& r, const std::string& backend) {
  std::vector<store::MeasurementRecord> out;
  store::MeasurementRecord net;
  net.kind = store::SubjectKind::network;
  net.key = network_key(r.arch_hash, r.device, r.options, backend);
  net.arch_hash = r.arch_hash;
  nlohmann::json detail =
      nlohmann::json{{"name", r.arch_name},    {"macs", r.counts.macs},        {"params", r.counts.params},
                     {"chunk", r.chunk},       {"creation_ms", r.creation_ms}, {"sum_of_units_us", r.sum_of_units_us},
                     {"noise", r.noise.reason}};
  put_bursts(detail, r.bursts_us);
  net.detail_json = detail.dump();
  net.figures = figures(r.end_to_end);
  if (r.noise.flagged) {  // the noise gate judges the whole batch, the network figure with it
    net.figures.noisy = true;
    net.figures.noise_reason = r.noise.reason;
  }
  out.push_back(net);
  for (const auto& u : r.units) {
    store::MeasurementRecord m;
    m.kind = store::SubjectKind::unit;
    m.key = net.key;
    m.key.subject_hash = store::subject_hash(r.arch_hash, u.label);
    m.arch_hash = r.arch_hash;
    m.label = u.label;
    m.unit_kind = u.kind;
    m.position = u.unit;
    m.detail_json = unit_detail(u).dump();
    m.figures = figures(u.time);
    out.push_back(m);
  }
  return out;
}

std::vector<store::MeasurementRecord> profile_records(const prof::ProfileResult& r, const std::string& backend) {
  std::vector<store::MeasurementRecord> out = measurement_records(r, backend);
  if (r.graph) {
    prof::ProfileResult g = r;
    g.end_to_end = *r.graph;
    g.bursts_us.clear();  // the graph was timed once
    g.units.clear();
    for (auto& m : measurement_records(g, backend + "-graph")) out.push_back(std::move(m));
  }
  return out;
}

std::vector<double> record_bursts(const store::MeasurementRecord& r) {
  std::vector<double> out;
  const auto detail = nlohmann::json::parse(r.detail_json, nullptr, false);
  if (detail.is_object())
    if (const auto b = detail.find("bursts_us"); b != detail.end() && b->is_array())
      for (const auto& us : *b)
        if (us.is_number()) out.push_back(us.get<double>());
  if (out.empty()) out.push_back(r.figures.figure_us);
  return out;
}

void put_bursts(nlohmann::json& detail, const std::vector<double>& bursts_us) {
  if (bursts_us.size() < 2) return;
  detail["bursts_us"] = bursts_us;
  detail["burst_spread"] = prof::burst_spread(bursts_us);
}

void add_burst(store::MeasurementRecord& kept, const store::MeasurementRecord& fresh) {
  std::vector<double> bursts = record_bursts(kept);
  bursts.push_back(fresh.figures.figure_us);
  if (fresh.figures.figure_us < kept.figures.figure_us) {
    kept.figures = fresh.figures;
    kept.detail_json = fresh.detail_json;
  }
  nlohmann::json detail = nlohmann::json::parse(kept.detail_json, nullptr, false);
  if (!detail.is_object()) detail = nlohmann::json::object();
  put_bursts(detail, bursts);
  kept.detail_json = detail.dump();
}

prof::ProfileResult result_from_store(const space::Arch& arch, const prof::ProfileOptions& opts,
                                      const prof::DeviceInfo& device, const store::MeasurementRecord& network,
                                      const std::vector<store::MeasurementRecord>& units) {
  prof::ProfileResult r;
  r.arch_name = arch.meta.name;
  r.arch_hash = network.arch_hash;
  r.device = device;
  r.options = opts;
  auto net = space::lower(arch);
  if (net) r.counts = space::count(*net);
  r.end_to_end = measurement(network.figures);
  const auto detail = nlohmann::json::parse(network.detail_json, nullptr, false);
  if (detail.is_object()) {
    r.chunk = detail.value("chunk", std::int64_t{1});
    r.creation_ms = detail.value("creation_ms", 0.0);
  }
  r.bursts_us = record_bursts(network);
  for (const auto& m : units) {
    prof::UnitProfile u;
    u.unit = m.position;
    u.label = m.label;
    u.kind = m.unit_kind;
    const auto d = nlohmann::json::parse(m.detail_json, nullptr, false);
    if (d.is_object()) {
      u.mixer = d.value("mixer", "");
      u.ffn = d.value("ffn", "");
      u.tokens = d.value("tokens", std::int64_t{0});
      u.dim = d.value("dim", std::int64_t{0});
      u.counts.macs = d.value("macs", std::int64_t{0});
      u.counts.params = d.value("params", std::int64_t{0});
      u.creation_ms = d.value("creation_ms", 0.0);
    }
    u.time = measurement(m.figures);
    r.sum_of_units_us += u.time.figure_us;
    r.units.push_back(std::move(u));
  }
  return r;
}

}  // namespace hwnas::cli
