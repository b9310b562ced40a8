// Boost.Program_options glue shared by the subcommands.
#pragma once

#include <string>

#include <boost/program_options.hpp>

#include "cli/command.h"

namespace hwnas::cli {

namespace po = boost::program_options;

// Parses `args` into `vm` (adds --help). Returns false when --help was printed (exit 0). Unknown
// options and bad values throw UsageError naming the option.
bool parse_options(const std::string& usage, po::options_description& desc,
                   const po::positional_options_description& positional, const Args& args, po::variables_map& vm);

}  // namespace hwnas::cli
