#include "cli/arch_arg.h"

#include <fmt/format.h>

#include "space/arch_json.h"
#include "space/presets.h"

namespace hwnas::cli {

void add_arch_options(po::options_description& desc, po::positional_options_description& positional) {
  desc.add_options()("preset", po::value<std::string>(), "a built-in architecture (see 'hwnas presets')")(
      "file", po::value<std::string>(), "an architecture JSON file");
  positional.add("file", 1);
}

space::Arch arch_from_options(const po::variables_map& vm, const std::string& usage) {
  const bool p = vm.count("preset") != 0, f = vm.count("file") != 0;
  if (p == f) throw UsageError(fmt::format("give either --preset NAME or an arch FILE\nusage: {}", usage));
  auto a = p ? space::preset(vm["preset"].as<std::string>()) : space::load_arch_file(vm["file"].as<std::string>());
  if (!a) throw UsageError(a.error().message);
  return std::move(a).value();
}

}  // namespace hwnas::cli
