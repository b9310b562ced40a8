// hwnas proxy: how well each accuracy estimator ranks the presets whose ImageNet top-1 is published
// (SEEDS.md §7), by Kendall's τ-b, beside the params baseline.
#include <chrono>

#include <fmt/format.h>

#include "cli/cost_data.h"
#include "cli/estimators.h"
#include "cli/options.h"
#include "cli/table.h"
#include "cost_models/metrics.h"
#include "space/canonical.h"
#include "space/presets.h"

namespace hwnas::cli {

int run_proxy(const Args& args) {
  const std::string usage = "hwnas proxy [--objective NAME]... [--threads T]";
  po::options_description desc("proxy: rank the presets by each accuracy estimator, Kendall tau vs published top-1");
  desc.add_options()("objective", po::value<std::vector<std::string>>()->composing(),
                     ("estimator to compare, repeatable (default: params, macs, zen); " + estimator_help()).c_str())(
      "threads", po::value<int>()->default_value(0), "engine threads (0 = every CPU available)");
  po::variables_map vm;
  if (!parse_options(usage, desc, {}, args, vm)) return kExitOk;
  const int threads = vm["threads"].as<int>();
  if (threads < 0) throw UsageError("--threads: must be >= 0");
  const std::vector<std::string> names =
      vm.count("objective") != 0 ? vm["objective"].as<std::vector<std::string>>() : default_proxy_names();

  auto engine = make_backend("onednn", threads);
  EstimatorContext ctx{engine.get(), threads, nullptr};
  std::vector<std::unique_ptr<search::Estimator>> estimators;
  for (const auto& n : names) estimators.push_back(make_estimator(n, ctx));

  std::vector<Table::Column> cols = {{"preset", Table::Align::left}, {"top-1"}};
  for (const auto& e : estimators) cols.push_back({e->name()});
  Table t(cols);
  std::vector<double> top1;
  std::vector<std::vector<double>> values(estimators.size());
  std::vector<double> seconds(estimators.size(), 0.0);
  std::vector<int> failures(estimators.size(), 0);
  for (const auto& info : space::presets()) {
    auto arch = space::preset(info.name);
    if (!arch || !arch->meta.top1) continue;
    const std::string hash = space::hash_hex(space::arch_hash(*arch));
    std::vector<std::string> row = {info.name, fmt::format("{:.1f}", *arch->meta.top1)};
    std::vector<double> vals;
    bool all_ok = true;
    for (std::size_t i = 0; i < estimators.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      auto v = estimators[i]->estimate(*arch, hash);
      seconds[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!v) {
        ++failures[i];
        all_ok = false;
        row.push_back("failed");
        fmt::print(stderr, "proxy: {} on {}: {}\n", estimators[i]->name(), info.name, v.error().message);
        continue;
      }
      vals.push_back(*v);
      row.push_back(fmt::format("{:.4g}", *v));
    }
    t.add_row(row);
    if (!all_ok) continue;  // τ over the presets every estimator scored
    top1.push_back(*arch->meta.top1);
    for (std::size_t i = 0; i < estimators.size(); ++i) values[i].push_back(vals[i]);
  }
  t.add_rule();
  std::vector<std::string> tau = {fmt::format("Kendall tau (n={})", top1.size()), ""};
  std::vector<std::string> time = {"seconds per preset", ""};
  const double presets = static_cast<double>(top1.size() + static_cast<std::size_t>(failures[0]));
  for (std::size_t i = 0; i < estimators.size(); ++i) {
    tau.push_back(fmt::format("{:.3f}", cost::kendall_tau(values[i], top1)));
    time.push_back(fmt::format("{:.3f}", seconds[i] / std::max(presets, 1.0)));
  }
  t.add_row(tau);
  t.add_row(time);
  t.print(stdout);
  return kExitOk;
}

}  // namespace hwnas::cli
