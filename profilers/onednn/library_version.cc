#include <dnnl.hpp>
#include <fmt/format.h>

#include "profilers/library_versions.h"

namespace hwnas::prof {

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return fmt::format("{}.{}.{} ({})", v->major, v->minor, v->patch, v->hash);
}

}  // namespace hwnas::prof
