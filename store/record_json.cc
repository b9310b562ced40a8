#include "store/record_json.h"

#include "store/tables.h"

namespace hwnas::store {

nlohmann::json to_json(const MeasurementRecord& r) {
  return detail::to_json(detail::table<MeasurementRecord>(), r);
}
nlohmann::json to_json(const DeviceRecord& r) {
  return detail::to_json(detail::table<DeviceRecord>(), r);
}
nlohmann::json to_json(const ArchRecord& r) {
  return detail::to_json(detail::table<ArchRecord>(), r);
}
Result<MeasurementRecord> measurement_from_json(const nlohmann::json& j, const std::string& where) {
  return detail::from_json(detail::table<MeasurementRecord>(), j, where);
}
Result<DeviceRecord> device_from_json(const nlohmann::json& j, const std::string& where) {
  return detail::from_json(detail::table<DeviceRecord>(), j, where);
}
Result<ArchRecord> arch_from_json(const nlohmann::json& j, const std::string& where) {
  return detail::from_json(detail::table<ArchRecord>(), j, where);
}

}  // namespace hwnas::store
