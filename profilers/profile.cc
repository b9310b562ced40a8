#include "profilers/profile.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "space/canonical.h"

namespace hwnas::prof {

double ProfileResult::throughput_img_s() const {
  return end_to_end.figure_us > 0 ? 1e6 * static_cast<double>(options.run.batch) / end_to_end.figure_us : 0;
}

double ProfileResult::gflops(std::int64_t macs_per_image, double us) const {
  if (us <= 0) return 0;
  return 2.0 * static_cast<double>(macs_per_image) * static_cast<double>(options.run.batch) / (us * 1e3);
}

double ProfileResult::peak_gflops() const {
  // fp16 and bf16 share the tensor cores' rate (the CPU backend has no fp16).
  return options.run.dtype == DType::f32 ? device.peak_f32_gflops : device.peak_bf16_gflops;
}

UnitProfile describe_unit(const space::Arch& arch, const space::Unit& unit, int index) {
  UnitProfile up;
  up.unit = index;
  up.label = unit.label;
  up.kind = std::string(space::name_of(unit.kind));
  up.mixer = space::describe_mixer(arch, unit);
  up.ffn = space::describe_ffn(arch, unit);
  up.tokens = unit.in.total();
  up.dim = unit.out_dim;
  up.counts = space::count(unit);
  return up;
}

namespace {

TimingConfig item_config(const ProfileOptions& o) {
  TimingConfig c = TimingConfig::for_protocol(o.protocol);
  if (o.max_item_ms > 0) {
    c.max_time_ms = std::min(c.max_time_ms, o.max_item_ms);
    c.min_time_ms = std::min(c.min_time_ms, c.max_time_ms);
    c.warmup_min_ms = std::min(c.warmup_min_ms, c.max_time_ms / 2);
  }
  return c;
}

}  // namespace

Result<ProfileResult> profile(Backend& backend, const space::Arch& arch, const ProfileOptions& opts,
                              const WeightSource& weights, const Progress& progress) {
  if (auto why = backend.unsupported(arch, opts.run); !why.empty()) return Error{why};
  auto lowered = space::lower(arch);
  if (!lowered) return lowered.error();
  const space::Lowered& net = *lowered;
  ProfileResult r;
  r.arch_name = arch.meta.name;
  r.arch_hash = space::hash_hex(space::arch_hash(arch));
  r.options = opts;
  r.counts = space::count(net);

  // Noise gate, part 1: machine load and a calibration workload before the batch.
  r.noise.before = load_snapshot();
  r.noise.device_before = backend.device_state();
  r.noise.calibration_before_us = backend.calibration_us();

  const int total = 1 + (opts.per_unit ? static_cast<int>(net.units.size()) : 0);
  int done = 0;
  auto report = [&](const std::string& what) {
    if (progress) progress(what, done, total);
  };

  report("end to end");
  auto whole = backend.prepare(arch, Subject::network(), opts.run, weights);
  if (!whole) return whole.error();
  r.creation_ms = (*whole)->creation_ms();
  r.chunk = (*whole)->chunk();
  Runnable& net_run = **whole;
  const TimingConfig network_timing = TimingConfig::for_protocol(opts.protocol);
  r.end_to_end = backend.time([&] { net_run.run(); }, network_timing);
  r.bursts_us.push_back(r.end_to_end.figure_us);
  if (auto launch = net_run.graph_launch()) r.graph = backend.time(launch, network_timing);
  ++done;

  if (opts.per_step) {
    const auto names = net_run.steps();
    const auto impls = net_run.implementations();
    const auto units = net_run.step_units();
    TimingConfig c = item_config(opts);
    for (std::size_t i = 0; i < names.size(); ++i) {
      StepProfile sp{names[i], impls[i], units[i], backend.time([&] { net_run.run_step(i); }, c)};
      r.steps.push_back(std::move(sp));
    }
  }
  if (opts.per_unit) {
    whole->reset();  // its memory back while the units run
    const TimingConfig c = item_config(opts);
    for (std::size_t u = 0; u < net.units.size(); ++u) {
      const space::Unit& unit = net.units[u];
      report(unit.label);
      auto run = backend.prepare(arch, Subject::of_unit(static_cast<int>(u)), opts.run, weights);
      if (!run) return run.error();
      UnitProfile up = describe_unit(arch, unit, static_cast<int>(u));
      up.creation_ms = (*run)->creation_ms();
      Runnable& rr = **run;
      up.time = backend.time([&] { rr.run(); }, c);
      r.sum_of_units_us += up.time.figure_us;
      r.units.push_back(std::move(up));
      ++done;
    }
  }

  // Further end-to-end bursts, after the passes above (the network prepared again if they ran).
  while (wants_another_burst(r.bursts_us, opts.bursts)) {
    report(fmt::format("end to end, burst {}", r.bursts_us.size() + 1));
    if (!*whole) {
      whole = backend.prepare(arch, Subject::network(), opts.run, weights);
      if (!whole) return whole.error();
    }
    Runnable& again = **whole;
    Measurement m = backend.time([&] { again.run(); }, network_timing);
    r.bursts_us.push_back(m.figure_us);
    if (m.figure_us < r.end_to_end.figure_us) r.end_to_end = std::move(m);
  }
  whole->reset();

  // Noise gate, part 2: the same checks after; drift > 3% or load/steal flags the whole batch.
  r.noise.calibration_after_us = backend.calibration_us();
  r.noise.after = load_snapshot(&r.noise.before);
  r.noise.device_after = backend.device_state();
  if (r.noise.calibration_before_us > 0) {
    r.noise.drift =
        std::abs(r.noise.calibration_after_us - r.noise.calibration_before_us) / r.noise.calibration_before_us;
  }
  std::vector<std::string> reasons;
  if (r.noise.drift > 0.03)
    reasons.push_back(fmt::format("calibration GEMM drifted {:.1f}% (> 3%)", 100 * r.noise.drift));
  if (r.noise.after.steal_fraction > 0.05)
    reasons.push_back(fmt::format("{:.0f}% CPU steal time", 100 * r.noise.after.steal_fraction));
  const double cores = static_cast<double>(std::max(available_cpus(), 1));
  if (r.noise.before.loadavg_1m > cores + 0.5)
    reasons.push_back(fmt::format("load average {:.2f} on {} CPUs before the run", r.noise.before.loadavg_1m, cores));
  if (r.end_to_end.noisy) reasons.push_back("end to end: " + r.end_to_end.noise_reason);
  r.noise.flagged = !reasons.empty();
  for (const auto& s : reasons) r.noise.reason += (r.noise.reason.empty() ? "" : "; ") + s;
  r.device = backend.device();
  report("done");
  return r;
}

Result<std::string> chrome_trace(Backend& backend, const space::Arch& arch, const RunConfig& cfg,
                                 const WeightSource& weights, int runs) {
  auto lowered = space::lower(arch);
  if (!lowered) return lowered.error();
  auto run = backend.prepare(arch, Subject::network(), cfg, weights);
  if (!run) return run.error();
  Runnable& r = **run;
  const Clock clock = backend.clock();
  const auto names = r.steps();
  const auto units = r.step_units();
  for (int i = 0; i < 3; ++i) r.run();  // warm
  // Record `runs` runs step by step; keep the median one.
  std::vector<std::vector<std::pair<double, double>>> spans(static_cast<std::size_t>(std::max(runs, 1)));
  for (auto& run_spans : spans) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      const double a = clock();
      r.run_step(i);
      run_spans.emplace_back(a, clock());
    }
  }
  std::vector<std::size_t> order(spans.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto total = [&](std::size_t i) { return spans[i].empty() ? 0.0 : spans[i].back().second - spans[i].front().first; };
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return total(a) < total(b); });
  const auto& best = spans[order[order.size() / 2]];
  const double t0 = best.empty() ? 0 : best.front().first;

  nlohmann::json events = nlohmann::json::array();
  const int pid = static_cast<int>(getpid());
  const int tid = static_cast<int>(gettid());
  events.push_back({{"name", "process_name"},
                    {"ph", "M"},
                    {"pid", pid},
                    {"tid", tid},
                    {"args", {{"name", fmt::format("hwnas {} ({})", arch.meta.name, backend.name())}}}});
  events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", pid}, {"tid", tid}, {"args", {{"name", "main"}}}});
  auto slice = [&](const std::string& name, const std::string& cat, double start, double end, nlohmann::json args) {
    events.push_back({{"name", name},
                      {"cat", cat},
                      {"ph", "X"},
                      {"pid", pid},
                      {"tid", tid},
                      {"ts", start - t0},
                      {"dur", std::max(end - start, 0.0)},
                      {"args", std::move(args)}});
  };
  if (!best.empty())
    slice(arch.meta.name.empty() ? "network" : arch.meta.name, "network", best.front().first, best.back().second,
          {{"batch", cfg.batch}, {"dtype", std::string(name_of(cfg.dtype))}});
  // Units: the span of their steps.
  std::size_t i = 0;
  while (i < names.size()) {
    std::size_t j = i;
    while (j < names.size() && units[j] == units[i]) ++j;
    if (units[i] >= 0 && units[i] < static_cast<int>(lowered->units.size())) {
      const space::Unit& u = lowered->units[static_cast<std::size_t>(units[i])];
      slice(u.label, "unit", best[i].first, best[j - 1].second, {{"macs", space::count(u).macs}});
    }
    for (std::size_t k = i; k < j; ++k)
      slice(names[k], "step", best[k].first, best[k].second, nlohmann::json::object());
    i = j;
  }
  nlohmann::json doc = {{"traceEvents", events}, {"displayTimeUnit", "ms"}};
  return doc.dump();
}

}  // namespace hwnas::prof
