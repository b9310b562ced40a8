// hwnas report's compression runs: the store's compress_runs (with their original and result archs)
// read into reports::CompressRun — the blocks before and after, the distance/latency points of the
// run's record (FinerCut's removal order; SPViT's predicted front and finalists), the measurements.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "reports/report.h"
#include "store/store.h"

namespace hwnas::cli {

// Runs whose id starts with one of `ids` (all when empty) on a device in `device_names`
// (fingerprint → label; runs on other devices are left out). Unknown ids are a UsageError.
std::vector<reports::CompressRun> gather_compress_runs(store::Store& db, const std::vector<std::string>& ids,
                                                       const std::map<std::string, std::string>& device_names);

}  // namespace hwnas::cli
