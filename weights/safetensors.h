// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes
// of JSON ({name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}),
// then the tensors' bytes. Reading maps the file (never copies it); every header is validated
// against the file before a byte of data is touched: offsets inside the data, sizes that match
// dtype × shape, no overlaps and no holes (as the reference implementation requires), so a
// truncated file or a lying header is an error naming the file and the tensor, never an
// out-of-bounds read. F32, F16 and BF16 tensors convert to fp32; others are listed, not converted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "space/result.h"

namespace hwnas::weights {

enum class DType : std::uint8_t { f32, f16, bf16 };
std::string_view name_of(DType d);  // "F32", "F16", "BF16" (the file's spelling)
std::size_t size_of(DType d);       // bytes per element

struct Ok {};
using Status = Result<Ok>;

struct TensorInfo {
  std::string name;
  std::string dtype_name;      // as written in the file ("F32", "I64" …)
  std::optional<DType> dtype;  // empty: a type hwnas does not convert
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // byte range within the data section
  std::int64_t numel() const;
};

class SafetensorsFile {
 public:
  // Maps and validates `path`.
  static Result<SafetensorsFile> open(const std::string& path);
  // Validates a buffer the caller keeps alive (tests, fuzzing); `source` names it in errors.
  static Result<SafetensorsFile> parse(std::span<const std::byte> bytes, const std::string& source);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::string& source() const { return source_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // by name
  const TensorInfo* find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  std::span<const std::byte> raw(const TensorInfo& t) const;
  // The tensor as fp32 (dst.size() must be t.numel()); an error for a type hwnas does not convert.
  Status read_f32(const TensorInfo& t, std::span<float> dst) const;

 private:
  struct Mapping;
  SafetensorsFile() = default;
  static Result<SafetensorsFile> validate(SafetensorsFile f);

  std::string source_;
  std::unique_ptr<Mapping> mapping_;  // null for parse()
  std::span<const std::byte> bytes_;  // the whole file
  std::span<const std::byte> data_;   // after the header
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

struct TensorToWrite {
  std::string name;
  std::vector<std::int64_t> shape;
  std::span<const float> values;  // numel(shape) values
  DType dtype = DType::f32;       // stored as (f16 and bf16 rounded to nearest even)
};

// Writes a safetensors file (header padded to 8 bytes, tensors in name order, no holes) beside
// `path` and renames it into place: never half a file. Names must be unique and non-empty.
Status write_safetensors(const std::string& path, std::span<const TensorToWrite> tensors,
                         const std::map<std::string, std::string>& metadata = {});

// "[3, 224, 224]": how shapes read in messages and tables.
std::string shape_text(const std::vector<std::int64_t>& shape);

// Element conversions, exact for every finite value and for inf/NaN.
float f16_to_f32(std::uint16_t h);
float bf16_to_f32(std::uint16_t b);
std::uint16_t f32_to_f16(float f);   // round to nearest even; overflow → inf
std::uint16_t f32_to_bf16(float f);  // round to nearest even; NaN stays NaN

}  // namespace hwnas::weights
