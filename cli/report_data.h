// hwnas report's data: what the store holds for a selection of search runs, presets, arch files and
// devices, read into the plain structs of reports/report.h (the reports module never sees the store).
#pragma once

#include <string>
#include <vector>

#include "reports/report.h"
#include "store/store.h"

namespace hwnas::cli {

struct ReportSelection {
  std::vector<std::string> runs;           // run ids or unique prefixes; empty: every run
  std::vector<std::string> compress_runs;  // compression run ids or prefixes; empty: every one
  std::vector<std::string> presets;        // preset names; empty: every preset measured in the store
  std::vector<std::string> arch_files;     // arch JSON files
  std::vector<std::string> devices;        // fingerprint prefix, kind (cpu, cuda) or part of the model name; empty: all
  bool all_archs = false;                  // every architecture the store measured (calibration included)
  std::size_t finalists_per_run = 12;      // measured candidates of each run shown beside its best
};

// Throws UsageError for a selection the store cannot satisfy (unknown run, preset or file) and
// RuntimeFailure for a store that fails to read.
reports::ReportData gather_report(store::Store& db, const ReportSelection& sel);

}  // namespace hwnas::cli
