#include "reports/report.h"

#include <fmt/format.h>

namespace hwnas::reports {

std::string device_label(const ReportData& d, std::size_t device) {
  if (device >= d.devices.size()) return "?";
  const Device& dev = d.devices[device];
  std::string model = dev.model.empty() ? dev.kind : dev.model;
  // Several devices of the same model are told apart by their fingerprint.
  int same = 0;
  for (const Device& o : d.devices) same += o.model == dev.model ? 1 : 0;
  if (same > 1) model += " [" + dev.fingerprint.substr(0, 6) + "]";
  return model;
}

std::string setting_label(const ReportData& d, std::size_t setting) {
  if (setting >= d.settings.size()) return "?";
  const Setting& s = d.settings[setting];
  std::string label =
      fmt::format("{} · {} · b{} {} {}t", device_label(d, s.device), s.backend, s.batch, s.dtype, s.threads);
  if (s.protocol != "default") label += " · " + s.protocol;
  return label;
}

std::string arch_label(const ArchEntry& a) {
  return a.name.empty() ? a.hash.substr(0, 8) : a.name;
}

}  // namespace hwnas::reports
