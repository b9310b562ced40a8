// The measurement store: every measurement, device, architecture, fitted cost model, search run and
// stored accuracy estimate in one SQLite file (schema: store/SCHEMA.md). Safe to share between
// processes (WAL, busy timeout, every write one transaction); a process killed at any point loses
// only the write in flight. A Store is one connection: use it from one thread, open one per process
// or thread.
//
//   auto db = store::Store::open("hwnas.db");          // creates or upgrades it
//   if (!db) return fail(db.error().message);            // "hwnas.db: cannot open: file is not a database"
//   db->put_device(dev); db->put_arch(arch); db->put_measurement(m);
//   if (auto hit = db->find_measurement(m.key); hit && *hit) use((*hit)->record, (*hit)->age_s);
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "space/arch.h"
#include "space/result.h"
#include "store/records.h"
#include "store/status.h"

namespace hwnas::store {

enum class OpenMode : std::uint8_t {
  read_write,  // creates the file if missing, upgrades an older schema
  read_only,   // never writes (an older schema is upgraded in a private in-memory copy)
};

struct OpenOptions {
  int busy_timeout_ms = 5000;  // how long a write waits for another process's
  std::string tool_version;    // recorded with migrations and measurements that carry none; "" = this build
};

// Filters of list_measurements; empty / unset = any.
struct MeasurementFilter {
  std::string device;     // fingerprint or a prefix of it
  std::string hash;       // arch hash or subject hash, or a prefix of either
  std::string arch_name;  // exact name of the arch (preset)
  std::optional<SubjectKind> kind;
  std::string backend, dtype, protocol;
  std::optional<std::int64_t> batch;
  std::optional<int> threads;
  std::string since;       // UTC, inclusive: "2025-11-01" or "2025-11-01T12:00:00Z"
  std::string until;       // UTC, exclusive
  std::int64_t limit = 0;  // 0 = no limit
};

struct TableCount {
  std::string table;
  std::int64_t rows = 0;
};

// Measurements per (device, backend, subject kind).
struct StatsGroup {
  std::string device, device_model, backend;
  SubjectKind kind = SubjectKind::network;
  std::int64_t count = 0;
  std::string first, last;  // created_at of the oldest and newest
};

struct Stats {
  std::string path;
  int schema_version = 0;
  std::int64_t bytes = 0;       // database pages in use (page_count × page_size)
  std::int64_t file_bytes = 0;  // the file on disk (0 for ":memory:")
  std::int64_t wal_bytes = 0;   // its write-ahead log, not yet checkpointed
  std::vector<TableCount> tables;
  std::vector<StatsGroup> groups;
};

struct ImportCount {
  std::string table;
  std::int64_t added = 0, skipped = 0;  // skipped: the key was already stored (the stored row is kept)
};

struct ImportReport {
  std::string source;
  std::vector<ImportCount> tables;
  std::int64_t added() const;
  std::int64_t skipped() const;
};

struct CheckReport {
  bool ok = false;
  int schema_version = 0;  // of the file
  int tool_schema_version = 0;
  std::vector<std::string> problems;  // integrity_check and foreign_key_check findings, version issues
};

class Store {
 public:
  // `path` may be ":memory:". Refused with a clear Error, without writing to the file: a file that
  // is not an SQLite database, a corrupt or truncated one, another program's database, a schema
  // newer than this hwnas, an unwritable file or directory (read_write), a missing file (read_only).
  static Result<Store> open(const std::string& path, OpenMode mode = OpenMode::read_write,
                            const OpenOptions& options = {});

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::string& path() const;
  OpenMode mode() const;
  int schema_version() const;  // of the file as found when opened (before any upgrade)

  // Devices: upsert by fingerprint. first_seen is kept; last_seen is now; a peak of 0 (not measured)
  // does not overwrite a stored one.
  Status put_device(const DeviceRecord& device);
  Result<std::optional<DeviceRecord>> find_device(const std::string& fingerprint);
  Result<std::vector<DeviceRecord>> list_devices();

  // Architectures: upsert by hash. A hash stored with another canonical text is an Error.
  Status put_arch(const ArchRecord& arch);
  Result<std::optional<ArchRecord>> find_arch(const std::string& hash);
  Result<std::vector<ArchRecord>> list_archs();

  // Measurements: their device and arch must be stored first. One transaction each; the span form
  // stores all or none in one transaction (a network with its units).
  Result<PutOutcome> put_measurement(const MeasurementRecord& m, OnConflict on_conflict = OnConflict::replace);
  Result<std::vector<PutOutcome>> put_measurements(std::span<const MeasurementRecord> ms,
                                                   OnConflict on_conflict = OnConflict::replace);
  // Exact key lookup (a measurement of another device, batch, dtype … is never returned).
  Result<std::optional<CachedMeasurement>> find_measurement(const MeasurementKey& key);
  // The units (or steps) stored for the network of `network_key` under the same device, backend,
  // batch, dtype, threads and protocol, by position.
  Result<std::vector<MeasurementRecord>> list_parts(const MeasurementKey& network_key, SubjectKind kind);
  // Newest first.
  Result<std::vector<MeasurementRecord>> list_measurements(const MeasurementFilter& filter = {});

  // Cost models: keyed by (device, backend, batch, dtype, threads, kind, version).
  Result<PutOutcome> put_cost_model(const CostModelRecord& model, OnConflict on_conflict = OnConflict::replace);
  // key.version 0: the highest stored version.
  Result<std::optional<CostModelRecord>> find_cost_model(const CostModelKey& key);
  Result<std::vector<CostModelRecord>> list_cost_models(const std::string& device = "");

  // Search runs: upsert by id (created_at kept, updated_at now); candidates by (run_id, idx).
  Status put_search_run(const SearchRunRecord& run);
  Result<std::optional<SearchRunRecord>> find_search_run(const std::string& id);
  Result<std::vector<SearchRunRecord>> list_search_runs();
  Result<PutOutcome> put_candidate(const CandidateRecord& c, OnConflict on_conflict = OnConflict::replace);
  Result<std::vector<PutOutcome>> put_candidates(std::span<const CandidateRecord> cs,
                                                 OnConflict on_conflict = OnConflict::replace);
  Result<std::vector<CandidateRecord>> list_candidates(const std::string& run_id);

  // Objective values (an estimator's result for an arch, a failure too): keyed by (objective,
  // arch_hash); a put replaces the stored row, in one transaction. NaN or infinity is refused, and a
  // failure's value must be 0.
  Status put_objective_value(const ObjectiveValueRecord& v);
  Result<std::optional<ObjectiveValueRecord>> find_objective_value(const std::string& objective,
                                                                   const std::string& arch_hash);

  // Compression runs: upsert by id, in one transaction; the device and both archs must be stored.
  Status put_compress_run(const CompressRunRecord& run);
  Result<std::vector<CompressRunRecord>> list_compress_runs();

  Result<Stats> stats();
  // Tables in export (and import) order: devices, archs, measurements, cost_models, search_runs,
  // search_candidates, objective_values, compress_runs.
  static std::span<const std::string_view> table_names();
  // Every table, rows in key order, row ids left out: two stores holding the same rows export the
  // same bytes. {"format": "hwnas-store", "schema_version": N, "tables": {"devices": [{…}], …}}
  Status export_json(std::ostream& out);
  // One table as CSV (RFC 4180, header row; samples space-separated, JSON columns as text).
  Status export_csv(std::string_view table, std::ostream& out);
  // Merges another store (an SQLite file of any schema version up to this one) or an export_json file
  // into this one, in one transaction. Rows whose key is already stored are skipped.
  Result<ImportReport> import_from(const std::string& source_path);
  // PRAGMA integrity_check and foreign_key_check on the file, and its schema version.
  Result<CheckReport> check();

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An ArchRecord for a validated arch (canonical text and hash from space/canonical.h).
ArchRecord arch_record(const space::Arch& arch, std::int64_t macs, std::int64_t params);

}  // namespace hwnas::store
