// hwnas search: the best architectures of a space under a latency budget on this device, or on
// several devices at once (a budget each, every device's latency an objective). The cost models
// screen every candidate (calibrated first when the store has none for a configuration), the
// finalists are measured for real, and the run is stored as it goes (--resume continues it).
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
#include "cli/search_devices.h"
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
  std::vector<std::optional<double>> measured_ms;  // per device
  std::vector<double> predicted_ms;
  std::optional<double> score;
  std::string error;
  bool within = false;
};

// One device of the search with its oracle.
struct Target {
  SearchDevice* device;
  SearchOracle* oracle;
};

// Presets of the space's input size that could fit the budgets, measured and scored beside the result.
std::vector<PresetRow> compare_presets(const space::SearchSpace& sp, const std::vector<Target>& targets,
                                       search::Estimator& est, const std::vector<double>& budgets_ms,
                                       SearchReporter& rep) {
  std::vector<PresetRow> rows;
  for (const auto& info : space::presets()) {
    auto a = space::preset(info.name);
    if (!a || !(a->input == sp.base.input)) continue;
    PresetRow r;
    r.name = info.name;
    r.hash = space::hash_hex(space::arch_hash(*a));
    search::Record shown;
    shown.hash = r.hash;
    bool hopeless = false;
    for (std::size_t d = 0; d < targets.size(); ++d) {
      r.predicted_ms.push_back(targets[d].oracle->predict_ms(*a));
      hopeless = hopeless || r.predicted_ms[d] * (1 + targets[d].oracle->margin()) > 1.5 * budgets_ms[d];
      shown.on.push_back({r.predicted_ms[d], std::nullopt});
    }
    if (hopeless) continue;
    rep.on_measuring(shown, "preset, for comparison");
    r.within = true;
    for (std::size_t d = 0; d < targets.size(); ++d) {
      auto m = targets[d].oracle->measure(*a, r.hash);
      if (!m) {
        r.error = m.error().message;
        shown.measure_error = r.error;
        r.within = false;
        break;
      }
      r.measured_ms.push_back(m->ms);
      shown.on[d].measured = *m;
      r.within = r.within && m->ms <= budgets_ms[d];
    }
    r.measured_ms.resize(targets.size());
    rep.on_measured(shown);
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

json opt(const std::optional<double>& v) {
  return v ? json(*v) : json();
}

json arch_entry(const search::Record& r, const std::vector<Target>& targets) {
  const Counted c = counts_of(r.candidate.arch);
  const search::OnDevice& first = r.on.front();
  json j = {{"hash", r.hash},
            {"predicted_ms", first.predicted_ms},
            {"measured_ms", first.measured ? json(first.measured->ms) : json()},
            {"score", opt(r.score)},
            {"macs", c.macs},
            {"params", c.params},
            {"arch", space::arch_to_json(r.candidate.arch, false)}};
  if (targets.size() > 1) {
    json devices = json::array();
    for (std::size_t d = 0; d < targets.size(); ++d)
      devices.push_back({{"name", targets[d].device->label()},
                         {"predicted_ms", r.on[d].predicted_ms},
                         {"measured_ms", r.on[d].measured ? json(r.on[d].measured->ms) : json()}});
    j["devices"] = devices;
  }
  return j;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  write_output_file(path.string(), text + "\n");
}

std::string budgets_text(const std::vector<Target>& targets, const std::vector<double>& budgets_ms) {
  if (targets.size() == 1) return fmt::format("{:.3f} ms", budgets_ms[0]);
  std::string out;
  for (std::size_t d = 0; d < targets.size(); ++d)
    out += fmt::format("{}{:.3f} ms on {}", d == 0 ? "" : ", ", budgets_ms[d], targets[d].device->label());
  return out;
}

// "within budget", or which devices it is over (and where it was not measured).
std::string budget_status(const search::Record& r, const std::vector<Target>& targets,
                          const std::vector<double>& budgets_ms) {
  std::vector<std::string> over, unmeasured;
  bool noisy = false;
  for (std::size_t d = 0; d < targets.size(); ++d) {
    if (!r.on[d].measured) {
      unmeasured.push_back(targets[d].device->label());
      continue;
    }
    noisy = noisy || r.on[d].measured->noisy;
    if (r.on[d].measured->ms > budgets_ms[d]) over.push_back(targets[d].device->label());
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  std::string text = over.empty()          ? "within budget"
                     : targets.size() == 1 ? "OVER BUDGET"
                                           : "OVER BUDGET on " + list(over);
  if (!unmeasured.empty()) text += "; not measured on " + list(unmeasured);
  return text + (noisy ? ", noisy" : "");
}

}  // namespace

int run_search(const Args& args) {
  const std::string usage =
      "hwnas search [--budget-ms MS|DEVICE=MS,...] [--space NAME|FILE] [--strategy evolution|nsga2|random] "
      "[--objective NAME] [--evaluations N] [--measure-top K] [--seed S] [--device cpu|cuda:N|NAME ...] "
      "[--batch N] [--threads T] [--dtype f32|bf16|f16] [--out DIR] [--db PATH] [--resume RUN_ID] [--quiet]";
  po::options_description desc(
      "search: the best architectures of a space under a latency budget on this device (or on several at once)");
  add_cost_key_options(desc, true);
  search::SearchConfig defaults;
  desc.add_options()("budget-ms", po::value<std::string>(),
                     "latency budget per batch in ms; with several devices one each, as cpu=40,cuda:0=2 (default: "
                     "half the measured latency of litv2-s on the device)")(
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

  store::Store db = open_store_or_usage_error(db_path(vm), store::OpenMode::read_write);
  prof::mpi::Coordinator* farm = farm_from_options(vm, "search", "", "");

  // The run's settings: from the options, or the stored ones of --resume (whose devices are the
  // default --device list).
  SearchRunConfig cfg;
  std::string run_id;
  std::vector<std::string> device_names = device_options(vm);
  if (vm.count("resume") != 0) {
    run_id = vm["resume"].as<std::string>();
    auto run = db.find_search_run(run_id);
    if (!run) throw RuntimeFailure(run.error().message);
    if (!*run) throw UsageError(fmt::format("--resume: no search run '{}' in {}", run_id, db.path()));
    json j = json::parse((*run)->config_json, nullptr, false);
    cfg = search_config_from_json(j.is_object() && j.contains("config") ? j["config"] : j, run_id);
    if (device_names.empty() && cfg.devices.size() > 1)
      for (const RunDevice& r : cfg.devices) device_names.push_back(r.name);
  }
  std::vector<SearchDevice> devices = search_devices(vm, device_names, db, farm);
  for (const SearchDevice& d : devices) {
    auto put_dev = db.put_device(device_record(d.backend->device()));
    if (!put_dev) throw RuntimeFailure(put_dev.error().message);
  }
  const CostKey& key = devices.front().key;  // batch, dtype and (for the engine) threads are common
  if (vm.count("resume") != 0) {
    bool same = cfg.devices.size() == devices.size() && cfg.batch == key.model.batch && cfg.dtype == key.model.dtype;
    std::string theirs, ours;
    for (std::size_t d = 0; d < cfg.devices.size(); ++d) {
      const RunDevice& r = cfg.devices[d];
      theirs += fmt::format("{}{} [{}] (backend {}, {} threads)", d == 0 ? "" : ", ", r.name.empty() ? "cpu" : r.name,
                            r.device.substr(0, 8), r.backend, r.threads);
      if (d < devices.size()) {
        const cost::ModelKey& k = devices[d].key.model;
        same = same && r.device == k.device && r.backend == k.backend && r.threads == k.threads;
      }
    }
    for (std::size_t d = 0; d < devices.size(); ++d) {
      const cost::ModelKey& k = devices[d].key.model;
      ours += fmt::format("{}{} [{}] (backend {}, {} threads)", d == 0 ? "" : ", ", devices[d].label(),
                          k.device.substr(0, 8), k.backend, k.threads);
    }
    if (!same)
      throw UsageError(fmt::format(
          "--resume {}: the run measures {} at batch {}, {}; this command targets {} at batch {}, {}: give the run's "
          "--device/--batch/--dtype/--threads",
          run_id, theirs, cfg.batch, cfg.dtype, ours, key.model.batch, key.model.dtype));
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
    s.budgets_ms = vm.count("budget-ms") != 0 ? parse_budgets(vm["budget-ms"].as<std::string>(), devices)
                                              : std::vector<double>(devices.size(), 0.0);
    const auto names = search::strategy_names();
    if (std::find(names.begin(), names.end(), s.strategy) == names.end())
      throw UsageError(fmt::format("--strategy: must be evolution, nsga2 or random (got '{}')", s.strategy));
    if (s.evaluations < 1 || s.evaluations > 1000000) throw UsageError("--evaluations: must be in [1, 1000000]");
    if (s.strategy_config.population < 2) throw UsageError("--population: must be >= 2");
    if (s.strategy_config.tournament < 1 || s.strategy_config.tournament > s.strategy_config.population)
      throw UsageError("--tournament: must be in [1, population]");
    if (s.measure_top < 1) throw UsageError("--measure-top: must be >= 1");
    // Default batch: the most workers any device has (a device with fewer queues the rest).
    std::size_t workers = 1;
    for (const SearchDevice& d : devices)
      if (d.on_farm) workers = std::max(workers, farm->workers_on(d.key.model.device));
    s.measure_batch = vm.count("measure-batch") != 0 ? vm["measure-batch"].as<std::size_t>() : workers;
    if (s.measure_batch < 1 || s.measure_batch > 4096) throw UsageError("--measure-batch: must be in [1, 4096]");
    // A batch of B measures up to B per round.
    s.measure_per_round = std::max(s.measure_per_round, s.measure_batch);
    cfg.batch = key.model.batch;
    cfg.dtype = key.model.dtype;
    for (const SearchDevice& d : devices)
      cfg.devices.push_back({d.name, d.key.model.device, d.key.model.backend, d.key.model.threads, 0, ""});
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
  prof::Backend* engine = devices.front().backend.get();
  if (cfg.objective == "zen" && (devices.size() > 1 || devices[0].stand_in || key.model.backend != "onednn")) {
    cpu_engine = make_backend("onednn", key.run.threads);
    engine = cpu_engine.get();
  }
  StoreEstimateCache estimate_cache(db);
  EstimatorContext ectx{engine, key.run.threads, &estimate_cache, vm["objective-timeout"].as<double>()};
  std::unique_ptr<search::Estimator> estimator = make_estimator(cfg.objective, ectx);

  // Per device: the cost model (pinned by a resumed run; else the latest stored, calibrated now if
  // there is none) and the oracle.
  std::vector<std::unique_ptr<SearchOracle>> oracles;
  std::vector<Target> targets;
  std::vector<std::string> model_sources;
  for (std::size_t d = 0; d < devices.size(); ++d) {
    SearchDevice& dev = devices[d];
    RunDevice& run_dev = cfg.devices[d];
    prof::mpi::Coordinator* workers = dev.on_farm ? farm : nullptr;
    std::optional<StoredModel> model = find_stored_model(db, dev.key, run_dev.model_version);
    if (!model) {
      if (run_dev.model_version != 0)
        throw RuntimeFailure(fmt::format("--resume {}: cost model v{} of the run for {} is no longer in {}", run_id,
                                         run_dev.model_version, dev.key.model.device_model, db.path()));
      model = calibrated_model(*dev.backend, db, dev.key, vm["calibrate-min"].as<double>() * 60,
                               mode == ProgressMode::quiet ? nullptr : stderr, workers);
    }
    run_dev.model_version = model->version;
    model_sources.push_back(model->model.band.n > 0 ? model->model.band.source : "default");
    oracles.push_back(std::make_unique<SearchOracle>(*dev.backend, db, dev.key, model->model));
    if (devices.size() > 1) oracles.back()->set_name(dev.label());
    if (farm != nullptr && workers == nullptr)
      note(fmt::format("MPI: no worker measures {} ({}): this process measures it", dev.label(),
                       dev.key.model.device_model));
    if (workers != nullptr) {
      oracles.back()->use_farm(workers);
      note(fmt::format("MPI: {} worker(s) measure {}on {}, batches of {}", workers->workers_on(dev.key.model.device),
                       devices.size() > 1 ? dev.label() + " " : "", dev.key.model.device_model,
                       cfg.search.measure_batch));
    }
    targets.push_back({&dev, oracles.back().get()});
  }

  // The default budgets: half of litv2-s measured on the device (the measurement is stored and reused).
  for (std::size_t d = 0; d < targets.size(); ++d) {
    RunDevice& run_dev = cfg.devices[d];
    if (cfg.search.budgets_ms[d] > 0 && run_dev.budget_from.empty()) continue;
    auto ref = space::preset(kBudgetReference);
    if (!ref) throw RuntimeFailure(ref.error().message);
    const std::string hash = space::hash_hex(space::arch_hash(*ref));
    SearchOracle& oracle = *targets[d].oracle;
    if (!oracle.stored(hash))
      note(fmt::format("measuring {} on {} for the default budget", kBudgetReference, targets[d].device->label()));
    auto m = oracle.measure(*ref, hash);
    if (!m)
      throw RuntimeFailure(fmt::format("cannot measure {} on {} for the default budget: {}", kBudgetReference,
                                       targets[d].device->label(), m.error().message));
    if (run_dev.budget_from.empty()) {
      cfg.search.budgets_ms[d] = m->ms / 2;
      run_dev.budget_from = fmt::format("{} measured {:.3f} ms, halved", kBudgetReference, m->ms);
    }
  }
  const std::vector<double>& budgets = cfg.search.budgets_ms;

  store::SearchRunRecord run;
  run.id = run_id;
  run.config_json = json{{"config", to_json(cfg)}}.dump();
  run.status = store::SearchStatus::running;
  auto put_run = db.put_search_run(run);
  if (!put_run) throw RuntimeFailure(put_run.error().message);
  std::string budget_notes;
  for (std::size_t d = 0; d < targets.size(); ++d)
    if (!cfg.devices[d].budget_from.empty())
      budget_notes +=
          fmt::format("{}{}{}", budget_notes.empty() ? " (" : "; ",
                      targets.size() > 1 ? targets[d].device->label() + ": " : "", cfg.devices[d].budget_from);
  if (!budget_notes.empty()) budget_notes += ")";
  note(fmt::format("run {}{}: space {} (10^{:.1f} genomes), {} over {} evaluations, objective {}, budget {}{}", run_id,
                   vm.count("resume") ? " (resumed)" : "", cfg.space, sampler.log10_size(), cfg.search.strategy,
                   cfg.search.evaluations, cfg.objective, budgets_text(targets, budgets), budget_notes));
  for (std::size_t d = 0; d < targets.size(); ++d)
    note(fmt::format("cost model v{} for {} (margin {:.1f}%: {})", cfg.devices[d].model_version,
                     devices[d].key.model.device_model, 100 * targets[d].oracle->margin(), model_sources[d]));

  std::vector<std::string> labels;
  std::vector<search::LatencyOracle*> oracle_ptrs;
  for (const Target& t : targets) {
    labels.push_back(t.device->label());
    oracle_ptrs.push_back(t.oracle);
  }
  SearchReporter reporter(db, run_id, mode, cfg.objective, labels);
  auto outcome = search::run_search(sampler, oracle_ptrs, *estimator, cfg.search, reporter);
  if (!outcome) {
    reporter.finish();
    run.status = store::SearchStatus::failed;
    (void)db.put_search_run(run);
    throw RuntimeFailure(outcome.error().message);
  }
  std::vector<PresetRow> presets;
  if (cfg.compare_presets) presets = compare_presets(*sp, targets, *estimator, budgets, reporter);
  reporter.finish();
  const search::SearchOutcome& o = *outcome;
  const auto& recs = o.records;
  const bool several = targets.size() > 1;

  // The table of finalists: predicted and measured side by side (per device).
  std::vector<Table::Column> columns = {{"#"}, {"arch", Table::Align::left}, {cfg.objective}};
  if (several) {
    for (const Target& t : targets) {
      columns.push_back({t.device->label() + " ms"});
      columns.push_back({"error"});
    }
  } else {
    columns.insert(columns.end(), {{"predicted ms"}, {"measured ms"}, {"error"}});
  }
  columns.insert(columns.end(), {{"MACs"}, {"params"}, {"", Table::Align::left}});
  Table t(columns);
  auto latency_cells = [&](const std::vector<double>& predicted, const std::vector<std::optional<double>>& measured) {
    std::vector<std::string> cells;
    for (std::size_t d = 0; d < predicted.size(); ++d) {
      if (!several) cells.push_back(fmt::format("{:.4g}", predicted[d]));
      cells.push_back(measured[d] ? fmt::format("{:.4g}", *measured[d]) : "-");
      cells.push_back(measured[d] ? fmt::format("{:+.1f}%", 100 * (predicted[d] / *measured[d] - 1)) : "");
    }
    return cells;
  };
  int rank = 0;
  for (std::size_t i : o.finalists) {
    const search::Record& r = recs[i];
    const Counted c = counts_of(r.candidate.arch);
    const std::string name = preset_name(r.hash);
    std::vector<double> predicted;
    std::vector<std::optional<double>> measured;
    for (const search::OnDevice& on : r.on) {
      predicted.push_back(on.predicted_ms);
      measured.push_back(on.measured ? std::optional<double>(on.measured->ms) : std::nullopt);
    }
    std::vector<std::string> row = {fmt::format("{}", ++rank),
                                    name.empty() ? r.hash : fmt::format("{} ({})", r.hash, name),
                                    r.score ? fmt::format("{:.4g}", *r.score) : "-"};
    for (std::string& cell : latency_cells(predicted, measured)) row.push_back(std::move(cell));
    row.insert(row.end(), {space::format_macs(c.macs), space::format_params(c.params),
                           r.measure_error.empty() ? budget_status(r, targets, budgets) : r.measure_error});
    t.add_row(row);
  }
  if (!presets.empty()) {
    t.add_rule();
    for (const PresetRow& p : presets) {
      const auto a = space::preset(p.name);
      const Counted c = counts_of(*a);
      std::vector<std::string> row = {"", fmt::format("{} (preset)", p.name),
                                      p.score ? fmt::format("{:.4g}", *p.score) : "-"};
      for (std::string& cell : latency_cells(p.predicted_ms, p.measured_ms)) row.push_back(std::move(cell));
      row.insert(row.end(), {space::format_macs(c.macs), space::format_params(c.params),
                             !p.error.empty() ? p.error
                             : p.within       ? "within budget"
                                              : "over budget"});
      t.add_row(row);
    }
  }
  std::string on_devices;
  for (std::size_t d = 0; d < targets.size(); ++d) {
    const cost::ModelKey& k = devices[d].key.model;
    on_devices += fmt::format("{}{}{} [{}], backend {}{}", d == 0 ? "" : "; ", several ? devices[d].label() + ": " : "",
                              k.device_model, k.device.substr(0, 8), k.backend,
                              several ? fmt::format(", budget {:.3f} ms", budgets[d]) : "");
  }
  fmt::print("search {}: {} on {}, batch {}, {}{}\n", run_id, cfg.space, on_devices, key.model.batch, key.model.dtype,
             several ? "" : fmt::format(", budget {:.3f} ms", budgets[0]));
  t.print(stdout);
  fmt::print(
      "{} evaluations ({} distinct), {} measured now + {} from the store, {} estimate failures; hypervolume "
      "(reference {}, {} {}): measured front {:.4g}, predicted front {:.4g}; final margin {}\n",
      o.evaluations, recs.size(), o.measurements, o.cached_measurements, o.score_failures,
      budgets_text(targets, budgets), cfg.objective, cfg.search.score_reference, o.hypervolume_measured,
      o.hypervolume_predicted, margins_text(o.margins, labels));
  if (farm != nullptr) fmt::print("{}\n", farm_summary(*farm));

  // Files and the stored result.
  const std::filesystem::path out_dir = vm.count("out") != 0 ? std::filesystem::path(vm["out"].as<std::string>())
                                                             : std::filesystem::path("runs") / run_id;
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw RuntimeFailure(fmt::format("{}: cannot create: {}", out_dir.string(), ec.message()));
  json front = json::array(), front_pred = json::array();
  for (std::size_t i : o.front_measured) front.push_back(arch_entry(recs[i], targets));
  for (std::size_t i : o.front_predicted) front_pred.push_back(arch_entry(recs[i], targets));
  json device_json = json::array();
  for (std::size_t d = 0; d < targets.size(); ++d)
    device_json.push_back({{"name", labels[d]},
                           {"device", devices[d].key.model.device},
                           {"device_model", devices[d].key.model.device_model},
                           {"backend", devices[d].key.model.backend},
                           {"budget_ms", budgets[d]},
                           {"margin", o.margins[d]}});
  json result = {{"run", run_id},
                 {"budget_ms", budgets[0]},
                 {"devices", device_json},
                 {"objective", cfg.objective},
                 {"evaluations", o.evaluations},
                 {"distinct", recs.size()},
                 {"measurements", o.measurements},
                 {"cached_measurements", o.cached_measurements},
                 {"hypervolume_measured", o.hypervolume_measured},
                 {"hypervolume_predicted", o.hypervolume_predicted},
                 {"margin", o.margins[0]},
                 {"best", o.best ? json(recs[*o.best].hash) : json()}};
  json preset_json = json::array();
  for (const PresetRow& p : presets) {
    json entry = {{"name", p.name},
                  {"hash", p.hash},
                  {"predicted_ms", p.predicted_ms[0]},
                  {"measured_ms", opt(p.measured_ms[0])},
                  {"score", opt(p.score)},
                  {"within_budget", p.within},
                  {"error", p.error}};
    if (several) {
      json per = json::array();
      for (std::size_t d = 0; d < targets.size(); ++d)
        per.push_back(
            {{"name", labels[d]}, {"predicted_ms", p.predicted_ms[d]}, {"measured_ms", opt(p.measured_ms[d])}});
      entry["devices"] = per;
    }
    preset_json.push_back(entry);
  }
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
      std::string figures;
      for (std::size_t d = 0; d < targets.size(); ++d)
        figures += fmt::format("{}{:.3f} ms {}{} ({:.3f} ms predicted)", d == 0 ? "" : ", ",
                               f.on[d].believed_ms(o.margins[d]), f.on[d].measured ? "measured" : "believed",
                               several ? " on " + labels[d] : "", f.on[d].predicted_ms);
      fastest = fmt::format("the fastest candidate found is {} at {}", f.hash, figures);
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
    throw RuntimeFailure(fmt::format("no architecture of space {} was measured within {}: {}{}", cfg.space,
                                     budgets_text(targets, budgets), fastest, unscored));
  }
  space::Arch best = recs[*o.best].candidate.arch;
  best.meta.name = fmt::format("search-{}-best", run_id);
  best.meta.source =
      fmt::format("hwnas search run {} ({}, budget {})", run_id, cfg.space, budgets_text(targets, budgets));
  write_text(out_dir / "best.json", space::arch_to_json(best).dump(2));
  run.status = store::SearchStatus::done;
  auto put_done = db.put_search_run(run);
  if (!put_done) throw RuntimeFailure(put_done.error().message);
  const search::Record& b = recs[*o.best];
  std::string measured;
  for (std::size_t d = 0; d < targets.size(); ++d)
    measured += fmt::format("{}{:.3f} ms{} (budget {:.3f})", d == 0 ? "" : ", ", b.on[d].measured->ms,
                            several ? " on " + labels[d] : "", budgets[d]);
  fmt::print("best: {} {} {:.4g}, measured {}; wrote {} and {}\n", b.hash, cfg.objective, *b.score, measured,
             (out_dir / "best.json").string(), (out_dir / "pareto.json").string());
  for (const PresetRow& p : presets) {
    if (p.within && p.score && *p.score >= *b.score)
      fmt::print("note: preset {} fits the budget with a {} of {:.4g}, not below the best found\n", p.name,
                 cfg.objective, *p.score);
  }
  return kExitOk;
}

}  // namespace hwnas::cli
