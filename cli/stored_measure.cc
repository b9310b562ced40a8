#include "cli/stored_measure.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/store_records.h"
#include "profilers/profile.h"
#include "space/count.h"

namespace hwnas::cli {

std::optional<double> measure_and_store(prof::Backend& backend, store::Store& db, const CostKey& key,
                                        const space::Arch& arch, const std::string& hash, int u,
                                        const prof::TimingConfig& timing, const space::WeightSource& weights,
                                        std::FILE* progress, bool calibration) {
  auto lowered = space::lower(arch);
  if (!lowered) throw RuntimeFailure(lowered.error().message);
  auto run = backend.prepare(arch, u < 0 ? prof::Subject::network() : prof::Subject::of_unit(u), key.run, weights);
  if (!run) {
    if (progress != nullptr) fmt::print(progress, "cannot prepare {} {}: {}\n", hash, u, run.error().message);
    return std::nullopt;
  }
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
  auto put = db.put_measurement(rec);
  if (!put) throw RuntimeFailure(put.error().message);
  return m.figure_us;
}

}  // namespace hwnas::cli
