// The --db option shared by every command that reads or writes the measurement store.
#pragma once

#include <string>

#include "cli/options.h"
#include "store/store.h"

namespace hwnas::cli {

// --db PATH, else $HWNAS_DB, else ./hwnas.db.
std::string db_path(const po::variables_map& vm);
// A store that cannot be opened (not a database, corrupt, newer schema, unwritable) is bad input:
// one clear line, exit 2, the file untouched.
store::Store open_store_or_usage_error(const std::string& path, store::OpenMode mode);

}  // namespace hwnas::cli
