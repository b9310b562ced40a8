// Accuracy estimators (--objective): what the search maximises besides meeting the latency budget.
// `params` and `macs` count; `table:FILE.csv` looks up accuracies the user measured (an estimate for
// unseen archs); `cmd:'…'` asks an external program; training-free proxies that run the network
// live where the engine is and are wired in by the CLI. Failures are values: a candidate whose
// estimate fails is reported, never the end of the search.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "space/arch.h"
#include "space/result.h"

namespace hwnas::search {

class Estimator {
 public:
  virtual ~Estimator() = default;
  // As the user wrote it: "params", "table:acc.csv", "cmd:python eval.py".
  virtual std::string name() const = 0;
  // Identity of the values for caches: changes whenever the values could (file contents, command
  // text, proxy version and settings).
  virtual std::string cache_key() const = 0;
  // Worth caching in the store (slow or external); counts are not.
  virtual bool cacheable() const { return false; }
  // Higher is better. `hash` is space::hash_hex(space::arch_hash(arch)).
  virtual Result<double> estimate(const space::Arch& arch, const std::string& hash) = 0;
};

// One stored estimate (a failure too: it is not retried by a resumed run).
struct CachedEstimate {
  bool ok = false;
  double value = 0;
  std::string message;  // why it failed
  double elapsed_ms = 0;
};

// Where cacheable estimates are kept (the store, wired by the CLI).
class EstimateCache {
 public:
  virtual ~EstimateCache() = default;
  virtual std::optional<CachedEstimate> find(const std::string& cache_key, const std::string& arch_hash) = 0;
  virtual void put(const std::string& cache_key, const std::string& arch_hash, const CachedEstimate& e) = 0;
};

}  // namespace hwnas::search
