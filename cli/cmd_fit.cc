// hwnas fit: trains the cost model of a key from the store, stores it, prints its held-out evaluation.
// hwnas predict: latency of an architecture from the stored model, with its error band.
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "cli/arch_arg.h"
#include "cli/cost_fit.h"
#include "cli/cost_options.h"
#include "cli/db_common.h"
#include "cli/output_file.h"
#include "cli/table.h"
#include "cost_models/model_json.h"
#include "space/canonical.h"
#include "space/count.h"
#include "store/records.h"

namespace hwnas::cli {

int run_fit(const Args& args) {
  const std::string usage =
      "hwnas fit [--device cpu|cuda:N|FP] [--batch N] [--threads T] [--dtype f32|bf16|f16] [--backend onednn|fake] "
      "[--db PATH] "
      "[--json OUT]";
  po::options_description desc("fit: train the cost model of this device and configuration from the store");
  add_cost_key_options(desc);
  desc.add_options()("json", po::value<std::string>(), "also write the model JSON (with its evaluation) to OUT");
  po::variables_map vm;
  if (!parse_options(usage, desc, {}, args, vm)) return kExitOk;
  store::Store db = open_store_or_usage_error(db_path(vm), store::OpenMode::read_write);
  const CostTarget target = cost_target(vm, &db);
  const FitOutcome f = fit_and_store(db, target.key, default_holdout());
  print_evaluation(stdout, f);
  fmt::print("stored as cost model v{} in {}\n", f.version, db.path());
  if (vm.count("json") != 0) {
    write_output_file(vm["json"].as<std::string>(), cost::to_json_text(f.model) + "\n");
  }
  return kExitOk;
}

namespace {

cost::Model load_model(store::Store& db, const po::variables_map& vm, const CostKey& key) {
  if (vm.count("model") != 0) {
    const std::string path = vm["model"].as<std::string>();
    std::ifstream in(path);
    if (!in) throw UsageError(fmt::format("{}: cannot open", path));
    std::stringstream text;
    text << in.rdbuf();
    auto m = cost::model_from_json(text.str(), path);
    if (!m) throw UsageError(m.error().message);
    if (const std::string why = cost::incompatibility(m->key, key.model); !why.empty())
      throw UsageError(fmt::format("{}: {}", path, why));
    return std::move(m).value();
  }
  auto m = find_stored_model(db, key);
  if (!m)
    throw RuntimeFailure(fmt::format(
        "no cost model in {} for {} [{}], backend {}, batch {}, {}, {} threads: run 'hwnas calibrate' (or 'hwnas fit' "
        "if it holds measurements)",
        db.path(), key.model.device_model, key.model.device, key.model.backend, key.model.batch, key.model.dtype,
        key.model.threads));
  return std::move(m->model);
}

std::string ms(double us) {
  return fmt::format("{:.3f} ms", us / 1e3);
}

}  // namespace

int run_predict(const Args& args) {
  const std::string usage =
      "hwnas predict (--preset NAME | FILE) [--per-block] [--batch N] [--threads T] [--dtype f32|bf16|f16] [--device "
      "cpu|cuda:N|FP] "
      "[--model MODEL.json] [--db PATH]";
  po::options_description desc("predict: latency of an architecture from the fitted cost model");
  po::positional_options_description pos;
  add_arch_options(desc, pos);
  add_cost_key_options(desc);
  desc.add_options()("per-block", "print every unit's prediction")(
      "model", po::value<std::string>(), "a model JSON file (from 'hwnas fit --json') instead of the store's");
  po::variables_map vm;
  if (!parse_options(usage, desc, pos, args, vm)) return kExitOk;
  const space::Arch arch = arch_from_options(vm, usage);
  store::Store db = open_store_or_usage_error(db_path(vm), store::OpenMode::read_only);
  const CostTarget target = cost_target(vm, &db);
  const cost::Model model = load_model(db, vm, target.key);
  auto net = space::lower(arch);
  if (!net) throw UsageError(net.error().message);
  const std::string hash = space::hash_hex(space::arch_hash(arch));
  const double predicted = model.predict_us(arch, *net);

  auto cached = [&](const std::string& subject) -> std::optional<double> {
    auto hit = db.find_measurement(measurement_key(target.key, subject));
    if (!hit) throw RuntimeFailure(hit.error().message);
    if (!*hit || (*hit)->record.figures.noisy) return std::nullopt;
    return (*hit)->record.figures.figure_us;
  };
  const std::optional<double> measured = cached(hash);

  fmt::print("{} [{}] on {}, backend {}, batch {}, {}, {} threads ({})\n",
             arch.meta.name.empty() ? "architecture" : arch.meta.name, hash, model.key.device_model, model.key.backend,
             model.key.batch, model.key.dtype, model.key.threads, space::format_macs(space::count(*net).macs));
  if (vm.count("per-block") != 0) {
    Table t({{"unit", Table::Align::left},
             {"group", Table::Align::left},
             {"MACs"},
             {"predicted us"},
             {"GMAC/s"},
             {"measured us"}});
    const auto units = model.predict_units(arch, *net);
    for (const auto& u : units) {
      const auto m = cached(store::subject_hash(hash, u.label));
      t.add_row({u.label, u.group,
                 space::format_macs(static_cast<std::int64_t>(u.macs / static_cast<double>(model.key.batch))),
                 fmt::format("{:.1f}", u.us), fmt::format("{:.1f}", u.attained_gmacs()),
                 m ? fmt::format("{:.1f}", *m) : "-"});
    }
    t.print(stdout);
  }
  const double lo = predicted / (1 + model.band.q95), hi = predicted / (1 + model.band.q05);
  fmt::print("predicted {} (90% band {} to {}, from the {} error quantiles of {} archs)\n", ms(predicted), ms(lo),
             ms(hi), model.band.source, model.band.n);
  if (measured)
    fmt::print("measured  {} (cached in {}): the exact cache hit is the answer ({:+.1f}% predicted vs measured)\n",
               ms(*measured), db.path(), 100 * (predicted / *measured - 1));
  return kExitOk;
}

}  // namespace hwnas::cli
