// Version of the SQLite library the store links.
#pragma once

#include <string>

namespace hwnas::store {

std::string sqlite_version();

}  // namespace hwnas::store
