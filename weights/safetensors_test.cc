// safetensors I/O: round trips in every dtype, the exact byte layout, each kind of bad file refused
// with the file and the tensor named, random corruption never read out of bounds, and the element
// conversions checked exhaustively (f16) or against the IEEE rules (bf16).
#include "weights/safetensors.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/scratch.h"

namespace hwnas::weights {
namespace {

std::string tmp(const std::string& name) {
  return test::scratch_path(name);
}

std::vector<std::byte> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> b(c.size());
  std::memcpy(b.data(), c.data(), c.size());
  return b;
}

// A file from a header text and raw data bytes, as another writer might produce it.
std::vector<std::byte> make(const std::string& header, const std::vector<std::uint8_t>& data) {
  std::vector<std::byte> out(8 + header.size() + data.size());
  const std::uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}

std::string error_of(const std::vector<std::byte>& bytes) {
  auto f = SafetensorsFile::parse(bytes, "w.safetensors");
  return f ? "" : f.error().message;
}

TEST(Safetensors, RoundTripInEveryDtypeWithMetadata) {
  const std::vector<float> a = {1.0f, -2.5f, 3.25f, 0.0f, 1e-3f, 65504.0f};
  const std::vector<float> b = {0.1f, 0.2f, 0.3f};
  const std::vector<float> c = {7.0f};
  const std::vector<TensorToWrite> ts = {{"z.weight", {2, 3}, a, DType::f32},
                                         {"a.bias", {3}, b, DType::f16},
                                         {"m.scale", {1, 1}, c, DType::bf16},
                                         {"empty", {0, 4}, {}, DType::f32}};
  const std::string path = tmp("rt.safetensors");
  ASSERT_TRUE(write_safetensors(path, ts, {{"format", "pt"}}));
  auto f = SafetensorsFile::open(path);
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_EQ(f->tensors().size(), 4u);
  EXPECT_EQ(f->tensors()[0].name, "a.bias");  // listed by name
  EXPECT_EQ(f->metadata().at("format"), "pt");
  const TensorInfo* z = f->find("z.weight");
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(z->dtype_name, "F32");
  std::vector<float> out(6);
  ASSERT_TRUE(f->read_f32(*z, out));
  EXPECT_EQ(out, a);
  std::vector<float> out_b(3);
  ASSERT_TRUE(f->read_f32(*f->find("a.bias"), out_b));
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out_b[i], f16_to_f32(f32_to_f16(b[i])));
    EXPECT_NEAR(out_b[i], b[i], 1e-3);
  }
  std::vector<float> out_c(1);
  ASSERT_TRUE(f->read_f32(*f->find("m.scale"), out_c));
  EXPECT_EQ(out_c[0], 7.0f);
  EXPECT_EQ(f->find("empty")->numel(), 0);
  EXPECT_EQ(f->find("nope"), nullptr);
  std::vector<float> wrong(5);
  EXPECT_FALSE(f->read_f32(*z, wrong));
}

TEST(Safetensors, ByteLayoutIsTheFormats) {
  const std::vector<float> v = {1.0f, 2.0f};
  const std::string path = tmp("layout.safetensors");
  ASSERT_TRUE(write_safetensors(path, std::vector<TensorToWrite>{{"t", {2}, v, DType::f32}}));
  const auto bytes = file_bytes(path);
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ((8 + n) % 8, 0u);  // data 8-byte aligned
  ASSERT_EQ(bytes.size(), 8 + n + 8);
  const std::string header(reinterpret_cast<const char*>(bytes.data() + 8), n);
  const auto j = nlohmann::json::parse(header);
  EXPECT_EQ(j["t"]["dtype"], "F32");
  EXPECT_EQ(j["t"]["data_offsets"], nlohmann::json::array({0, 8}));
  float x[2];
  std::memcpy(x, bytes.data() + 8 + n, 8);
  EXPECT_EQ(x[0], 1.0f);
  EXPECT_EQ(x[1], 2.0f);
  // A file written by another tool (no padding, no metadata) reads the same.
  const auto other =
      make(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", {0, 0, 0x80, 0x3f, 0, 0, 0, 0x40});
  auto f = SafetensorsFile::parse(other, "other");
  ASSERT_TRUE(f) << f.error().message;
  std::vector<float> out(2);
  ASSERT_TRUE(f->read_f32(f->tensors()[0], out));
  EXPECT_EQ(out, v);
}

TEST(Safetensors, BadFilesAreRefusedNamingTheFileAndTheTensor) {
  const std::vector<std::uint8_t> eight(8, 0);
  auto expect_error = [&](const std::vector<std::byte>& bytes, const std::string& part) {
    const std::string e = error_of(bytes);
    EXPECT_NE(e.find("w.safetensors: "), std::string::npos) << e;
    EXPECT_NE(e.find(part), std::string::npos) << e;
  };
  expect_error(std::vector<std::byte>(5), "too short");
  auto truncated_header = make(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", eight);
  truncated_header.resize(20);
  expect_error(truncated_header, "runs past the end of the file");
  auto truncated_data = make(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", eight);
  truncated_data.pop_back();
  expect_error(truncated_data, "tensor 't': data_offsets [0, 8] run past the data (7 bytes)");
  expect_error(make(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight),
               "tensor 't': F32 [3] needs 12 bytes but data_offsets [0, 8] hold 8");
  expect_error(make(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                    R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                    std::vector<std::uint8_t>(12, 0)),
               "tensors 'a' and 'b' overlap");
  expect_error(make(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                    R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                    std::vector<std::uint8_t>(12, 0)),
               "bytes 4..8 of the data belong to no tensor");
  expect_error(make(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight),
               "bytes 4..8 of the data belong to no tensor");
  expect_error(make(R"({"t":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", eight), "dtype: unknown 'F33'");
  expect_error(make(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight), "shape: every dimension");
  expect_error(make(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8]}})", eight), "data_offsets: must be");
  expect_error(make(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8, 0]}})", eight), "begin after end");
  expect_error(make(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", eight),
               "needs too many bytes");
  expect_error(make(R"(["not", "an", "object"])", {}), "does not start with '{'");
  expect_error(make(R"({"t": 1)", {}), "header is not a JSON object");
  expect_error(make(R"({"__metadata__":{"k":1}})", {}), "__metadata__.k: must be a string");
  std::vector<std::byte> huge(16);
  const std::uint64_t n = 1ull << 40;
  std::memcpy(huge.data(), &n, 8);
  expect_error(huge, "over the format's limit");
  // A type hwnas does not convert is listed, and refused only when read as floats.
  auto ints = SafetensorsFile::parse(make(R"({"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", eight), "w");
  ASSERT_TRUE(ints);
  EXPECT_FALSE(ints->tensors()[0].dtype.has_value());
  std::vector<float> out(1);
  const auto read = ints->read_f32(ints->tensors()[0], out);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().message.find("tensor 'i': dtype I64 cannot be read as floats"), std::string::npos);
  EXPECT_FALSE(SafetensorsFile::open(tmp("does-not-exist.safetensors")));
}

TEST(Safetensors, RandomCorruptionIsAnErrorOrAValidFileNeverAnOutOfBoundsRead) {
  const std::vector<float> a(37, 0.5f), b(11, -1.0f);
  const std::string path = tmp("fuzz.safetensors");
  ASSERT_TRUE(
      write_safetensors(path, std::vector<TensorToWrite>{{"a", {37}, a, DType::f32}, {"b", {11}, b, DType::f16}}));
  const auto good = file_bytes(path);
  std::mt19937_64 rng(7);
  int valid = 0;
  for (int i = 0; i < 3000; ++i) {
    auto bytes = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0: bytes[at] = static_cast<std::byte>(rng()); break;
        case 1: bytes.resize(at); break;
        default: bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at), static_cast<std::byte>(rng()));
      }
      if (bytes.empty()) break;
    }
    auto f = SafetensorsFile::parse(bytes, "mutant");
    if (!f) continue;
    ++valid;
    for (const TensorInfo& t : f->tensors()) {
      if (!t.dtype) continue;
      std::vector<float> out(static_cast<std::size_t>(t.numel()));
      EXPECT_TRUE(f->read_f32(t, out));  // ASan checks the reads stay inside `bytes`
    }
  }
  EXPECT_GT(valid, 0);  // data-byte edits keep the file valid
}

TEST(Conversions, HalfRoundTripsEveryValueExactly) {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_f32(static_cast<std::uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(f))));
      continue;
    }
    EXPECT_EQ(f32_to_f16(f), h) << std::hex << h;
  }
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_TRUE(std::isinf(f16_to_f32(0x7c00)));
}

TEST(Conversions, HalfRoundsToNearestEven) {
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7bff);  // below the midpoint to 65536: stays finite
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // the midpoint rounds to even = inf
  EXPECT_EQ(f32_to_f16(1e-8f), 0x0000);
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);         // tie between 0 and 2^-24: even
  EXPECT_EQ(f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);         // above the tie
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie: even (1.0)
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(3.0f, -11)), 0x3c02);  // tie: even (1 + 2^-9)
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  // Against a double-precision reference on random floats in the half range.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-70000.0f, 70000.0f);
  for (int i = 0; i < 20000; ++i) {
    const float x = i % 2 ? u(rng) : u(rng) * 1e-4f;
    const float y = f16_to_f32(f32_to_f16(x));
    if (std::isinf(y)) {
      EXPECT_GE(std::abs(x), 65520.0f);
      continue;
    }
    // No other half is closer to x.
    const std::uint16_t h = f32_to_f16(x);
    for (int d : {-1, 1}) {
      const float other = f16_to_f32(static_cast<std::uint16_t>(h + d));
      if (!std::isfinite(other) || (h & 0x7fff) == 0) continue;
      EXPECT_LE(std::abs(static_cast<double>(y) - x), std::abs(static_cast<double>(other) - x)) << x;
    }
  }
}

TEST(Conversions, Bfloat16IsTheTopHalfRoundedToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie: even
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(3.0f, -8)), 0x3f82);  // tie: even (up)
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.5f, -8)), 0x3f81);  // above the tie
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
  EXPECT_TRUE(std::isinf(bf16_to_f32(f32_to_bf16(INFINITY))));
  for (std::uint32_t b = 0; b < 0x10000; ++b) {
    const float f = bf16_to_f32(static_cast<std::uint16_t>(b));
    if (!std::isnan(f)) {
      EXPECT_EQ(f32_to_bf16(f), b);
    }
  }
}

}  // namespace
}  // namespace hwnas::weights
