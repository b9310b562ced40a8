// Host-side logic of the CUDA backend, tested without a GPU: view alignment and extents, and the
// mapping of strided views onto cuBLAS operands (against brute force over every matrix offset).
#include "profilers/cuda/gemm_layout.h"

#include <gtest/gtest.h>

#include "space/rng.h"

namespace hwnas::prof::cuda {
namespace {

View view(std::vector<i64> shape, std::vector<i64> strides, i64 offset = 0, Elem t = Elem::bf16) {
  return View{nullptr, offset, std::move(shape), std::move(strides), t};
}

TEST(CudaViews, AlignmentIsTheLargestPowerOfTwoDividingTheByteOffset) {
  EXPECT_EQ(view({2, 2}, {2, 1}, 0).alignment(), 256u);
  EXPECT_EQ(view({2, 2}, {2, 1}, 3).alignment(), 2u);  // 6 bytes
  EXPECT_EQ(view({2, 2}, {2, 1}, 8).alignment(), 16u);
  EXPECT_EQ(view({2, 2}, {2, 1}, 8, Elem::f32).alignment(), 32u);
  EXPECT_EQ(view({2, 2}, {2, 1}, 1024).alignment(), 256u);
}

TEST(CudaViews, ExtentReachesOnePastTheLastElement) {
  // [2, 3] with row stride 5 at offset 4: last element at 4 + 5 + 2 = 11 → 12 elements.
  EXPECT_EQ(view({2, 3}, {5, 1}, 4, Elem::f32).extent_bytes(), 48u);
  EXPECT_EQ(view({2, 3}, {5, 1}, 4, Elem::f16).extent_bytes(), 24u);
}

TEST(CudaGemmLayout, RowMajorAndTransposedViews) {
  const ColMajor a = col_major(view({4, 3, 7, 5}, {105, 35, 5, 1}), "a");
  EXPECT_EQ(a.op, CUBLAS_OP_N);
  EXPECT_EQ(a.ld, 5);
  // kᵀ of a [.., 7, 5] row-major k: dims swapped, strides swapped.
  const ColMajor t = col_major(view({4, 3, 5, 7}, {105, 35, 1, 5}), "kt");
  EXPECT_EQ(t.op, CUBLAS_OP_T);
  EXPECT_EQ(t.ld, 5);
  EXPECT_THROW(col_major(view({1, 1, 2, 2}, {8, 8, 4, 2}), "bad"), std::logic_error);
}

TEST(CudaGemmLayout, UniformStrideExactlyWhenEveryMatrixSitsAtIndexTimesStride) {
  space::Rng rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    const i64 batch = 1 + static_cast<i64>(rng.uniform() * 4), heads = 1 + static_cast<i64>(rng.uniform() * 4);
    const i64 s1 = 1 + static_cast<i64>(rng.uniform() * 6);
    // s0 either heads·s1 (head-major) or something else.
    const i64 s0 = rng.uniform() < 0.5 ? heads * s1 : 1 + static_cast<i64>(rng.uniform() * 30);
    const View v = view({batch, heads, 2, 2}, {s0, s1, 2, 1});
    bool exists = false;  // brute force: some stride places every matrix at (b·heads + h)·stride
    for (i64 s = 0; s <= 200 && !exists; ++s) {
      bool all = true;
      for (i64 b = 0; b < batch; ++b)
        for (i64 h = 0; h < heads; ++h) all = all && b * s0 + h * s1 == (b * heads + h) * s;
      exists = all;
    }
    const auto got = uniform_stride(v);
    ASSERT_EQ(got.has_value(), exists) << "batch " << batch << " heads " << heads << " strides " << s0 << "," << s1;
    if (got && batch * heads > 1) {
      for (i64 b = 0; b < batch; ++b)
        for (i64 h = 0; h < heads; ++h) EXPECT_EQ(b * s0 + h * s1, (b * heads + h) * *got);
    }
  }
}

}  // namespace
}  // namespace hwnas::prof::cuda
