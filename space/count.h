// Counting: params, executed MACs (FLOPs = 2·MACs), the source repo's paper count, activation and
// weight bytes, per op, per unit (stem/downsample/block/head) and per network. One MAC = one
// multiply-accumulate; every printed figure says which count it is.
#pragma once

#include <cstdint>
#include <string>

#include "space/ops.h"

namespace hwnas::space {

struct Counts {
  std::int64_t params = 0;
  std::int64_t macs = 0;
  std::int64_t paper_macs = 0;
  std::int64_t act_bytes = 0;     // activations written (fp32, batch 1)
  std::int64_t weight_bytes = 0;  // parameters (fp32)

  std::int64_t flops() const { return 2 * macs; }
  Counts& operator+=(const Counts& o);
};

Counts count(const Op& op);
Counts count(const Unit& unit);
Counts count(const Lowered& net);

// "3.724 GMACs", "27.84M" — the precision SEEDS.md prints.
std::string format_macs(std::int64_t macs);
std::string format_params(std::int64_t params);
std::string format_bytes(std::int64_t bytes);

}  // namespace hwnas::space
