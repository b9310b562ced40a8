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
// The bursts of a network measurement (profilers/bursts.h) live in its detail as `bursts_us` (every
// burst's figure, in the order measured) and `burst_spread`. The bursts a record holds: the detail's
// list, else the record's own figure alone.
std::vector<double> record_bursts(const store::MeasurementRecord& r);
// Writes the list and its spread into `detail` (nothing for a single burst).
void put_bursts(nlohmann::json& detail, const std::vector<double>& bursts_us);
// Adds another burst `fresh` of the same subject to `kept`: the faster one's figures and detail are
// kept, with every burst listed.
void add_burst(store::MeasurementRecord& kept, const store::MeasurementRecord& fresh);

// A profile result rebuilt from stored records (the network and, when present, its units).
prof::ProfileResult result_from_store(const space::Arch& arch, const prof::ProfileOptions& opts,
                                      const prof::DeviceInfo& device, const store::MeasurementRecord& network,
                                      const std::vector<store::MeasurementRecord>& units);

}  // namespace hwnas::cli
