#include "cli/estimators.h"

#include <chrono>

#include <fmt/format.h>

#include "cli/command.h"
#include "profilers/zen_score.h"
#include "search/count_estimators.h"

namespace hwnas::cli {
namespace {

// The Zen-score proxy (profilers/zen_score.h) on the CPU engine, fp32, batch 2·pairs.
class ZenEstimator final : public search::Estimator {
 public:
  ZenEstimator(prof::Backend& engine, int threads) : engine_(engine) { opts_.threads = threads; }
  std::string name() const override { return "zen"; }
  std::string cache_key() const override {
    return fmt::format("zen:v{}:pairs={}:alpha={}:seed={}", prof::kZenVersion, opts_.pairs, opts_.alpha, opts_.seed);
  }
  bool cacheable() const override { return true; }
  Result<double> estimate(const space::Arch& arch, const std::string&) override {
    return prof::zen_score(engine_, arch, opts_);
  }

 private:
  prof::Backend& engine_;
  prof::ZenOptions opts_;
};

// Looks cacheable estimates up in the cache first and stores every outcome, failures too.
class Cached final : public search::Estimator {
 public:
  Cached(std::unique_ptr<search::Estimator> inner, search::EstimateCache& cache)
      : inner_(std::move(inner)), cache_(cache) {}
  std::string name() const override { return inner_->name(); }
  std::string cache_key() const override { return inner_->cache_key(); }
  bool cacheable() const override { return inner_->cacheable(); }
  Result<double> estimate(const space::Arch& arch, const std::string& hash) override {
    const std::string key = inner_->cache_key();
    if (auto hit = cache_.find(key, hash)) {
      if (hit->ok) return hit->value;
      return Error{hit->message};
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto r = inner_->estimate(arch, hash);
    search::CachedEstimate e;
    e.ok = r.ok();
    e.value = r.ok() ? *r : 0.0;
    e.message = r.ok() ? "" : r.error().message;
    e.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    cache_.put(key, hash, e);
    return r;
  }

 private:
  std::unique_ptr<search::Estimator> inner_;
  search::EstimateCache& cache_;
};

}  // namespace

std::string estimator_help() {
  return "params | macs | zen (Zen-score, training-free, runs the network on the CPU engine) | table:FILE.csv "
         "(accuracies you measured) | cmd:'COMMAND' (prints {\"accuracy\": x} for the arch JSON path it gets)";
}

std::vector<std::string> default_proxy_names() {
  return {"params", "macs", "zen"};
}

std::unique_ptr<search::Estimator> make_estimator(const std::string& spec, const EstimatorContext& ctx) {
  std::unique_ptr<search::Estimator> e = search::make_count_estimator(spec);
  if (!e && spec == "zen") {
    if (ctx.engine == nullptr) throw UsageError("--objective zen: needs the CPU engine (onednn backend)");
    e = std::make_unique<ZenEstimator>(*ctx.engine, ctx.threads);
  }
  if (!e) throw UsageError(fmt::format("--objective: unknown estimator '{}' (one of: {})", spec, estimator_help()));
  if (e->cacheable() && ctx.cache != nullptr) return std::make_unique<Cached>(std::move(e), *ctx.cache);
  return e;
}

}  // namespace hwnas::cli
