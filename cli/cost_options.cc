#include "cli/cost_options.h"

#include <fmt/format.h>

#include "cli/command.h"
#include "profilers/backends.h"

namespace hwnas::cli {

void add_cost_key_options(po::options_description& desc, bool several_devices) {
  const char* device_help =
      several_devices
          ? "cpu, cuda:N (a device of this machine), a device of the MPI workers (its --mpi-devices name or "
            "fingerprint prefix); repeat it to search for several devices at once; default: this CPU"
          : "cpu, cuda:N (a GPU of this machine), or a stored device's fingerprint (prefix); default: this CPU";
  // options_description owns what it is given: make only the one it takes.
  if (several_devices)
    desc.add_options()("device", po::value<std::vector<std::string>>(), device_help);
  else
    desc.add_options()("device", po::value<std::string>(), device_help);
  desc.add_options()("backend", po::value<std::string>()->default_value("onednn"),
                     "onednn (this CPU) or fake (the test backend's roofline)")(
      "batch", po::value<std::int64_t>()->default_value(1), "batch size")("threads", po::value<int>()->default_value(0),
                                                                          "threads (0 = every CPU available)")(
      "dtype", po::value<std::string>()->default_value("f32"), "f32, bf16 or f16 (GPUs)")(
      "db", po::value<std::string>(), "measurement store (default $HWNAS_DB, else ./hwnas.db)");
}

std::vector<std::string> device_options(const po::variables_map& vm) {
  if (vm.count("device") == 0) return {};
  if (const auto* one = boost::any_cast<std::string>(&vm["device"].value())) return {*one};
  return vm["device"].as<std::vector<std::string>>();
}

CostTarget cost_target(const po::variables_map& vm, store::Store* db) {
  const auto devices = device_options(vm);
  if (devices.size() > 1) throw UsageError("--device: give one device");
  return cost_target(vm, db, devices.empty() ? "" : devices.front());
}

prof::RunConfig run_config(const po::variables_map& vm) {
  prof::RunConfig run;
  run.batch = vm["batch"].as<std::int64_t>();
  run.threads = vm["threads"].as<int>();
  if (run.batch < 1 || run.batch > 100000) throw UsageError("--batch: must be in [1, 100000]");
  if (run.threads < 0) throw UsageError("--threads: must be >= 0");
  const auto dtype = prof::dtype_from(vm["dtype"].as<std::string>());
  if (!dtype)
    throw UsageError(fmt::format("--dtype: must be f32, bf16 or f16 (got '{}')", vm["dtype"].as<std::string>()));
  run.dtype = *dtype;
  return run;
}

CostTarget cost_target(const po::variables_map& vm, store::Store* db, const std::string& device) {
  const prof::RunConfig run = run_config(vm);
  CostTarget t;
  std::string name = vm["backend"].as<std::string>();
  // --device cpu / cuda:N picks the engine of this machine; anything else names a stored device.
  const auto spec = device.empty() ? Result<prof::DeviceSpec>(prof::DeviceSpec{}) : prof::parse_device(device);
  if (spec && spec->kind == "cuda") {
    auto made = prof::make_backend(*spec, run.threads);
    if (!made) throw RuntimeFailure(fmt::format("--device {}: {}", device, made.error().message));
    t.backend = std::move(made).value();
    name = t.backend->name();
  } else {
    t.backend = make_backend(name, run.threads);
  }
  t.key = cost_key(*t.backend, name, run);
  if (!spec && db != nullptr) resolve_device(*db, device, t.key);
  return t;
}

}  // namespace hwnas::cli
