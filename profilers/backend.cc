#include "profilers/backend.h"

#include <fmt/format.h>

namespace hwnas::prof {

std::string_view name_of(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::bf16: return "bf16";
    case DType::f16: return "f16";
  }
  return "?";
}

std::optional<DType> dtype_from(std::string_view s) {
  if (s == "f32" || s == "fp32") return DType::f32;
  if (s == "bf16") return DType::bf16;
  if (s == "f16" || s == "fp16") return DType::f16;
  return std::nullopt;
}

Result<UnitSpan> unit_span(const space::Arch& arch, const space::Lowered& net, Subject subject, std::int64_t batch) {
  const int n = static_cast<int>(net.units.size());
  if (n == 0) return Error{"the lowered network has no units"};
  if (subject.unit < -1 || subject.unit >= n)
    return Error{fmt::format("unit {} out of range ({} units)", subject.unit, n)};
  UnitSpan s;
  s.first = subject.unit < 0 ? 0 : subject.unit;
  s.last = subject.unit < 0 ? n - 1 : subject.unit;
  const space::Unit& in = net.units[static_cast<std::size_t>(s.first)];
  const space::Unit& out = net.units[static_cast<std::size_t>(s.last)];
  if (s.first == 0) {
    s.input_shape = {batch, arch.input.channels, arch.input.height, arch.input.width};
  } else {
    s.input_shape = {batch, in.in.total(), in.in_dim};
  }
  if (out.kind == space::UnitKind::head) {
    s.output_shape = {batch, out.out_dim};
  } else {
    s.output_shape = {batch, out.out.total(), out.out_dim};
  }
  return s;
}

}  // namespace hwnas::prof
