#include "cli/output_file.h"

#include "cli/command.h"
#include "weights/atomic_file.h"

namespace hwnas::cli {

void write_output_file(const std::string& path, const std::string& text) {
  auto put = weights::write_atomically(path, [&](std::ostream& out) { out << text; });
  if (!put) throw RuntimeFailure(put.error().message);
}

}  // namespace hwnas::cli
