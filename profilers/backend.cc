#include "profilers/backend.h"

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

}  // namespace hwnas::prof
