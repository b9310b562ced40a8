// Row softmax, in place, over contiguous rows: oneDNN 2.6's softmax spends ~0.5 ns per element on
// the 197-wide attention rows of DeiT (56 µs of a 1.1 ms block); this one reads each row into
// registers/L1 once for the max, once for exp+sum, once for the scale. AVX-512 with a polynomial exp
// (max relative error ~2e-7) where the CPU has it, plain C++ otherwise.
#pragma once

#include <cstdint>

#include "profilers/onednn/kernels.h"

namespace hwnas::prof::onednn::kernels {

void softmax_rows(Elem e, void* data, std::int64_t rows, std::int64_t n);
// Which implementation softmax_rows uses on this CPU ("hwnas:softmax_avx512" or "hwnas:softmax").
const char* softmax_impl();

}  // namespace hwnas::prof::onednn::kernels
