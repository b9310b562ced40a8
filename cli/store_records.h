// Conversions between the profiler's results and the store's records (cli wires the two modules;
// DESIGN.md keeps them apart).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profilers/profile.h"
#include "space/arch.h"
#include "store/records.h"

namespace hwnas::cli {

store::DeviceRecord device_record(const prof::DeviceInfo& d);
prof::DeviceInfo device_info(const store::DeviceRecord& d);
store::ArchRecord arch_record(const space::Arch& arch);
store::Figures figures(const prof::Measurement& m);
prof::Measurement measurement(const store::Figures& f);

// What a profiled unit is (mixer, ffn, tokens, dim, counts, creation time): shared by the profile's
// JSON record and the store's detail column.
nlohmann::json unit_detail(const prof::UnitProfile& u);

// The cache key of a network measurement.
store::MeasurementKey network_key(const std::string& arch_hash, const prof::DeviceInfo& device,
                                  const prof::ProfileOptions& opts, const std::string& backend);
// The network and its units as records (one transaction in the store).
std::vector<store::MeasurementRecord> measurement_records(const prof::ProfileResult& r, const std::string& backend);
// measurement_records, and the CUDA-graph replay of the same pass where there is one (its own key:
// backend "<name>-graph", network only): everything a profile stores.
std::vector<store::MeasurementRecord> profile_records(const prof::ProfileResult& r, const std::string& backend);
// A profile result rebuilt from stored records (the network and, when present, its units).
prof::ProfileResult result_from_store(const space::Arch& arch, const prof::ProfileOptions& opts,
                                      const prof::DeviceInfo& device, const store::MeasurementRecord& network,
                                      const std::vector<store::MeasurementRecord>& units);

}  // namespace hwnas::cli
