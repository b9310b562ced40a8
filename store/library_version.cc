#include <sqlite3.h>

#include "store/library_versions.h"

namespace hwnas::store {

std::string sqlite_version() {
  return sqlite3_libversion();
}

}  // namespace hwnas::store
