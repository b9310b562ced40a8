// hwnas profile --archs FILE.jsonl (cli/cmd_profile_many.cc): many architectures, locally or on an
// MPI farm, each stored as it is measured.
#pragma once

#include "cli/options.h"

namespace hwnas::cli {

// `vm`: profile's options with --archs given.
int run_profile_many(const po::variables_map& vm);

}  // namespace hwnas::cli
