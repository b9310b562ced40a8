// bf16 <-> fp32 for the engine's own kernels and its fp32 input/output views (round to nearest even).
#pragma once

#include <cstdint>
#include <cstring>

namespace hwnas::prof::onednn {

inline float bf16_to_f32(std::uint16_t v) {
  const std::uint32_t bits = static_cast<std::uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline std::uint16_t f32_to_bf16(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7f800000u) != 0x7f800000u) bits += 0x7fffu + ((bits >> 16) & 1u);  // NaN/Inf: truncate
  return static_cast<std::uint16_t>(bits >> 16);
}

}  // namespace hwnas::prof::onednn
