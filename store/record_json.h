// Records as JSON objects, column by column, exactly as `hwnas db export` writes them: how a
// record travels between processes (a farm worker's measurements to the coordinator that stores
// them; profilers/mpi).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "space/result.h"
#include "store/records.h"

namespace hwnas::store {

nlohmann::json to_json(const MeasurementRecord& r);
nlohmann::json to_json(const DeviceRecord& r);
nlohmann::json to_json(const ArchRecord& r);
// `where` prefixes messages ("reply of rank 2: records[0]"); unknown columns are an error.
Result<MeasurementRecord> measurement_from_json(const nlohmann::json& j, const std::string& where);
Result<DeviceRecord> device_from_json(const nlohmann::json& j, const std::string& where);
Result<ArchRecord> arch_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace hwnas::store
