// .npy: round trip, NumPy-written headers (versions 1 and 2, float64, 1-D and scalar shapes) and
// refused files, each named with the field and the rule.
#include "weights/npy.h"

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "tests/scratch.h"

namespace hwnas::weights {
namespace {

std::vector<std::byte> npy_bytes(int major, const std::string& header, std::size_t data_bytes, const void* data) {
  std::string h = header;
  const std::size_t fixed = major == 1 ? 10 : 12;
  while ((fixed + h.size() + 1) % 64 != 0) h.push_back(' ');
  h.push_back('\n');
  std::string s = "\x93NUMPY";
  s.push_back(static_cast<char>(major));
  s.push_back(0);
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i) s.push_back(static_cast<char>((h.size() >> (8 * i)) & 0xff));
  s += h;
  std::vector<std::byte> out(s.size() + data_bytes);
  std::memcpy(out.data(), s.data(), s.size());
  if (data_bytes) std::memcpy(out.data() + s.size(), data, data_bytes);
  return out;
}

TEST(Npy, RoundTripKeepsShapeAndValues) {
  const std::string path = test::scratch_path("npy_round.npy");
  const std::vector<float> v = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -7.0f};
  ASSERT_TRUE(write_npy(path, {2, 3}, v));
  auto a = read_npy(path);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(a->values, v);
  ASSERT_TRUE(write_npy(path, {6}, v));  // (6,) keeps its comma
  auto b = read_npy(path);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->shape, (std::vector<std::int64_t>{6}));
}

TEST(Npy, ReadsNumpyHeadersAndConvertsFloat64) {
  const double d[3] = {0.1, -2.5, 1e10};
  auto bytes = npy_bytes(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", sizeof d, d);
  auto a = parse_npy(bytes, "d.npy");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->shape, (std::vector<std::int64_t>{3}));
  EXPECT_FLOAT_EQ(a->values[0], 0.1f);
  EXPECT_FLOAT_EQ(a->values[2], 1e10f);
  const float one = 4.0f;
  auto s = parse_npy(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, &one), "s.npy");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->shape.empty());
  EXPECT_EQ(s->values, std::vector<float>{4.0f});
}

TEST(Npy, RefusesWhatItDoesNotRead) {
  const float f[4] = {};
  struct Bad {
    std::vector<std::byte> bytes;
    std::string says;
  };
  const std::string ok_shape = "'shape': (2, 2), }";
  const Bad bad[] = {
      {npy_bytes(1, "{'descr': '>f4', 'fortran_order': False, " + ok_shape, 16, f), "'descr': '>f4' is not read"},
      {npy_bytes(1, "{'descr': '<i8', 'fortran_order': False, " + ok_shape, 16, f), "'descr': '<i8' is not read"},
      {npy_bytes(1, "{'descr': '<f4', 'fortran_order': True, " + ok_shape, 16, f), "'fortran_order': only C order"},
      {npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, " + ok_shape, 12, f), "the data is 12 bytes"},
      {npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", 16, f), "not a tuple of sizes"},
      {npy_bytes(1, "{'descr': '<f4', 'shape': (4,), }", 16, f), "lacks 'descr', 'fortran_order' or 'shape'"},
      {npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", 16, f), "too"},
      {npy_bytes(7, "{}", 0, nullptr), "version 7 is not supported"},
  };
  for (const Bad& b : bad) {
    auto r = parse_npy(b.bytes, "bad.npy");
    ASSERT_FALSE(r) << b.says;
    EXPECT_NE(r.error().message.find("bad.npy: "), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(b.says), std::string::npos) << r.error().message;
  }
  auto truncated = npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, " + ok_shape, 16, f);
  truncated.resize(20);
  EXPECT_FALSE(parse_npy(truncated, "t.npy"));
  const std::byte junk[16] = {};
  EXPECT_FALSE(parse_npy(junk, "junk.npy"));
}

}  // namespace
}  // namespace hwnas::weights
