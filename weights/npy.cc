#include "weights/npy.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "weights/atomic_file.h"

namespace hwnas::weights {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::int64_t kMaxDim = std::int64_t{1} << 40;

Error fail(const std::string& source, const std::string& what) {
  return Error{source + ": " + what};
}

std::uint32_t le(const std::byte* p, int n) {
  std::uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<std::uint32_t>(p[i]);
  return v;
}

// The value text of `key` in the header dict: from after "'key':" to the next top-level ',' or '}'.
std::optional<std::string_view> field(std::string_view h, std::string_view key) {
  const std::string quoted = fmt::format("'{}'", key);
  auto at = h.find(quoted);
  if (at == std::string_view::npos) return std::nullopt;
  at = h.find(':', at + quoted.size());
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t end = at + 1;
  int depth = 0;
  for (; end < h.size(); ++end) {
    const char c = h[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    if (depth < 0) return std::nullopt;
  }
  std::string_view v = h.substr(at + 1, end - at - 1);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v;
}

Result<std::vector<std::int64_t>> parse_shape(std::string_view v, const std::string& source) {
  if (v.size() < 2 || v.front() != '(' || v.back() != ')')
    return fail(source, fmt::format("header field 'shape': a tuple expected, got '{}'", v));
  v = v.substr(1, v.size() - 2);
  std::vector<std::int64_t> shape;
  std::size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && (v[i] == ' ' || v[i] == ',')) ++i;
    if (i == v.size()) break;
    std::int64_t d = 0;
    std::size_t digits = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
      d = d * 10 + (v[i++] - '0');
      if (d > kMaxDim) return fail(source, "header field 'shape': a dimension is too large");
      ++digits;
    }
    if (digits == 0) return fail(source, fmt::format("header field 'shape': not a tuple of sizes: '({})'", v));
    while (i < v.size() && v[i] == 'L') ++i;  // Python 2 longs
    shape.push_back(d);
  }
  return shape;
}

}  // namespace

Result<Array> parse_npy(std::span<const std::byte> bytes, const std::string& source) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0)
    return fail(source, "not a .npy file (no \\x93NUMPY magic)");
  const int major = static_cast<int>(bytes[6]);
  if (major < 1 || major > 3) return fail(source, fmt::format(".npy format version {} is not supported (1-3)", major));
  const int len_bytes = major == 1 ? 2 : 4;
  const std::size_t start = 8 + static_cast<std::size_t>(len_bytes);
  if (bytes.size() < start) return fail(source, "truncated header");
  const std::size_t header_len = le(bytes.data() + 8, len_bytes);
  if (bytes.size() - start < header_len) return fail(source, "truncated header");
  const std::string_view h(reinterpret_cast<const char*>(bytes.data() + start), header_len);
  const auto descr = field(h, "descr"), order = field(h, "fortran_order"), shape_text = field(h, "shape");
  if (!descr || !order || !shape_text) return fail(source, "header lacks 'descr', 'fortran_order' or 'shape'");
  if (*order != "False") return fail(source, "header field 'fortran_order': only C order (False) is read");
  std::size_t elem = 0;
  if (*descr == "'<f4'")
    elem = 4;
  else if (*descr == "'<f8'")
    elem = 8;
  else
    return fail(source, fmt::format("header field 'descr': {} is not read (little-endian float32 '<f4' or float64 "
                                    "'<f8' only)",
                                    *descr));
  auto shape = parse_shape(*shape_text, source);
  if (!shape) return shape.error();
  std::int64_t n = 1;
  for (std::int64_t d : *shape) {
    if (d != 0 && n > kMaxDim / d) return fail(source, "header field 'shape': too many elements");
    n *= d;
  }
  const std::size_t data_at = start + header_len;
  const std::size_t need = static_cast<std::size_t>(n) * elem;
  if (bytes.size() - data_at != need)
    return fail(source, fmt::format("the data is {} bytes, shape ({}) × {} bytes needs {}", bytes.size() - data_at,
                                    fmt::join(*shape, ", "), elem, need));
  Array a{std::move(*shape), std::vector<float>(static_cast<std::size_t>(n))};
  const std::byte* p = bytes.data() + data_at;
  if (elem == 4) {
    std::memcpy(a.values.data(), p, need);
  } else {
    for (std::size_t i = 0; i < a.values.size(); ++i) {
      double d = 0;
      std::memcpy(&d, p + 8 * i, 8);
      a.values[i] = static_cast<float>(d);
    }
  }
  return a;
}

Result<Array> read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  std::vector<char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_npy(std::as_bytes(std::span(buf)), path);
}

Result<bool> write_npy(const std::string& path, const std::vector<std::int64_t>& shape, std::span<const float> values) {
  std::string dims;
  for (std::int64_t d : shape) dims += fmt::format("{}, ", d);
  if (shape.size() > 1) dims.resize(dims.size() - 2);  // (n,) keeps its comma; (a, b) drops the last
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", dims);
  // Magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64.
  const std::size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header.push_back('\n');
  return write_atomically(path, [&](std::ostream& out) {
    out.write(kMagic.data(), static_cast<std::streamsize>(kMagic.size()));
    const char ver[4] = {1, 0, static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
    out.write(ver, 4);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * 4));
  });
}

}  // namespace hwnas::weights
