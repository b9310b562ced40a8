// hwnas: hardware-aware neural architecture search and profiling for hybrid Vision Transformers.
#include <exception>

#include <boost/program_options/errors.hpp>
#include <fmt/format.h>

#include "cli/command.h"
#include "cli/farm.h"

int main(int argc, char** argv) {
  using namespace hwnas::cli;
  Args args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "--version") args[0] = "version";
  try {
    // --mpi: MPI starts first; worker ranks serve measurements instead of running the command.
    FarmScope farm(&argc, &argv, args);
    if (farm.failed()) {
      if (!farm.startup_error().empty()) fmt::print(stderr, "hwnas: {}\n", farm.startup_error());
      return kExitUsage;
    }
    if (auto code = farm.serve_if_worker()) return *code;
    try {
      return dispatch(commands(), "hwnas", farm.args());
    } catch (const FarmFault& e) {
      fmt::print(stderr, "hwnas: {}\n", e.what());
      abort_farm(kExitFailure);  // a hung worker would never hear a stop
    }
  } catch (const UsageError& e) {
    fmt::print(stderr, "hwnas: {}\n", e.what());
    return kExitUsage;
  } catch (const boost::program_options::error& e) {
    fmt::print(stderr, "hwnas: {}\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "hwnas: {}\n", e.what());
    return kExitFailure;
  }
}
