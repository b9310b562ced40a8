// hwnas version / hwnas --version: tool version, git commit, compiler and library versions.
#include <boost/version.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/options.h"
#include "hwnas_version.h"
#include "profilers/library_versions.h"
#include "profilers/mpi/farm.h"
#include "store/library_versions.h"
#include "weights/library_versions.h"

namespace hwnas::cli {

int run_version(const Args& args) {
  po::options_description desc("version");
  po::variables_map vm;
  if (!parse_options("hwnas version", desc, {}, args, vm)) return kExitOk;
  fmt::print("hwnas {} (commit {})\n", HWNAS_VERSION, HWNAS_GIT_COMMIT);
  fmt::print("  compiler          {}\n", __VERSION__);
  fmt::print("  oneDNN            {}\n", prof::onednn_version());
  fmt::print("  SQLite            {}\n", store::sqlite_version());
  fmt::print("  Boost             {}.{}.{}\n", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100);
  fmt::print("  fmt               {}.{}.{}\n", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100);
  fmt::print("  nlohmann-json     {}.{}.{}\n", NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
             NLOHMANN_JSON_VERSION_PATCH);
  for (const auto& [name, version] : weights::library_versions()) fmt::print("  {:<17} {}\n", name, version);
  fmt::print("  MPI farm          {}\n", prof::mpi::library_version());
#ifdef HWNAS_HAVE_CUDA
  fmt::print("  CUDA backend      built\n");
#else
  fmt::print("  CUDA backend      not built\n");
#endif
  return kExitOk;
}

}  // namespace hwnas::cli
