#include "search/caching_estimator.h"

#include <cassert>
#include <chrono>
#include <memory>
#include <utility>

namespace hwnas::search {

CachingEstimator::CachingEstimator(std::unique_ptr<Estimator> inner, EstimateCache& cache)
    : inner_(std::move(inner)), cache_(&cache) {
  assert(inner_ != nullptr);
}

Result<double> CachingEstimator::estimate(const space::Arch& arch, const std::string& hash) {
  if (!inner_->cacheable()) return inner_->estimate(arch, hash);
  const std::string key = inner_->cache_key();
  if (auto hit = cache_->find(key, hash)) {
    ++hits_;
    if (hit->ok) return hit->value;
    return Error{hit->message + " (stored failure; not run again)"};
  }
  ++misses_;
  const auto start = std::chrono::steady_clock::now();
  Result<double> r = inner_->estimate(arch, hash);
  CachedEstimate e;
  e.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  e.ok = r.ok();
  if (r.ok()) {
    e.value = *r;
  } else {
    e.message = r.error().message;
  }
  cache_->put(key, hash, e);
  return r;
}

std::unique_ptr<Estimator> with_cache(std::unique_ptr<Estimator> inner, EstimateCache* cache) {
  if (cache == nullptr || inner == nullptr || !inner->cacheable()) return inner;
  return std::make_unique<CachingEstimator>(std::move(inner), *cache);
}

}  // namespace hwnas::search
