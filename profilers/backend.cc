#include "profilers/backend.h"

namespace hwnas::prof {

std::string_view name_of(DType t) {
  return t == DType::f32 ? "f32" : "bf16";
}

std::optional<DType> dtype_from(std::string_view s) {
  if (s == "f32" || s == "fp32") return DType::f32;
  if (s == "bf16") return DType::bf16;
  return std::nullopt;
}

}  // namespace hwnas::prof
