#include "cli/calibrate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/farm.h"
#include "cli/store_records.h"
#include "cli/stored_measure.h"
#include "cost_models/fit.h"
#include "cost_models/plan.h"
#include "profilers/bursts.h"
#include "profilers/timing.h"
#include "profilers/weight_source.h"
#include "space/canonical.h"
#include "space/count.h"
#include "space/presets.h"
#include "space/seed_spaces.h"

namespace hwnas::cli {
namespace {

std::string clock_text(double s) {
  const auto total = static_cast<long>(std::max(s, 0.0) + 0.5);
  return fmt::format("{}:{:02d}", total / 60, total % 60);
}

class Calibration {
 public:
  Calibration(prof::Backend& backend, store::Store& db, const CostKey& key, const CalibrateOptions& opts,
              std::FILE* progress)
      : backend_(backend), db_(db), key_(key), opts_(opts), progress_(progress), clock_(backend.clock()) {
    // Networks get the standard protocol's full cap: at 20-100 ms a call, a 300-400 ms cap leaves too
    // few samples to reach ±2% on a shared machine (measured: 59 of 72 network figures flagged).
    network_timing_ = prof::TimingConfig::for_protocol(prof::Protocol::standard);
    timing_ = network_timing_;
    timing_.max_time_ms = std::min(timing_.max_time_ms, opts.max_item_ms);
    timing_.min_time_ms = std::min(timing_.min_time_ms, timing_.max_time_ms);
    timing_.warmup_min_ms = std::min(timing_.warmup_min_ms, timing_.max_time_ms / 2);
    check(db_.put_device(device_record(backend_.device())));
  }

  // The backend's clock, plus the farm's measuring time where rank 0's clock did not see it (the fake
  // backend's virtual clock stands still while workers measure).
  double now_s() const { return clock_() / 1e6 + farm_offset_s_; }
  // Subjects measured together: 4 per worker of the device on a farm (each to the next free worker;
  // the budget is checked between batches), 1 in one process.
  std::size_t batch() const { return opts_.farm != nullptr ? 4 * opts_.farm->workers_on(key_.model.device) : 1; }

  // The stored figure for this subject, if any (noisy ones too: calibration keeps what it paid for).
  std::optional<double> stored(const std::string& subject) {
    auto hit = db_.find_measurement(measurement_key(key_, subject));
    if (!hit) throw RuntimeFailure(hit.error().message);
    if (!*hit) return std::nullopt;
    return (*hit)->record.figures.figure_us;
  }

  // Measures unit `u` of `arch` alone (or the network when u < 0) and stores it; the figure in µs.
  std::optional<double> measure(const space::Arch& arch, const std::string& hash, int u) {
    if (opts_.farm != nullptr) return measure(std::vector<FarmSubject>{{&arch, hash, u}}).front();
    if (stored_archs_.insert(hash).second) check(db_.put_arch(arch_record(arch)));
    return measure_and_store(backend_, db_, key_, arch, hash, u, u < 0 ? network_timing_ : timing_, weights_,
                             progress_);
  }

  // Several subjects at once (on the farm: in parallel); figures in µs, nothing where one failed.
  std::vector<std::optional<double>> measure(const std::vector<FarmSubject>& subjects) {
    std::vector<std::optional<double>> out;
    if (opts_.farm == nullptr) {
      for (const FarmSubject& s : subjects) out.push_back(measure(*s.arch, s.hash, s.unit));
      return out;
    }
    // Units and networks take different timing configurations: one farm batch each.
    for (const bool networks : {false, true}) {
      std::vector<FarmSubject> part;
      std::vector<std::size_t> at;
      for (std::size_t i = 0; i < subjects.size(); ++i)
        if ((subjects[i].unit < 0) == networks) {
          part.push_back(subjects[i]);
          at.push_back(i);
        }
      if (part.empty()) continue;
      out.resize(subjects.size());
      const double c0 = clock_() / 1e6;
      auto got = farm_measure(*opts_.farm, db_, key_, part, networks ? network_timing_ : timing_, true);
      std::map<int, double> per_rank_s;
      for (std::size_t k = 0; k < got.size(); ++k) {
        if (got[k]) {
          out[at[k]] = got[k]->figure_us;
          per_rank_s[got[k]->rank] += got[k]->elapsed_ms / 1e3;
        } else if (progress_ != nullptr) {
          fmt::print(progress_, "{}\n", got[k].error().message);
        }
      }
      double makespan_s = 0;
      for (const auto& [rank, s] : per_rank_s) makespan_s = std::max(makespan_s, s);
      farm_offset_s_ += std::max(0.0, makespan_s - (clock_() / 1e6 - c0));
    }
    return out;
  }

  // Another burst of the stored network measurement `hash`, when it has fewer than `pass` and the policy
  // wants one (profilers/bursts.h; MEASURE.md:
  // "a single burst cannot tell which mode it landed in"; a slow phase of the shared host moved whole
  // held-out networks 20% off the model). The record kept is the fastest burst's, every burst's figure
  // in its detail (`bursts_us`): what the host gives when other jobs do not slow it. One process only
  // (on a farm each network keeps its one burst). Returns whether it measured.
  bool add_network_burst(const space::Arch& arch, const std::string& hash, int pass, const prof::BurstPolicy& policy) {
    if (opts_.farm != nullptr) return false;
    auto hit = db_.find_measurement(measurement_key(key_, hash));
    if (!hit) throw RuntimeFailure(hit.error().message);
    if (!*hit) return false;
    store::MeasurementRecord kept = (*hit)->record;
    const std::vector<double> bursts = record_bursts(kept);
    if (static_cast<int>(bursts.size()) >= pass || !prof::wants_another_burst(bursts, policy)) return false;
    auto fresh = measure_subject(backend_, key_, arch, hash, -1, network_timing_, weights_, true);
    if (!fresh) {
      say(fresh.error().message);
      return false;
    }
    add_burst(kept, *fresh);
    check(db_.put_measurement(kept));
    return true;
  }

  void say(const std::string& line) {
    if (progress_ != nullptr) {
      fmt::print(progress_, "{}\n", line);
      std::fflush(progress_);
    }
  }
  // Rate-limited by wall time: a line at most every 5 s (the fake backend's rounds take milliseconds).
  void say_sometimes(const std::string& line) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_said_ < std::chrono::seconds(5)) return;
    last_said_ = now;
    say(line);
  }

 private:
  template <class S>
  void check(S&& status) {
    if (!status) throw RuntimeFailure(status.error().message);
  }

  prof::Backend& backend_;
  store::Store& db_;
  const CostKey& key_;
  const CalibrateOptions& opts_;
  std::FILE* progress_;
  prof::Clock clock_;
  prof::TimingConfig timing_;          // units: capped at max_item_ms
  prof::TimingConfig network_timing_;  // networks: the standard protocol
  prof::RandomWeights weights_;
  std::set<std::string> stored_archs_;
  double farm_offset_s_ = 0;
  std::chrono::steady_clock::time_point last_said_{};
};

}  // namespace

CalibrateStats calibrate(prof::Backend& backend, store::Store& db, const CostKey& key, const cost::Holdout& holdout,
                         const CalibrateOptions& opts, std::FILE* progress) {
  CalibrateStats st;
  Calibration cal(backend, db, key, opts, progress);
  auto sp = space::builtin_space("hybrid-vit");
  if (!sp) throw RuntimeFailure(sp.error().message);
  // Around the presets: their own block shapes and stacks of one block kind, which samples of the
  // default space lack (the presets themselves stay held out).
  std::vector<space::SearchSpace> neighbours;
  if (opts.preset_neighbours > 0)
    for (const space::PresetInfo& p : space::presets()) {
      auto base = space::preset(p.name);
      if (!base) continue;
      if (auto near = space::seed_space("finercut", *base, p.name)) neighbours.push_back(*std::move(near));
    }
  auto pool = cost::build_pool(*sp, holdout, opts.pool_archs, opts.pool_networks, key.run.batch, cost::kTrainingSeed,
                               neighbours, opts.preset_neighbours);
  if (!pool) throw RuntimeFailure(pool.error().message);
  cost::Planner planner(*pool);

  // What the store already holds for this key: reused, never measured again.
  std::vector<cost::UnitSample> samples;
  std::vector<std::size_t> sample_item;  // pool item of each sample (npos: from elsewhere)
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  {
    const CostData have = load_cost_data(db, key, holdout);
    samples = have.units;
    sample_item.assign(samples.size(), kNone);
  }
  std::map<std::pair<std::string, std::uint64_t>, std::size_t> sample_of;
  for (std::size_t s = 0; s < samples.size(); ++s)
    sample_of[{samples[s].arch_hash, cost::unit_signature(samples[s].group, samples[s].f)}] = s;
  for (std::size_t i = 0; i < pool->units.size(); ++i) {
    const cost::PoolItem& it = pool->units[i];
    if (cal.stored(store::subject_hash(it.arch_hash, it.label))) {
      planner.mark_measured(i);
      ++st.reused;
      if (auto f = sample_of.find({it.arch_hash, it.signature}); f != sample_of.end()) sample_item[f->second] = i;
    }
  }
  std::size_t next_network = 0;

  const double start_s = cal.now_s();
  const double eval_items = [&] {
    double n = 0;
    auto count = [&](const space::Arch& a) {
      auto net = space::lower(a);
      n += opts.network_bursts + (net ? static_cast<double>(net->units.size()) : 0.0);  // bursts: ETA only
    };
    if (opts.eval_presets)
      for (const auto& a : holdout.presets) count(a);
    for (int i = 0; i < opts.eval_samples && i < static_cast<int>(holdout.samples.size()); ++i)
      count(holdout.samples[static_cast<std::size_t>(i)]);
    return n;
  }();
  double item_s = opts.max_item_ms / 1e3 * 0.6;  // running mean of the time an item takes
  auto elapsed = [&] { return cal.now_s() - start_s; };
  auto eta = [&] { return std::max(opts.budget_s - elapsed(), 0.0) + eval_items * item_s; };
  // Pool items, a batch at a time (one in one process), until the budget is spent.
  auto measure_items = [&](const std::vector<std::size_t>& items) {
    for (std::size_t k = 0; k < items.size() && elapsed() < opts.budget_s; k += cal.batch()) {
      const std::vector<std::size_t> part(
          items.begin() + static_cast<std::ptrdiff_t>(k),
          items.begin() + static_cast<std::ptrdiff_t>(std::min(k + cal.batch(), items.size())));
      std::vector<FarmSubject> subjects;
      for (std::size_t i : part)
        subjects.push_back({pool->units[i].arch.get(), pool->units[i].arch_hash, pool->units[i].unit});
      const double t0 = cal.now_s();
      const auto us = cal.measure(subjects);
      const double per_item_s = (cal.now_s() - t0) / static_cast<double>(part.size());
      for (std::size_t j = 0; j < part.size(); ++j) {
        const std::size_t i = part[j];
        const cost::PoolItem& it = pool->units[i];
        item_s = 0.9 * item_s + 0.1 * per_item_s;
        planner.mark_measured(i);
        if (!us[j] || !(*us[j] > 0)) {
          ++st.failed;
          continue;
        }
        ++st.measured;
        samples.push_back({it.group, it.f, *us[j], it.arch_hash});
        sample_item.push_back(i);
      }
    }
  };
  auto network_time_s = 0.0;
  auto measure_network = [&] {
    if (next_network >= pool->networks.size()) return;
    const space::Arch& a = *pool->networks[next_network++];
    const std::string hash = space::hash_hex(space::arch_hash(a));
    const double t0 = cal.now_s();
    if (!cal.stored(hash)) {
      if (cal.measure(a, hash, -1)) ++st.networks;
    }
    network_time_s += cal.now_s() - t0;
  };

  cal.say(
      fmt::format("calibrate: {} distinct units in the plan from {} training archs, {} already in the store; "
                  "budget {} (+ held-out set: {:.0f} items)",
                  pool->units.size(), opts.pool_archs, st.reused, clock_text(opts.budget_s), eval_items));
  // Round 0: every group, smallest to largest.
  measure_items(planner.initial(opts.per_group));
  // Adaptive rounds.
  while (elapsed() < opts.budget_s && planner.remaining() > 0) {
    ++st.rounds;
    auto model = cost::fit(samples, {}, key.model);
    if (model) {
      for (std::size_t s = 0; s < samples.size(); ++s) {
        if (sample_item[s] == kNone) continue;
        const double r = model->predict_unit_us(samples[s].group, samples[s].f) / samples[s].us - 1;
        planner.set_residual(sample_item[s], r);
      }
      std::string worst;
      std::vector<std::pair<double, std::string>> errs;
      for (std::size_t g = 0; g < cost::kGroupSlots; ++g)
        if (model->has_group[g])
          errs.emplace_back(model->groups[g].cv_mape, cost::group_name({static_cast<space::UnitKind>(g / 16),
                                                                        static_cast<std::uint8_t>(g % 16)}));
      std::sort(errs.rbegin(), errs.rend());
      for (std::size_t k = 0; k < std::min<std::size_t>(3, errs.size()); ++k)
        worst += fmt::format("{}{} {:.1f}%", k ? ", " : "", errs[k].second, 100 * errs[k].first);
      cal.say_sometimes(
          fmt::format("calibrate: {} / {} elapsed, {} units measured (+{} reused), {} networks; "
                      "round {}: CV error worst in {}; ETA {}",
                      clock_text(elapsed()), clock_text(opts.budget_s), st.measured, st.reused, st.networks, st.rounds,
                      worst, clock_text(eta())));
    }
    measure_items(planner.next(std::max(opts.round, cal.batch())));
    if (network_time_s < opts.network_share * elapsed()) measure_network();
  }
  st.training_s = elapsed();
  cal.say(fmt::format("calibrate: training measurements done in {} ({} units, {} reused, {} networks, {} failed)",
                      clock_text(st.training_s), st.measured, st.reused, st.networks, st.failed));

  // The held-out set: every unit and the network of each arch.
  std::vector<const space::Arch*> eval;
  if (opts.eval_presets)
    for (const auto& a : holdout.presets) eval.push_back(&a);
  for (int i = 0; i < opts.eval_samples && i < static_cast<int>(holdout.samples.size()); ++i)
    eval.push_back(&holdout.samples[static_cast<std::size_t>(i)]);
  const double eval_start = cal.now_s();
  for (std::size_t e = 0; e < eval.size(); ++e) {
    const space::Arch& a = *eval[e];
    if (!backend.unsupported(a, key.run).empty()) continue;
    const std::string hash = space::hash_hex(space::arch_hash(a));
    auto net = space::lower(a);
    if (!net) continue;
    std::vector<FarmSubject> todo;
    for (int u = -1; u < static_cast<int>(net->units.size()); ++u) {
      const std::string subject =
          u < 0 ? hash : store::subject_hash(hash, net->units[static_cast<std::size_t>(u)].label);
      if (!cal.stored(subject)) todo.push_back({&a, hash, u});
    }
    if (!todo.empty()) {
      const double t0 = cal.now_s();
      cal.measure(todo);
      const double per_item_s = (cal.now_s() - t0) / static_cast<double>(todo.size());
      for (std::size_t k = 0; k < todo.size(); ++k) item_s = 0.9 * item_s + 0.1 * per_item_s;
      st.held_out += static_cast<std::int64_t>(todo.size());
    }
    double left = 0;
    for (std::size_t k = e + 1; k < eval.size(); ++k) {
      auto n2 = space::lower(*eval[k]);
      left += 1 + (n2 ? static_cast<double>(n2->units.size()) : 0.0);
    }
    cal.say_sometimes(fmt::format("calibrate: held-out set {}/{} ({}), ETA {}", e + 1, eval.size(), a.meta.name,
                                  clock_text(left * item_s)));
  }
  // Further bursts of every network, the held-out ones in reverse order, so that a network's bursts lie
  // the whole held-out pass apart; then the training networks the store holds (this run's or earlier).
  std::vector<std::pair<const space::Arch*, std::string>> networks;
  for (auto e = eval.rbegin(); e != eval.rend(); ++e)
    if (backend.unsupported(**e, key.run).empty()) networks.emplace_back(*e, space::hash_hex(space::arch_hash(**e)));
  for (const auto& a : pool->networks) networks.emplace_back(a.get(), space::hash_hex(space::arch_hash(*a)));
  const prof::BurstPolicy policy = prof::BurstPolicy::up_to(opts.network_bursts, opts.burst_agree);
  for (int b = 2; b <= opts.network_bursts; ++b) {
    for (std::size_t n = 0; n < networks.size(); ++n) {
      if (cal.add_network_burst(*networks[n].first, networks[n].second, b, policy)) ++st.bursts;
      cal.say_sometimes(fmt::format("calibrate: network burst {} of {}: {}/{} ({})", b, opts.network_bursts, n + 1,
                                    networks.size(), networks[n].first->meta.name));
    }
  }
  st.held_out_s = cal.now_s() - eval_start;
  cal.say(fmt::format("calibrate: held-out set measured in {} ({} new measurements, {} further network bursts)",
                      clock_text(st.held_out_s), st.held_out, st.bursts));
  return st;
}

StoredModel calibrated_model(prof::Backend& backend, store::Store& db, const CostKey& key, double budget_s,
                             std::FILE* progress, prof::mpi::Coordinator* farm) {
  CalibrateOptions co;
  co.budget_s = budget_s;
  co.farm = farm;
  co.eval_samples = 0;
  co.eval_presets = false;
  co.network_bursts = 1;  // within the caller's budget
  if (progress != nullptr)
    fmt::print(progress,
               "no cost model in {} for {}, backend {}, batch {}, {}: calibrating for {:.1f} min first "
               "('hwnas calibrate' makes a better one)\n",
               db.path(), key.model.device_model, key.model.backend, key.model.batch, key.model.dtype, budget_s / 60);
  calibrate(backend, db, key, default_holdout(), co, progress);
  const FitOutcome f = fit_and_store(db, key, default_holdout());
  // Read back from the store: what a later run finds is exactly what this one uses.
  auto model = find_stored_model(db, key, f.version);
  if (!model) throw RuntimeFailure(fmt::format("cost model v{} vanished from {}", f.version, db.path()));
  return *model;
}

}  // namespace hwnas::cli
