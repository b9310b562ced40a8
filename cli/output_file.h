// Files the commands write (--json, --trace, reports): whole or not at all (weights/atomic_file.h),
// a failure thrown as RuntimeFailure naming the file.
#pragma once

#include <string>

namespace hwnas::cli {

void write_output_file(const std::string& path, const std::string& text);

}  // namespace hwnas::cli
