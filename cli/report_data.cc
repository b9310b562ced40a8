#include "cli/report_data.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/cost_data.h"
#include "cli/cost_fit.h"
#include "cli/report_compress.h"
#include "cost_models/evaluate.h"
#include "cost_models/model_json.h"
#include "hwnas_version.h"
#include "profilers/library_versions.h"
#include "search/pareto.h"
#include "space/arch_json.h"
#include "space/canonical.h"
#include "space/count.h"
#include "space/ops.h"
#include "space/presets.h"
#include "store/library_versions.h"
#include "store/time.h"

namespace hwnas::cli {
namespace {

using nlohmann::json;

template <class T>
T must(Result<T> r) {
  if (!r) throw RuntimeFailure(r.error().message);
  return std::move(r).value();
}

std::string lower_case(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::optional<double> number(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<double>();
}

// What a stored arch is: parsed back from its canonical text.
std::optional<space::Arch> arch_of(const store::ArchRecord& rec) {
  auto a = space::parse_arch(rec.canonical, "store arch " + rec.hash);
  if (!a) return std::nullopt;
  a->meta.name = rec.name;
  return std::move(a).value();
}

// The mixer's kind from a unit description ("hilo(a=0.9,s=2)" → "hilo").
std::string kind_of_description(const std::string& d) {
  return d.substr(0, d.find('('));
}

class Gatherer {
 public:
  Gatherer(store::Store& db, const ReportSelection& sel) : db_(db), sel_(sel) {}

  reports::ReportData run() {
    d_.generated_at = store::now_utc();
    d_.tool_version = fmt::format("{} (commit {})", HWNAS_VERSION, HWNAS_GIT_COMMIT);
    d_.source = db_.path();
    d_.versions = {{"oneDNN", prof::onednn_version()}, {"SQLite", store::sqlite_version()}};
    add_devices();
    add_runs();
    add_archs();
    add_models();
    d_.compress_runs = gather_compress_runs(db_, sel_.compress_runs, device_model_);
    return std::move(d_);
  }

 private:
  void add_devices() {
    for (const store::DeviceRecord& r : must(db_.list_devices())) {
      if (!selected(r)) continue;
      reports::Device dev;
      dev.fingerprint = r.fingerprint;
      dev.kind = r.kind;
      dev.model = r.model;
      dev.isa = r.isa;
      dev.engine = r.engine;
      dev.driver = r.driver;
      dev.cores = r.cores;
      dev.threads = r.threads;
      dev.bf16_native = r.bf16_native;
      dev.peak_f32_gflops = r.peak_f32_gflops;
      dev.peak_bf16_gflops = r.peak_bf16_gflops;
      dev.triad_gbs = r.triad_gbs;
      dev.first_seen = r.first_seen;
      dev.last_seen = r.last_seen;
      device_index_[r.fingerprint] = d_.devices.size();
      device_model_[r.fingerprint] = fmt::format("{} ({} threads)", r.model, r.threads);
      d_.devices.push_back(std::move(dev));
    }
    if (!sel_.devices.empty() && d_.devices.empty())
      throw UsageError(
          fmt::format("--device: no stored device matches '{}' in {}", fmt::join(sel_.devices, "', '"), db_.path()));
  }

  bool selected(const store::DeviceRecord& r) const {
    if (sel_.devices.empty()) return true;
    for (const std::string& want : sel_.devices) {
      if (r.fingerprint.rfind(want, 0) == 0 || r.kind == want) return true;
      if (want.rfind("cuda:", 0) == 0 && r.kind == "cuda") return true;
      if (lower_case(r.model).find(lower_case(want)) != std::string::npos) return true;
    }
    return false;
  }

  std::optional<std::size_t> setting_of(const std::string& device, const std::string& backend, std::int64_t batch,
                                        const std::string& dtype, int threads, const std::string& protocol) {
    auto dev = device_index_.find(device);
    if (dev == device_index_.end()) return std::nullopt;  // a device the selection leaves out
    const auto key = std::make_tuple(device, backend, batch, dtype, threads, protocol);
    auto it = setting_index_.find(key);
    if (it != setting_index_.end()) return it->second;
    reports::Setting s{dev->second, backend, batch, dtype, threads, protocol};
    d_.settings.push_back(s);
    return setting_index_[key] = d_.settings.size() - 1;
  }

  CostKey cost_key_of(const std::string& device, const std::string& backend, std::int64_t batch,
                      const std::string& dtype, int threads) {
    CostKey k;
    k.model.device = device;
    k.model.device_model = device_model_[device];
    k.model.backend = backend;
    k.model.batch = batch;
    k.model.dtype = dtype;
    k.model.threads = threads;
    k.run.batch = batch;
    k.run.dtype = prof::dtype_from(dtype).value_or(prof::DType::f32);
    k.run.threads = threads;
    return k;
  }

  // The latest stored cost model of a configuration (read once), if any.
  const cost::Model* model_of(const CostKey& k) {
    const auto key = std::make_tuple(k.model.device, k.model.backend, k.model.batch, k.model.dtype, k.model.threads);
    auto it = models_.find(key);
    if (it == models_.end()) {
      std::optional<cost::Model> m;
      try {
        if (auto stored = find_stored_model(db_, k)) m = std::move(stored->model);
      } catch (const RuntimeFailure&) {
        // An unreadable model is reported by 'hwnas fit'; the report goes on without predictions.
      }
      it = models_.emplace(key, std::move(m)).first;
    }
    return it->second ? &*it->second : nullptr;
  }

  void add_runs() {
    std::vector<store::SearchRunRecord> runs = must(db_.list_search_runs());
    std::vector<store::SearchRunRecord> chosen;
    if (sel_.runs.empty()) {
      chosen = runs;
    } else {
      for (const std::string& want : sel_.runs) {
        std::vector<const store::SearchRunRecord*> hits;
        for (const auto& r : runs)
          if (r.id.rfind(want, 0) == 0) hits.push_back(&r);
        if (hits.size() != 1)
          throw UsageError(fmt::format("--run {}: {} in {}", want,
                                       hits.empty() ? "no such search run" : "ambiguous prefix", db_.path()));
        chosen.push_back(*hits.front());
      }
    }
    std::sort(chosen.begin(), chosen.end(), [](auto& a, auto& b) { return a.created_at < b.created_at; });
    for (const auto& r : chosen) add_run(r);
  }

  void add_run(const store::SearchRunRecord& rec) {
    const json all = json::parse(rec.config_json, nullptr, false);
    const json cfg = all.is_object() && all.contains("config") ? all["config"] : json::object();
    const json result = all.is_object() && all.contains("result") ? all["result"] : json::object();
    reports::SearchRun r;
    r.id = rec.id;
    r.status = std::string(store::name_of(rec.status));
    r.created_at = rec.created_at;
    r.updated_at = rec.updated_at;
    r.space = cfg.value("space", "");
    r.objective = cfg.value("objective", "");
    r.strategy = cfg.value("strategy", "");
    r.device = cfg.value("device", "");
    r.backend = cfg.value("backend", "");
    r.dtype = cfg.value("dtype", "");
    r.budget_from = cfg.value("budget_from", "");
    r.batch = cfg.value("batch", std::int64_t{1});
    r.threads = cfg.value("threads", 0);
    r.seed = cfg.value("seed", std::uint64_t{0});
    r.evaluations = cfg.value("evaluations", std::size_t{0});
    r.budget_ms = cfg.value("budget_ms", 0.0);
    if (cfg.contains("devices") && cfg["devices"].is_array() && cfg["devices"].size() > 1)
      for (const json& t : cfg["devices"])
        r.targets.push_back({t.value("name", ""), t.value("device", ""), t.value("budget_ms", 0.0)});
    r.score_reference = cfg.value("score_reference", 0.0);
    if (result.contains("best") && result["best"].is_string()) r.best_hash = result["best"].get<std::string>();
    if (result.contains("presets") && result["presets"].is_array())
      for (const json& p : result["presets"]) {
        auto ms = number(p, "measured_ms");
        if (!ms) continue;
        r.presets.push_back({p.value("name", ""), *ms, number(p, "score")});
      }

    std::vector<store::CandidateRecord> cands = must(db_.list_candidates(rec.id));
    std::sort(cands.begin(), cands.end(), [](auto& a, auto& b) { return a.idx < b.idx; });
    for (const auto& c : cands) {
      const json o = json::parse(c.objectives_json, nullptr, false);
      reports::SearchPoint p;
      p.index = static_cast<std::size_t>(c.idx);
      p.hash = c.arch_hash;
      p.measured = c.measured && number(o, "measured_ms").has_value();
      p.latency_ms = number(o, "measured_ms").value_or(number(o, "believed_ms").value_or(0.0));
      if (r.targets.size() > 1 && o.contains("devices") && o["devices"].is_array())
        for (std::size_t d = 1; d < std::min(o["devices"].size(), r.targets.size()); ++d) {
          const json& on = o["devices"][d];
          p.more_measured.push_back(number(on, "measured_ms").has_value());
          p.more_ms.push_back(number(on, "measured_ms").value_or(number(on, "believed_ms").value_or(0.0)));
        }
      if (p.more_ms.size() + 1 != std::max<std::size_t>(r.targets.size(), 1)) p.more_ms.clear();  // unreadable
      p.score = number(o, "score");
      p.best = r.best_hash && *r.best_hash == p.hash;
      r.points.push_back(std::move(p));
    }
    mark_front(r);
    r.progress = progress_of(r);
    d_.runs.push_back(std::move(r));
  }

  // The point in objective space (every device's latency), if it fits every budget.
  static std::optional<search::Point> point_within(const reports::SearchRun& r, const reports::SearchPoint& p) {
    if (!p.score || p.latency_ms > r.budget_ms) return std::nullopt;
    search::Point pt{p.latency_ms, *p.score};
    if (r.targets.size() > 1) {
      if (p.more_ms.size() + 1 != r.targets.size()) return std::nullopt;
      pt.devices = r.targets.size();
      for (std::size_t d = 1; d < r.targets.size(); ++d) {
        if (p.more_ms[d - 1] > r.targets[d].budget_ms) return std::nullopt;
        pt.set_latency(d, p.more_ms[d - 1]);
      }
    }
    return pt;
  }
  static search::Point reference_of(const reports::SearchRun& r) {
    search::Point ref{r.budget_ms, r.score_reference};
    if (r.targets.size() > 1) {
      ref.devices = r.targets.size();
      for (std::size_t d = 1; d < r.targets.size(); ++d) ref.set_latency(d, r.targets[d].budget_ms);
    }
    return ref;
  }

  // The measured front within budget when anything was measured within it, else the believed front
  // (over every device's latency for a search over several).
  static void mark_front(reports::SearchRun& r) {
    for (const bool measured_only : {true, false}) {
      std::vector<search::Point> pts;
      std::vector<std::size_t> idx;
      for (std::size_t i = 0; i < r.points.size(); ++i) {
        const auto& p = r.points[i];
        const auto pt = point_within(r, p);
        if (!pt || (measured_only && !p.measured)) continue;
        pts.push_back(*pt);
        idx.push_back(i);
      }
      if (pts.empty()) continue;
      for (std::size_t k : search::pareto_front(pts)) r.points[idx[k]].front = true;
      return;
    }
  }

  // Best believed score within budget and hypervolume of the believed front after each stretch of
  // candidates (about 200 points per run).
  static std::vector<reports::ProgressPoint> progress_of(const reports::SearchRun& r) {
    std::vector<reports::ProgressPoint> out;
    std::vector<search::Point> pts;
    std::optional<double> best;
    const std::size_t n = r.points.size(), stride = std::max<std::size_t>(1, n / 200);
    for (std::size_t i = 0; i < n; ++i) {
      if (const auto pt = point_within(r, r.points[i])) {
        pts.push_back(*pt);
        best = best ? std::max(*best, pt->score) : pt->score;
      }
      if ((i + 1) % stride == 0 || i + 1 == n) out.push_back({i + 1, best, search::hypervolume(pts, reference_of(r))});
    }
    return out;
  }

  struct Wanted {
    std::string hash, origin;
    std::optional<space::Arch> arch;
    std::optional<double> score;
    std::string score_name;
    bool is_preset = false;
  };

  void add_archs() {
    std::vector<Wanted> wanted;
    std::set<std::string> seen;
    auto want = [&](Wanted w) {
      if (!seen.insert(w.hash).second) return;
      wanted.push_back(std::move(w));
    };
    // Presets first (reference points), then each run's best and finalists, then files.
    const bool explicit_archs = !sel_.presets.empty() || !sel_.arch_files.empty();
    for (const auto& info : space::presets()) {
      const bool asked = std::find(sel_.presets.begin(), sel_.presets.end(), info.name) != sel_.presets.end();
      if (explicit_archs && !asked) continue;
      auto a = space::preset(info.name);
      if (!a) continue;
      const std::string hash = space::hash_hex(space::arch_hash(*a));
      if (!asked && !sel_.all_archs) {
        store::MeasurementFilter f;
        f.hash = hash;
        f.kind = store::SubjectKind::network;
        f.limit = 1;
        if (must(db_.list_measurements(f)).empty()) continue;
      }
      Wanted w{hash, "preset", *a, std::nullopt, "", true};
      for (const reports::SearchRun& r : d_.runs)
        for (const auto& p : r.presets)
          if (p.name == info.name && p.score) {
            w.score = p.score;
            w.score_name = r.objective;
          }
      if (!w.score && a->meta.top1) {
        w.score = a->meta.top1;
        w.score_name = "top-1 (published)";
      }
      want(std::move(w));
    }
    for (const std::string& name : sel_.presets)
      if (!space::preset(name)) throw UsageError(space::preset(name).error().message);
    if (!explicit_archs || !sel_.runs.empty()) {
      for (const reports::SearchRun& r : d_.runs) {
        std::vector<const reports::SearchPoint*> measured;
        for (const auto& p : r.points)
          if (p.measured) measured.push_back(&p);
        std::stable_sort(measured.begin(), measured.end(), [](auto* a, auto* b) {
          return a->best != b->best ? a->best : a->score.value_or(-1e300) > b->score.value_or(-1e300);
        });
        if (measured.size() > sel_.finalists_per_run) measured.resize(sel_.finalists_per_run);
        for (const auto* p : measured) {
          auto rec = must(db_.find_arch(p->hash));
          std::optional<space::Arch> a = rec ? arch_of(*rec) : std::nullopt;
          const std::string origin = fmt::format("{} of search {}", p->best ? "best" : "finalist", r.id.substr(0, 8));
          want({p->hash, origin, a, p->score, r.objective, false});
        }
      }
    }
    for (const std::string& path : sel_.arch_files) {
      auto a = space::load_arch_file(path);
      if (!a) throw UsageError(a.error().message);
      want({space::hash_hex(space::arch_hash(*a)), "file " + path, *a, std::nullopt, "", false});
    }
    if (sel_.all_archs)
      for (const store::ArchRecord& rec : must(db_.list_archs()))
        want({rec.hash, "measured", arch_of(rec), std::nullopt, "", false});
    for (Wanted& w : wanted) add_arch(std::move(w));
  }

  void add_arch(Wanted w) {
    reports::ArchEntry e;
    e.hash = w.hash;
    e.origin = w.origin;
    e.is_preset = w.is_preset;
    e.score = w.score;
    e.score_name = w.score_name;
    if (auto rec = must(db_.find_arch(w.hash))) {
      e.name = rec->name;
      e.macs = rec->macs;
      e.params = rec->params;
      if (!w.arch) w.arch = arch_of(*rec);
    }
    if (w.arch) {
      if (e.name.empty()) e.name = w.arch->meta.name;
      if (auto net = space::lower(*w.arch)) {
        const auto c = space::count(*net);
        e.macs = c.macs;
        e.params = c.params;
      }
    }
    e.arch = std::move(w.arch);
    store::MeasurementFilter f;
    f.hash = w.hash;
    f.kind = store::SubjectKind::network;
    std::vector<store::MeasurementRecord> nets = must(db_.list_measurements(f));
    std::sort(nets.begin(), nets.end(), [](auto& a, auto& b) { return a.created_at < b.created_at; });
    for (const store::MeasurementRecord& m : nets) {
      if (m.arch_hash != w.hash) continue;  // a prefix match of another hash
      const auto& k = m.key;
      auto setting = setting_of(k.device, k.backend, k.batch, k.dtype, k.threads, k.protocol);
      if (!setting) continue;
      reports::Latency l;
      l.setting = *setting;
      l.median_ms = m.figures.figure_us / 1000;
      l.p90_ms = m.figures.p90_us / 1000;
      l.noisy = m.figures.noisy;
      l.measured_at = m.created_at;
      if (e.arch && k.protocol == "default")
        if (const cost::Model* model = model_of(cost_key_of(k.device, k.backend, k.batch, k.dtype, k.threads)))
          if (auto us = model->predict_us(*e.arch)) l.predicted_ms = *us / 1000;
      e.latencies.push_back(l);
      std::vector<store::MeasurementRecord> units = must(db_.list_parts(k, store::SubjectKind::unit));
      if (units.empty()) continue;
      std::sort(units.begin(), units.end(), [](auto& a, auto& b) { return a.position < b.position; });
      reports::Breakdown b{*setting, l.median_ms, {}};
      for (const auto& u : units) {
        const json detail = json::parse(u.detail_json, nullptr, false);
        const std::string mixer = detail.is_object() ? detail.value("mixer", "") : "";
        const std::string ffn = detail.is_object() ? detail.value("ffn", "") : "";
        b.units.push_back({u.label, u.unit_kind, u.unit_kind == "block" ? kind_of_description(mixer) : "",
                           ffn.empty() ? mixer : mixer + " + " + ffn, u.figures.figure_us / 1000});
      }
      e.breakdowns.push_back(std::move(b));
    }
    d_.archs.push_back(std::move(e));
  }

  void add_models() {
    // The latest version of each configuration.
    std::map<std::tuple<std::string, std::string, std::int64_t, std::string, int>, store::CostModelRecord> latest;
    for (store::CostModelRecord& r : must(db_.list_cost_models())) {
      if (device_index_.count(r.key.device) == 0 || r.key.kind != cost::kModelKind) continue;
      const auto key = std::make_tuple(r.key.device, r.key.backend, r.key.batch, r.key.dtype, r.key.threads);
      auto it = latest.find(key);
      if (it == latest.end() || it->second.key.version < r.key.version) latest[key] = std::move(r);
    }
    for (const auto& [key, rec] : latest) {
      auto model =
          cost::model_from_json(rec.model_json, fmt::format("{}: cost model v{}", db_.path(), rec.key.version));
      if (!model) continue;
      const CostKey ck = cost_key_of(rec.key.device, rec.key.backend, rec.key.batch, rec.key.dtype, rec.key.threads);
      CostData data = load_cost_data(db_, ck, default_holdout());
      const double c = cost::macs_constant(data.units, data.networks);
      const cost::Evaluation ev = cost::evaluate(*model, data.held_out, c);
      reports::ModelAccuracy m;
      const auto setting =
          setting_of(rec.key.device, rec.key.backend, rec.key.batch, rec.key.dtype, rec.key.threads, "default");
      m.title =
          fmt::format("cost model v{} — {}", rec.key.version, setting ? reports::setting_label(d_, *setting) : "");
      m.created_at = rec.created_at;
      m.measurements = data.measurements;
      m.calibration_min = (data.training_s + data.held_out_s) / 60;
      for (const cost::EvalRow& row : ev.rows)
        m.rows.push_back({row.arch_hash, row.name, row.measured_us / 1000, row.predicted_us / 1000});
      auto metrics = [](std::string name, const cost::Metrics& x) {
        return reports::Metrics{
            std::move(name), static_cast<std::size_t>(x.n), x.mape, x.rmspe, x.within5, x.within10, x.kendall_tau,
            x.spearman_rho};
      };
      m.metrics = {metrics("cost model", ev.model), metrics("MACs × constant", ev.macs_baseline),
                   metrics("sum of blocks measured alone", ev.block_sum),
                   metrics("cost model on those rows", ev.model_on_block_sum_rows)};
      d_.models.push_back(std::move(m));
    }
  }

  store::Store& db_;
  const ReportSelection& sel_;
  reports::ReportData d_;
  std::map<std::string, std::size_t> device_index_;
  std::map<std::string, std::string> device_model_;
  std::map<std::tuple<std::string, std::string, std::int64_t, std::string, int, std::string>, std::size_t>
      setting_index_;
  std::map<std::tuple<std::string, std::string, std::int64_t, std::string, int>, std::optional<cost::Model>> models_;
};

}  // namespace

reports::ReportData gather_report(store::Store& db, const ReportSelection& sel) {
  return Gatherer(db, sel).run();
}

}  // namespace hwnas::cli
