// The CLI's side of the MPI measurement farm (profilers/mpi/farm.h): `mpirun -n K hwnas <command>
// … --mpi`. main() starts the farm before the command runs; worker ranks never run the command but
// serve measurement jobs with the backend their own options name (--backend, --device, --threads:
// every rank gets the same command line, rewritten per rank by `--mpi-devices FILE`); rank 0 runs the
// command, which finds the farm with `farm_from_options` and hands its measurements out with
// `farm_profile` / `farm_measure`. Only rank 0 opens the store: workers send the full measurement
// records back and rank 0 commits each reply as its own transaction as it arrives, so a fault loses
// nothing that was measured.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/cost_data.h"
#include "cli/options.h"
#include "profilers/mpi/farm.h"
#include "profilers/timing.h"
#include "space/arch.h"
#include "store/store.h"

namespace hwnas::cli {

// Started by main() when the command line has --mpi; inert otherwise.
class FarmScope {
 public:
  FarmScope(int* argc, char*** argv, const Args& args);
  ~FarmScope();
  FarmScope(const FarmScope&) = delete;
  FarmScope& operator=(const FarmScope&) = delete;
  // The command line this rank runs: the given one, with --device/--backend/--threads as
  // --mpi-devices assigns them to this rank (which is also pinned to the cores it names).
  const Args& args() const { return args_; }
  // On a worker rank: serves jobs until rank 0 stops, and returns the exit code; nullopt on rank 0
  // and without --mpi (the command runs).
  std::optional<int> serve_if_worker();
  // Set when --mpi-devices could not be applied on this rank: the message (empty on the ranks that
  // leave the saying to rank 0); the rank then exits with kExitUsage, after MPI_Finalize.
  bool failed() const { return failed_; }
  const std::string& startup_error() const { return startup_error_; }
  prof::mpi::Coordinator* coordinator() const { return coordinator_.get(); }
  const prof::mpi::Session* session() const { return session_.get(); }

 private:
  Args args_;
  std::string device_name_;  // --mpi-devices' name for this rank's device ("" when none)
  bool failed_ = false;
  std::string startup_error_;
  std::unique_ptr<prof::mpi::Session> session_;
  std::unique_ptr<prof::mpi::Coordinator> coordinator_;
};

// --mpi, --mpi-devices, --mpi-job-timeout-s for the commands that measure on a farm.
void add_farm_options(po::options_description& desc);
// The farm of the options: null without --mpi. With --mpi the job must have workers, and some on
// `device` (a fingerprint; `device_model` names it in the message) unless it is "": else a UsageError.
prof::mpi::Coordinator* farm_from_options(const po::variables_map& vm, const std::string& command,
                                          const std::string& device, const std::string& device_model);

// A fault of the farm (a job past its timeout, a worker's reply that cannot be read): main() prints
// it and ends every rank with abort_farm, since a hung worker would never hear a stop.
struct FarmFault : RuntimeFailure {
  using RuntimeFailure::RuntimeFailure;
};
// Ends every rank of the MPI job (MPI_Abort) with `code`; without a farm, exits with it.
[[noreturn]] void abort_farm(int code);

struct FarmMeasured {
  double figure_us = 0;
  bool noisy = false;
  double elapsed_ms = 0;  // the timing loop's time on the worker's clock (virtual on the fake backend)
  int rank = 0;
  std::string host;
};

// Profiles `archs` (their hashes beside them) end to end (and unit by unit with `per_unit`) on the
// workers of the key's device, with the key's run configuration and `protocol`, storing each arch and
// its records as the reply arrives. One entry per arch, in order: the figure, or why it could not be
// measured.
// `on_done`, where given, hears of each job as its reply is stored (progress).
using FarmDone = std::function<void(std::size_t job, const Result<FarmMeasured>& m)>;
std::vector<Result<FarmMeasured>> farm_profile(prof::mpi::Coordinator& farm, store::Store& db, const CostKey& key,
                                               const std::vector<const space::Arch*>& archs,
                                               const std::vector<std::string>& hashes, prof::Protocol protocol,
                                               bool per_unit = false, const FarmDone& on_done = {});

// One unit of an arch (or the network: unit < 0) timed alone with a given timing configuration: what
// calibration measures (cli/stored_measure.h, on the workers).
struct FarmSubject {
  const space::Arch* arch = nullptr;
  std::string hash;
  int unit = -1;
};
std::vector<Result<FarmMeasured>> farm_measure(prof::mpi::Coordinator& farm, store::Store& db, const CostKey& key,
                                               const std::vector<FarmSubject>& subjects,
                                               const prof::TimingConfig& timing, bool calibration,
                                               const FarmDone& on_done = {});

// What a worker said about itself in its hello: its device, and the options it measures with.
struct WorkerHello {
  int rank = 0;
  std::string host, route;  // route: its device fingerprint
  std::string name;         // --mpi-devices' name for it ("" when none)
  std::string spec;         // its own --device
  std::string backend;
  int threads = 0;
  store::DeviceRecord device;
};
// Throws FarmFault when the hello cannot be read.
WorkerHello worker_hello(const prof::mpi::WorkerInfo& w);

// "MPI: 42 jobs on 2 worker(s) in 12.3 s, workers computing 97.1% of it; coordinator overhead 0.21 ms
// per job (the wire both ways, noticing the reply, storing it)".
std::string farm_summary(const prof::mpi::Coordinator& farm);

}  // namespace hwnas::cli
