// --objective: the accuracy estimators by name, wired to what they need (an engine for proxies that
// run the network, the store as the cache of slow or external ones).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "profilers/backend.h"
#include "search/estimator.h"

namespace hwnas::cli {

struct EstimatorContext {
  prof::Backend* engine = nullptr;         // the CPU engine, for proxies that run the network
  int threads = 0;                         // its threads
  search::EstimateCache* cache = nullptr;  // where cacheable estimates are stored (may be null)
  double command_timeout_s = 60;           // cmd:
};

// params | macs | zen | table:FILE.csv | cmd:'COMMAND'. Throws UsageError for an unknown or bad spec.
std::unique_ptr<search::Estimator> make_estimator(const std::string& spec, const EstimatorContext& ctx);
// The hypervolume's reference score for an estimator: below every architecture worth keeping
// (counts: 0; zen: -5, under every preset's score), so that runs and strategies compare.
double default_score_reference(const std::string& spec);
// What --objective accepts, for help texts.
std::string estimator_help();
// The estimators `hwnas proxy` compares by default.
std::vector<std::string> default_proxy_names();

}  // namespace hwnas::cli
