#include "cli/stored_profile.h"

#include "cli/command.h"
#include "cli/store_records.h"

namespace hwnas::cli {

std::optional<StoredProfile> find_profile(store::Store& db, const store::MeasurementKey& key, const space::Arch& arch,
                                          bool per_unit, std::optional<std::string>* noisy) {
  auto hit = db.find_measurement(key);
  if (!hit) throw RuntimeFailure(hit.error().message);
  if (!*hit) return std::nullopt;
  if ((*hit)->record.figures.noisy) {
    if (noisy != nullptr) *noisy = (*hit)->record.figures.noise_reason;
    return std::nullopt;
  }
  StoredProfile p{(*hit)->record, {}, (*hit)->age_s};
  if (per_unit) {
    auto parts = db.list_parts(key, store::SubjectKind::unit);
    if (!parts) throw RuntimeFailure(parts.error().message);
    auto net = space::lower(arch);
    if (!net || parts->size() != net->units.size()) return std::nullopt;  // units not all stored
    p.units = std::move(parts).value();
  }
  return p;
}

void store_profile(store::Store& db, const space::Arch& arch, const prof::ProfileResult& r,
                   const std::string& backend) {
  auto check = [&](auto&& status) {
    if (!status) throw RuntimeFailure(status.error().message);
  };
  check(db.put_device(device_record(r.device)));
  check(db.put_arch(arch_record(arch)));
  check(db.put_measurements(profile_records(r, backend)));
}

}  // namespace hwnas::cli
