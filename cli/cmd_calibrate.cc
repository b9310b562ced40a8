// hwnas calibrate: fills the store for this device and configuration (calibrate.h), then fits the
// cost model, stores it and prints its held-out evaluation.
#include <fmt/format.h>

#include "cli/calibrate.h"
#include "cli/cost_fit.h"
#include "cli/cost_options.h"
#include "cli/db_common.h"
#include "cli/farm.h"
#include "profilers/backends.h"

namespace hwnas::cli {

int run_calibrate(const Args& args) {
  const std::string usage =
      "hwnas calibrate [--budget-min 10] [--device cpu|cuda:N] [--batch N] [--threads T] [--dtype f32|bf16|f16] "
      "[--eval-archs N] "
      "[--max-item-ms MS] [--network-bursts N] [--backend onednn|fake] [--db PATH] [--mpi [--mpi-devices MAP.json]]";
  po::options_description desc("calibrate: measure units and networks for the cost model of this device, then fit it");
  add_cost_key_options(desc);
  CalibrateOptions o;
  desc.add_options()("budget-min", po::value<double>()->default_value(10),
                     "minutes of training measurements (the held-out set is measured on top)")(
      "eval-archs", po::value<int>()->default_value(o.eval_samples),
      "held-out samples of the search space to measure besides every preset (max 200)")(
      "no-presets", "leave the presets out of the held-out measurements")(
      "max-item-ms", po::value<double>()->default_value(o.max_item_ms),
      "cap on each unit's timing (ms); networks use the standard protocol's cap")(
      "pool-archs", po::value<int>()->default_value(o.pool_archs), "training archs the unit pool is drawn from")(
      "preset-neighbours", po::value<int>()->default_value(o.preset_neighbours),
      "training archs per preset made by removing some of its sublayers (FinerCut's space; 0: none)")(
      "network-bursts", po::value<int>()->default_value(o.network_bursts),
      "times each network is measured at most, apart in time: twice, then again while the two fastest bursts "
      "differ by more than --burst-agree (the fastest is kept; one process only)")(
      "burst-agree", po::value<double>()->default_value(o.burst_agree), "bursts agree within this fraction")(
      "no-fit", "only measure");
  add_farm_options(desc);
  po::variables_map vm;
  if (!parse_options(usage, desc, {}, args, vm)) return kExitOk;
  o.budget_s = vm["budget-min"].as<double>() * 60;
  o.eval_samples = vm["eval-archs"].as<int>();
  o.eval_presets = vm.count("no-presets") == 0;
  o.max_item_ms = vm["max-item-ms"].as<double>();
  o.pool_archs = vm["pool-archs"].as<int>();
  o.preset_neighbours = vm["preset-neighbours"].as<int>();
  o.network_bursts = vm["network-bursts"].as<int>();
  o.burst_agree = vm["burst-agree"].as<double>();
  if (!(o.budget_s >= 0)) throw UsageError("--budget-min: must be >= 0");
  if (o.eval_samples < 0 || o.eval_samples > cost::kHoldoutSamples)
    throw UsageError(fmt::format("--eval-archs: must be in [0, {}]", cost::kHoldoutSamples));
  if (!(o.max_item_ms >= 10)) throw UsageError("--max-item-ms: must be >= 10");
  if (o.pool_archs < 1 || o.pool_archs > 100000) throw UsageError("--pool-archs: must be in [1, 100000]");
  if (o.preset_neighbours < 0 || o.preset_neighbours > 20) throw UsageError("--preset-neighbours: must be in [0, 20]");
  if (o.network_bursts < 1 || o.network_bursts > 5) throw UsageError("--network-bursts: must be in [1, 5]");
  if (!(o.burst_agree >= 0 && o.burst_agree < 1)) throw UsageError("--burst-agree: must be in [0, 1)");
  if (vm.count("device") != 0 && !prof::parse_device(vm["device"].as<std::string>()))
    throw UsageError("--device: calibrate measures this machine: cpu or cuda:N");

  store::Store db = open_store_or_usage_error(db_path(vm), store::OpenMode::read_write);
  CostTarget target = cost_target(vm, &db);
  const cost::Holdout holdout = default_holdout();
  if (auto why = target.backend->unsupported(holdout.samples.front(), target.key.run); !why.empty())
    throw UsageError(fmt::format("cannot calibrate: {}", why));
  o.farm = farm_from_options(vm, "calibrate", target.key.model.device, target.key.model.device_model);
  if (o.farm != nullptr)
    fmt::print(stderr, "calibrate: {} MPI worker(s) measure on {}\n", o.farm->workers_on(target.key.model.device),
               target.key.model.device_model);
  const CalibrateStats st = calibrate(*target.backend, db, target.key, holdout, o, stderr);
  if (o.farm != nullptr) fmt::print("{}\n", farm_summary(*o.farm));
  fmt::print(
      "calibration: {} units measured + {} reused from the store, {} training networks, {} held-out "
      "measurements; {:.1f} min training + {:.1f} min held-out ({} clock)\n",
      st.measured, st.reused, st.networks, st.held_out, st.training_s / 60, st.held_out_s / 60,
      target.key.model.backend == "fake" ? "virtual" : "wall");
  if (vm.count("no-fit") != 0) return kExitOk;
  const FitOutcome f = fit_and_store(db, target.key, holdout);
  print_evaluation(stdout, f);
  fmt::print("stored as cost model v{} in {}\n", f.version, db.path());
  return kExitOk;
}

}  // namespace hwnas::cli
