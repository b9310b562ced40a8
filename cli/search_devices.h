// The devices one search targets: `--device` once (this machine's CPU or GPU, or the workers of an
// MPI farm that measure it), or repeated for a search over several devices at once, each with its
// own budget (`--budget-ms cpu=40,cuda:0=2`), cost model and measurements. A device only MPI workers
// have (a GPU on another host) gets a stand-in backend on rank 0: its device record comes from the
// workers' hello, and it never runs anything (the workers do).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/cost_data.h"
#include "cli/options.h"
#include "profilers/backend.h"
#include "profilers/mpi/farm.h"
#include "store/store.h"

namespace hwnas::cli {

struct SearchDevice {
  std::string name;  // as --device gave it ("" = this CPU, the default)
  std::unique_ptr<prof::Backend> backend;
  CostKey key;
  bool on_farm = false;   // measured by MPI workers (else by this process)
  bool stand_in = false;  // `backend` only describes the workers' device (it runs nothing here)
  std::string label() const { return name.empty() ? "cpu" : name; }
};

// One device per name of `given` (the --device values; none = this CPU), in order. With a farm, a
// name is looked up among the workers first: by the name --mpi-devices gave them or by a prefix (4
// digits or more) of their device fingerprint; it must name workers of one fingerprint. Otherwise it
// is this machine's cpu or cuda:N, measured by the workers of its fingerprint (else by this process;
// a search on one device needs workers on it, as every farm command does); a cuda:N this machine
// lacks is the workers' whose own --device it is. Errors (UsageError) name the device and what was
// found.
std::vector<SearchDevice> search_devices(const po::variables_map& vm, const std::vector<std::string>& given,
                                         store::Store& db, prof::mpi::Coordinator* farm);

// --budget-ms for these devices: "40" (one device), or "NAME=MS,…" naming devices by label. Devices
// left out get 0 (the default budget is made for them). UsageError on a bad or unknown entry.
std::vector<double> parse_budgets(const std::string& text, const std::vector<SearchDevice>& devices);

}  // namespace hwnas::cli
