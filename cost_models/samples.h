// Training and evaluation data of the cost model: measured units and networks, described by the IR
// only (the CLI reads them from the store and lowers the stored archs).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cost_models/features.h"

namespace hwnas::cost {

struct UnitSample {
  Group group;
  UnitFeatures f;
  double us = 0;          // measured, > 0
  std::string arch_hash;  // the arch the unit was measured in
};

struct NetworkUnit {
  Group group;
  UnitFeatures f;
};

struct NetworkSample {
  std::string arch_hash;
  std::string name;  // preset or sample name, may be ""
  std::vector<NetworkUnit> units;
  double us = 0;                       // measured end to end, > 0
  double macs = 0;                     // at the batch measured (per image × batch)
  std::optional<double> block_sum_us;  // Σ of the units measured alone, when every unit was

  std::size_t running_units() const {
    std::size_t n = 0;
    for (const NetworkUnit& u : units) n += u.f.runs ? 1 : 0;
    return n;
  }
};

}  // namespace hwnas::cost
