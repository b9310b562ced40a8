// hwnas: hardware-aware neural architecture search and profiling for hybrid Vision Transformers.
#include <exception>

#include <boost/program_options/errors.hpp>
#include <fmt/format.h>

#include "cli/command.h"

int main(int argc, char** argv) {
  using namespace hwnas::cli;
  Args args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "--version") args[0] = "version";
  try {
    return dispatch(commands(), "hwnas", args);
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
