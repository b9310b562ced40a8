// An Estimator in front of an EstimateCache: a cacheable estimator (an external command, a slow
// proxy) is asked once per architecture, and a resumed or repeated search reads what it answered.
// Failures are stored and returned too, without running the estimator again: a command that crashed
// on an arch is not retried (change the command, or remove the stored row, to retry).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "search/estimator.h"

namespace hwnas::search {

class CachingEstimator final : public Estimator {
 public:
  // `cache` must outlive this estimator.
  CachingEstimator(std::unique_ptr<Estimator> inner, EstimateCache& cache);

  std::string name() const override { return inner_->name(); }
  std::string cache_key() const override { return inner_->cache_key(); }
  bool cacheable() const override { return inner_->cacheable(); }
  // A non-cacheable inner estimator is asked every time, and nothing is stored. Otherwise the cache
  // is asked first; on a miss the inner estimator runs, and its outcome is stored with the time it
  // took. A stored failure comes back as "<message> (stored failure; not run again)".
  Result<double> estimate(const space::Arch& arch, const std::string& hash) override;

  std::int64_t hits() const { return hits_; }
  std::int64_t misses() const { return misses_; }  // runs of a cacheable inner estimator

 private:
  std::unique_ptr<Estimator> inner_;
  EstimateCache* cache_;
  std::int64_t hits_ = 0, misses_ = 0;
};

// `inner` itself when there is no cache or it is not cacheable; a CachingEstimator otherwise.
std::unique_ptr<Estimator> with_cache(std::unique_ptr<Estimator> inner, EstimateCache* cache);

}  // namespace hwnas::search
