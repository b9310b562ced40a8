// The architecture argument every subcommand accepts: --preset NAME or a positional JSON FILE.
#pragma once

#include <string>

#include "cli/options.h"
#include "space/arch.h"

namespace hwnas::cli {

// Adds --preset and the FILE option, and makes FILE the first positional argument.
void add_arch_options(po::options_description& desc, po::positional_options_description& positional);
// Exactly one of --preset / FILE; bad input throws UsageError with the file, JSON path and rule.
space::Arch arch_from_options(const po::variables_map& vm, const std::string& usage);

}  // namespace hwnas::cli
