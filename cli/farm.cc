#include "cli/farm.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cost_options.h"
#include "cli/store_records.h"
#include "cli/stored_measure.h"
#include "profilers/mpi/devices.h"
#include "profilers/profile.h"
#include "profilers/weight_source.h"
#include "space/arch_json.h"
#include "store/record_json.h"

// A job's timing configuration as JSON, every field (ADL finds these in the type's namespace).
namespace hwnas::prof {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TimingConfig, warmup_min_runs, warmup_min_ms, min_samples, min_time_ms, max_time_ms,
                                   target_rel_ci, block_under_us, fixed_samples, trim_fraction, noisy_iqr)
}  // namespace hwnas::prof

namespace hwnas::cli {
namespace {

using nlohmann::json;

FarmScope* g_scope = nullptr;

// The value of `--name V` / `--name=V` in args, if given.
std::optional<std::string> option_value(const Args& args, const std::string& name) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind(name + "=", 0) == 0) return args[i].substr(name.size() + 1);
  }
  return std::nullopt;
}

// How many times `--name V` or `--name=V` is given.
std::size_t occurrences(const Args& args, const std::string& name) {
  return static_cast<std::size_t>(std::count_if(
      args.begin(), args.end(), [&](const std::string& a) { return a == name || a.rfind(name + "=", 0) == 0; }));
}

bool has_flag(const Args& args, const std::string& name) {
  return std::find(args.begin(), args.end(), name) != args.end();
}

// args with `--name V` / `--name=V` replaced by `--name value`.
Args with_option(const Args& args, const std::string& name, const std::string& value) {
  Args out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name && i + 1 < args.size()) {
      ++i;
      continue;
    }
    if (args[i].rfind(name + "=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  out.push_back(name);
  out.push_back(value);
  return out;
}

json run_json(const prof::RunConfig& r) {
  return {{"batch", r.batch}, {"dtype", prof::name_of(r.dtype)}, {"threads", r.threads}, {"chunk", r.chunk}};
}

prof::RunConfig run_from(const json& j) {
  prof::RunConfig r;
  r.batch = j.at("batch").get<std::int64_t>();
  const auto dtype = prof::dtype_from(j.at("dtype").get<std::string>());
  if (!dtype) throw std::runtime_error("unknown dtype " + j.at("dtype").dump());
  r.dtype = *dtype;
  r.threads = j.at("threads").get<int>();
  r.chunk = j.at("chunk").get<std::int64_t>();
  return r;
}

json error_reply(const std::string& why) {
  return json{{"error", why}};
}

// A worker: the backend its own options name, answering profile and subject jobs.
class Worker {
 public:
  Worker(const Args& args, std::string name) : name_(std::move(name)) {
    if (occurrences(args, "--device") > 1)
      throw UsageError(
          "several --device: a worker measures one device (give each worker its device with --mpi-devices)");
    po::options_description desc;
    add_cost_key_options(desc);
    po::variables_map vm;
    const Args rest(args.begin() + (args.empty() ? 0 : 1), args.end());  // after the command name
    po::store(po::command_line_parser(rest).options(desc).allow_unregistered().run(), vm);
    po::notify(vm);
    target_ = cost_target(vm, nullptr);
    spec_ = vm.count("device") != 0 ? vm["device"].as<std::string>() : "cpu";
    // Profiles show attained GFLOP/s against the device's measured peak: measured here, as a
    // profile in one process does.
    if (!args.empty() && args[0] == "profile" && !has_flag(args, "--no-peaks")) target_.backend->measure_peaks();
  }
  std::string route() const { return target_.backend->device().fingerprint(); }
  std::string hello() const {
    return json{{"backend", target_.key.model.backend},
                {"name", name_},
                {"spec", spec_},
                {"threads", target_.key.run.threads},
                {"device", store::to_json(device_record(target_.backend->device()))}}
        .dump();
  }

  std::string handle(const std::string& job) {
    try {
      const json j = json::parse(job);
      auto arch = space::parse_arch(j.at("arch").dump(), "job");
      if (!arch) return error_reply(arch.error().message).dump();
      const prof::RunConfig run = run_from(j.at("run"));
      prof::Backend& backend = *target_.backend;
      if (auto why = backend.unsupported(*arch, run); !why.empty()) return error_reply(why).dump();
      const std::string kind = j.at("kind").get<std::string>();
      json records = json::array();
      if (kind == "profile") {
        prof::ProfileOptions opts;
        opts.run = run;
        opts.protocol = prof::protocol_from(j.at("protocol").get<std::string>()).value_or(prof::Protocol::standard);
        opts.per_unit = j.value("per_unit", false);
        auto r = prof::profile(backend, *arch, opts, weights_);
        if (!r) return error_reply(r.error().message).dump();
        for (const store::MeasurementRecord& m : profile_records(*r, target_.key.model.backend))
          records.push_back(store::to_json(m));
        return json{{"records", records}}.dump();
      }
      if (kind == "subject") {
        const CostKey key = cost_key(backend, target_.key.model.backend, run);
        auto rec = measure_subject(backend, key, *arch, j.at("hash").get<std::string>(), j.at("unit").get<int>(),
                                   j.at("timing").get<prof::TimingConfig>(), weights_, j.value("calibration", true));
        if (!rec) return error_reply(rec.error().message).dump();
        records.push_back(store::to_json(*rec));
        return json{{"records", records}}.dump();
      }
      return error_reply(fmt::format("bad job: unknown kind '{}'", kind)).dump();
    } catch (const std::exception& e) {
      return error_reply(fmt::format("bad job: {}", e.what())).dump();
    }
  }

 private:
  std::string name_, spec_;
  CostTarget target_;
  prof::RandomWeights weights_;
};

// The device record of the workers on `device`, from the first one's hello (rank 0 alone writes the
// store; identical devices share the fingerprint).
void store_worker_device(prof::mpi::Coordinator& farm, store::Store& db, const std::string& device) {
  for (const prof::mpi::WorkerInfo& w : farm.workers()) {
    if (w.route != device) continue;
    if (auto put = db.put_device(worker_hello(w).device); !put) throw RuntimeFailure(put.error().message);
    return;
  }
}

// Runs one job per arch on the workers of key's device; each reply's records are checked against the
// job and stored (the arch first) as they arrive.
std::vector<Result<FarmMeasured>> run_jobs(prof::mpi::Coordinator& farm, store::Store& db, const CostKey& key,
                                           const std::vector<const space::Arch*>& archs,
                                           const std::vector<std::string>& hashes, const std::vector<json>& payloads,
                                           const FarmDone& on_done) {
  store_worker_device(farm, db, key.model.device);
  std::vector<prof::mpi::Job> jobs;
  for (const json& p : payloads) jobs.push_back({key.model.device, p.dump()});
  std::vector<Result<FarmMeasured>> out(archs.size(), Error{"not measured"});
  std::set<std::string> stored_archs;
  auto ran = farm.run(jobs, [&](const prof::mpi::Reply& r) -> prof::mpi::Status {
    const std::string where = fmt::format("reply of MPI rank {} ({}) to job {}", r.rank, r.host, r.job + 1);
    json j = json::parse(r.payload, nullptr, false);
    if (!j.is_object()) return Error{fmt::format("{}: not JSON", where)};
    if (j.contains("error")) {
      out[r.job] = Error{j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump()};
      if (on_done) on_done(r.job, out[r.job]);
      return prof::mpi::Ok{};
    }
    std::vector<store::MeasurementRecord> records;
    if (!j.contains("records") || !j["records"].is_array() || j["records"].empty())
      return Error{fmt::format("{}: no records", where)};
    for (std::size_t i = 0; i < j["records"].size(); ++i) {
      auto m = store::measurement_from_json(j["records"][i], fmt::format("{}: records[{}]", where, i));
      if (!m) return m.error();
      if (m->key.device != key.model.device)
        return Error{fmt::format("{}: measured on device {}, not {}", where, m->key.device, key.model.device)};
      if (m->arch_hash != hashes[r.job])  // the worker hashed the arch it was sent differently
        return Error{fmt::format("{}: arch hash {}, sent {}", where, m->arch_hash, hashes[r.job])};
      records.push_back(std::move(*m));
    }
    if (stored_archs.insert(hashes[r.job]).second)
      if (auto put = db.put_arch(arch_record(*archs[r.job])); !put) return Error{put.error().message};
    if (auto put = db.put_measurements(records); !put) return Error{put.error().message};
    // The job's own subject comes first (a profile's network, or the one subject measured).
    const store::Figures& f = records.front().figures;
    out[r.job] = FarmMeasured{f.figure_us, f.noisy, f.elapsed_ms, r.rank, r.host};
    if (on_done) on_done(r.job, out[r.job]);
    return prof::mpi::Ok{};
  });
  if (!ran) throw FarmFault(ran.error().message);
  return out;
}

}  // namespace

FarmScope::FarmScope(int* argc, char*** argv, const Args& args) : args_(args) {
  if (!has_flag(args, "--mpi")) return;
  auto s = prof::mpi::Session::start(argc, argv);
  if (!s) throw UsageError(fmt::format("--mpi: {}", s.error().message));
  session_ = std::move(*s);
  g_scope = this;
  if (auto file = option_value(args, "--mpi-devices")) {
    auto map = prof::mpi::load_device_map(*file);
    auto a = map ? prof::mpi::assign_device(*map, session_->rank(), session_->local_rank(), session_->host())
                 : Result<std::optional<prof::mpi::DeviceAssignment>>(map.error());
    if (!a) {
      // Every rank reads the same file and fails alike: rank 0 alone says why.
      startup_error_ = session_->rank() == 0 ? fmt::format("--mpi-devices: {}", a.error().message) : "";
      failed_ = true;
      return;
    }
    if (*a) {
      const prof::mpi::DeviceAssignment& d = **a;
      // A search over several devices keeps them all on rank 0 (it coordinates them); a worker
      // measures the one the map gives it (this machine's CPU when it names none).
      const bool several = occurrences(args_, "--device") > 1;
      if (several && session_->rank() != 0)
        args_ = with_option(args_, "--device", d.device.empty() ? "cpu" : d.device);
      else if (!d.device.empty() && !several)
        args_ = with_option(args_, "--device", d.device);
      device_name_ = d.name;
      if (!d.backend.empty()) args_ = with_option(args_, "--backend", d.backend);
      if (d.threads) args_ = with_option(args_, "--threads", std::to_string(*d.threads));
      if (!d.cores.empty()) {
        auto pinned = prof::mpi::pin_to_cores(d.cores);
        if (!pinned) {
          startup_error_ = fmt::format("--mpi-devices: {}: rank {} on {}: {}", *file, session_->rank(),
                                       session_->host(), pinned.error().message);
          failed_ = true;  // mpirun ends the job when a rank exits with an error
          return;
        }
      }
    }
  }
  if (session_->rank() != 0) return;
  if (session_->size() < 2) return;  // no workers: farm_from_options refuses the command
  auto c = prof::mpi::Coordinator::connect(*session_);
  if (!c) {
    fmt::print(stderr, "hwnas: {}\n", c.error().message);
    session_->abort(kExitFailure);  // the workers that did say hello wait for jobs
  }
  coordinator_ = std::move(*c);
}

FarmScope::~FarmScope() {
  coordinator_.reset();  // stops the workers before MPI_Finalize
  session_.reset();
  if (g_scope == this) g_scope = nullptr;
}

std::optional<int> FarmScope::serve_if_worker() {
  if (!session_ || session_->rank() == 0) return std::nullopt;
  std::unique_ptr<Worker> w;
  try {
    w = std::make_unique<Worker>(args_, device_name_);
  } catch (const std::exception& e) {
    // Rank 0 would wait for this worker's hello: end the job with the reason.
    fmt::print(stderr, "hwnas (MPI rank {} on {}): {}\n", session_->rank(), session_->host(), e.what());
    session_->abort(kExitUsage);
  }
  auto served =
      prof::mpi::serve(*session_, w->route(), w->hello(), [&](const std::string& job) { return w->handle(job); });
  if (!served) {
    fmt::print(stderr, "hwnas (MPI rank {}): {}\n", session_->rank(), served.error().message);
    return kExitFailure;
  }
  return kExitOk;
}

void add_farm_options(po::options_description& desc) {
  desc.add_options()("mpi",
                     "measure on the worker ranks of an MPI job (mpirun -n K hwnas ... --mpi; rank 0 "
                     "coordinates and alone writes the store)")(
      "mpi-devices", po::value<std::string>(),
      "with --mpi: a JSON file assigning each rank its device, backend, threads and cores (space/FORMAT.md)")(
      "mpi-job-timeout-s", po::value<double>()->default_value(600),
      "with --mpi: seconds one measurement may take before the job is ended (0: no limit)");
}

prof::mpi::Coordinator* farm_from_options(const po::variables_map& vm, const std::string& command,
                                          const std::string& device, const std::string& device_model) {
  if (vm.count("mpi") == 0) {
    if (vm.count("mpi-devices") != 0) throw UsageError("--mpi-devices: only with --mpi");
    return nullptr;
  }
  prof::mpi::Coordinator* f = g_scope != nullptr ? g_scope->coordinator() : nullptr;
  if (f == nullptr)
    throw UsageError(
        fmt::format("{} --mpi: no workers (start it as `mpirun -n K hwnas {} … --mpi` with K >= 2: "
                    "rank 0 coordinates, the others measure)",
                    command, command));
  const double timeout = vm["mpi-job-timeout-s"].as<double>();
  if (!(timeout >= 0)) throw UsageError("--mpi-job-timeout-s: must be >= 0");
  f->set_job_timeout_s(timeout);
  if (!device.empty() && f->workers_on(device) == 0) {
    std::string seen;
    for (const auto& w : f->workers())
      seen += fmt::format("{}rank {} on {}: {}", seen.empty() ? "" : "; ", w.rank, w.host, w.route);
    throw UsageError(
        fmt::format("{} --mpi: none of the {} workers measures this command's device {} ({}); they "
                    "measure: {} (give the workers the same --device/--threads, or --mpi-devices)",
                    command, f->workers().size(), device, device_model, seen));
  }
  return f;
}

void abort_farm(int code) {
  if (g_scope != nullptr && g_scope->session() != nullptr) g_scope->session()->abort(code);
  std::exit(code);
}

std::vector<Result<FarmMeasured>> farm_profile(prof::mpi::Coordinator& farm, store::Store& db, const CostKey& key,
                                               const std::vector<const space::Arch*>& archs,
                                               const std::vector<std::string>& hashes, prof::Protocol protocol,
                                               bool per_unit, const FarmDone& on_done) {
  std::vector<json> payloads;
  for (const space::Arch* a : archs)
    payloads.push_back({{"kind", "profile"},
                        {"arch", space::arch_to_json(*a)},
                        {"run", run_json(key.run)},
                        {"protocol", prof::name_of(protocol)},
                        {"per_unit", per_unit}});
  return run_jobs(farm, db, key, archs, hashes, payloads, on_done);
}

std::vector<Result<FarmMeasured>> farm_measure(prof::mpi::Coordinator& farm, store::Store& db, const CostKey& key,
                                               const std::vector<FarmSubject>& subjects,
                                               const prof::TimingConfig& timing, bool calibration,
                                               const FarmDone& on_done) {
  std::vector<const space::Arch*> archs;
  std::vector<std::string> hashes;
  std::vector<json> payloads;
  const json run = run_json(key.run), tj = timing;
  for (const FarmSubject& s : subjects) {
    archs.push_back(s.arch);
    hashes.push_back(s.hash);
    payloads.push_back({{"kind", "subject"},
                        {"arch", space::arch_to_json(*s.arch)},
                        {"hash", s.hash},
                        {"unit", s.unit},
                        {"run", run},
                        {"timing", tj},
                        {"calibration", calibration}});
  }
  return run_jobs(farm, db, key, archs, hashes, payloads, on_done);
}

WorkerHello worker_hello(const prof::mpi::WorkerInfo& w) {
  const json j = json::parse(w.hello, nullptr, false);
  if (!j.is_object() || !j.contains("device"))
    throw FarmFault(fmt::format("MPI rank {} ({}): unreadable hello", w.rank, w.host));
  auto dev = store::device_from_json(j["device"], fmt::format("MPI rank {} hello: device", w.rank));
  if (!dev) throw FarmFault(dev.error().message);
  return {w.rank,
          w.host,
          w.route,
          j.value("name", ""),
          j.value("spec", "cpu"),
          j.value("backend", ""),
          j.value("threads", 0),
          std::move(*dev)};
}

std::string farm_summary(const prof::mpi::Coordinator& farm) {
  const prof::mpi::FarmStats& s = farm.stats();
  return fmt::format(
      "MPI: {} job(s) on {} worker(s) in {:.1f} s, workers computing {:.1f}% of it; coordinator overhead {:.2f} ms "
      "per job (job out to reply noticed, less the work; storing a reply took {:.2f} ms, overlapped); coordinator "
      "CPU {:.1f}% of a core",
      s.jobs, farm.workers().size(), s.wall_ms / 1e3, s.present_ms > 0 ? 100 * s.compute_ms / s.present_ms : 0.0,
      s.overhead_ms_per_job(), s.jobs > 0 ? s.handling_ms / static_cast<double>(s.jobs) : 0.0,
      s.wall_ms > 0 ? 100 * s.cpu_ms / s.wall_ms : 0.0);
}

}  // namespace hwnas::cli
