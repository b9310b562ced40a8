#include "cli/search_devices.h"

#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/cost_options.h"
#include "cli/farm.h"
#include "cli/store_records.h"
#include "profilers/backends.h"
#include "search/individual.h"
#include "store/record_json.h"

namespace hwnas::cli {
namespace {

using nlohmann::json;

// Rank 0's stand-in for a device only workers have: its record, and nothing to run.
class WorkerDevice final : public prof::Backend {
 public:
  WorkerDevice(std::string name, prof::DeviceInfo device) : name_(std::move(name)), device_(std::move(device)) {}
  std::string name() const override { return name_; }
  const prof::DeviceInfo& device() const override { return device_; }
  // The workers check what their backend supports, and say why not in their reply.
  std::string unsupported(const space::Arch&, const prof::RunConfig&) const override { return ""; }
  Result<std::unique_ptr<prof::Runnable>> prepare(const space::Arch&, prof::Subject, const prof::RunConfig&,
                                                  const prof::WeightSource&) override {
    return Error{fmt::format("{} on {} is measured by MPI workers only", name_, device_.model)};
  }

 private:
  std::string name_;
  prof::DeviceInfo device_;
};

std::string trimmed(const std::string& s) {
  const std::size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<WorkerHello> hellos(const prof::mpi::Coordinator& farm) {
  std::vector<WorkerHello> out;
  for (const prof::mpi::WorkerInfo& w : farm.workers()) out.push_back(worker_hello(w));
  return out;
}

// Whether `name` names this worker's device: by its --mpi-devices name or a fingerprint prefix (4
// digits or more), or with `by_spec` by its own --device.
bool names(const WorkerHello& h, const std::string& name, bool by_spec) {
  if (h.name == name || (by_spec && h.spec == name)) return true;
  return name.size() >= 4 && h.route.rfind(name, 0) == 0;
}

// The device `name` names on the farm's workers, or nothing when none matches.
std::optional<SearchDevice> on_workers(const po::variables_map& vm, const std::string& name,
                                       const std::vector<WorkerHello>& workers, bool by_spec) {
  std::map<std::string, const WorkerHello*> routes;  // the first rank of each fingerprint it names
  for (const WorkerHello& h : workers)
    if (names(h, name, by_spec)) routes.emplace(h.route, &h);
  if (routes.empty()) return std::nullopt;
  if (routes.size() > 1) {
    std::string seen;
    for (const auto& [route, h] : routes)
      seen +=
          fmt::format("{}{} ({}, {} threads, rank {}{})", seen.empty() ? "" : "; ", route.substr(0, 8), h->device.model,
                      h->device.threads, h->rank, h->name.empty() ? "" : fmt::format(", named {}", h->name));
    throw UsageError(
        fmt::format("--device {}: names workers of {} different devices: {} (name one by its "
                    "fingerprint prefix, or give them names in --mpi-devices)",
                    name, routes.size(), seen));
  }
  const WorkerHello& h = *routes.begin()->second;
  prof::RunConfig run = run_config(vm);  // batch and dtype of the options
  run.threads = h.threads;
  SearchDevice d;
  d.name = name;
  d.on_farm = true;
  // This process's own backend where it is the same device (its clock and checks are then the real
  // ones); else the stand-in.
  if (h.device.kind == "cpu" && !h.backend.empty()) {
    auto local = make_backend(h.backend, h.threads);
    if (local->device().fingerprint() == h.route) d.backend = std::move(local);
  }
  if (!d.backend) {
    prof::DeviceInfo info = device_info(h.device);
    if (info.fingerprint() != h.route)
      throw FarmFault(
          fmt::format("MPI rank {} ({}): its device record does not give its fingerprint {}", h.rank, h.host, h.route));
    d.backend = std::make_unique<WorkerDevice>(h.backend, std::move(info));
    d.stand_in = true;
  }
  d.key = cost_key(*d.backend, h.backend, run);
  return d;
}

// One --device: workers named by map name or fingerprint prefix; else this machine's cpu/cuda:N
// (measured by the workers that share its fingerprint, else by this process; with one device and a
// farm, the workers must have it, as for every farm command); else, where this machine has no such
// device (cuda:N on a CPU host), the workers whose own --device it is.
SearchDevice resolve(const po::variables_map& vm, const std::string& name, store::Store& db,
                     prof::mpi::Coordinator* farm, const std::vector<WorkerHello>& workers, bool only) {
  if (farm != nullptr && !name.empty())
    if (auto d = on_workers(vm, name, workers, false)) return std::move(*d);
  if (!name.empty() && !prof::parse_device(name))
    throw UsageError(fmt::format("--device {}: not this machine's cpu or cuda:N{}", name,
                                 farm != nullptr ? ", nor a device of the MPI workers (by name, --device or "
                                                   "fingerprint prefix)"
                                                 : " (a device of another host needs --mpi)"));
  CostTarget t;
  try {
    t = cost_target(vm, &db, name);
  } catch (const RuntimeFailure&) {
    if (farm != nullptr)
      if (auto d = on_workers(vm, name, workers, true)) return std::move(*d);
    throw;
  }
  SearchDevice d;
  d.name = name;
  d.backend = std::move(t.backend);
  d.key = t.key;
  d.on_farm = farm != nullptr && farm->workers_on(d.key.model.device) > 0;
  if (farm != nullptr && only)  // names the workers it found when none measures this device
    (void)farm_from_options(vm, "search", d.key.model.device, d.key.model.device_model);
  return d;
}

}  // namespace

std::vector<SearchDevice> search_devices(const po::variables_map& vm, const std::vector<std::string>& given,
                                         store::Store& db, prof::mpi::Coordinator* farm) {
  if (given.size() > search::kMaxDevices)
    throw UsageError(
        fmt::format("--device: a search targets at most {} devices (got {})", search::kMaxDevices, given.size()));
  const std::vector<WorkerHello> workers = farm != nullptr ? hellos(*farm) : std::vector<WorkerHello>{};
  std::vector<SearchDevice> out;
  std::set<std::string> fingerprints;
  for (const std::string& name : given.empty() ? std::vector<std::string>{""} : given) {
    SearchDevice d = resolve(vm, name, db, farm, workers, given.size() <= 1);
    if (!fingerprints.insert(d.key.model.device).second)
      throw UsageError(fmt::format("--device {}: the same device ({}, {}) as an earlier --device", name,
                                   d.key.model.device.substr(0, 8), d.key.model.device_model));
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<double> parse_budgets(const std::string& text, const std::vector<SearchDevice>& devices) {
  std::vector<double> out(devices.size(), 0.0);
  auto number = [&](std::string_view s, const std::string& what) {
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !(v > 0) || !std::isfinite(v))
      throw UsageError(fmt::format("--budget-ms: {} must be a number > 0 (got '{}')", what, s));
    return v;
  };
  if (text.find('=') == std::string::npos) {
    if (devices.size() > 1)
      throw UsageError(fmt::format("--budget-ms: give one budget per device, as {}=MS,{}=MS", devices[0].label(),
                                   devices[1].label()));
    out[0] = number(trimmed(text), "the budget");
    return out;
  }
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    const std::string item = trimmed(text.substr(at, comma - at));
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos) throw UsageError(fmt::format("--budget-ms: '{}' is not DEVICE=MS", item));
    const std::string name = trimmed(item.substr(0, eq));
    std::size_t d = 0;
    while (d < devices.size() && devices[d].label() != name) ++d;
    if (d == devices.size()) {
      std::string known;
      for (const SearchDevice& dev : devices) known += (known.empty() ? "" : ", ") + dev.label();
      throw UsageError(fmt::format("--budget-ms: no --device {} (the devices: {})", name, known));
    }
    if (out[d] > 0) throw UsageError(fmt::format("--budget-ms: {} given twice", name));
    out[d] = number(trimmed(item.substr(eq + 1)), name);
    at = comma + 1;
  }
  return out;
}

}  // namespace hwnas::cli
