// hwnas compress: a trained network made faster on this device without training.
//   finercut  remove attention and FFN sublayers in FinerCut's order (greedy, one-shot, or
//             latency-aware with the cost model's predicted savings) to a ratio or a latency budget;
//             the result is an arch JSON whose removed sublayers are `skip` / `none`, its weights (the
//             original's minus the removed ones) and the removal order with distance and latency.
//   spvit     carve 1×1 / 3×3 bottleneck convs out of MSA layers, skip layers and narrow FFNs
//             (SPViT's choices, no training) to a latency budget, by NSGA-II over the choices; the
//             result is the chosen arch JSON, its carved weights and the search record.
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
#include "cli/phase_progress.h"
#include "cli/search_oracle.h"
#include "cli/store_records.h"
#include "cli/stored_measure.h"
#include "cli/unit_latency.h"
#include "cli/weights_arg.h"
#include "compress/carving.h"
#include "compress/finercut.h"
#include "compress/spvit.h"
#include "profilers/backends.h"
#include "space/arch_json.h"
#include "space/canonical.h"
#include "space/presets.h"
#include "space/search_space.h"
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

// Options every method takes.
void add_common_options(po::options_description& desc, po::positional_options_description& positional) {
  add_arch_options(desc, positional);
  add_convention_option(desc);
  add_cost_key_options(desc);
  desc.add_options()("weights", po::value<std::string>(), "trained weights (default: seeded random ones, a demo)")(
      "images", po::value<std::string>(), "calibration images: a folder of JPEG/PNG files")(
      "image", po::value<std::vector<std::string>>()->multitoken(), "calibration images: files")(
      "input", po::value<std::string>(), "calibration inputs: a tensor [N, C, H, W] (.npy)")(
      "synthetic", po::value<std::int64_t>(), "N Gaussian inputs (rankings then mean little)")(
      "distance", po::value<std::string>()->default_value("finercut-js"), "finercut-js, js, angular or rel-l2")(
      "calib-batch", po::value<std::int64_t>()->default_value(8), "calibration inputs per engine pass")(
      "latency", po::value<std::string>()->default_value("table"),
      "table (units measured on this device, summed) or model (the store's cost model)")(
      "calibrate-min", po::value<double>()->default_value(1.0),
      "--latency model: minutes of calibration when the store has no cost model for this configuration")(
      "seed", po::value<std::uint64_t>()->default_value(0x5eed), "seed of random weights and --synthetic inputs");
}

// The trained network's weights and the calibration inputs, checked before any work.
struct Model {
  compress::Distance metric = compress::Distance::finercut_js;
  std::int64_t calib_batch = 8;
  prof::RandomWeights random;
  std::unique_ptr<weights::CheckpointWeights> checkpoint;
  const space::WeightSource* source = nullptr;
  compress::Calibration calib;
  explicit Model(std::uint64_t seed) : random(seed) {}
};

std::unique_ptr<Model> model_from_options(const po::variables_map& vm, const space::Arch& arch) {
  auto m = std::make_unique<Model>(vm["seed"].as<std::uint64_t>());
  const auto metric = compress::distance_from(vm["distance"].as<std::string>());
  if (!metric)
    throw UsageError(fmt::format("--distance: must be one of {} (got '{}')", compress::distance_names(),
                                 vm["distance"].as<std::string>()));
  m->metric = *metric;
  m->calib_batch = vm["calib-batch"].as<std::int64_t>();
  if (m->calib_batch < 1 || m->calib_batch > 4096) throw UsageError("--calib-batch: must be in [1, 4096]");
  m->source = &weights_from_options(vm, arch, m->random, m->checkpoint);
  if (!m->checkpoint)
    fmt::print(stderr, "warning: no --weights: compressing seeded random weights (a demonstration, not a model)\n");
  m->calib = calibration_from_options(vm, arch);
  return m;
}

// Latency on the target configuration: a table of measured units (unit_latency.h, the default) or
// the store's cost model (calibrated first if there is none); networks measured through the store
// (a network already measured for the configuration is not measured again).
struct Latency {
  store::Store db;
  CostTarget target;
  std::optional<StoredModel> model;
  std::unique_ptr<SearchOracle> oracle;
  std::unique_ptr<UnitLatencyTable> table;
  explicit Latency(store::Store s) : db(std::move(s)) {}

  double original_ms = 0;  // the table's anchor

  bool available() const { return oracle || table; }
  void describe() const {
    if (table)
      fmt::print(stderr,
                 "latency: a table of {} units measured on this device; the original {:.3f} ms end to end, "
                 "{:.3f}× the sum of its units\n",
                 table->units_measured(), original_ms, table->ratio());
  }
  double predict_ms(const space::Arch& a) { return table ? table->predict_ms(a) : oracle->predict_ms(a); }

  double network_ms(const space::Arch& a) {
    const std::string hash = space::hash_hex(space::arch_hash(a));
    if (oracle) {
      auto m = oracle->measure(a, hash);
      if (!m) throw RuntimeFailure(m.error().message);
      return m->ms;
    }
    auto hit = db.find_measurement(measurement_key(target.key, hash));
    if (!hit) throw RuntimeFailure(hit.error().message);
    if (*hit) return (*hit)->record.figures.figure_us / 1e3;
    auto put = db.put_arch(arch_record(a));
    if (!put) throw RuntimeFailure(put.error().message);
    // In bursts: whether a pruned model fits the budget is often a matter of a few percent.
    auto us = measure_and_store(*target.backend, db, target.key, a, hash, -1,
                                prof::TimingConfig::for_protocol(prof::Protocol::standard), weights, stderr, false,
                                prof::BurstPolicy::up_to(3));
    if (!us) throw RuntimeFailure("cannot measure " + hash);
    return *us / 1e3;
  }

  double measure_ms(const space::Arch& a, double budget_ms) {
    const double ms = network_ms(a);
    fmt::print(stderr, "  measured {:.3f} ms (budget {:.3f} ms){}\n", ms, budget_ms, ms > budget_ms ? ": over" : "");
    return ms;
  }

  prof::RandomWeights weights;
};

// `need` a latency model: with --latency model, one is calibrated when the store has none; the
// table is built when `predictions` are wanted (otherwise networks are only measured).
std::unique_ptr<Latency> latency_from_options(const po::variables_map& vm, bool need, bool predictions,
                                              const space::Arch& original) {
  auto l = std::make_unique<Latency>(open_store_or_usage_error(db_path(vm), store::OpenMode::read_write));
  l->target = cost_target(vm, &l->db);
  if (auto put = l->db.put_device(device_record(l->target.backend->device())); !put)
    throw RuntimeFailure(put.error().message);
  const std::string source = vm["latency"].as<std::string>();
  if (source == "table") {
    if (!predictions) return l;
    l->table = std::make_unique<UnitLatencyTable>(*l->target.backend, l->db, l->target.key, stderr);
    l->original_ms = l->network_ms(original);
    l->table->anchor(original, l->original_ms);
    return l;
  }
  if (source != "model") throw UsageError(fmt::format("--latency: must be table or model (got '{}')", source));
  l->model = find_stored_model(l->db, l->target.key);
  if (!l->model && need)
    l->model =
        calibrated_model(*l->target.backend, l->db, l->target.key, vm["calibrate-min"].as<double>() * 60, stderr);
  if (l->model) l->oracle = std::make_unique<SearchOracle>(*l->target.backend, l->db, l->target.key, l->model->model);
  return l;
}

// The engine that computes the outputs (this CPU) and the original's logits on the calibration set.
struct Engine {
  std::unique_ptr<prof::Backend> backend;
  std::unique_ptr<compress::Fidelity> fidelity;
};

Engine engine_for(const space::Arch& arch, Model& m, const Latency& l) {
  Engine e;
  auto b = prof::make_backend(prof::DeviceSpec{}, l.target.key.run.threads);
  if (!b) throw RuntimeFailure(b.error().message);
  e.backend = std::move(*b);
  prof::RunConfig run;
  run.batch = m.calib_batch;
  run.threads = l.target.key.run.threads;
  auto f = compress::Fidelity::create(*e.backend, arch, *m.source, std::move(m.calib), m.metric, run);
  if (!f) throw RuntimeFailure(f.error().message);
  e.fidelity = std::move(*f);
  return e;
}

// The original and the result measured; their figures go into `record`.
void measure_before_after(Latency& l, const space::Arch& arch, const space::Arch& result, double distance,
                          const std::string& result_key, json& record) {
  const double before = l.network_ms(arch), after = l.network_ms(result);
  record["original_ms"] = before;
  record[result_key] = after;
  fmt::print("latency (measured, batch {}): {:.3f} ms -> {:.3f} ms ({:.1f}% saved); distance {:.4g}\n",
             l.target.key.run.batch, before, after, 100 * (1 - after / before), distance);
}

// PREFIX.json (arch), PREFIX.safetensors (hwnas names, from `source`), PREFIX.<record_name>.json.
void write_result(const std::string& prefix, const space::Arch& result, const space::WeightSource& source,
                  const std::string& record_name, const json& record) {
  auto net = space::lower(result);
  if (!net) throw RuntimeFailure(net.error().message);
  auto put = weights::write_checkpoint(prefix + ".safetensors", *net, space::Convention::hwnas, source);
  if (!put) throw RuntimeFailure(put.error().message);
  write_output_file(prefix + ".json", space::arch_to_json(result, true).dump(1) + "\n");
  write_output_file(prefix + "." + record_name + ".json", record.dump(1) + "\n");
  fmt::print("wrote {0}.json, {0}.safetensors (hwnas names), {0}.{1}.json\n", prefix, record_name);
}

// The run in the store (compress_runs, with both archs): what `hwnas report` draws.
void store_run(Latency& l, const std::string& method, const space::Arch& original, const space::Arch& result,
               json record) {
  for (const space::Arch* a : {&original, &result})
    if (auto put = l.db.put_arch(arch_record(*a)); !put) throw RuntimeFailure(put.error().message);
  store::CompressRunRecord r;
  r.id = store::new_search_run_id();
  r.method = method;
  r.arch_hash = space::hash_hex(space::arch_hash(original));
  r.result_hash = space::hash_hex(space::arch_hash(result));
  r.device = l.target.key.model.device;
  record["original_name"] = original.meta.name;
  record["result_name"] = result.meta.name;
  record["batch"] = l.target.key.run.batch;
  record["threads"] = l.target.key.run.threads;
  r.record_json = record.dump();
  if (auto put = l.db.put_compress_run(r); !put) throw RuntimeFailure(put.error().message);
  fmt::print("stored compression run {} ('hwnas report' draws it)\n", r.id);
}

std::string name_or(const space::Arch& a) {
  return a.meta.name.empty() ? "arch" : a.meta.name;
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

json exchanges_json(const compress::FinercutResult& r) {
  json out = json::array();
  for (const compress::Exchange& x : r.exchanges)
    out.push_back({{"restored", compress::label(x.restored)},
                   {"removed", x.removed ? compress::label(*x.removed) : ""},
                   {"distance", x.distance},
                   {"predicted_ms", x.predicted_ms},
                   {"measured_ms", x.measured_ms}});
  return out;
}

int compress_finercut(const Args& args) {
  const std::string usage =
      "hwnas compress finercut (--preset NAME | FILE) [--weights W.safetensors] (--images DIR | --image FILE... |\n"
      "          --input T.npy | --synthetic N) (--ratio R | --budget-ms B) [--method greedy|oneshot|latency]\n"
      "          [--distance finercut-js|js|angular|rel-l2] [--latency table|model] [--measure-steps] [-o PREFIX]\n"
      "          [--calib-batch N] [--threads T] [--db DB]";
  po::options_description desc(
      "compress finercut: remove attention/FFN sublayers in FinerCut's order (no training) to a ratio or a latency "
      "budget");
  po::positional_options_description positional;
  add_common_options(desc, positional);
  desc.add_options()("ratio", po::value<double>(),
                     "share of the sublayers to remove, in (0, 1): int(2L·ratio) removals")(
      "budget-ms", po::value<double>(), "remove until the predicted latency is within this budget")(
      "method", po::value<std::string>()->default_value("greedy"),
      "greedy (FinerCut), oneshot, or latency (distance increase per ms saved)")(
      "measure-steps", "measure the network after every removal (the measured distance/latency curve)")(
      "output,o", po::value<std::string>(), "write PREFIX.json (arch), PREFIX.safetensors, PREFIX.order.json");
  po::variables_map vm;
  if (!parse_options(usage, desc, positional, args, vm)) return kExitOk;

  // Everything the user gave is checked before any work.
  const space::Arch arch = arch_from_options(vm, usage);
  const auto method = compress::method_from(vm["method"].as<std::string>());
  if (!method)
    throw UsageError(
        fmt::format("--method: must be greedy, oneshot or latency (got '{}')", vm["method"].as<std::string>()));
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
  std::unique_ptr<Model> model = model_from_options(vm, arch);
  const compress::Distance metric = model->metric;
  std::unique_ptr<Latency> lat = latency_from_options(
      vm, vm.count("budget-ms") != 0 || *method == compress::Method::latency || vm.count("measure-steps") != 0, true,
      arch);
  const bool timed = lat->available();
  if (vm.count("budget-ms") != 0) {
    const double budget = vm["budget-ms"].as<double>();
    auto fastest = space::validate(compress::without(arch, all));
    if (!fastest) throw RuntimeFailure(fastest.error().message);
    const double floor_ms = lat->predict_ms(*fastest);
    if (!(budget > 0) || floor_ms > budget)
      throw UsageError(fmt::format(
          "--budget-ms {}: not reachable by removing sublayers: the fastest reachable is {:.3f} ms predicted "
          "(all {} removed)",
          budget, floor_ms, all.size()));
  }

  lat->describe();
  fmt::print(stderr, "finercut ({}, {}): {} sublayers, {} calibration inputs; original logits…\n",
             compress::name_of(*method), compress::name_of(metric), all.size(), model->calib.count);
  Engine engine = engine_for(arch, *model, *lat);
  compress::Fidelity& fidelity = *engine.fidelity;

  compress::FinercutConfig cfg;
  cfg.method = *method;
  cfg.max_steps = max_steps;
  if (vm.count("budget-ms") != 0) cfg.budget_ms = vm["budget-ms"].as<double>();
  if (timed) cfg.predict_ms = [&](const space::Arch& a) { return lat->predict_ms(a); };
  if (timed && cfg.budget_ms > 0)
    cfg.measure_ms = [&](const space::Arch& a) { return lat->measure_ms(a, cfg.budget_ms); };
  cfg.on_step = [&](const compress::Step& s, std::size_t step, std::size_t tried) {
    fmt::print(stderr, "step {:3}: {} removed ({} tried)  distance {:.4g}{}\n", step, compress::label(s.removed), tried,
               s.distance, timed ? fmt::format("  predicted {:.3f} ms", s.predicted_ms) : "");
  };
  auto result = compress::finercut(fidelity, cfg);
  if (!result) throw RuntimeFailure(result.error().message);
  if (result->finish_replaced > 0)
    fmt::print(stderr, "finish: {} removed instead of the path's last {} step(s) (distance {:.4g}, fits the budget)\n",
               compress::label(result->steps.back().removed), result->finish_replaced, result->steps.back().distance);
  for (const compress::Exchange& x : result->exchanges)
    fmt::print(stderr, "exchange: {} put back{} (distance {:.4g}, predicted {:.3f} ms{})\n",
               compress::label(x.restored), x.removed ? ", " + compress::label(*x.removed) + " removed instead" : "",
               x.distance, x.predicted_ms, x.measured_ms > 0 ? fmt::format(", measured {:.3f} ms", x.measured_ms) : "");

  if (timed && vm.count("measure-steps") != 0) {
    PhaseProgress progress(stderr);
    for (std::size_t k = 0; k < result->steps.size(); ++k) {
      compress::Step& st = result->steps[k];
      if (st.measured_ms <= 0) {
        auto a = space::validate(compress::without(arch, compress::removed_by(*result, k + 1)));
        if (!a) throw RuntimeFailure(a.error().message);
        st.measured_ms = lat->network_ms(*a);
      }
      progress("steps measured", k + 1, result->steps.size());
    }
  }
  const std::vector<compress::Sublayer> removed = compress::chosen(*result);
  auto pruned = space::validate(compress::without(arch, removed));
  if (!pruned) throw RuntimeFailure(pruned.error().message);
  pruned->meta.name = fmt::format("{}-finercut-{}", name_or(arch), removed.size());
  pruned->meta.source = fmt::format("hwnas compress finercut ({}, {}) of {}", compress::name_of(*method),
                                    compress::name_of(metric), arch.meta.name);
  json record = {{"arch", arch.meta.name},
                 {"method", compress::name_of(*method)},
                 {"distance", compress::name_of(metric)},
                 {"candidates", result->candidates.size()},
                 {"evaluations", result->evaluations},
                 {"unit_passes", fidelity.unit_passes()},
                 {"original_predicted_ms", result->original_ms},
                 {"budget_ms", cfg.budget_ms},
                 {"finish_replaced", result->finish_replaced},
                 {"steps", steps_json(*result)},
                 {"exchanges", exchanges_json(*result)},
                 {"removed",
                  [&] {
                    json l = json::array();
                    for (const compress::Sublayer& s : removed) l.push_back(compress::label(s));
                    return l;
                  }()},
                 {"result_distance", compress::chosen_distance(*result)}};
  fmt::print("{} of {} sublayers removed ({} networks evaluated)\n", removed.size(), all.size(), result->evaluations);
  if (timed) {
    measure_before_after(*lat, arch, *pruned, compress::chosen_distance(*result), "pruned_ms", record);
    const double after = record["pruned_ms"].get<double>();
    if (cfg.budget_ms > 0 && after > cfg.budget_ms)
      fmt::print(stderr, "warning: measured {:.3f} ms is over the budget {:.3f} ms (predicted {:.3f} ms)\n", after,
                 cfg.budget_ms, compress::chosen_predicted_ms(*result));
  }
  if (timed) store_run(*lat, fmt::format("finercut-{}", compress::name_of(*method)), arch, *pruned, record);
  if (vm.count("output") != 0) write_result(vm["output"].as<std::string>(), *pruned, *model->source, "order", record);
  return kExitOk;
}

json carving_json(const compress::Carver& carver) {
  json layers = json::array();
  for (const compress::LayerCarving& l : carver.layers()) {
    json att = json::array();
    for (std::int64_t h = 0; h < l.heads; ++h)
      att.push_back(std::vector<double>(l.attention.begin() + h * compress::kTaps,
                                        l.attention.begin() + (h + 1) * compress::kTaps));
    layers.push_back({{"block", fmt::format("stages.{}.blocks.{}", l.stage, l.block)},
                      {"tap_head", l.tap_head},
                      {"attention", att},
                      {"fit_error_1x1", l.conv1.fit_error},
                      {"fit_error_3x3", l.conv3.fit_error}});
  }
  return layers;
}

json spvit_json(const compress::SpvitResult& r) {
  json sens = json::array(), points = json::array();
  for (const compress::Sensitivity& s : r.sensitivity)
    sens.push_back({{"block", fmt::format("stages.{}.blocks.{}", s.stage, s.block)},
                    {"change", s.change},
                    {"distance", s.distance},
                    {"predicted_ms", s.predicted_ms}});
  for (const compress::SpvitPoint& p : r.points) {
    json j = {{"blocks", p.blocks},
              {"proxy_distance", p.proxy},
              {"predicted_ms", p.predicted_ms},
              {"on_front", p.on_front},
              {"hash", space::hash_hex(space::arch_hash(p.arch))}};
    if (p.distance >= 0) j["distance"] = p.distance;
    if (p.measured_ms > 0) j["measured_ms"] = p.measured_ms;
    if (p.round >= 0) j["round"] = p.round;
    points.push_back(std::move(j));
  }
  return {{"sensitivity", sens},
          {"points", points},
          {"chosen", r.chosen},
          {"runs", r.runs},
          {"proxy_evaluations", r.proxy_evaluations},
          {"proxy_spearman", r.proxy_spearman},
          {"latency_correction", r.latency_correction},
          {"rounds", r.rounds},
          {"original_predicted_ms", r.original_ms}};
}

// `compress spvit --to TARGET`: the original carved into a given arch, no search.
int carve_to(const po::variables_map& vm, const space::Arch& arch) {
  auto loaded = space::load_arch(vm["to"].as<std::string>());
  if (!loaded) throw UsageError("--to: " + loaded.error().message);
  auto target = space::validate(*loaded);
  if (!target) throw UsageError("--to: " + target.error().message);
  if (auto ok = compress::check_carving_target(arch, *target); !ok)
    throw UsageError("--to " + vm["to"].as<std::string>() + ": " + ok.error().message);
  std::unique_ptr<Model> model = model_from_options(vm, arch);
  std::unique_ptr<Latency> lat = latency_from_options(vm, false, false, arch);
  Engine engine = engine_for(arch, *model, *lat);
  compress::Fidelity& fidelity = *engine.fidelity;
  PhaseProgress progress(stderr);
  auto carver = compress::Carver::create(fidelity, *model->source, [&](int done, int total) {
    progress("carving statistics (layers)", static_cast<std::size_t>(done), static_cast<std::size_t>(total));
  });
  if (!carver) throw RuntimeFailure(carver.error().message);
  auto carved = (*carver)->weights_for(*target);
  if (!carved) throw UsageError("--to " + vm["to"].as<std::string>() + ": " + carved.error().message);
  auto d = fidelity.distance(*target, **carved);
  if (!d) throw RuntimeFailure(d.error().message);
  space::Arch result = *target;
  result.meta.name = target->meta.name.empty() ? name_or(arch) + "-carved" : target->meta.name;
  result.meta.source = fmt::format("hwnas compress spvit --to of {}", arch.meta.name);
  json record = {{"arch", arch.meta.name},
                 {"method", "spvit --to"},
                 {"distance", compress::name_of(model->metric)},
                 {"carving", carving_json(**carver)},
                 {"blocks", compress::block_choices(result)},
                 {"result_distance", *d}};
  fmt::print("carved into {}: distance {:.4g}\n", vm["to"].as<std::string>(), *d);
  measure_before_after(*lat, arch, result, *d, "carved_ms", record);
  store_run(*lat, "spvit-to", arch, result, record);
  if (vm.count("output") != 0) write_result(vm["output"].as<std::string>(), result, **carved, "spvit", record);
  return kExitOk;
}

int compress_spvit(const Args& args) {
  const std::string usage =
      "hwnas compress spvit (--preset NAME | FILE) [--weights W.safetensors] (--images DIR | --image FILE... |\n"
      "          --input T.npy | --synthetic N) (--budget-ms B [--population N] [--generations G] [--finalists F] |\n"
      "          --to ARCH) [--distance finercut-js|js|angular|rel-l2] [--latency table|model] [-o PREFIX]\n"
      "          [--calib-batch N] [--threads T] [--seed S] [--db DB]";
  po::options_description desc(
      "compress spvit: carve 1x1/3x3 bottleneck convs out of MSA layers, skip layers and narrow FFNs (SPViT's "
      "choices, no training) to a latency budget");
  po::positional_options_description positional;
  add_common_options(desc, positional);
  desc.add_options()("budget-ms", po::value<double>(), "latency budget (ms, this device and configuration)")(
      "population", po::value<std::size_t>()->default_value(64), "NSGA-II population")(
      "generations", po::value<std::size_t>()->default_value(80), "NSGA-II generations")(
      "finalists", po::value<std::size_t>()->default_value(8),
      "candidates within the budget with the smallest predicted distance that are run for real")(
      "to", po::value<std::string>(),
      "no search: carve into this arch (preset or JSON: the same blocks with MSA -> bconv/skip/normskip, "
      "narrower MLPs), e.g. --to spvit-deit-tiny from deit-tiny")(
      "output,o", po::value<std::string>(), "write PREFIX.json (arch), PREFIX.safetensors, PREFIX.spvit.json");
  po::variables_map vm;
  if (!parse_options(usage, desc, positional, args, vm)) return kExitOk;

  const space::Arch arch = arch_from_options(vm, usage);
  if (vm.count("to") != 0) {
    if (vm.count("budget-ms") != 0) throw UsageError("--to ARCH carves into given choices: no --budget-ms with it");
    return carve_to(vm, arch);
  }
  if (vm.count("budget-ms") == 0) throw UsageError("--budget-ms B is required (or --to ARCH)");
  const double budget = vm["budget-ms"].as<double>();
  const std::size_t population = vm["population"].as<std::size_t>(), generations = vm["generations"].as<std::size_t>(),
                    finalists = vm["finalists"].as<std::size_t>();
  if (population < 4 || population > 4096) throw UsageError("--population: must be in [4, 4096]");
  if (generations < 1 || generations > 100000) throw UsageError("--generations: must be in [1, 100000]");
  if (finalists < 1 || finalists > 1000) throw UsageError("--finalists: must be in [1, 1000]");
  auto sp = compress::carving_space(arch, name_or(arch));
  if (!sp) throw UsageError(sp.error().message);
  std::unique_ptr<Model> model = model_from_options(vm, arch);
  std::unique_ptr<Latency> lat = latency_from_options(vm, true, true, arch);
  {
    // The fastest the choices reach: every MSA skipped, every FFN at its narrowest.
    space::Arch fastest = arch;
    for (std::size_t s = 0; s < fastest.stages.size(); ++s)
      for (space::Block& b : fastest.stages[s].blocks) {
        b.mixer = sp->stages[s].mixers.front();
        if (b.ffn.kind != space::FfnKind::none)
          b.ffn.hidden = space::ffn_width(sp->stages[s].ffn_ratios.front(), fastest.stages[s].dim);
      }
    auto f = space::validate(fastest);
    if (!f) throw RuntimeFailure(f.error().message);
    const double floor_ms = lat->predict_ms(*f);
    if (!(budget > 0) || floor_ms > budget)
      throw UsageError(fmt::format(
          "--budget-ms {}: not reachable by carving: the fastest reachable is {:.3f} ms predicted (every MSA "
          "skipped, every FFN at 1/8)",
          budget, floor_ms));
  }

  lat->describe();
  fmt::print(stderr, "spvit ({}): {} calibration inputs; original logits…\n", compress::name_of(model->metric),
             model->calib.count);
  const space::WeightSource& source = *model->source;
  Engine engine = engine_for(arch, *model, *lat);
  compress::Fidelity& fidelity = *engine.fidelity;
  PhaseProgress progress(stderr);
  auto carver = compress::Carver::create(fidelity, source, [&](int done, int total) {
    progress("carving statistics (layers)", static_cast<std::size_t>(done), static_cast<std::size_t>(total));
  });
  if (!carver) throw RuntimeFailure(carver.error().message);

  compress::SpvitConfig cfg;
  cfg.budget_ms = budget;
  cfg.predict_ms = [&](const space::Arch& a) { return lat->predict_ms(a); };
  cfg.measure_ms = [&](const space::Arch& a) { return lat->measure_ms(a, budget); };
  cfg.population = population;
  cfg.generations = generations;
  cfg.finalists = finalists;
  cfg.seed = vm["seed"].as<std::uint64_t>();
  cfg.on_progress = [&](std::string_view phase, std::size_t done, std::size_t total) {
    const std::string p(phase);
    progress(p == "sensitivity"        ? std::string("single changes run")
             : p.starts_with("search") ? "NSGA-II generations" + p.substr(6)
                                       : "finalists run" + p.substr(9),
             done, total);
  };
  auto r = compress::spvit_search(fidelity, **carver, cfg);
  if (!r) throw RuntimeFailure(r.error().message);
  json record = {{"arch", arch.meta.name},
                 {"method", "spvit"},
                 {"distance", compress::name_of(model->metric)},
                 {"budget_ms", budget},
                 {"unit_passes", fidelity.unit_passes()},
                 {"carving", carving_json(**carver)},
                 {"search", spvit_json(*r)}};
  fmt::print(
      "{} single changes and {} finalists run, {} candidates predicted in {} round{} (proxy vs true "
      "distance: Spearman {:.2f}; latency correction {:.3f})\n",
      r->sensitivity.size(), r->runs - r->sensitivity.size(), r->proxy_evaluations, r->rounds,
      r->rounds == 1 ? "" : "s", r->proxy_spearman, r->latency_correction);
  if (r->chosen < 0)
    throw RuntimeFailure(
        fmt::format("no finalist was measured within the budget {:.3f} ms; try more --finalists "
                    "or a larger budget",
                    budget));
  const compress::SpvitPoint& c = r->points[static_cast<std::size_t>(r->chosen)];
  const std::vector<std::string> before = compress::block_choices(arch);
  fmt::print("chosen (distance {:.4g}, predicted {:.3f} ms):\n", c.distance, c.predicted_ms);
  for (std::size_t i = 0; i < c.blocks.size(); ++i)
    fmt::print("  block {:2}: {:<28}{}\n", i, c.blocks[i], c.blocks[i] == before[i] ? "" : " (was " + before[i] + ")");
  space::Arch result = c.arch;
  result.meta.name = name_or(arch) + "-spvit";
  result.meta.source =
      fmt::format("hwnas compress spvit ({}) of {} to {} ms", compress::name_of(model->metric), arch.meta.name, budget);
  auto carved = (*carver)->weights_for(result);
  if (!carved) throw RuntimeFailure(carved.error().message);
  measure_before_after(*lat, arch, result, c.distance, "carved_ms", record);
  store_run(*lat, "spvit", arch, result, record);
  if (vm.count("output") != 0) write_result(vm["output"].as<std::string>(), result, **carved, "spvit", record);
  return kExitOk;
}

}  // namespace

int run_compress(const Args& args) {
  static const std::vector<Command> kSub = {
      {"finercut", "remove attention/FFN sublayers in FinerCut's order to a ratio or a latency budget",
       compress_finercut},
      {"spvit", "carve convs out of MSA, skip layers and narrow FFNs (SPViT's choices) to a latency budget",
       compress_spvit},
  };
  return dispatch(kSub, "hwnas compress", args);
}

}  // namespace hwnas::cli
