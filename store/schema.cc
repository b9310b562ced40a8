#include "store/schema.h"

#include <array>

#include <fmt/format.h>

#include "store/time.h"

namespace hwnas::store::schema {
namespace {

// Version 1: the initial schema.
constexpr std::string_view kV1 = R"sql(
PRAGMA application_id = 1752657523;  -- 0x68776e73, "hwns"

CREATE TABLE schema_version (
  version      INTEGER PRIMARY KEY,
  applied_at   TEXT NOT NULL,
  tool_version TEXT NOT NULL
);

CREATE TABLE devices (
  fingerprint      TEXT PRIMARY KEY NOT NULL,
  kind             TEXT NOT NULL,
  model            TEXT NOT NULL,
  cores            INTEGER NOT NULL,
  threads          INTEGER NOT NULL,
  isa              TEXT NOT NULL,
  bf16_native      INTEGER NOT NULL CHECK (bf16_native IN (0, 1)),
  engine           TEXT NOT NULL,
  driver           TEXT NOT NULL,
  peak_f32_gflops  REAL NOT NULL,
  peak_bf16_gflops REAL NOT NULL,
  triad_gbs        REAL NOT NULL,
  first_seen       TEXT NOT NULL
);

CREATE TABLE archs (
  hash       TEXT PRIMARY KEY NOT NULL CHECK (length(hash) = 16 AND hash NOT GLOB '*[^0-9a-f]*'),
  canonical  TEXT NOT NULL,
  name       TEXT NOT NULL,
  macs       INTEGER NOT NULL,
  params     INTEGER NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE measurements (
  id               INTEGER PRIMARY KEY,
  subject_kind     TEXT NOT NULL CHECK (subject_kind IN ('network', 'unit', 'step')),
  subject_hash     TEXT NOT NULL CHECK (length(subject_hash) = 16 AND subject_hash NOT GLOB '*[^0-9a-f]*'),
  arch_hash        TEXT NOT NULL REFERENCES archs (hash),
  label            TEXT NOT NULL,
  unit_kind        TEXT NOT NULL,
  position         INTEGER NOT NULL,
  device           TEXT NOT NULL REFERENCES devices (fingerprint),
  backend          TEXT NOT NULL,
  batch            INTEGER NOT NULL CHECK (batch > 0),
  dtype            TEXT NOT NULL,
  threads          INTEGER NOT NULL,
  protocol         TEXT NOT NULL,
  figure_us        REAL NOT NULL,
  median_us        REAL NOT NULL,
  min_us           REAL NOT NULL,
  p10_us           REAL NOT NULL,
  p90_us           REAL NOT NULL,
  p99_us           REAL NOT NULL,
  mean_us          REAL NOT NULL,
  ci_low_us        REAL NOT NULL,
  ci_high_us       REAL NOT NULL,
  cv               REAL NOT NULL,
  n                INTEGER NOT NULL,
  calls_per_sample INTEGER NOT NULL,
  warmup_runs      INTEGER NOT NULL,
  elapsed_ms       REAL NOT NULL,
  noisy            INTEGER NOT NULL CHECK (noisy IN (0, 1)),
  noise_reason     TEXT NOT NULL,
  samples_us       BLOB NOT NULL,
  detail_json      TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  tool_version     TEXT NOT NULL,
  UNIQUE (subject_hash, device, backend, batch, dtype, threads, protocol)
);

CREATE TABLE cost_models (
  id         INTEGER PRIMARY KEY,
  device     TEXT NOT NULL REFERENCES devices (fingerprint),
  backend    TEXT NOT NULL,
  batch      INTEGER NOT NULL CHECK (batch > 0),
  dtype      TEXT NOT NULL,
  threads    INTEGER NOT NULL,
  kind       TEXT NOT NULL,
  version    INTEGER NOT NULL,
  model_json TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (device, backend, batch, dtype, threads, kind, version)
);

CREATE TABLE search_runs (
  id          TEXT PRIMARY KEY NOT NULL,
  config_json TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'stopped')),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

CREATE TABLE search_candidates (
  run_id          TEXT NOT NULL REFERENCES search_runs (id) ON DELETE CASCADE,
  idx             INTEGER NOT NULL,
  arch_hash       TEXT NOT NULL,
  genome_json     TEXT NOT NULL,
  objectives_json TEXT NOT NULL,
  measured        INTEGER NOT NULL CHECK (measured IN (0, 1)),
  created_at      TEXT NOT NULL,
  PRIMARY KEY (run_id, idx)
);

PRAGMA user_version = 1;
)sql";

// Version 2: when a device was last seen, and indexes for `db list` and the cost model's training
// queries (measurements of one network's units; measurements of one device by date).
constexpr std::string_view kV2 = R"sql(
ALTER TABLE devices ADD COLUMN last_seen TEXT NOT NULL DEFAULT '';
UPDATE devices SET last_seen = first_seen;
CREATE INDEX measurements_by_arch ON measurements (arch_hash, subject_kind, device);
CREATE INDEX measurements_by_device ON measurements (device, created_at);
PRAGMA user_version = 2;
)sql";

// Version 3: accuracy estimates (and their failures) per estimator and arch, so that a resumed or
// repeated search does not run a slow estimator again.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE objective_values (
  objective    TEXT NOT NULL CHECK (objective <> ''),
  arch_hash    TEXT NOT NULL CHECK (length(arch_hash) = 16 AND arch_hash NOT GLOB '*[^0-9a-f]*'),
  ok           INTEGER NOT NULL CHECK (ok IN (0, 1)),
  value        REAL NOT NULL CHECK (ok = 1 OR value = 0),
  message      TEXT NOT NULL,
  elapsed_ms   REAL NOT NULL,
  created_at   TEXT NOT NULL,
  tool_version TEXT NOT NULL,
  PRIMARY KEY (objective, arch_hash)
);
PRAGMA user_version = 3;
)sql";

// Version 4: compression runs (hwnas compress), with their original and result archs.
constexpr std::string_view kV4 = R"sql(
CREATE TABLE compress_runs (
  id           TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  method       TEXT NOT NULL CHECK (method <> ''),
  arch_hash    TEXT NOT NULL REFERENCES archs (hash),
  result_hash  TEXT NOT NULL REFERENCES archs (hash),
  device       TEXT NOT NULL REFERENCES devices (fingerprint),
  record_json  TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  tool_version TEXT NOT NULL
);
PRAGMA user_version = 4;
)sql";

constexpr std::array kMigrations = {
    Migration{1, "initial schema", kV1},
    Migration{2, "devices.last_seen; indexes by arch and by device/date", kV2},
    Migration{3, "objective_values: estimator results per arch", kV3},
    Migration{4, "compress_runs: hwnas compress runs with their original and result", kV4},
};

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}
int latest_version() {
  return kMigrations.back().version;
}

Error newer_version_error(const std::string& label, int version) {
  return Error{fmt::format("{}: schema version {} is newer than this hwnas ({}); upgrade hwnas", label, version,
                           latest_version())};
}

Result<int> read_version(sql::Connection& conn) {
  constexpr std::string_view op = "cannot open";
  // The first read of the file: a file that is not a database, or a corrupt one, fails here.
  auto objects = conn.query_int("SELECT count(*) FROM sqlite_master", op);
  if (!objects) return objects.error();
  auto app_id = conn.query_int("PRAGMA application_id", op);
  if (!app_id) return app_id.error();
  if (*app_id != 0 && *app_id != kApplicationId) {
    return Error{fmt::format("{}: not an hwnas database (application_id {:#x})", conn.label(), *app_id)};
  }
  auto has_table =
      conn.query_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'", op);
  if (!has_table) return has_table.error();
  if (*has_table == 0) {
    if (*objects == 0) return 0;
    return Error{fmt::format("{}: not an hwnas database (it has tables but no schema_version)", conn.label())};
  }
  auto version = conn.query_int("SELECT max(version) FROM schema_version", op);
  if (!version) return version.error();
  if (*version < 0 || *version > 1000000) {
    return Error{fmt::format("{}: not an hwnas database (schema version {})", conn.label(), *version)};
  }
  return static_cast<int>(*version);
}

Result<int> migrate(sql::Connection& conn, std::string_view tool_version, int target) {
  auto found = read_version(conn);
  if (!found) return found.error();
  if (*found > latest_version()) return newer_version_error(conn.label(), *found);
  if (*found >= target) return *found;

  constexpr std::string_view op = "cannot upgrade the schema";
  auto tx = sql::Transaction::begin(conn, op);
  if (!tx) return tx.error();
  auto version = read_version(conn);  // under the write lock now
  if (!version) return version.error();
  if (*version > latest_version()) return newer_version_error(conn.label(), *version);
  for (const Migration& m : migrations()) {
    if (m.version <= *version || m.version > target) continue;
    const std::string step = fmt::format("{} (to version {})", op, m.version);
    if (auto r = conn.exec(m.sql, step); !r) return r.error();
    auto st = conn.prepare("INSERT INTO schema_version (version, applied_at, tool_version) VALUES (?1, ?2, ?3)", step);
    if (!st) return st.error();
    st->bind(1, static_cast<std::int64_t>(m.version)).bind(2, now_utc()).bind(3, tool_version);
    if (auto r = st->run(); !r) return r.error();
  }
  if (auto r = tx->commit(); !r) return r.error();
  return *version;
}

}  // namespace hwnas::store::schema
