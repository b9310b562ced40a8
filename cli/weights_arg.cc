#include "cli/weights_arg.h"

#include <fmt/format.h>

#include "cli/command.h"

namespace hwnas::cli {

void add_convention_option(po::options_description& desc) {
  desc.add_options()("names", po::value<std::string>(),
                     fmt::format("naming convention: {} (default: the preset's project, else hwnas)",
                                 fmt::join(space::convention_names(), ", "))
                         .c_str());
}

space::Convention convention_from_options(const po::variables_map& vm, const space::Arch& arch) {
  if (vm.count("names") == 0) return space::default_convention(arch);
  const std::string& given = vm["names"].as<std::string>();
  auto chosen = space::convention_from(given);
  if (!chosen)
    throw UsageError(
        fmt::format("--names: must be one of {} (got '{}')", fmt::join(space::convention_names(), ", "), given));
  return *chosen;
}

space::Lowered lowered_or_usage_error(const space::Arch& arch) {
  auto net = space::lower(arch);
  if (!net) throw UsageError(net.error().message);
  return std::move(net).value();
}

std::unique_ptr<weights::CheckpointWeights> open_weights_or_usage_error(const std::string& path,
                                                                        const space::Arch& arch, space::Convention c) {
  auto w = weights::CheckpointWeights::open(path, lowered_or_usage_error(arch), c);
  if (!w) throw UsageError(w.error().message);
  return std::move(w).value();
}

const space::WeightSource& weights_from_options(const po::variables_map& vm, const space::Arch& arch,
                                                const space::WeightSource& random,
                                                std::unique_ptr<weights::CheckpointWeights>& checkpoint) {
  if (vm.count("weights") == 0) return random;
  checkpoint = open_weights_or_usage_error(vm["weights"].as<std::string>(), arch, convention_from_options(vm, arch));
  return *checkpoint;
}

}  // namespace hwnas::cli
