#include "weights/safetensors.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <set>

#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weights/atomic_file.h"

namespace hwnas::weights {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors is little-endian; so is every host hwnas supports");

constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's limit
constexpr std::int64_t kMaxDim = std::int64_t{1} << 40;

// Bytes per element of every dtype the format defines; 0 for an unknown name.
std::size_t element_bytes(std::string_view d) {
  if (d == "BOOL" || d == "U8" || d == "I8" || d == "F8_E5M2" || d == "F8_E4M3") return 1;
  if (d == "I16" || d == "U16" || d == "F16" || d == "BF16") return 2;
  if (d == "I32" || d == "U32" || d == "F32") return 4;
  if (d == "I64" || d == "U64" || d == "F64") return 8;
  return 0;
}

std::optional<DType> dtype_from(std::string_view d) {
  if (d == "F32") return DType::f32;
  if (d == "F16") return DType::f16;
  if (d == "BF16") return DType::bf16;
  return std::nullopt;
}

Error fail(const std::string& source, const std::string& what) {
  return Error{source + ": " + what};
}

}  // namespace

std::string shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

std::string_view name_of(DType d) {
  switch (d) {
    case DType::f32: return "F32";
    case DType::f16: return "F16";
    case DType::bf16: return "BF16";
  }
  return "?";
}

std::size_t size_of(DType d) {
  return d == DType::f32 ? 4 : 2;
}

std::int64_t TensorInfo::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

struct SafetensorsFile::Mapping {
  void* addr = nullptr;
  std::size_t size = 0;
  ~Mapping() {
    if (addr != nullptr) munmap(addr, size);
  }
};

SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(path, std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(path, "not a regular file");
  }
  SafetensorsFile f;
  f.source_ = path;
  f.mapping_ = std::make_unique<Mapping>();
  f.mapping_->size = static_cast<std::size_t>(st.st_size);
  if (f.mapping_->size > 0) {
    void* p = mmap(nullptr, f.mapping_->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      return fail(path, std::string("cannot map: ") + std::strerror(errno));
    }
    f.mapping_->addr = p;
  }
  ::close(fd);
  f.bytes_ = {static_cast<const std::byte*>(f.mapping_->addr), f.mapping_->size};
  return validate(std::move(f));
}

Result<SafetensorsFile> SafetensorsFile::parse(std::span<const std::byte> bytes, const std::string& source) {
  SafetensorsFile f;
  f.source_ = source;
  f.bytes_ = bytes;
  return validate(std::move(f));
}

Result<SafetensorsFile> SafetensorsFile::validate(SafetensorsFile f) {
  const std::string& src = f.source_;
  if (f.bytes_.size() < 8)
    return fail(
        src, fmt::format("{} bytes: too short for a safetensors file (8-byte header length first)", f.bytes_.size()));
  std::uint64_t n = 0;
  std::memcpy(&n, f.bytes_.data(), 8);
  if (n > kMaxHeaderBytes) return fail(src, fmt::format("header length {} is over the format's limit (100 MB)", n));
  if (n > f.bytes_.size() - 8)
    return fail(
        src, fmt::format("header length {} runs past the end of the file ({} bytes): truncated or not safetensors", n,
                         f.bytes_.size()));
  const std::string_view header(reinterpret_cast<const char*>(f.bytes_.data() + 8), n);
  if (header.empty() || header.front() != '{')
    return fail(src, "header does not start with '{': not a safetensors file");
  const nlohmann::json j = nlohmann::json::parse(header, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(src, "header is not a JSON object");
  f.data_ = f.bytes_.subspan(8 + n);
  const std::uint64_t data_size = f.data_.size();

  for (const auto& [name, v] : j.items()) {
    if (name == "__metadata__") {
      if (!v.is_object()) return fail(src, "__metadata__: must be an object of strings");
      for (const auto& [k, s] : v.items()) {
        if (!s.is_string()) return fail(src, fmt::format("__metadata__.{}: must be a string", k));
        f.metadata_[k] = s.get<std::string>();
      }
      continue;
    }
    const std::string where = fmt::format("tensor '{}'", name);
    if (name.empty()) return fail(src, "a tensor has an empty name");
    if (!v.is_object()) return fail(src, where + ": must be an object");
    TensorInfo t;
    t.name = name;
    if (!v.contains("dtype") || !v["dtype"].is_string()) return fail(src, where + ": dtype: missing or not a string");
    t.dtype_name = v["dtype"].get<std::string>();
    const std::size_t esize = element_bytes(t.dtype_name);
    if (esize == 0) return fail(src, fmt::format("{}: dtype: unknown '{}'", where, t.dtype_name));
    t.dtype = dtype_from(t.dtype_name);
    if (!v.contains("shape") || !v["shape"].is_array()) return fail(src, where + ": shape: missing or not an array");
    std::uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0 || d.get<std::int64_t>() > kMaxDim)
        return fail(src, where + ": shape: every dimension must be an integer in [0, 2^40]");
      const auto dim = d.get<std::uint64_t>();
      t.shape.push_back(static_cast<std::int64_t>(dim));
      if (dim != 0 && numel > UINT64_MAX / dim) overflow = true;
      numel *= dim;
    }
    const auto& off = v.contains("data_offsets") ? v["data_offsets"] : nlohmann::json();
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return fail(src, where + ": data_offsets: must be [begin, end], two non-negative integers");
    t.begin = off[0].get<std::uint64_t>();
    t.end = off[1].get<std::uint64_t>();
    if (t.begin > t.end)
      return fail(src, fmt::format("{}: data_offsets [{}, {}]: begin after end", where, t.begin, t.end));
    if (t.end > data_size)
      return fail(src, fmt::format("{}: data_offsets [{}, {}] run past the data ({} bytes): truncated file or a header "
                                   "that lies",
                                   where, t.begin, t.end, data_size));
    if (overflow || numel > UINT64_MAX / esize || numel * esize != t.end - t.begin)
      return fail(src,
                  fmt::format("{}: {} {} needs {} bytes but data_offsets [{}, {}] hold {}", where, t.dtype_name,
                              shape_text(t.shape), overflow ? std::string("too many") : std::to_string(numel * esize),
                              t.begin, t.end, t.end - t.begin));
    f.tensors_.push_back(std::move(t));
  }
  // The data section is covered exactly once: no overlaps, no holes.
  std::vector<const TensorInfo*> by_offset;
  for (const TensorInfo& t : f.tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](auto* a, auto* b) { return a->begin != b->begin ? a->begin < b->begin : a->end < b->end; });
  std::uint64_t at = 0;
  const TensorInfo* prev = nullptr;
  for (const TensorInfo* t : by_offset) {
    if (t->begin < at)
      return fail(src, fmt::format("tensors '{}' and '{}' overlap (bytes {}..{} and {}..{})", prev->name, t->name,
                                   prev->begin, prev->end, t->begin, t->end));
    if (t->begin > at) return fail(src, fmt::format("bytes {}..{} of the data belong to no tensor", at, t->begin));
    at = t->end;
    prev = t;
  }
  if (at != data_size) return fail(src, fmt::format("bytes {}..{} of the data belong to no tensor", at, data_size));
  std::sort(f.tensors_.begin(), f.tensors_.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return f;
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                             [](const TensorInfo& t, std::string_view n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

std::span<const std::byte> SafetensorsFile::raw(const TensorInfo& t) const {
  return data_.subspan(t.begin, t.end - t.begin);
}

Status SafetensorsFile::read_f32(const TensorInfo& t, std::span<float> dst) const {
  if (!t.dtype)
    return fail(source_, fmt::format("tensor '{}': dtype {} cannot be read as floats (F32, F16 or BF16 only)", t.name,
                                     t.dtype_name));
  if (static_cast<std::int64_t>(dst.size()) != t.numel())
    return fail(source_, fmt::format("tensor '{}': {} values asked for, it holds {}", t.name, dst.size(), t.numel()));
  const std::byte* p = raw(t).data();
  switch (*t.dtype) {
    case DType::f32: std::memcpy(dst.data(), p, dst.size() * 4); break;
    case DType::f16:
    case DType::bf16:
      for (std::size_t i = 0; i < dst.size(); ++i) {
        std::uint16_t h = 0;
        std::memcpy(&h, p + 2 * i, 2);
        dst[i] = *t.dtype == DType::f16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
      break;
  }
  return Ok{};
}

Status write_safetensors(const std::string& path, std::span<const TensorToWrite> tensors,
                         const std::map<std::string, std::string>& metadata) {
  std::vector<const TensorToWrite*> order;
  std::set<std::string> names;
  for (const TensorToWrite& t : tensors) {
    if (t.name.empty() || t.name == "__metadata__")
      return fail(path, fmt::format("cannot write a tensor named '{}'", t.name));
    if (!names.insert(t.name).second) return fail(path, fmt::format("tensor '{}' given twice", t.name));
    std::int64_t n = 1;
    for (std::int64_t d : t.shape) n *= d;
    if (n != static_cast<std::int64_t>(t.values.size()))
      return fail(path, fmt::format("tensor '{}': shape {} needs {} values, {} given", t.name, shape_text(t.shape), n,
                                    t.values.size()));
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->name < b->name; });
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t at = 0;
  for (const TensorToWrite* t : order) {
    const std::uint64_t bytes = t->values.size() * size_of(t->dtype);
    header[t->name] = {{"dtype", name_of(t->dtype)}, {"shape", t->shape}, {"data_offsets", {at, at + bytes}}};
    at += bytes;
  }
  std::string text = header.dump();
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');  // the data starts 8-byte aligned

  auto put = write_atomically(path, [&](std::ostream& out) {
    const std::uint64_t n = text.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    std::vector<char> buf;
    for (const TensorToWrite* t : order) {
      buf.resize(t->values.size() * size_of(t->dtype));
      for (std::size_t i = 0; i < t->values.size(); ++i) {
        if (t->dtype == DType::f32) {
          std::memcpy(buf.data() + 4 * i, &t->values[i], 4);
        } else {
          const std::uint16_t h = t->dtype == DType::f16 ? f32_to_f16(t->values[i]) : f32_to_bf16(t->values[i]);
          std::memcpy(buf.data() + 2 * i, &h, 2);
        }
      }
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    }
  });
  if (!put) return put.error();
  return Ok{};
}

float f16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  std::uint32_t bits = 0;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf, NaN (payload kept)
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant != 0) {
    // Subnormal: normalise.
    std::uint32_t e = 113, m = mant;
    while ((m & 0x400u) == 0) {
      m <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((m & 0x3ffu) << 13);
  } else {
    bits = sign;
  }
  return std::bit_cast<float>(bits);
}

float bf16_to_f32(std::uint16_t b) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

std::uint16_t f32_to_bf16(float f) {
  const auto bits = std::bit_cast<std::uint32_t>(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x40u);  // quiet NaN
  const std::uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

std::uint16_t f32_to_f16(float f) {
  const auto bits = std::bit_cast<std::uint32_t>(f);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);   // NaN
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // ≥ 65520 rounds to inf
  if (abs < 0x38800000u) {
    // Below the smallest normal half (2^-14): a subnormal or zero, rounded to nearest even.
    if (abs < 0x33000000u) return sign;  // < 2^-25: rounds to zero
    const std::uint32_t e = abs >> 23, m = (abs & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126 - e;  // 14 - (e - 127) + 13
    const std::uint32_t half = m >> shift, rest = m & ((1u << shift) - 1), mid = 1u << (shift - 1);
    const std::uint32_t r = half + ((rest > mid || (rest == mid && (half & 1u))) ? 1u : 0u);
    return static_cast<std::uint16_t>(sign | r);
  }
  const std::uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return static_cast<std::uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

}  // namespace hwnas::weights
