// Checked 64-bit arithmetic for counts: absurd sizes are reported, never wrapped.
#pragma once

#include <cstdint>
#include <stdexcept>

namespace hwnas::space::detail {

struct Overflow : std::overflow_error {
  using std::overflow_error::overflow_error;
};

inline std::int64_t mul(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw Overflow("64-bit count overflow");
  return r;
}
template <class... T>
std::int64_t mul(std::int64_t a, std::int64_t b, T... rest) {
  return mul(mul(a, b), rest...);
}
inline std::int64_t add(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) throw Overflow("64-bit count overflow");
  return r;
}
template <class... T>
std::int64_t add(std::int64_t a, std::int64_t b, T... rest) {
  return add(add(a, b), rest...);
}

}  // namespace hwnas::space::detail
