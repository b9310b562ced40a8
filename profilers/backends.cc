#include "profilers/backends.h"

#include <charconv>

#include <fmt/format.h>

#include "profilers/onednn/onednn_backend.h"

namespace hwnas::prof {

std::string DeviceSpec::str() const {
  return kind == "cuda" ? fmt::format("cuda:{}", index) : kind;
}

Result<DeviceSpec> parse_device(std::string_view s) {
  if (s == "cpu") return DeviceSpec{"cpu", 0};
  if (s == "cuda" || s == "gpu") return DeviceSpec{"cuda", 0};
  if (s.substr(0, 5) == "cuda:") {
    const std::string_view n = s.substr(5);
    int index = -1;
    const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), index);
    if (ec == std::errc{} && end == n.data() + n.size() && index >= 0) return DeviceSpec{"cuda", index};
  }
  return Error{fmt::format("--device: '{}' is not a device (cpu, cuda, cuda:N)", s)};
}

Result<std::unique_ptr<Backend>> make_backend(const DeviceSpec& device, int threads) {
  if (device.kind == "cuda") return make_cuda_backend(device.index);
  return std::unique_ptr<Backend>(std::make_unique<OnednnBackend>(threads));
}

}  // namespace hwnas::prof
