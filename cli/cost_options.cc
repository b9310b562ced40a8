#include "cli/cost_options.h"

#include <fmt/format.h>

#include "cli/command.h"

namespace hwnas::cli {

void add_cost_key_options(po::options_description& desc) {
  desc.add_options()("backend", po::value<std::string>()->default_value("onednn"),
                     "onednn (this CPU) or fake (the test backend's roofline)")(
      "batch", po::value<std::int64_t>()->default_value(1), "batch size")("threads", po::value<int>()->default_value(0),
                                                                          "threads (0 = every CPU available)")(
      "dtype", po::value<std::string>()->default_value("f32"), "f32 or bf16")(
      "device", po::value<std::string>(), "a stored device's fingerprint (prefix); default: this machine")(
      "db", po::value<std::string>(), "measurement store (default $HWNAS_DB, else ./hwnas.db)");
}

CostTarget cost_target(const po::variables_map& vm, store::Store* db) {
  prof::RunConfig run;
  run.batch = vm["batch"].as<std::int64_t>();
  run.threads = vm["threads"].as<int>();
  if (run.batch < 1 || run.batch > 100000) throw UsageError("--batch: must be in [1, 100000]");
  if (run.threads < 0) throw UsageError("--threads: must be >= 0");
  const auto dtype = prof::dtype_from(vm["dtype"].as<std::string>());
  if (!dtype) throw UsageError(fmt::format("--dtype: must be f32 or bf16 (got '{}')", vm["dtype"].as<std::string>()));
  run.dtype = *dtype;
  CostTarget t;
  const std::string name = vm["backend"].as<std::string>();
  t.backend = make_backend(name, run.threads);
  t.key = cost_key(*t.backend, name, run);
  if (vm.count("device") != 0 && db != nullptr) resolve_device(*db, vm["device"].as<std::string>(), t.key);
  return t;
}

}  // namespace hwnas::cli
