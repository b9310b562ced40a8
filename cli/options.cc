#include "cli/options.h"

#include <iostream>

#include <fmt/format.h>

namespace hwnas::cli {

bool parse_options(const std::string& usage, po::options_description& desc,
                   const po::positional_options_description& positional, const Args& args, po::variables_map& vm) {
  desc.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(args).options(desc).positional(positional).run(), vm);
    if (vm.count("help") != 0) {
      std::cout << "usage: " << usage << "\n\n" << desc << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(fmt::format("{}\nusage: {}", e.what(), usage));
  }
  return true;
}

}  // namespace hwnas::cli
