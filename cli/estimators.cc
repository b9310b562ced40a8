#include "cli/estimators.h"

#include <fmt/format.h>

#include "cli/command.h"
#include "profilers/zen_score.h"
#include "search/caching_estimator.h"
#include "search/count_estimators.h"
#include "search/external_estimator.h"
#include "search/table_estimator.h"

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

}  // namespace

std::string estimator_help() {
  return "params | macs | zen (Zen-score, training-free, runs the network on the CPU engine) | table:FILE.csv "
         "(accuracies you measured) | cmd:'COMMAND' (prints {\"accuracy\": x} for the arch JSON path it gets)";
}

double default_score_reference(const std::string& spec) {
  return spec == "zen" ? -5.0 : 0.0;
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
  if (!e && spec.starts_with("table:")) {
    auto t = search::make_table_estimator(spec.substr(6));
    if (!t) throw UsageError(fmt::format("--objective: {}", t.error().message));
    e = std::move(t).value();
  }
  if (!e && spec.starts_with("cmd:")) {
    const std::string command = spec.substr(4);
    if (command.find_first_not_of(" \t") == std::string::npos) throw UsageError("--objective cmd: no command given");
    auto c = search::make_external_estimator(command, search::ExternalOptions{.timeout_s = ctx.command_timeout_s});
    if (!c) throw UsageError(fmt::format("--objective: {}", c.error().message));
    e = std::move(c).value();
  }
  if (!e) throw UsageError(fmt::format("--objective: unknown estimator '{}' (one of: {})", spec, estimator_help()));
  return search::with_cache(std::move(e), ctx.cache);
}

}  // namespace hwnas::cli
