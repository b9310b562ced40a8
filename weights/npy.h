// NumPy's .npy format (numpy.lib.format, versions 1–3): a magic string, a header that is a Python
// dict literal {'descr', 'fortran_order', 'shape'}, then the raw array. hwnas reads little-endian
// float32 and float64 arrays in C order (float64 converted to fp32) and writes float32 (version 1).
// Anything else is an error naming the file and the field.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "space/result.h"

namespace hwnas::weights {

struct Array {
  std::vector<std::int64_t> shape;
  std::vector<float> values;  // C order
};

Result<Array> read_npy(const std::string& path);
// Parses an in-memory file (tests, fuzzing); `source` names it in errors.
Result<Array> parse_npy(std::span<const std::byte> bytes, const std::string& source);
// Writes beside `path` and renames into place.
Result<bool> write_npy(const std::string& path, const std::vector<std::int64_t>& shape, std::span<const float> values);

}  // namespace hwnas::weights
