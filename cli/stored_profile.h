// A profile in the store: found (the network measurement of a key, clean, with all its units when
// asked) and stored (device, arch, network, units and the CUDA-graph replay in one go). Shared by
// `profile` and `profile --archs`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "profilers/profile.h"
#include "space/arch.h"
#include "store/store.h"

namespace hwnas::cli {

struct StoredProfile {
  store::MeasurementRecord network;
  std::vector<store::MeasurementRecord> units;  // with per_unit: every unit of the arch
  double age_s = 0;
};
// The stored measurement of `key` if it is clean and, with `per_unit`, every unit of `arch` is stored
// too. A noisy one is never served (measure again): `noisy`, where given, then gets its reason.
std::optional<StoredProfile> find_profile(store::Store& db, const store::MeasurementKey& key, const space::Arch& arch,
                                          bool per_unit, std::optional<std::string>* noisy = nullptr);

// The device, the arch and every record of `r` (cli/store_records.h, profile_records).
void store_profile(store::Store& db, const space::Arch& arch, const prof::ProfileResult& r, const std::string& backend);

}  // namespace hwnas::cli
