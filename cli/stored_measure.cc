#include "cli/stored_measure.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/store_records.h"
#include "profilers/profile.h"
#include "space/count.h"

namespace hwnas::cli {

Result<store::MeasurementRecord> measure_subject(prof::Backend& backend, const CostKey& key, const space::Arch& arch,
                                                 const std::string& hash, int u, const prof::TimingConfig& timing,
                                                 const space::WeightSource& weights, bool calibration) {
  auto lowered = space::lower(arch);
  if (!lowered) return lowered.error();
  if (u >= static_cast<int>(lowered->units.size()))
    return Error{fmt::format("unit {} of {}: the architecture has {} units", u, hash, lowered->units.size())};
  auto run = backend.prepare(arch, u < 0 ? prof::Subject::network() : prof::Subject::of_unit(u), key.run, weights);
  if (!run) return Error{fmt::format("cannot prepare {} {}: {}", hash, u, run.error().message)};
  prof::Runnable& r = **run;
  const prof::Measurement m = prof::time_it([&] { r.run(); }, timing, backend.clock());
  store::MeasurementRecord rec;
  rec.arch_hash = hash;
  rec.figures = figures(m);
  if (u < 0) {
    rec.kind = store::SubjectKind::network;
    rec.key = measurement_key(key, hash);
    rec.detail_json = nlohmann::json{
        {"name", arch.meta.name},
        {"macs", space::count(*lowered).macs},
        {"chunk", r.chunk()},
        {"creation_ms", r.creation_ms()},
        {"calibration",
         calibration}}.dump();
  } else {
    const space::Unit& unit = lowered->units[static_cast<std::size_t>(u)];
    prof::UnitProfile up = prof::describe_unit(arch, unit, u);
    up.creation_ms = r.creation_ms();
    rec.kind = store::SubjectKind::unit;
    rec.key = measurement_key(key, store::subject_hash(hash, unit.label));
    rec.label = unit.label;
    rec.unit_kind = up.kind;
    rec.position = u;
    rec.detail_json = unit_detail(up).dump();
  }
  return rec;
}

std::optional<double> measure_and_store(prof::Backend& backend, store::Store& db, const CostKey& key,
                                        const space::Arch& arch, const std::string& hash, int u,
                                        const prof::TimingConfig& timing, const space::WeightSource& weights,
                                        std::FILE* progress, bool calibration, const prof::BurstPolicy& bursts) {
  std::optional<store::MeasurementRecord> kept;
  while (!kept || prof::wants_another_burst(record_bursts(*kept), bursts)) {
    auto rec = measure_subject(backend, key, arch, hash, u, timing, weights, calibration);
    if (!rec) {
      if (progress != nullptr) fmt::print(progress, "{}\n", rec.error().message);
      return std::nullopt;
    }
    if (kept)
      add_burst(*kept, *rec);
    else
      kept = *std::move(rec);
  }
  auto put = db.put_measurement(*kept);
  if (!put) throw RuntimeFailure(put.error().message);
  return kept->figures.figure_us;
}

}  // namespace hwnas::cli
