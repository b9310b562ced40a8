// hwnas compress: a trained network made faster on this device without training. finercut: remove
// attention and FFN sublayers in FinerCut's order (greedy, one-shot, or latency-aware with the cost
// model's predicted savings) to a ratio or a latency budget; the result is an arch JSON whose
// removed sublayers are `skip` / `none`, its weights (the original's minus the removed ones) and
// the removal order with distance and latency after every step.
#include <cmath>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/arch_arg.h"
#include "cli/calibrate.h"
#include "cli/cost_options.h"
#include "cli/db_common.h"
#include "cli/inputs_arg.h"
#include "cli/output_file.h"
#include "cli/search_oracle.h"
#include "cli/weights_arg.h"
#include "compress/finercut.h"
#include "profilers/backends.h"
#include "space/arch_json.h"
#include "space/canonical.h"
#include "space/validate.h"
#include "weights/checkpoint.h"

namespace hwnas::cli {
namespace {

using nlohmann::json;

compress::Calibration calibration_from_options(const po::variables_map& vm, const space::Arch& arch) {
  const std::int64_t per = arch.input.channels * arch.input.height * arch.input.width;
  compress::Calibration c;
  if (vm.count("synthetic") != 0) {
    if (vm.count("input") + vm.count("images") + vm.count("image") != 0)
      throw UsageError("give one of --images DIR, --image FILE..., --input T.npy, --synthetic N");
    c.count = vm["synthetic"].as<std::int64_t>();
    if (c.count < 1 || c.count > 4096) throw UsageError("--synthetic: must be in [1, 4096]");
    fmt::print(stderr,
               "warning: --synthetic {}: Gaussian noise as calibration inputs; rankings then say little about "
               "real images\n",
               c.count);
    c.images.resize(static_cast<std::size_t>(c.count * per));
    std::mt19937_64 gen(vm["seed"].as<std::uint64_t>());
    std::normal_distribution<float> d;
    for (float& v : c.images) v = d(gen);
    return c;
  }
  const Inputs in = inputs_from_options(vm, arch);
  weights::EvalTransform transform;
  transform.size = arch.input.height;
  c.count = in.count();
  c.images.resize(static_cast<std::size_t>(c.count * per));
  for (std::int64_t i = 0; i < c.count; ++i)
    load_input(in, i, transform, std::span<float>(c.images.data() + i * per, static_cast<std::size_t>(per)));
  return c;
}

json steps_json(const compress::FinercutResult& r) {
  json steps = json::array();
  for (const compress::Step& s : r.steps)
    steps.push_back({{"removed", compress::label(s.removed)},
                     {"distance", s.distance},
                     {"predicted_ms", s.predicted_ms},
                     {"score", s.score},
                     {"measured_ms", s.measured_ms}});
  return steps;
}

int compress_finercut(const Args& args) {
  const std::string usage =
      "hwnas compress finercut (--preset NAME | FILE) [--weights W.safetensors] (--images DIR | --image FILE... |\n"
      "          --input T.npy | --synthetic N) (--ratio R | --budget-ms B) [--method greedy|oneshot|latency]\n"
      "          [--distance finercut-js|js|angular|rel-l2] [-o PREFIX] [--calib-batch N] [--threads T] [--db DB]";
  po::options_description desc(
      "compress finercut: remove attention/FFN sublayers in FinerCut's order (no training) to a ratio or a latency "
      "budget");
  po::positional_options_description positional;
  add_arch_options(desc, positional);
  add_convention_option(desc);
  add_cost_key_options(desc);
  desc.add_options()("weights", po::value<std::string>(), "trained weights (default: seeded random ones, a demo)")(
      "images", po::value<std::string>(), "calibration images: a folder of JPEG/PNG files")(
      "image", po::value<std::vector<std::string>>()->multitoken(), "calibration images: files")(
      "input", po::value<std::string>(), "calibration inputs: a tensor [N, C, H, W] (.npy)")(
      "synthetic", po::value<std::int64_t>(), "N Gaussian inputs (rankings then mean little)")(
      "ratio", po::value<double>(), "share of the sublayers to remove, in (0, 1): int(2L·ratio) removals")(
      "budget-ms", po::value<double>(), "remove until the predicted latency is within this budget")(
      "method", po::value<std::string>()->default_value("greedy"),
      "greedy (FinerCut), oneshot, or latency (distance increase per ms saved)")(
      "distance", po::value<std::string>()->default_value("finercut-js"), "finercut-js, js, angular or rel-l2")(
      "output,o", po::value<std::string>(), "write PREFIX.json (arch), PREFIX.safetensors, PREFIX.order.json")(
      "calib-batch", po::value<std::int64_t>()->default_value(8), "calibration inputs per engine pass")(
      "calibrate-min", po::value<double>()->default_value(1.0),
      "minutes of calibration when the store has no cost model for this configuration")(
      "seed", po::value<std::uint64_t>()->default_value(0x5eed), "seed of random weights and --synthetic inputs");
  po::variables_map vm;
  if (!parse_options(usage, desc, positional, args, vm)) return kExitOk;

  // Everything the user gave is checked before any work.
  const space::Arch arch = arch_from_options(vm, usage);
  const auto method = compress::method_from(vm["method"].as<std::string>());
  if (!method)
    throw UsageError(
        fmt::format("--method: must be greedy, oneshot or latency (got '{}')", vm["method"].as<std::string>()));
  const auto metric = compress::distance_from(vm["distance"].as<std::string>());
  if (!metric)
    throw UsageError(fmt::format("--distance: must be one of {} (got '{}')", compress::distance_names(),
                                 vm["distance"].as<std::string>()));
  if ((vm.count("ratio") != 0) == (vm.count("budget-ms") != 0))
    throw UsageError("give exactly one of --ratio R, --budget-ms B");
  const std::vector<compress::Sublayer> all = compress::removable_sublayers(arch);
  if (all.empty()) throw UsageError("the architecture has no attention or FFN sublayer to remove");
  std::size_t max_steps = 0;
  if (vm.count("ratio") != 0) {
    const double r = vm["ratio"].as<double>();
    if (!(r > 0 && r < 1)) throw UsageError(fmt::format("--ratio: must be in (0, 1) (got {})", r));
    max_steps = static_cast<std::size_t>(static_cast<double>(all.size()) * r);
    if (max_steps == 0) throw UsageError(fmt::format("--ratio {}: int({}·{}) removes no sublayer", r, all.size(), r));
  }
  const std::int64_t calib_batch = vm["calib-batch"].as<std::int64_t>();
  if (calib_batch < 1 || calib_batch > 4096) throw UsageError("--calib-batch: must be in [1, 4096]");
  const prof::RandomWeights random(vm["seed"].as<std::uint64_t>());
  std::unique_ptr<weights::CheckpointWeights> checkpoint;
  const space::WeightSource& source = weights_from_options(vm, arch, random, checkpoint);
  if (!checkpoint)
    fmt::print(stderr, "warning: no --weights: compressing seeded random weights (a demonstration, not a model)\n");
  compress::Calibration calib = calibration_from_options(vm, arch);

  // Latency: the store's cost model for the target configuration (calibrated first if there is none).
  store::Store db = open_store_or_usage_error(db_path(vm), store::OpenMode::read_write);
  CostTarget target = cost_target(vm, &db);
  const bool need_model = vm.count("budget-ms") != 0 || *method == compress::Method::latency;
  std::optional<StoredModel> model = find_stored_model(db, target.key);
  if (!model && need_model)
    model = calibrated_model(*target.backend, db, target.key, vm["calibrate-min"].as<double>() * 60, stderr);
  std::unique_ptr<SearchOracle> oracle;
  if (model) oracle = std::make_unique<SearchOracle>(*target.backend, db, target.key, model->model);
  if (vm.count("budget-ms") != 0) {
    const double budget = vm["budget-ms"].as<double>();
    auto fastest = space::validate(compress::without(arch, all));
    if (!fastest) throw RuntimeFailure(fastest.error().message);
    const double floor_ms = oracle->predict_ms(*fastest);
    if (!(budget > 0) || floor_ms > budget)
      throw UsageError(fmt::format(
          "--budget-ms {}: not reachable by removing sublayers: the fastest reachable is {:.3f} ms predicted "
          "(all {} removed)",
          budget, floor_ms, all.size()));
  }

  // The engine that computes the outputs: this CPU.
  auto engine = prof::make_backend(prof::DeviceSpec{}, target.key.run.threads);
  if (!engine) throw RuntimeFailure(engine.error().message);
  prof::RunConfig run;
  run.batch = calib_batch;
  run.threads = target.key.run.threads;
  fmt::print(stderr, "finercut ({}, {}): {} sublayers, {} calibration inputs; original logits…\n",
             compress::name_of(*method), compress::name_of(*metric), all.size(), calib.count);
  auto fidelity = compress::Fidelity::create(**engine, arch, source, std::move(calib), *metric, run);
  if (!fidelity) throw RuntimeFailure(fidelity.error().message);

  compress::FinercutConfig cfg;
  cfg.method = *method;
  cfg.max_steps = max_steps;
  if (vm.count("budget-ms") != 0) cfg.budget_ms = vm["budget-ms"].as<double>();
  if (oracle) cfg.predict_ms = [&](const space::Arch& a) { return oracle->predict_ms(a); };
  if (oracle && cfg.budget_ms > 0)
    cfg.measure_ms = [&](const space::Arch& a) {  // stored: the final measurement below reuses it
      auto m = oracle->measure(a, space::hash_hex(space::arch_hash(a)));
      if (!m) throw RuntimeFailure(m.error().message);
      fmt::print(stderr, "  measured {:.3f} ms (budget {:.3f} ms){}\n", m->ms, cfg.budget_ms,
                 m->ms > cfg.budget_ms ? ": over, removing on" : "");
      return m->ms;
    };
  cfg.on_step = [&](const compress::Step& s, std::size_t step, std::size_t tried) {
    fmt::print(stderr, "step {:3}: {} removed ({} tried)  distance {:.4g}{}\n", step, compress::label(s.removed), tried,
               s.distance, oracle ? fmt::format("  predicted {:.3f} ms", s.predicted_ms) : "");
  };
  auto result = compress::finercut(**fidelity, cfg);
  if (!result) throw RuntimeFailure(result.error().message);

  auto pruned = space::validate(compress::without(arch, compress::removed_by(*result, result->steps.size())));
  if (!pruned) throw RuntimeFailure(pruned.error().message);
  pruned->meta.name =
      fmt::format("{}-finercut-{}", arch.meta.name.empty() ? "arch" : arch.meta.name, result->steps.size());
  pruned->meta.source = fmt::format("hwnas compress finercut ({}, {}) of {}", compress::name_of(*method),
                                    compress::name_of(*metric), arch.meta.name);
  json record = {{"arch", arch.meta.name},
                 {"method", compress::name_of(*method)},
                 {"distance", compress::name_of(*metric)},
                 {"candidates", result->candidates.size()},
                 {"evaluations", result->evaluations},
                 {"unit_passes", (*fidelity)->unit_passes()},
                 {"original_predicted_ms", result->original_ms},
                 {"steps", steps_json(*result)}};
  fmt::print("{} of {} sublayers removed ({} networks evaluated)\n", result->steps.size(), all.size(),
             result->evaluations);
  if (oracle) {
    auto before = oracle->measure(arch, space::hash_hex(space::arch_hash(arch)));
    auto after = oracle->measure(*pruned, space::hash_hex(space::arch_hash(*pruned)));
    if (!before || !after) throw RuntimeFailure((before ? after.error() : before.error()).message);
    record["original_ms"] = before->ms;
    record["pruned_ms"] = after->ms;
    fmt::print("latency (measured, batch {}): {:.3f} ms -> {:.3f} ms ({:.1f}% saved); distance {:.4g}\n",
               target.key.run.batch, before->ms, after->ms, 100 * (1 - after->ms / before->ms),
               result->steps.empty() ? 0.0 : result->steps.back().distance);
    if (cfg.budget_ms > 0 && after->ms > cfg.budget_ms)
      fmt::print(stderr, "warning: measured {:.3f} ms is over the budget {:.3f} ms (predicted {:.3f} ms)\n", after->ms,
                 cfg.budget_ms, result->steps.empty() ? result->original_ms : result->steps.back().predicted_ms);
  }
  if (vm.count("output") != 0) {
    const std::string prefix = vm["output"].as<std::string>();
    auto net = space::lower(*pruned);
    if (!net) throw RuntimeFailure(net.error().message);
    auto put = weights::write_checkpoint(prefix + ".safetensors", *net, space::Convention::hwnas, source);
    if (!put) throw RuntimeFailure(put.error().message);
    write_output_file(prefix + ".json", space::arch_to_json(*pruned, true).dump(1) + "\n");
    write_output_file(prefix + ".order.json", record.dump(1) + "\n");
    fmt::print("wrote {0}.json, {0}.safetensors (hwnas names), {0}.order.json\n", prefix);
  }
  return kExitOk;
}

}  // namespace

int run_compress(const Args& args) {
  static const std::vector<Command> kSub = {
      {"finercut", "remove attention/FFN sublayers in FinerCut's order to a ratio or a latency budget",
       compress_finercut},
  };
  return dispatch(kSub, "hwnas compress", args);
}

}  // namespace hwnas::cli
