// A latency lookup table for the compressors (HAT's approach, made exact for their spaces): a
// network's latency is the sum of its units' latencies, each distinct unit (a block's mixer and FFN
// on its input shape; the stem; the head) measured alone once on this device, times the ratio of the
// original network's end-to-end measurement to the sum of its units (what runs between units and
// what the units share). The carving space of a DeiT has 32 distinct blocks; a cost model fitted
// on another space mispredicts them (predicted 19.9 ms, measured 14.1 ms for a carved deit-tiny
// with a 30 s calibration), the table measures them. Every unit measurement goes to the store.
#pragma once

#include <cstdio>
#include <map>
#include <string>

#include "cli/cost_data.h"
#include "profilers/backend.h"
#include "profilers/timing.h"
#include "profilers/weight_source.h"
#include "space/arch.h"
#include "store/store.h"

namespace hwnas::cli {

class UnitLatencyTable {
 public:
  UnitLatencyTable(prof::Backend& backend, store::Store& db, const CostKey& key, std::FILE* progress);

  // Measures `original`'s units (those not measured yet); the ratio is `measured_ms` (the original
  // end to end) over their sum.
  void anchor(const space::Arch& original, double measured_ms);
  double predict_ms(const space::Arch& arch);  // anchor() first
  double ratio() const { return ratio_; }
  std::size_t units_measured() const { return us_.size(); }

 private:
  double units_us(const space::Arch& arch);

  prof::Backend& backend_;
  store::Store& db_;
  const CostKey& key_;
  std::FILE* progress_;
  prof::TimingConfig timing_;
  prof::RandomWeights weights_;
  std::map<std::string, double> us_;  // by unit key
  double ratio_ = 1;
};

}  // namespace hwnas::cli
