// hwnas search: the best architectures of a space under a latency budget on this device. The cost
// model screens every candidate (calibrated first when the store has none for this configuration),
// the finalists are measured for real, and the run is stored as it goes (--resume continues it).
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/calibrate.h"
#include "cli/cost_fit.h"
#include "cli/cost_options.h"
#include "cli/db_common.h"
#include "cli/estimators.h"
#include "cli/farm.h"
#include "cli/output_file.h"
#include "cli/search_config.h"
#include "cli/search_oracle.h"
#include "cli/search_progress.h"
#include "cli/store_records.h"
#include "cli/table.h"
#include "profilers/backends.h"
#include "space/arch_json.h"
#include "space/canonical.h"
#include "space/count.h"
#include "space/ops.h"
#include "space/presets.h"

namespace hwnas::cli {
namespace {

using nlohmann::json;

constexpr const char* kBudgetReference = "litv2-s";

// Estimates kept in the store's objective cache.
class StoreEstimateCache final : public search::EstimateCache {
 public:
  explicit StoreEstimateCache(store::Store& db) : db_(db) {}
  std::optional<search::CachedEstimate> find(const std::string& key, const std::string& hash) override {
    auto hit = db_.find_objective_value(key, hash);
    if (!hit) throw RuntimeFailure(hit.error().message);
    if (!*hit) return std::nullopt;
    return search::CachedEstimate{(*hit)->ok, (*hit)->value, (*hit)->message, (*hit)->elapsed_ms};
  }
  void put(const std::string& key, const std::string& hash, const search::CachedEstimate& e) override {
    store::ObjectiveValueRecord r;
    r.objective = key;
    r.arch_hash = hash;
    r.ok = e.ok;
    r.value = e.ok ? e.value : 0.0;
    r.message = e.message;
    r.elapsed_ms = e.elapsed_ms;
    auto put = db_.put_objective_value(r);
    if (!put) throw RuntimeFailure(put.error().message);
  }

 private:
  store::Store& db_;
};

struct Counted {
  std::int64_t macs = 0, params = 0;
};
Counted counts_of(const space::Arch& a) {
  auto net = space::lower(a);
  if (!net) return {};
  const auto c = space::count(*net);
  return {c.macs, c.params};
}

// The preset with this hash, if the candidate is one.
std::string preset_name(const std::string& hash) {
  static const std::map<std::string, std::string> by_hash = [] {
    std::map<std::string, std::string> m;
    for (const auto& p : space::presets())
      if (auto a = space::preset(p.name)) m.emplace(space::hash_hex(space::arch_hash(*a)), p.name);
    return m;
  }();
  auto it = by_hash.find(hash);
  return it == by_hash.end() ? "" : it->second;
}

struct PresetRow {
  std::string name, hash;
  double measured_ms = 0, predicted_ms = 0;
  std::optional<double> score;
  std::string error;
  bool within = false;
};

// Presets of the space's input size that could fit the budget, measured and scored beside the result.
std::vector<PresetRow> compare_presets(const space::SearchSpace& sp, SearchOracle& oracle, search::Estimator& est,
                                       double budget_ms, SearchReporter& rep) {
  std::vector<PresetRow> rows;
  for (const auto& info : space::presets()) {
    auto a = space::preset(info.name);
    if (!a || !(a->input == sp.base.input)) continue;
    PresetRow r;
    r.name = info.name;
    r.hash = space::hash_hex(space::arch_hash(*a));
    r.predicted_ms = oracle.predict_ms(*a);
    if (r.predicted_ms * (1 + oracle.margin()) > 1.5 * budget_ms) continue;
    search::Record shown;
    shown.hash = r.hash;
    shown.predicted_ms = r.predicted_ms;
    rep.on_measuring(shown, "preset, for comparison");
    auto m = oracle.measure(*a, r.hash);
    if (!m) {
      r.error = m.error().message;
    } else {
      r.measured_ms = m->ms;
      shown.measured = *m;
    }
    rep.on_measured(shown);
    r.within = m && m->ms <= budget_ms;
    if (r.within) {
      auto s = est.estimate(*a, r.hash);
      if (s)
        r.score = *s;
      else
        r.error = s.error().message;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

json arch_entry(const search::Record& r) {
  const Counted c = counts_of(r.candidate.arch);
  return {{"hash", r.hash},
          {"predicted_ms", r.predicted_ms},
          {"measured_ms", r.measured ? json(r.measured->ms) : json()},
          {"score", r.score ? json(*r.score) : json()},
          {"macs", c.macs},
          {"params", c.params},
          {"arch", space::arch_to_json(r.candidate.arch, false)}};
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  write_output_file(path.string(), text + "\n");
}

}  // namespace

int run_search(const Args& args) {
  const std::string usage =
      "hwnas search [--budget-ms MS] [--space NAME|FILE] [--strategy evolution|nsga2|random] [--objective NAME] "
      "[--evaluations N] [--measure-top K] [--seed S] [--device cpu|cuda:N] [--batch N] [--threads T] "
      "[--dtype f32|bf16|f16] [--out DIR] [--db PATH] [--resume RUN_ID] [--quiet]";
  po::options_description desc("search: the best architectures of a space under a latency budget on this device");
  add_cost_key_options(desc);
  search::SearchConfig defaults;
  desc.add_options()("budget-ms", po::value<double>(),
                     "latency budget per batch in ms (default: half the measured latency of litv2-s on this device)")(
      "space", po::value<std::string>()->default_value("hybrid-vit"),
      "search space: hybrid-vit, tiny, spvit:PRESET, finercut:PRESET or a JSON file")(
      "strategy", po::value<std::string>()->default_value(defaults.strategy), "evolution, nsga2 or random")(
      "objective", po::value<std::string>()->default_value("zen"), estimator_help().c_str())(
      "evaluations", po::value<std::size_t>()->default_value(800), "candidates the strategy proposes")(
      "population", po::value<std::size_t>()->default_value(defaults.strategy_config.population),
      "population (evolution, nsga2) or batch (random)")(
      "tournament", po::value<std::size_t>()->default_value(defaults.strategy_config.tournament),
      "evolution: tournament size")("measure-top", po::value<std::size_t>()->default_value(defaults.measure_top),
                                    "finalists by score measured on the device")(
      "measure-front", po::value<std::size_t>()->default_value(defaults.measure_front),
      "more finalists along the predicted Pareto front")("seed", po::value<std::uint64_t>()->default_value(1),
                                                         "random seed (a seed and the caches decide the result)")(
      "out", po::value<std::string>(), "directory for best.json and pareto.json (default: runs/RUN_ID)")(
      "resume", po::value<std::string>(), "continue a stored run (its stored settings are used)")(
      "calibrate-min", po::value<double>()->default_value(1.0),
      "minutes of calibration when the store has no cost model for this configuration")(
      "objective-timeout", po::value<double>()->default_value(60), "seconds an objective command may take")(
      "hv-reference", po::value<double>(), "hypervolume's reference score (default: 0; zen: -5)")(
      "no-presets", "do not measure the presets that fit the budget for comparison")(
      "measure-batch", po::value<std::size_t>(),
      "candidates measured together before the model refits (default 1; with --mpi, the workers of the device)")(
      "quiet", "no progress output");
  add_farm_options(desc);
  po::variables_map vm;
  if (!parse_options(usage, desc, {}, args, vm)) return kExitOk;
  if (vm.count("device") != 0 && !prof::parse_device(vm["device"].as<std::string>()))
    throw UsageError("--device: a search measures on this machine: cpu or cuda:N");

  store::Store db = open_store_or_usage_error(db_path(vm), store::OpenMode::read_write);
  CostTarget target = cost_target(vm, &db);
  prof::Backend& backend = *target.backend;
  const CostKey& key = target.key;
  auto put_dev = db.put_device(device_record(backend.device()));
  if (!put_dev) throw RuntimeFailure(put_dev.error().message);
  prof::mpi::Coordinator* workers = farm_from_options(vm, "search", key.model.device, key.model.device_model);

  // The run's settings: from the options, or the stored ones of --resume.
  SearchRunConfig cfg;
  std::string run_id;
  if (vm.count("resume") != 0) {
    run_id = vm["resume"].as<std::string>();
    auto run = db.find_search_run(run_id);
    if (!run) throw RuntimeFailure(run.error().message);
    if (!*run) throw UsageError(fmt::format("--resume: no search run '{}' in {}", run_id, db.path()));
    json j = json::parse((*run)->config_json, nullptr, false);
    cfg = search_config_from_json(j.is_object() && j.contains("config") ? j["config"] : j, run_id);
    if (cfg.device != key.model.device || cfg.backend != key.model.backend || cfg.batch != key.model.batch ||
        cfg.dtype != key.model.dtype || cfg.threads != key.model.threads)
      throw UsageError(fmt::format(
          "--resume {}: the run measures device {} (backend {}, batch {}, {}, {} threads); this command targets {} "
          "(backend {}, batch {}, {}, {} threads): give the run's --device/--batch/--dtype/--threads",
          run_id, cfg.device, cfg.backend, cfg.batch, cfg.dtype, cfg.threads, key.model.device, key.model.backend,
          key.model.batch, key.model.dtype, key.model.threads));
  } else {
    cfg.space = vm["space"].as<std::string>();
    cfg.objective = vm["objective"].as<std::string>();
    search::SearchConfig& s = cfg.search;
    s.strategy = vm["strategy"].as<std::string>();
    s.evaluations = vm["evaluations"].as<std::size_t>();
    s.measure_top = vm["measure-top"].as<std::size_t>();
    s.measure_front = vm["measure-front"].as<std::size_t>();
    s.strategy_config.seed = vm["seed"].as<std::uint64_t>();
    s.strategy_config.population = vm["population"].as<std::size_t>();
    s.strategy_config.tournament = vm["tournament"].as<std::size_t>();
    if (vm.count("budget-ms") != 0) {
      s.budget_ms = vm["budget-ms"].as<double>();
      if (!(s.budget_ms > 0) || !std::isfinite(s.budget_ms)) throw UsageError("--budget-ms: must be > 0");
    }
    const auto names = search::strategy_names();
    if (std::find(names.begin(), names.end(), s.strategy) == names.end())
      throw UsageError(fmt::format("--strategy: must be evolution, nsga2 or random (got '{}')", s.strategy));
    if (s.evaluations < 1 || s.evaluations > 1000000) throw UsageError("--evaluations: must be in [1, 1000000]");
    if (s.strategy_config.population < 2) throw UsageError("--population: must be >= 2");
    if (s.strategy_config.tournament < 1 || s.strategy_config.tournament > s.strategy_config.population)
      throw UsageError("--tournament: must be in [1, population]");
    if (s.measure_top < 1) throw UsageError("--measure-top: must be >= 1");
    s.measure_batch = vm.count("measure-batch") != 0 ? vm["measure-batch"].as<std::size_t>()
                      : workers != nullptr           ? workers->workers_on(key.model.device)
                                                     : 1;
    if (s.measure_batch < 1 || s.measure_batch > 4096) throw UsageError("--measure-batch: must be in [1, 4096]");
    // A batch of B measures up to B per round.
    s.measure_per_round = std::max(s.measure_per_round, s.measure_batch);
    cfg.device = key.model.device;
    cfg.backend = key.model.backend;
    cfg.batch = key.model.batch;
    cfg.dtype = key.model.dtype;
    cfg.threads = key.model.threads;
    cfg.compare_presets = vm.count("no-presets") == 0;
    s.score_reference =
        vm.count("hv-reference") != 0 ? vm["hv-reference"].as<double>() : default_score_reference(cfg.objective);
    run_id = store::new_search_run_id();
  }
  const bool tty = isatty(fileno(stderr)) != 0;
  const ProgressMode mode = vm.count("quiet") != 0 ? ProgressMode::quiet
                            : tty                  ? ProgressMode::bar
                                                   : ProgressMode::lines;
  auto note = [&](const std::string& line) {
    if (mode != ProgressMode::quiet) fmt::print(stderr, "search: {}\n", line);
  };

  auto sp = space::load_search_space(cfg.space);
  if (!sp) throw UsageError(fmt::format("--space: {}", sp.error().message));
  const space::Sampler sampler(*sp);
  const std::string fingerprint = space_fingerprint(sampler);
  if (!cfg.space_fingerprint.empty() && cfg.space_fingerprint != fingerprint)
    throw UsageError(fmt::format("--resume {}: space '{}' has changed since the run started (fingerprint {} != {})",
                                 run_id, cfg.space, fingerprint, cfg.space_fingerprint));
  cfg.space_fingerprint = fingerprint;

  // The accuracy estimator (the CPU engine runs proxies; the store caches slow and external ones).
  std::unique_ptr<prof::Backend> cpu_engine;
  prof::Backend* engine = &backend;
  if (cfg.objective == "zen" && key.model.backend != "onednn") {
    cpu_engine = make_backend("onednn", key.run.threads);
    engine = cpu_engine.get();
  }
  StoreEstimateCache estimate_cache(db);
  EstimatorContext ectx{engine, key.run.threads, &estimate_cache, vm["objective-timeout"].as<double>()};
  std::unique_ptr<search::Estimator> estimator = make_estimator(cfg.objective, ectx);

  // The cost model: pinned by a resumed run; else the latest stored, calibrated now if there is none.
  std::optional<StoredModel> model = find_stored_model(db, key, cfg.model_version);
  if (!model) {
    if (cfg.model_version != 0)
      throw RuntimeFailure(fmt::format("--resume {}: cost model v{} of the run is no longer in {}", run_id,
                                       cfg.model_version, db.path()));
    model = calibrated_model(backend, db, key, vm["calibrate-min"].as<double>() * 60,
                             mode == ProgressMode::quiet ? nullptr : stderr, workers);
  }
  cfg.model_version = model->version;
  SearchOracle oracle(backend, db, key, model->model);
  if (workers != nullptr) {
    oracle.use_farm(workers);
    note(fmt::format("MPI: {} worker(s) measure on {}, batches of {}", workers->workers_on(key.model.device),
                     key.model.device_model, cfg.search.measure_batch));
  }

  // The default budget: half of litv2-s measured here (the measurement is stored and reused).
  if (cfg.search.budget_ms <= 0 || !cfg.budget_from.empty()) {
    auto ref = space::preset(kBudgetReference);
    if (!ref) throw RuntimeFailure(ref.error().message);
    const std::string hash = space::hash_hex(space::arch_hash(*ref));
    if (!oracle.stored(hash)) note(fmt::format("measuring {} for the default budget", kBudgetReference));
    auto m = oracle.measure(*ref, hash);
    if (!m)
      throw RuntimeFailure(
          fmt::format("cannot measure {} for the default budget: {}", kBudgetReference, m.error().message));
    if (cfg.budget_from.empty()) {
      cfg.search.budget_ms = m->ms / 2;
      cfg.budget_from = fmt::format("{} measured {:.3f} ms, halved", kBudgetReference, m->ms);
    }
  }

  store::SearchRunRecord run;
  run.id = run_id;
  run.config_json = json{{"config", to_json(cfg)}}.dump();
  run.status = store::SearchStatus::running;
  auto put_run = db.put_search_run(run);
  if (!put_run) throw RuntimeFailure(put_run.error().message);
  note(fmt::format("run {}{}: space {} (10^{:.1f} genomes), {} over {} evaluations, objective {}, budget {:.3f} ms{}",
                   run_id, vm.count("resume") ? " (resumed)" : "", cfg.space, sampler.log10_size(), cfg.search.strategy,
                   cfg.search.evaluations, cfg.objective, cfg.search.budget_ms,
                   cfg.budget_from.empty() ? "" : fmt::format(" ({})", cfg.budget_from)));
  note(fmt::format("cost model v{} for {} (margin {:.1f}%: {})", cfg.model_version, key.model.device_model,
                   100 * oracle.margin(), model->model.band.n > 0 ? model->model.band.source : "default"));

  SearchReporter reporter(db, run_id, mode, cfg.objective);
  auto outcome = search::run_search(sampler, oracle, *estimator, cfg.search, reporter);
  if (!outcome) {
    reporter.finish();
    run.status = store::SearchStatus::failed;
    (void)db.put_search_run(run);
    throw RuntimeFailure(outcome.error().message);
  }
  std::vector<PresetRow> presets;
  if (cfg.compare_presets) presets = compare_presets(*sp, oracle, *estimator, cfg.search.budget_ms, reporter);
  reporter.finish();
  const search::SearchOutcome& o = *outcome;
  const auto& recs = o.records;

  // The table of finalists: predicted and measured side by side.
  Table t({{"#"},
           {"arch", Table::Align::left},
           {cfg.objective},
           {"predicted ms"},
           {"measured ms"},
           {"error"},
           {"MACs"},
           {"params"},
           {"", Table::Align::left}});
  int rank = 0;
  for (std::size_t i : o.finalists) {
    const search::Record& r = recs[i];
    const Counted c = counts_of(r.candidate.arch);
    const bool within = r.measured->ms <= cfg.search.budget_ms;
    const std::string name = preset_name(r.hash);
    t.add_row({fmt::format("{}", ++rank), name.empty() ? r.hash : fmt::format("{} ({})", r.hash, name),
               r.score ? fmt::format("{:.4g}", *r.score) : "-", fmt::format("{:.4g}", r.predicted_ms),
               fmt::format("{:.4g}", r.measured->ms),
               fmt::format("{:+.1f}%", 100 * (r.predicted_ms / r.measured->ms - 1)), space::format_macs(c.macs),
               space::format_params(c.params),
               std::string(within ? "within budget" : "OVER BUDGET") + (r.measured->noisy ? ", noisy" : "")});
  }
  if (!presets.empty()) {
    t.add_rule();
    for (const PresetRow& p : presets) {
      const auto a = space::preset(p.name);
      const Counted c = counts_of(*a);
      t.add_row({"", fmt::format("{} (preset)", p.name), p.score ? fmt::format("{:.4g}", *p.score) : "-",
                 fmt::format("{:.4g}", p.predicted_ms), p.error.empty() ? fmt::format("{:.4g}", p.measured_ms) : "-",
                 p.error.empty() ? fmt::format("{:+.1f}%", 100 * (p.predicted_ms / p.measured_ms - 1)) : "",
                 space::format_macs(c.macs), space::format_params(c.params),
                 !p.error.empty() ? p.error
                 : p.within       ? "within budget"
                                  : "over budget"});
    }
  }
  fmt::print("search {}: {} on {} [{}], backend {}, batch {}, {}, budget {:.3f} ms\n", run_id, cfg.space,
             key.model.device_model, key.model.device.substr(0, 8), key.model.backend, key.model.batch, key.model.dtype,
             cfg.search.budget_ms);
  t.print(stdout);
  fmt::print(
      "{} evaluations ({} distinct), {} measured now + {} from the store, {} estimate failures; hypervolume "
      "(reference {:.3f} ms, {} {}): measured front {:.4g}, predicted front {:.4g}; final margin {:.1f}%\n",
      o.evaluations, recs.size(), o.measurements, o.cached_measurements, o.score_failures, cfg.search.budget_ms,
      cfg.objective, cfg.search.score_reference, o.hypervolume_measured, o.hypervolume_predicted, 100 * o.margin);
  if (workers != nullptr) fmt::print("{}\n", farm_summary(*workers));

  // Files and the stored result.
  const std::filesystem::path out_dir = vm.count("out") != 0 ? std::filesystem::path(vm["out"].as<std::string>())
                                                             : std::filesystem::path("runs") / run_id;
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw RuntimeFailure(fmt::format("{}: cannot create: {}", out_dir.string(), ec.message()));
  json front = json::array(), front_pred = json::array();
  for (std::size_t i : o.front_measured) front.push_back(arch_entry(recs[i]));
  for (std::size_t i : o.front_predicted) front_pred.push_back(arch_entry(recs[i]));
  json result = {{"run", run_id},
                 {"budget_ms", cfg.search.budget_ms},
                 {"objective", cfg.objective},
                 {"evaluations", o.evaluations},
                 {"distinct", recs.size()},
                 {"measurements", o.measurements},
                 {"cached_measurements", o.cached_measurements},
                 {"hypervolume_measured", o.hypervolume_measured},
                 {"hypervolume_predicted", o.hypervolume_predicted},
                 {"margin", o.margin},
                 {"best", o.best ? json(recs[*o.best].hash) : json()}};
  json preset_json = json::array();
  for (const PresetRow& p : presets)
    preset_json.push_back({{"name", p.name},
                           {"hash", p.hash},
                           {"predicted_ms", p.predicted_ms},
                           {"measured_ms", p.error.empty() ? json(p.measured_ms) : json()},
                           {"score", p.score ? json(*p.score) : json()},
                           {"within_budget", p.within},
                           {"error", p.error}});
  result["presets"] = preset_json;
  write_text(out_dir / "pareto.json",
             json{{"result", result}, {"front_measured", front}, {"front_predicted", front_pred}}.dump(2));
  run.config_json = json{{"config", to_json(cfg)}, {"result", result}}.dump();

  if (!o.best) {
    run.status = store::SearchStatus::done;
    (void)db.put_search_run(run);
    std::string fastest = "no candidate could be measured";
    if (o.fastest) {
      const search::Record& f = recs[*o.fastest];
      fastest = fmt::format("the fastest candidate found is {} at {:.3f} ms {} ({:.3f} ms predicted)", f.hash,
                            f.believed_ms(o.margin), f.measured ? "measured" : "believed", f.predicted_ms);
    }
    std::string unscored;
    if (o.score_failures > 0) {
      for (const auto& r : recs)
        if (!r.score_error.empty()) {
          unscored = fmt::format("; {} candidates within budget got no {} score (first: {})", o.score_failures,
                                 cfg.objective, r.score_error);
          break;
        }
    }
    throw RuntimeFailure(fmt::format("no architecture of space {} was measured within {:.3f} ms: {}{}", cfg.space,
                                     cfg.search.budget_ms, fastest, unscored));
  }
  space::Arch best = recs[*o.best].candidate.arch;
  best.meta.name = fmt::format("search-{}-best", run_id);
  best.meta.source = fmt::format("hwnas search run {} ({}, budget {:.3f} ms)", run_id, cfg.space, cfg.search.budget_ms);
  write_text(out_dir / "best.json", space::arch_to_json(best).dump(2));
  run.status = store::SearchStatus::done;
  auto put_done = db.put_search_run(run);
  if (!put_done) throw RuntimeFailure(put_done.error().message);
  const search::Record& b = recs[*o.best];
  fmt::print("best: {} {} {:.4g}, measured {:.3f} ms (budget {:.3f}); wrote {} and {}\n", b.hash, cfg.objective,
             *b.score, b.measured->ms, cfg.search.budget_ms, (out_dir / "best.json").string(),
             (out_dir / "pareto.json").string());
  for (const PresetRow& p : presets) {
    if (p.within && p.score && *p.score >= *b.score)
      fmt::print("note: preset {} fits the budget with a {} of {:.4g}, not below the best found\n", p.name,
                 cfg.objective, *p.score);
  }
  return kExitOk;
}

}  // namespace hwnas::cli
