// hwnas profile: time an architecture on this CPU (oneDNN) or a GPU (CUDA), end to end and block by block.
#include <cstdio>
#include <optional>
#include <ranges>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/arch_arg.h"
#include "cli/cmd_profile_many.h"
#include "cli/db_common.h"
#include "cli/farm.h"
#include "cli/options.h"
#include "cli/output_file.h"
#include "cli/store_records.h"
#include "cli/stored_profile.h"
#include "cli/table.h"
#include "cli/weights_arg.h"
#include "profilers/backends.h"
#include "profilers/profile.h"
#include "space/canonical.h"
#include "store/store.h"

namespace hwnas::cli {
namespace {

using nlohmann::json;

json measurement_json(const prof::Measurement& m) {
  return {{"figure_us", m.figure_us},
          {"median_us", m.median_us},
          {"min_us", m.min_us},
          {"p10_us", m.p10_us},
          {"p90_us", m.p90_us},
          {"p99_us", m.p99_us},
          {"mean_us", m.mean_us},
          {"ci95_us", {m.ci_low_us, m.ci_high_us}},
          {"cv", m.cv},
          {"n", m.n},
          {"calls_per_sample", m.calls_per_sample},
          {"warmup_runs", m.warmup_runs},
          {"noisy", m.noisy},
          {"noise_reason", m.noise_reason},
          {"samples_us", m.samples_us}};
}

json device_json(const prof::DeviceInfo& d) {
  return {{"kind", d.kind},
          {"model", d.model},
          {"cores", d.cores},
          {"threads", d.threads},
          {"isa", d.isa},
          {"bf16_native", d.bf16_native},
          {"engine", d.engine},
          {"peak_f32_gflops", d.peak_f32_gflops},
          {"peak_bf16_gflops", d.peak_bf16_gflops},
          {"triad_gbs", d.triad_gbs},
          {"fingerprint", d.fingerprint()}};
}

json result_json(const prof::ProfileResult& r) {
  json units = json::array();
  for (const auto& u : r.units) {
    json j = unit_detail(u);
    j["label"] = u.label;
    j["kind"] = u.kind;
    j["gflops"] = r.gflops(u.counts.macs, u.time.figure_us);
    j["time"] = measurement_json(u.time);
    units.push_back(std::move(j));
  }
  json steps = json::array();
  for (const auto& s : r.steps)
    steps.push_back({{"name", s.name}, {"impl", s.impl}, {"unit", s.unit}, {"time", measurement_json(s.time)}});
  return {
      {"arch", {{"name", r.arch_name}, {"hash", r.arch_hash}, {"macs", r.counts.macs}, {"params", r.counts.params}}},
      {"device", device_json(r.device)},
      {"config",
       {{"batch", r.options.run.batch},
        {"dtype", std::string(prof::name_of(r.options.run.dtype))},
        {"threads", r.device.threads},
        {"protocol", std::string(prof::name_of(r.options.protocol))}}},
      {"end_to_end", measurement_json(r.end_to_end)},
      {"bursts_us", r.bursts_us},
      {"burst_spread", prof::burst_spread(r.bursts_us)},
      {"cuda_graph", r.graph ? measurement_json(*r.graph) : json()},
      {"throughput_img_s", r.throughput_img_s()},
      {"gflops", r.gflops(r.counts.macs, r.end_to_end.figure_us)},
      {"creation_ms", r.creation_ms},
      {"sum_of_units_us", r.sum_of_units_us},
      {"units", units},
      {"steps", steps},
      {"noise",
       {{"flagged", r.noise.flagged},
        {"reason", r.noise.reason},
        {"calibration_drift", r.noise.drift},
        {"calibration_before_us", r.noise.calibration_before_us},
        {"calibration_after_us", r.noise.calibration_after_us},
        {"loadavg_before", r.noise.before.loadavg_1m},
        {"loadavg_after", r.noise.after.loadavg_1m},
        {"steal_fraction", r.noise.after.steal_fraction},
        {"device_before", r.noise.device_before},
        {"device_after", r.noise.device_after}}}};
}

std::string pct(double part, double whole) {
  return whole > 0 ? fmt::format("{:.1f}%", 100 * part / whole) : "-";
}

void print_table(const prof::ProfileResult& r) {
  const double e2e = r.end_to_end.figure_us;
  const double peak = r.peak_gflops();
  const bool gpu = r.device.kind == "cuda";
  fmt::print("{} [{}] on {} ({} {}, {}), batch {}{}, {}\n", r.arch_name.empty() ? "architecture" : r.arch_name,
             r.arch_hash, r.device.model, gpu ? r.device.cores : r.device.threads, gpu ? "SMs" : "threads",
             r.device.isa, r.options.run.batch,
             r.chunk < r.options.run.batch ? fmt::format(" ({} per pass)", r.chunk) : "",
             prof::name_of(r.options.run.dtype));
  if (peak > 0)
    fmt::print("measured peak: GEMM {:.0f} GFLOP/s {}, {} {:.1f} GB/s\n", peak, prof::name_of(r.options.run.dtype),
               gpu ? "device copy" : "triad", r.device.triad_gbs);
  if (!r.units.empty()) {
    Table t({{"unit", Table::Align::left},
             {"kind", Table::Align::left},
             {"tokens"},
             {"dim"},
             {"MACs"},
             {"median us"},
             {"p90 us"},
             {"% total"},
             {"GFLOP/s"},
             {"% peak"}});
    for (const auto& u : r.units) {
      const double g = r.gflops(u.counts.macs, u.time.figure_us);
      t.add_row({u.label + (u.time.noisy ? " (noisy)" : ""), u.mixer + (u.ffn.empty() ? "" : " + " + u.ffn),
                 fmt::format("{}", u.tokens), fmt::format("{}", u.dim), space::format_macs(u.counts.macs),
                 fmt::format("{:.1f}", u.time.figure_us), fmt::format("{:.1f}", u.time.p90_us),
                 pct(u.time.figure_us, r.sum_of_units_us), fmt::format("{:.1f}", g), peak > 0 ? pct(g, peak) : "-"});
    }
    t.print(stdout);
    fmt::print("sum of units {:.1f} us vs end to end {:.1f} us: gap {:+.1f}%\n", r.sum_of_units_us, e2e,
               e2e > 0 ? 100 * (r.sum_of_units_us - e2e) / e2e : 0.0);
  }
  if (!r.steps.empty()) {
    Table t({{"step", Table::Align::left}, {"implementation", Table::Align::left}, {"median us"}, {"p90 us"}});
    for (const auto& s : r.steps)
      t.add_row({s.name, s.impl, fmt::format("{:.1f}", s.time.figure_us), fmt::format("{:.1f}", s.time.p90_us)});
    t.print(stdout);
  }
  const auto& m = r.end_to_end;
  const double g = r.gflops(r.counts.macs, m.figure_us);
  fmt::print("end to end: median {:.3f} ms, p90 {:.3f} ms, CV {:.1f}%, n {}, {:.1f} img/s, {:.1f} GFLOP/s{} ({})\n",
             m.median_us / 1e3, m.p90_us / 1e3, 100 * m.cv, m.n, r.throughput_img_s(), g,
             peak > 0 ? fmt::format(" = {:.0f}% of peak", 100 * g / peak) : "", space::format_macs(r.counts.macs));
  if (r.bursts_us.size() > 1)
    fmt::print(
        "end to end in {} bursts, the fastest above: {} ms (spread {:.1f}%)\n", r.bursts_us.size(),
        fmt::join(r.bursts_us | std::views::transform([](double us) { return fmt::format("{:.3f}", us / 1e3); }), ", "),
        100 * prof::burst_spread(r.bursts_us));
  if (r.graph)
    fmt::print(
        "as a CUDA graph: median {:.3f} ms, p90 {:.3f} ms, n {}, {:.1f} img/s (eager launch overhead {:+.1f}%)\n",
        r.graph->median_us / 1e3, r.graph->p90_us / 1e3, r.graph->n,
        r.graph->figure_us > 0 ? 1e6 * static_cast<double>(r.options.run.batch) / r.graph->figure_us : 0.0,
        r.graph->figure_us > 0 ? 100 * (m.figure_us - r.graph->figure_us) / r.graph->figure_us : 0.0);
  if (!r.noise.device_before.empty())
    fmt::print("device before: {}\ndevice after:  {}\n", r.noise.device_before, r.noise.device_after);
  if (r.options.protocol != prof::Protocol::standard)
    fmt::print("protocol {}: figure {:.3f} ms\n", prof::name_of(r.options.protocol), m.figure_us / 1e3);
  fmt::print("primitive creation {:.1f} ms (not in the latency)\n", r.creation_ms);
  if (r.noise.flagged) fmt::print("NOISY: {}\n", r.noise.reason);
}

struct Cached {
  prof::ProfileResult result;
  std::string note;  // "cached: measured … ago …"
};

// The stored network measurement (and its units when --per-block) for this key, if complete.
std::optional<Cached> cached_profile(store::Store& db, const space::Arch& arch, const prof::ProfileOptions& opts,
                                     const prof::DeviceInfo& device, const std::string& backend,
                                     const std::string& hash) {
  const store::MeasurementKey key = network_key(hash, device, opts, backend);
  std::optional<std::string> noisy;
  auto hit = find_profile(db, key, arch, opts.per_unit, &noisy);
  if (noisy)  // a measurement that failed its noise gate is never served as the answer
    fmt::print("the stored measurement of this key was noisy ({}): measuring again\n", *noisy);
  if (!hit) return std::nullopt;
  prof::DeviceInfo dev = device;
  auto stored = db.find_device(device.fingerprint());
  if (stored && *stored) dev = device_info(**stored);  // its measured peaks
  dev.threads = device.threads;
  const double age = hit->age_s;
  std::string note =
      fmt::format("cached: measured {} ago on this device ({}), key {}/{}/b{}/{}/t{}/{}; --force re-measures",
                  age < 120    ? fmt::format("{:.0f} s", age)
                  : age < 7200 ? fmt::format("{:.0f} min", age / 60)
                               : fmt::format("{:.1f} h", age / 3600),
                  db.path(), hash, key.device, key.batch, key.dtype, key.threads, key.protocol);
  return Cached{result_from_store(arch, opts, dev, hit->network, hit->units), std::move(note)};
}

// Interference only ever lowers a measured peak: the device's peak is the best measured so far on
// this fingerprint. A run whose own GEMM peak is more than 20% below it ran on a busy machine.
std::string best_peaks(store::Store& db, prof::DeviceInfo& d) {
  auto stored = db.find_device(d.fingerprint());
  if (!stored || !*stored) return "";
  const double measured = d.peak_f32_gflops, best = (*stored)->peak_f32_gflops;
  d.peak_f32_gflops = std::max(d.peak_f32_gflops, (*stored)->peak_f32_gflops);
  d.peak_bf16_gflops = std::max(d.peak_bf16_gflops, (*stored)->peak_bf16_gflops);
  d.triad_gbs = std::max(d.triad_gbs, (*stored)->triad_gbs);
  if (best > 0 && measured < 0.8 * best)
    return fmt::format(
        "GEMM peak measured {:.0f} GFLOP/s in this run, {:.0f}% below this device's best {:.0f}: machine busy",
        measured, 100 * (1 - measured / best), best);
  return "";
}

}  // namespace

int run_profile(const Args& args) {
  const std::string usage =
      "hwnas profile (--preset NAME | FILE) [--device cpu|cuda:N] [--batch N] [--threads T] [--dtype f32|bf16|f16]\n"
      "              [--per-block] [--per-op] [--weights W.safetensors [--names CONVENTION]] [--bursts N]\n"
      "              [--protocol default|litv2|hat|nnmeter|trtexec] [--json OUT] [--trace OUT]\n"
      "hwnas profile --archs FILE.jsonl [--per-block] [--force] [--json OUT] [--mpi [--mpi-devices MAP.json]] ...";
  po::options_description desc("profile: latency of an architecture on this CPU (oneDNN) or a GPU (CUDA)");
  po::positional_options_description pos;
  add_arch_options(desc, pos);
  desc.add_options()("device", po::value<std::string>()->default_value("cpu"), "cpu, or cuda:N for GPU N")(
      "batch", po::value<std::int64_t>()->default_value(1), "batch size")("threads", po::value<int>()->default_value(0),
                                                                          "threads (0 = every CPU available)")(
      "chunk", po::value<std::int64_t>()->default_value(0),
      "images per pass through the network (divides the batch; 0 = auto, sized to stay in L2)")(
      "dtype", po::value<std::string>()->default_value("f32"), "f32, bf16 (CPUs with AVX512_BF16, GPUs), f16 (GPUs)")(
      "per-block", "time every unit (stem, downsamples, blocks, head) alone on its real input")(
      "per-op", "time every engine step alone (after an end-to-end run)")(
      "protocol", po::value<std::string>()->default_value("default"), "timing protocol")(
      "max-item-ms", po::value<double>()->default_value(0), "cap per unit/step timing (ms), 0 = protocol default")(
      "bursts", po::value<int>()->default_value(3),
      "time end to end in up to N bursts (at least 2; the later ones after --per-block/--per-op), until the two "
      "fastest agree within --burst-agree; the fastest is reported")(
      "burst-agree", po::value<double>()->default_value(prof::kBurstAgree), "bursts agree within this fraction")(
      "weights", po::value<std::string>(), "trained weights (safetensors) instead of seeded random ones")(
      "no-peaks", "skip measuring the GEMM peak and bandwidth")(
      "db", po::value<std::string>(), "measurement store (default $HWNAS_DB, else ./hwnas.db)")(
      "force", "measure again even when the store has this measurement")("no-db", "neither read nor write the store")(
      "json", po::value<std::string>(), "write the full record as JSON")("trace", po::value<std::string>(),
                                                                         "write a Chrome trace of one median run")(
      "archs", po::value<std::string>(),
      "profile every architecture of a JSON-lines file (what 'hwnas space sample' writes), each stored as measured")(
      "backend", po::value<std::string>()->default_value("onednn"),
      "with --archs: onednn (this CPU) or fake (the test backend's roofline)");
  add_convention_option(desc);
  add_farm_options(desc);
  po::variables_map vm;
  if (!parse_options(usage, desc, pos, args, vm)) return kExitOk;
  if (vm.count("archs") != 0) return run_profile_many(vm);
  if (vm.count("mpi") != 0) throw UsageError("profile --mpi: only with --archs FILE.jsonl (one profile runs here)");
  if (vm["backend"].as<std::string>() != "onednn") throw UsageError("--backend: only with --archs");
  const space::Arch arch = arch_from_options(vm, usage);

  prof::ProfileOptions opts;
  opts.run.batch = vm["batch"].as<std::int64_t>();
  opts.run.threads = vm["threads"].as<int>();
  opts.run.chunk = vm["chunk"].as<std::int64_t>();
  if (opts.run.chunk < 0 || (opts.run.chunk > 0 && opts.run.batch % opts.run.chunk != 0))
    throw UsageError(fmt::format("--chunk: must divide --batch {} (got {})", opts.run.batch, opts.run.chunk));
  const auto dtype = prof::dtype_from(vm["dtype"].as<std::string>());
  if (!dtype)
    throw UsageError(fmt::format("--dtype: must be f32, bf16 or f16 (got '{}')", vm["dtype"].as<std::string>()));
  opts.run.dtype = *dtype;
  const auto protocol = prof::protocol_from(vm["protocol"].as<std::string>());
  if (!protocol)
    throw UsageError(fmt::format("--protocol: unknown '{}' (default, litv2, hat, nnmeter, trtexec)",
                                 vm["protocol"].as<std::string>()));
  opts.protocol = *protocol;
  opts.per_unit = vm.count("per-block") != 0;
  opts.per_step = vm.count("per-op") != 0;
  opts.max_item_ms = vm["max-item-ms"].as<double>();
  const int bursts = vm["bursts"].as<int>();
  const double agree = vm["burst-agree"].as<double>();
  if (bursts < 1 || bursts > 10) throw UsageError(fmt::format("--bursts: must be in [1, 10] (got {})", bursts));
  if (!(agree >= 0 && agree < 1)) throw UsageError(fmt::format("--burst-agree: must be in [0, 1) (got {})", agree));
  opts.bursts = prof::BurstPolicy::up_to(bursts, agree);
  if (opts.run.batch < 1 || opts.run.batch > 100000) throw UsageError("--batch: must be in [1, 100000]");
  if (opts.run.threads < 0) throw UsageError("--threads: must be >= 0");

  auto device = prof::parse_device(vm["device"].as<std::string>());
  if (!device) throw UsageError(device.error().message);
  auto made = prof::make_backend(*device, opts.run.threads);
  if (!made) throw RuntimeFailure(fmt::format("--device {}: {}", device->str(), made.error().message));
  prof::Backend& backend = **made;
  if (auto why = backend.unsupported(arch, opts.run); !why.empty())
    throw UsageError(fmt::format("cannot profile: {}", why));
  const bool tty = isatty(fileno(stderr)) != 0;
  // Latency does not depend on values: seeded random weights unless --weights gives a checkpoint.
  const prof::RandomWeights random_weights;
  std::unique_ptr<weights::CheckpointWeights> checkpoint;
  const prof::WeightSource& weights = weights_from_options(vm, arch, random_weights, checkpoint);

  // The store: a measurement with the same key (arch, this device, backend, batch, dtype, threads,
  // protocol) is reused unless --force. An explicit --chunk or --per-op always measures.
  const bool use_db = vm.count("no-db") == 0;
  const bool cacheable = opts.run.chunk == 0 && !opts.per_step;
  std::optional<store::Store> db;
  if (use_db) db = open_store_or_usage_error(db_path(vm), store::OpenMode::read_write);
  const std::string hash = space::hash_hex(space::arch_hash(arch));
  std::optional<prof::ProfileResult> result;
  std::optional<Cached> cached;
  if (db && cacheable && vm.count("force") == 0)
    cached = cached_profile(*db, arch, opts, backend.device(), backend.name(), hash);
  const bool from_cache = cached.has_value();
  if (cached) {
    fmt::print("{}\n", cached->note);
    result = std::move(cached->result);
  }
  if (!result) {
    std::string peak_note;
    if (vm.count("no-peaks") == 0) {
      if (tty) fmt::print(stderr, "measuring the device's GEMM peak and bandwidth...\r");
      backend.measure_peaks();
    }
    auto progress = [&](const std::string& what, int done, int total) {
      if (!tty) return;
      fmt::print(stderr, "\r\033[K[{}/{}] timing {}", done, total, what);
      if (what == "done") fmt::print(stderr, "\r\033[K");
    };
    auto r = prof::profile(backend, arch, opts, weights, progress);
    if (!r) throw RuntimeFailure(r.error().message);
    result = std::move(r).value();
    if (db && vm.count("no-peaks") == 0) peak_note = best_peaks(*db, result->device);
    if (!peak_note.empty()) {
      result->noise.flagged = true;
      result->noise.reason += (result->noise.reason.empty() ? "" : "; ") + peak_note;
    }
    if (db && cacheable) store_profile(*db, arch, *result, backend.name());
  }
  print_table(*result);
  if (vm.count("json") != 0) {
    json j = result_json(*result);
    j["cached"] = from_cache;
    write_output_file(vm["json"].as<std::string>(), j.dump(2) + "\n");
  }
  if (vm.count("trace") != 0) {
    auto trace = prof::chrome_trace(backend, arch, opts.run, weights);
    if (!trace) throw RuntimeFailure(trace.error().message);
    write_output_file(vm["trace"].as<std::string>(), *trace + "\n");
    fmt::print("trace: {} (open in Perfetto or chrome://tracing)\n", vm["trace"].as<std::string>());
  }
  return kExitOk;
}

int run_device(const Args& args) {
  po::options_description desc("device: this machine as the profiler sees it, with measured peaks");
  desc.add_options()("device", po::value<std::string>()->default_value("cpu"), "cpu, or cuda:N for GPU N")(
      "threads", po::value<int>()->default_value(0), "threads (0 = every CPU available)")("json", "print as JSON");
  po::variables_map vm;
  if (!parse_options("hwnas device [--device cpu|cuda:N] [--threads T] [--json]", desc, {}, args, vm)) return kExitOk;
  auto spec = prof::parse_device(vm["device"].as<std::string>());
  if (!spec) throw UsageError(spec.error().message);
  auto made = prof::make_backend(*spec, vm["threads"].as<int>());
  if (!made) throw RuntimeFailure(fmt::format("--device {}: {}", spec->str(), made.error().message));
  prof::Backend& backend = **made;
  backend.measure_peaks();
  const auto& d = backend.device();
  if (vm.count("json") != 0) {
    fmt::print("{}\n", device_json(d).dump(2));
    return kExitOk;
  }
  fmt::print("device       {} ({})\n", d.model, d.kind);
  if (d.kind == "cuda") {
    fmt::print("SMs          {}\n", d.cores);
  } else {
    fmt::print("cores        {} available, {} threads\n", d.cores, d.threads);
  }
  fmt::print("ISA          {} (bf16 native: {})\n", d.isa, d.bf16_native ? "yes" : "no");
  fmt::print("engine       {}\n", d.engine);
  const bool gpu = d.kind == "cuda";
  fmt::print("GEMM peak    {:.0f} GFLOP/s fp32, {} bf16 ({}, measured)\n", d.peak_f32_gflops,
             d.peak_bf16_gflops > 0 ? fmt::format("{:.0f} GFLOP/s", d.peak_bf16_gflops) : "n/a",
             gpu ? "cuBLASLt 4096^3 fp32 / 8192^3 bf16" : "oneDNN matmul 2048^3");
  fmt::print("bandwidth    {:.1f} GB/s ({}, measured)\n", d.triad_gbs,
             gpu ? "device-to-device copy, read + write" : "triad");
  if (gpu) fmt::print("state        {}\n", backend.device_state());
  fmt::print("fingerprint  {}\n", d.fingerprint());
  return kExitOk;
}

}  // namespace hwnas::cli
