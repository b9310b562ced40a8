#include "weights/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace hwnas::weights {

Result<bool> write_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Error{fmt::format("{}: cannot write: {}", path, std::strerror(errno))};
    write(out);
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      return Error{fmt::format("{}: cannot write (disk full?)", path)};
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return Error{fmt::format("{}: cannot rename into place: {}", path, ec.message())};
  }
  return true;
}

}  // namespace hwnas::weights
