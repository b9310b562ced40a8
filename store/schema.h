// The store's schema as a list of forward migrations (version, SQL). A database records every
// version applied in its `schema_version` table; opening brings it to the latest version in one
// transaction. Migrations are history: never edit one that has shipped, add the next. The tables
// and columns are documented in store/SCHEMA.md.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "space/result.h"
#include "store/sqlite.h"

namespace hwnas::store::schema {

struct Migration {
  int version = 0;
  std::string_view summary;
  std::string_view sql;  // no parameters; runs inside the migration's transaction
};

// In version order: migrations()[i].version == i + 1.
std::span<const Migration> migrations();
int latest_version();

// PRAGMA application_id of an hwnas store ("hwns"): a database of another program is refused.
inline constexpr std::int64_t kApplicationId = 0x68776e73;

// The version of the open database: 0 for an empty database (no tables yet). An Error when the file
// is not a database, is corrupt, or is another program's database. Reads only.
Result<int> read_version(sql::Connection& conn);

// Brings the database from its version to `target` in one IMMEDIATE transaction (re-reading the
// version inside it, since another process may have upgraded it meanwhile). A database newer than
// this hwnas is refused before anything is written. Returns the version it found.
Result<int> migrate(sql::Connection& conn, std::string_view tool_version, int target = latest_version());

// "<label>: schema version 7 is newer than this hwnas (2); upgrade hwnas"
Error newer_version_error(const std::string& label, int version);

}  // namespace hwnas::store::schema
