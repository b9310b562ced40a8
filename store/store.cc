#include "store/store.h"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <unistd.h>

#include "space/canonical.h"
#include "store/schema.h"
#include "store/sqlite.h"
#include "store/tables.h"
#include "store/time.h"

#ifndef HWNAS_STORE_TOOL_VERSION
#define HWNAS_STORE_TOOL_VERSION "hwnas"
#endif

namespace hwnas::store {
namespace {

namespace fs = std::filesystem;
using detail::table;
using nlohmann::json;

constexpr std::string_view kSqliteMagic{"SQLite format 3\0", 16};
constexpr std::string_view kExportFormat = "hwnas-store";
constexpr std::array<std::string_view, 8> kTables = {"devices",          "archs",        "measurements",
                                                     "cost_models",      "search_runs",  "search_candidates",
                                                     "objective_values", "compress_runs"};

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

std::string parent_dir(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// Everything we can tell about the file before SQLite touches it: SQLite opens lazily and would
// happily start a WAL beside a text file, so a file that is not a database is refused here, unread
// by SQLite and untouched.
Status precheck_file(const std::string& path, OpenMode mode) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  const std::string dir = parent_dir(path);
  if (!fs::exists(st)) {
    if (mode == OpenMode::read_only) return Error{fmt::format("{}: cannot open: no such file", path)};
    if (!fs::is_directory(dir, ec)) return Error{fmt::format("{}: cannot create: no directory '{}'", path, dir)};
    if (::access(dir.c_str(), W_OK) != 0) {
      return Error{fmt::format("{}: cannot create: directory '{}' is not writable", path, dir)};
    }
    return Ok{};
  }
  if (fs::is_directory(st)) return Error{fmt::format("{}: cannot open: is a directory", path)};
  if (!fs::is_regular_file(st)) return Error{fmt::format("{}: cannot open: not a regular file", path)};

  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
  std::array<unsigned char, 100> header{};
  in.read(reinterpret_cast<char*>(header.data()), header.size());
  const auto got = static_cast<std::size_t>(in.gcount());
  const auto size = static_cast<std::uint64_t>(fs::file_size(path, ec));
  if (size > 0) {  // an empty file is an empty database
    const std::string_view magic(reinterpret_cast<const char*>(header.data()), std::min<std::size_t>(got, 16));
    if (got < header.size() || magic != kSqliteMagic) {
      return Error{fmt::format("{}: cannot open: file is not a database", path)};
    }
    std::uint32_t page_size = (std::uint32_t{header[16]} << 8) | header[17];
    if (page_size == 1) page_size = 65536;
    if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0) {
      return Error{fmt::format("{}: cannot open: file is not a database (page size {})", path, page_size)};
    }
    // The header's page count is valid when its change counter matches (file format 3.7.0+). Without
    // a WAL or journal beside it that could still complete the file, a shorter file was truncated.
    const std::uint32_t pages = be32(&header[28]);
    const bool valid = be32(&header[24]) == be32(&header[92]);
    if (valid && pages > 0 && !fs::exists(path + "-wal", ec) && !fs::exists(path + "-journal", ec) &&
        size < std::uint64_t{pages} * page_size) {
      return Error{fmt::format("{}: cannot open: file is truncated ({} bytes; its header says {})", path, size,
                               std::uint64_t{pages} * page_size)};
    }
  }
  if (mode == OpenMode::read_write) {
    if (::access(path.c_str(), W_OK) != 0) {
      return Error{
          fmt::format("{}: cannot open for writing: the file is read-only (open it read-only to query it)", path)};
    }
    if (::access(dir.c_str(), W_OK) != 0 && !fs::exists(path + "-wal", ec)) {
      return Error{fmt::format(
          "{}: cannot open for writing: directory '{}' is not writable (SQLite keeps its -wal and -shm files "
          "beside the database; open it read-only to query it)",
          path, dir)};
    }
  }
  return Ok{};
}

bool is_hex16(std::string_view s) {
  if (s.size() != 16) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string check_hash(std::string_view field, std::string_view s) {
  if (is_hex16(s)) return {};
  return fmt::format("{}: must be 16 lowercase hex digits (got '{}')", field, s);
}

// What a measurement must satisfy beyond the schema's CHECKs ("" = fine).
std::string validate(const MeasurementRecord& m) {
  if (auto e = check_hash("subject_hash", m.key.subject_hash); !e.empty()) return e;
  if (auto e = check_hash("arch_hash", m.arch_hash); !e.empty()) return e;
  if (m.key.device.empty()) return "device: must not be empty";
  if (m.key.backend.empty()) return "backend: must not be empty";
  if (m.key.dtype.empty()) return "dtype: must not be empty";
  if (m.key.protocol.empty()) return "protocol: must not be empty";
  if (m.key.batch < 1) return fmt::format("batch: must be at least 1 (got {})", m.key.batch);
  if (m.kind == SubjectKind::network) {
    if (!m.label.empty()) return "label: must be empty for a network";
    if (m.key.subject_hash != m.arch_hash) {
      return fmt::format("subject_hash: a network's must be its arch_hash ({})", m.arch_hash);
    }
  } else if (m.label.empty()) {
    return fmt::format("label: a {} needs one", name_of(m.kind));
  }
  return {};
}

std::string validate(const DeviceRecord& d) {
  return d.fingerprint.empty() ? "fingerprint: must not be empty" : "";
}

std::string validate(const ArchRecord& a) {
  if (auto e = check_hash("hash", a.hash); !e.empty()) return e;
  return a.canonical.empty() ? "canonical: must not be empty" : "";
}

std::string validate(const CostModelRecord& c) {
  if (c.key.device.empty()) return "device: must not be empty";
  if (c.key.kind.empty()) return "kind: must not be empty";
  if (c.key.batch < 1) return fmt::format("batch: must be at least 1 (got {})", c.key.batch);
  return {};
}

std::string validate(const SearchRunRecord& r) {
  return r.id.empty() ? "id: must not be empty" : "";
}
std::string validate(const CandidateRecord& c) {
  return c.run_id.empty() ? "run_id: must not be empty" : "";
}
std::string validate(const CompressRunRecord& r) {
  if (r.id.empty()) return "id: must not be empty";
  if (r.method.empty()) return "method: must not be empty";
  if (auto e = check_hash("arch_hash", r.arch_hash); !e.empty()) return e;
  if (auto e = check_hash("result_hash", r.result_hash); !e.empty()) return e;
  return r.device.empty() ? "device: must not be empty" : "";
}
std::string validate(const ObjectiveValueRecord& v) {
  if (v.objective.empty()) return "objective: must not be empty";
  if (auto e = check_hash("arch_hash", v.arch_hash); !e.empty()) return e;
  if (!v.ok && v.value != 0) return fmt::format("value: must be 0 when ok is false (got {})", v.value);
  return {};
}

// Timestamps (and the tool version) a row leaves empty are now (and this hwnas).
void fill_defaults(DeviceRecord& r, const std::string& now, const std::string& /*tool*/) {
  if (r.first_seen.empty()) r.first_seen = now;
  if (r.last_seen.empty()) r.last_seen = r.first_seen;
}
void fill_defaults(ArchRecord& r, const std::string& now, const std::string& /*tool*/) {
  if (r.created_at.empty()) r.created_at = now;
}
void fill_defaults(MeasurementRecord& r, const std::string& now, const std::string& tool) {
  if (r.created_at.empty()) r.created_at = now;
  if (r.tool_version.empty()) r.tool_version = tool;
}
void fill_defaults(CostModelRecord& r, const std::string& now, const std::string& /*tool*/) {
  if (r.created_at.empty()) r.created_at = now;
}
void fill_defaults(SearchRunRecord& r, const std::string& now, const std::string& /*tool*/) {
  if (r.created_at.empty()) r.created_at = now;
  if (r.updated_at.empty()) r.updated_at = r.created_at;
}
void fill_defaults(CandidateRecord& r, const std::string& now, const std::string& /*tool*/) {
  if (r.created_at.empty()) r.created_at = now;
}
void fill_defaults(CompressRunRecord& r, const std::string& now, const std::string& tool) {
  if (r.created_at.empty()) r.created_at = now;
  if (r.tool_version.empty()) r.tool_version = tool;
}
void fill_defaults(ObjectiveValueRecord& r, const std::string& now, const std::string& tool) {
  if (r.created_at.empty()) r.created_at = now;
  if (r.tool_version.empty()) r.tool_version = tool;
}

// Every table's rows: what an import reads from its source.
struct Dump {
  std::vector<DeviceRecord> devices;
  std::vector<ArchRecord> archs;
  std::vector<MeasurementRecord> measurements;
  std::vector<CostModelRecord> cost_models;
  std::vector<SearchRunRecord> search_runs;
  std::vector<CandidateRecord> candidates;
  std::vector<ObjectiveValueRecord> objective_values;
  std::vector<CompressRunRecord> compress_runs;
};

// Calls f(table, rows) for each table of `d`, in kTables order (parents before children).
template <class D, class F>
void for_each_table(D& d, F&& f) {
  f(table<DeviceRecord>(), d.devices);
  f(table<ArchRecord>(), d.archs);
  f(table<MeasurementRecord>(), d.measurements);
  f(table<CostModelRecord>(), d.cost_models);
  f(table<SearchRunRecord>(), d.search_runs);
  f(table<CandidateRecord>(), d.candidates);
  f(table<ObjectiveValueRecord>(), d.objective_values);
  f(table<CompressRunRecord>(), d.compress_runs);
}

Result<Dump> read_export(const std::string& source) {
  std::ifstream in(source, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot read: {}", source, std::strerror(errno))};
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Error{fmt::format("{}: cannot import: neither an SQLite database nor an hwnas store export (JSON)", source)};
  }
  if (!j.is_object() || !j.contains("format") || j["format"] != kExportFormat) {
    return Error{
        fmt::format("{}: cannot import: not an hwnas store export (format must be \"{}\")", source, kExportFormat)};
  }
  if (!j.contains("schema_version") || !j["schema_version"].is_number_integer()) {
    return Error{fmt::format("{}: schema_version: must be an integer", source)};
  }
  const auto version = j["schema_version"].get<std::int64_t>();
  if (version > schema::latest_version()) return schema::newer_version_error(source, static_cast<int>(version));
  if (!j.contains("tables") || !j["tables"].is_object()) {
    return Error{fmt::format("{}: tables: must be an object", source)};
  }
  for (const auto& [name, rows] : j["tables"].items()) {
    if (std::find(kTables.begin(), kTables.end(), name) == kTables.end()) {
      return Error{fmt::format("{}: tables.{}: unknown table (known: {})", source, name, fmt::join(kTables, ", "))};
    }
  }
  Dump d;
  Status status = Ok{};
  for_each_table(d, [&](const auto& t, auto& rows) {
    if (!status || !j["tables"].contains(std::string(t.name))) return;
    const json& arr = j["tables"][std::string(t.name)];
    if (!arr.is_array()) {
      status = Error{fmt::format("{}: tables.{}: must be a list", source, t.name)};
      return;
    }
    for (std::size_t i = 0; i < arr.size() && status; ++i) {
      auto r = detail::from_json(t, arr[i], fmt::format("{}: tables.{}[{}]", source, t.name, i));
      if (!r) {
        status = r.error();
      } else {
        rows.push_back(std::move(*r));
      }
    }
  });
  if (!status) return status.error();
  return d;
}

// Checks the schema version (reading only: a non-database, corrupt, foreign or newer file is refused
// before anything is written), then, read-write, sets WAL and upgrades. Returns the version found.
Result<int> set_up(sql::Connection& conn, OpenMode mode, const std::string& tool_version) {
  constexpr std::string_view op = "cannot open";
  auto version = schema::read_version(conn);
  if (!version) return version.error();
  if (*version > schema::latest_version()) return schema::newer_version_error(conn.label(), *version);
  if (mode == OpenMode::read_only) {
    if (auto r = conn.exec("PRAGMA foreign_keys = ON", op); !r) return r.error();
    return *version;
  }
  auto journal = conn.query_text("PRAGMA journal_mode = WAL", op);
  if (!journal) return journal.error();
  if (auto r = conn.exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", op); !r) return r.error();
  auto migrated = schema::migrate(conn, tool_version);
  if (!migrated) return migrated.error();
  return *version;
}

}  // namespace

// ---- Store ------------------------------------------------------------------------------------------

struct Store::Impl {
  std::string path;
  OpenMode mode = OpenMode::read_write;
  std::string tool_version;
  int file_version = 0;
  sql::Connection file;    // the database file
  sql::Connection memory;  // read-only open of an older schema: an upgraded private copy, queried instead

  sql::Connection& db() { return memory.is_open() ? memory : file; }

  Error fail(std::string_view op, const std::string& why) const {
    return Error{fmt::format("{}: {}: {}", path, op, why)};
  }

  template <class R>
  Result<std::vector<PutOutcome>> put_all(std::span<const R> rows, OnConflict on_conflict, std::string_view op) {
    for (const R& r : rows)
      if (auto why = validate(r); !why.empty()) return fail(op, why);
    auto tx = sql::Transaction::begin(db(), op);
    if (!tx) return tx.error();
    std::vector<PutOutcome> out;
    out.reserve(rows.size());
    for (const R& r : rows) {
      auto put = detail::put_row(db(), table<R>(), r, on_conflict, op);
      if (!put) return put.error();
      out.push_back(*put);
    }
    if (auto c = tx->commit(); !c) return c.error();
    return out;
  }

  // Reads rows of `sql_text` (a query selecting table<R>().column_list) after `bind` binds its parameters.
  template <class R, class Bind>
  Result<std::vector<R>> query(const std::string& sql_text, std::string_view op, Bind&& bind) {
    auto st = db().prepare(sql_text, op);
    if (!st) return st.error();
    bind(*st);
    std::vector<R> rows;
    for (;;) {
      auto row = st->step();
      if (!row) return row.error();
      if (!*row) break;
      auto r = detail::read_row(*st, table<R>(), path);
      if (!r) return r.error();
      rows.push_back(std::move(*r));
    }
    return rows;
  }

  Result<Dump> dump(std::string_view op) {
    auto tx = sql::Transaction::begin_read(db(), op);  // one snapshot of every table
    if (!tx) return tx.error();
    Dump d;
    Status status = Ok{};
    for_each_table(d, [&](const auto& t, auto& rows) {
      if (!status) return;
      auto all = detail::select_all(db(), t, op);
      if (!all) {
        status = all.error();
      } else {
        rows = std::move(*all);
      }
    });
    if (!status) return status.error();
    if (auto c = tx->commit(); !c) return c.error();
    return d;
  }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

const std::string& Store::path() const {
  return impl_->path;
}
OpenMode Store::mode() const {
  return impl_->mode;
}
int Store::schema_version() const {
  return impl_->file_version;
}

std::span<const std::string_view> Store::table_names() {
  return kTables;
}

Result<Store> Store::open(const std::string& path, OpenMode mode, const OpenOptions& options) {
  if (path.empty()) return Error{"cannot open the store: empty path"};
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->mode = mode;
  impl->tool_version = options.tool_version.empty() ? HWNAS_STORE_TOOL_VERSION : options.tool_version;
  const bool in_memory = path == ":memory:";
  if (!in_memory) {
    if (auto r = precheck_file(path, mode); !r) return r.error();
  }

  // Read-only in a directory nobody can write to: no other process can change the file (a writer
  // would need its -wal or -journal there), and SQLite could not create the -shm it wants.
  std::error_code ec;
  const bool immutable = mode == OpenMode::read_only && !in_memory && ::access(parent_dir(path).c_str(), W_OK) != 0 &&
                         !fs::exists(path + "-wal", ec);
  const auto access = mode == OpenMode::read_write ? sql::Access::read_write_create
                      : immutable                  ? sql::Access::read_only_immutable
                                                   : sql::Access::read_only;
  auto conn = sql::Connection::open(path, access, options.busy_timeout_ms, path);
  if (!conn) return conn.error();
  if (mode == OpenMode::read_write && conn->read_only()) {
    return Error{
        fmt::format("{}: cannot open for writing: the file is read-only (open it read-only to query it)", path)};
  }

  // Two processes opening a new file at once both switch it to WAL; SQLite answers one of them
  // "busy" at once rather than risk a deadlock, so the set-up is retried within the busy timeout.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.busy_timeout_ms);
  for (;;) {
    auto version = set_up(*conn, mode, impl->tool_version);
    if (version) {
      impl->file_version = *version;
      break;
    }
    const bool busy = (conn->last_error_code() & 0xff) == SQLITE_BUSY &&
                      version.error().message.find("database is locked") != std::string::npos;
    if (!busy || std::chrono::steady_clock::now() > deadline) return version.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  impl->file = std::move(*conn);

  if (mode == OpenMode::read_only && impl->file_version < schema::latest_version()) {
    constexpr std::string_view op = "cannot open";
    auto mem = sql::Connection::open_memory(path, options.busy_timeout_ms);
    if (!mem) return mem.error();
    if (auto r = impl->file.copy_to(*mem, "cannot read"); !r) return r.error();
    if (auto r = mem->exec("PRAGMA foreign_keys = ON", op); !r) return r.error();
    auto migrated = schema::migrate(*mem, impl->tool_version);
    if (!migrated) return migrated.error();
    if (auto r = mem->exec("PRAGMA query_only = ON", op); !r) return r.error();
    impl->memory = std::move(*mem);
  }
  return Store(std::move(impl));
}

// ---- devices, archs -----------------------------------------------------------------------------

Status Store::put_device(const DeviceRecord& device) {
  constexpr std::string_view op = "cannot store device";
  if (auto why = validate(device); !why.empty()) return impl_->fail(op, why);
  auto tx = sql::Transaction::begin(impl_->db(), op);
  if (!tx) return tx.error();
  auto stored = detail::find_row(impl_->db(), table<DeviceRecord>(), device, op);
  if (!stored) return stored.error();
  DeviceRecord r = device;
  const std::string now = now_utc();
  r.last_seen = now;
  if (*stored) {
    const DeviceRecord& old = **stored;
    r.first_seen = old.first_seen;
    if (r.peak_f32_gflops == 0) r.peak_f32_gflops = old.peak_f32_gflops;
    if (r.peak_bf16_gflops == 0) r.peak_bf16_gflops = old.peak_bf16_gflops;
    if (r.triad_gbs == 0) r.triad_gbs = old.triad_gbs;
  } else if (r.first_seen.empty()) {
    r.first_seen = now;
  }
  if (auto put = detail::put_row(impl_->db(), table<DeviceRecord>(), r, OnConflict::replace, op); !put) {
    return put.error();
  }
  return tx->commit();
}

Result<std::optional<DeviceRecord>> Store::find_device(const std::string& fingerprint) {
  DeviceRecord key;
  key.fingerprint = fingerprint;
  return detail::find_row(impl_->db(), table<DeviceRecord>(), key, "cannot read devices");
}

Result<std::vector<DeviceRecord>> Store::list_devices() {
  return detail::select_all(impl_->db(), table<DeviceRecord>(), "cannot read devices");
}

Status Store::put_arch(const ArchRecord& arch) {
  constexpr std::string_view op = "cannot store arch";
  if (auto why = validate(arch); !why.empty()) return impl_->fail(op, why);
  auto tx = sql::Transaction::begin(impl_->db(), op);
  if (!tx) return tx.error();
  auto stored = detail::find_row(impl_->db(), table<ArchRecord>(), arch, op);
  if (!stored) return stored.error();
  ArchRecord r = arch;
  if (*stored) {
    const ArchRecord& old = **stored;
    if (old.canonical != r.canonical) {
      return impl_->fail(op,
                         fmt::format("{} is already stored with another canonical text (a hash collision?)", r.hash));
    }
    if (r.name.empty()) r.name = old.name;
    r.created_at = old.created_at;
  } else if (r.created_at.empty()) {
    r.created_at = now_utc();
  }
  if (auto put = detail::put_row(impl_->db(), table<ArchRecord>(), r, OnConflict::replace, op); !put) {
    return put.error();
  }
  return tx->commit();
}

Result<std::optional<ArchRecord>> Store::find_arch(const std::string& hash) {
  ArchRecord key;
  key.hash = hash;
  return detail::find_row(impl_->db(), table<ArchRecord>(), key, "cannot read archs");
}

Result<std::vector<ArchRecord>> Store::list_archs() {
  return detail::select_all(impl_->db(), table<ArchRecord>(), "cannot read archs");
}

// ---- measurements -------------------------------------------------------------------------------

Result<PutOutcome> Store::put_measurement(const MeasurementRecord& m, OnConflict on_conflict) {
  auto out = put_measurements(std::span<const MeasurementRecord>(&m, 1), on_conflict);
  if (!out) return out.error();
  return out->front();
}

Result<std::vector<PutOutcome>> Store::put_measurements(std::span<const MeasurementRecord> ms, OnConflict on_conflict) {
  std::vector<MeasurementRecord> rows(ms.begin(), ms.end());
  const std::string now = now_utc();
  for (auto& r : rows) fill_defaults(r, now, impl_->tool_version);
  return impl_->put_all<MeasurementRecord>(rows, on_conflict, "cannot store measurement");
}

Result<std::optional<CachedMeasurement>> Store::find_measurement(const MeasurementKey& key) {
  constexpr std::string_view op = "cannot read measurements";
  MeasurementRecord wanted;
  wanted.key = key;
  auto found = detail::find_row(impl_->db(), table<MeasurementRecord>(), wanted, op);
  if (!found) return found.error();
  if (!*found) return std::optional<CachedMeasurement>();
  auto age = impl_->db().prepare("SELECT (julianday('now') - julianday(?1)) * 86400.0", op);
  if (!age) return age.error();
  age->bind(1, std::string_view((*found)->created_at));
  auto row = age->step();
  if (!row) return row.error();
  return std::optional<CachedMeasurement>(CachedMeasurement{std::move(**found), age->column_double(0)});
}

Result<std::vector<MeasurementRecord>> Store::list_parts(const MeasurementKey& network_key, SubjectKind kind) {
  const std::string sql_text = fmt::format(
      "SELECT {} FROM measurements WHERE arch_hash = :arch AND subject_kind = :kind AND device = :device "
      "AND backend = :backend AND batch = :batch AND dtype = :dtype AND threads = :threads "
      "AND protocol = :protocol ORDER BY position, label",
      table<MeasurementRecord>().column_list);
  return impl_->query<MeasurementRecord>(sql_text, "cannot read measurements", [&](sql::Statement& st) {
    st.bind(":arch", std::string_view(network_key.subject_hash)).bind(":kind", name_of(kind));
    st.bind(":device", std::string_view(network_key.device)).bind(":backend", std::string_view(network_key.backend));
    st.bind(":batch", network_key.batch).bind(":dtype", std::string_view(network_key.dtype));
    st.bind(":threads", std::int64_t{network_key.threads}).bind(":protocol", std::string_view(network_key.protocol));
  });
}

Result<std::vector<MeasurementRecord>> Store::list_measurements(const MeasurementFilter& f) {
  constexpr std::string_view op = "cannot list measurements";
  // Dates as the user wrote them, normalized by SQLite to the stored form (so text order is time order).
  std::string since, until;
  for (auto [given, out, name] : {std::tuple{&f.since, &since, "since"}, std::tuple{&f.until, &until, "until"}}) {
    if (given->empty()) continue;
    auto st = impl_->db().prepare("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ?1)", op);
    if (!st) return st.error();
    st->bind(1, std::string_view(*given));
    auto row = st->step();
    if (!row) return row.error();
    if (!*row || st->is_null(0)) {
      return impl_->fail(op,
                         fmt::format("{}: not a date ('{}'; use 2025-11-01 or 2025-11-01T12:00:00Z)", name, *given));
    }
    *out = st->column_text(0);
  }
  const std::string sql_text = fmt::format(
      "SELECT {} FROM measurements WHERE "
      "(:device IS NULL OR substr(device, 1, length(:device)) = :device) "
      "AND (:hash IS NULL OR substr(arch_hash, 1, length(:hash)) = :hash "
      "     OR substr(subject_hash, 1, length(:hash)) = :hash) "
      "AND (:name IS NULL OR arch_hash IN (SELECT hash FROM archs WHERE name = :name)) "
      "AND (:kind IS NULL OR subject_kind = :kind) "
      "AND (:backend IS NULL OR backend = :backend) "
      "AND (:dtype IS NULL OR dtype = :dtype) "
      "AND (:protocol IS NULL OR protocol = :protocol) "
      "AND (:batch IS NULL OR batch = :batch) "
      "AND (:threads IS NULL OR threads = :threads) "
      "AND (:since IS NULL OR created_at >= :since) "
      "AND (:until IS NULL OR created_at < :until) "
      "ORDER BY created_at DESC, id DESC LIMIT :limit",
      table<MeasurementRecord>().column_list);
  return impl_->query<MeasurementRecord>(sql_text, op, [&](sql::Statement& st) {
    const auto text = [&](const char* name, const std::string& v) {
      if (v.empty()) {
        st.bind_null(name);
      } else {
        st.bind(name, std::string_view(v));
      }
    };
    text(":device", f.device);
    text(":hash", f.hash);
    text(":name", f.arch_name);
    text(":kind", f.kind ? std::string(name_of(*f.kind)) : std::string());
    text(":backend", f.backend);
    text(":dtype", f.dtype);
    text(":protocol", f.protocol);
    if (f.batch) {
      st.bind(":batch", *f.batch);
    } else {
      st.bind_null(":batch");
    }
    if (f.threads) {
      st.bind(":threads", std::int64_t{*f.threads});
    } else {
      st.bind_null(":threads");
    }
    text(":since", since);
    text(":until", until);
    st.bind(":limit", f.limit > 0 ? f.limit : std::int64_t{-1});
  });
}

// ---- cost models, search runs -------------------------------------------------------------------

Result<PutOutcome> Store::put_cost_model(const CostModelRecord& model, OnConflict on_conflict) {
  CostModelRecord r = model;
  fill_defaults(r, now_utc(), impl_->tool_version);
  auto out =
      impl_->put_all<CostModelRecord>(std::span<const CostModelRecord>(&r, 1), on_conflict, "cannot store cost model");
  if (!out) return out.error();
  return out->front();
}

Result<std::optional<CostModelRecord>> Store::find_cost_model(const CostModelKey& key) {
  const std::string sql_text = fmt::format(
      "SELECT {} FROM cost_models WHERE device = :device AND backend = :backend AND batch = :batch "
      "AND dtype = :dtype AND threads = :threads AND kind = :kind AND (:version = 0 OR version = :version) "
      "ORDER BY version DESC LIMIT 1",
      table<CostModelRecord>().column_list);
  auto rows = impl_->query<CostModelRecord>(sql_text, "cannot read cost models", [&](sql::Statement& st) {
    st.bind(":device", std::string_view(key.device)).bind(":backend", std::string_view(key.backend));
    st.bind(":batch", key.batch).bind(":dtype", std::string_view(key.dtype));
    st.bind(":threads", std::int64_t{key.threads}).bind(":kind", std::string_view(key.kind));
    st.bind(":version", std::int64_t{key.version});
  });
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<CostModelRecord>();
  return std::optional<CostModelRecord>(std::move(rows->front()));
}

Result<std::vector<CostModelRecord>> Store::list_cost_models(const std::string& device) {
  const auto& t = table<CostModelRecord>();
  return impl_->query<CostModelRecord>(
      fmt::format("SELECT {} FROM cost_models WHERE (:device = '' OR device = :device) {}", t.column_list, t.order_by),
      "cannot read cost models", [&](sql::Statement& st) { st.bind(":device", std::string_view(device)); });
}

Status Store::put_search_run(const SearchRunRecord& run) {
  constexpr std::string_view op = "cannot store search run";
  if (auto why = validate(run); !why.empty()) return impl_->fail(op, why);
  auto tx = sql::Transaction::begin(impl_->db(), op);
  if (!tx) return tx.error();
  auto stored = detail::find_row(impl_->db(), table<SearchRunRecord>(), run, op);
  if (!stored) return stored.error();
  SearchRunRecord r = run;
  r.updated_at = now_utc();
  if (*stored) {
    r.created_at = (*stored)->created_at;
  } else if (r.created_at.empty()) {
    r.created_at = r.updated_at;
  }
  if (auto put = detail::put_row(impl_->db(), table<SearchRunRecord>(), r, OnConflict::replace, op); !put) {
    return put.error();
  }
  return tx->commit();
}

Result<std::optional<SearchRunRecord>> Store::find_search_run(const std::string& id) {
  SearchRunRecord key;
  key.id = id;
  return detail::find_row(impl_->db(), table<SearchRunRecord>(), key, "cannot read search runs");
}

Result<std::vector<SearchRunRecord>> Store::list_search_runs() {
  return detail::select_all(impl_->db(), table<SearchRunRecord>(), "cannot read search runs");
}

Result<PutOutcome> Store::put_candidate(const CandidateRecord& c, OnConflict on_conflict) {
  auto out = put_candidates(std::span<const CandidateRecord>(&c, 1), on_conflict);
  if (!out) return out.error();
  return out->front();
}

Result<std::vector<PutOutcome>> Store::put_candidates(std::span<const CandidateRecord> cs, OnConflict on_conflict) {
  std::vector<CandidateRecord> rows(cs.begin(), cs.end());
  const std::string now = now_utc();
  for (auto& r : rows) fill_defaults(r, now, impl_->tool_version);
  return impl_->put_all<CandidateRecord>(rows, on_conflict, "cannot store search candidate");
}

Result<std::vector<CandidateRecord>> Store::list_candidates(const std::string& run_id) {
  const auto& t = table<CandidateRecord>();
  return impl_->query<CandidateRecord>(
      fmt::format("SELECT {} FROM search_candidates WHERE run_id = :run {}", t.column_list, t.order_by),
      "cannot read search candidates", [&](sql::Statement& st) { st.bind(":run", std::string_view(run_id)); });
}

// ---- objective values ---------------------------------------------------------------------------

Status Store::put_objective_value(const ObjectiveValueRecord& v) {
  ObjectiveValueRecord r = v;
  fill_defaults(r, now_utc(), impl_->tool_version);
  auto out = impl_->put_all<ObjectiveValueRecord>(std::span<const ObjectiveValueRecord>(&r, 1), OnConflict::replace,
                                                  "cannot store objective value");
  if (!out) return out.error();
  return Ok{};
}

Result<std::optional<ObjectiveValueRecord>> Store::find_objective_value(const std::string& objective,
                                                                        const std::string& arch_hash) {
  ObjectiveValueRecord key;
  key.objective = objective;
  key.arch_hash = arch_hash;
  return detail::find_row(impl_->db(), table<ObjectiveValueRecord>(), key, "cannot read objective values");
}

// ---- compression runs ---------------------------------------------------------------------------

Status Store::put_compress_run(const CompressRunRecord& run) {
  CompressRunRecord r = run;
  fill_defaults(r, now_utc(), impl_->tool_version);
  auto out = impl_->put_all<CompressRunRecord>(std::span<const CompressRunRecord>(&r, 1), OnConflict::replace,
                                               "cannot store compression run");
  if (!out) return out.error();
  return Ok{};
}

Result<std::vector<CompressRunRecord>> Store::list_compress_runs() {
  return detail::select_all(impl_->db(), table<CompressRunRecord>(), "cannot read compression runs");
}

// ---- stats, export, import, check ---------------------------------------------------------------

Result<Stats> Store::stats() {
  constexpr std::string_view op = "cannot read stats";
  sql::Connection& db = impl_->db();
  auto tx = sql::Transaction::begin_read(db, op);
  if (!tx) return tx.error();
  Stats s;
  s.path = impl_->path;
  auto version = schema::read_version(db);
  if (!version) return version.error();
  s.schema_version = *version;
  auto pages = db.query_int("PRAGMA page_count", op);
  auto page_size = db.query_int("PRAGMA page_size", op);
  if (!pages) return pages.error();
  if (!page_size) return page_size.error();
  s.bytes = *pages * *page_size;
  if (impl_->path != ":memory:") {
    std::error_code ec;
    const auto size = fs::file_size(impl_->path, ec);
    s.file_bytes = ec ? 0 : static_cast<std::int64_t>(size);
    const auto wal = fs::file_size(impl_->path + "-wal", ec);
    s.wal_bytes = ec ? 0 : static_cast<std::int64_t>(wal);
  }
  for (std::string_view name : kTables) {
    // `name` comes from the constant table list above, never from input.
    auto n = db.query_int(fmt::format("SELECT count(*) FROM {}", name), op);
    if (!n) return n.error();
    s.tables.push_back({std::string(name), *n});
  }
  auto st = db.prepare(
      "SELECT m.device, coalesce(d.model, ''), m.backend, m.subject_kind, count(*), min(m.created_at), "
      "max(m.created_at) FROM measurements m LEFT JOIN devices d ON d.fingerprint = m.device "
      "GROUP BY m.device, m.backend, m.subject_kind ORDER BY m.device, m.backend, m.subject_kind",
      op);
  if (!st) return st.error();
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    StatsGroup g;
    g.device = st->column_text(0);
    g.device_model = st->column_text(1);
    g.backend = st->column_text(2);
    g.kind = subject_kind_from(st->column_text(3)).value_or(SubjectKind::network);
    g.count = st->column_int(4);
    g.first = st->column_text(5);
    g.last = st->column_text(6);
    s.groups.push_back(std::move(g));
  }
  if (auto c = tx->commit(); !c) return c.error();
  return s;
}

Status Store::export_json(std::ostream& out) {
  auto d = impl_->dump("cannot export");
  if (!d) return d.error();
  out << R"({"format":")" << kExportFormat << R"(","schema_version":)" << schema::latest_version() << R"(,"tables":{)";
  bool first_table = true;
  for_each_table(*d, [&](const auto& t, const auto& rows) {
    out << (first_table ? "\n\"" : ",\n\"") << t.name << "\":[";
    first_table = false;
    // Text that is not UTF-8 (a device name read from the system, say) is exported with U+FFFD.
    for (std::size_t i = 0; i < rows.size(); ++i) {
      out << (i ? ",\n" : "\n") << detail::to_json(t, rows[i]).dump(-1, ' ', false, json::error_handler_t::replace);
    }
    out << "]";
  });
  out << "\n}}\n";
  if (!out) return impl_->fail("cannot export", "write failed");
  return Ok{};
}

Status Store::export_csv(std::string_view table_name, std::ostream& out) {
  constexpr std::string_view op = "cannot export";
  if (std::find(kTables.begin(), kTables.end(), table_name) == kTables.end()) {
    return impl_->fail(op, fmt::format("unknown table '{}' (tables: {})", table_name, fmt::join(kTables, ", ")));
  }
  Status status = Ok{};
  Dump d;  // only the one table is read
  for_each_table(d, [&](const auto& t, auto& /*rows*/) {
    if (t.name != table_name) return;
    auto all = detail::select_all(impl_->db(), t, op);
    if (!all) {
      status = all.error();
      return;
    }
    detail::write_csv_header(t, out);
    for (const auto& r : *all) detail::write_csv_row(t, r, out);
  });
  if (!status) return status;
  if (!out) return impl_->fail(op, "write failed");
  return Ok{};
}

Result<ImportReport> Store::import_from(const std::string& source_path) {
  constexpr std::string_view op = "cannot import";
  Dump d;
  {
    std::ifstream in(source_path, std::ios::binary);
    if (!in) return Error{fmt::format("{}: cannot import: {}", source_path, std::strerror(errno))};
    std::array<char, 16> magic{};
    in.read(magic.data(), magic.size());
    const bool is_db = in.gcount() == 16 && std::string_view(magic.data(), magic.size()) == kSqliteMagic;
    if (is_db) {
      auto src = Store::open(source_path, OpenMode::read_only);
      if (!src) return src.error();
      auto all = src->impl_->dump(op);
      if (!all) return all.error();
      d = std::move(*all);
    } else {
      auto all = read_export(source_path);
      if (!all) return all.error();
      d = std::move(*all);
    }
  }
  ImportReport report;
  report.source = source_path;
  auto tx = sql::Transaction::begin(impl_->db(), op);
  if (!tx) return tx.error();
  Status status = Ok{};
  const std::string now = now_utc();
  for_each_table(d, [&](const auto& t, auto& rows) {
    if (!status) return;
    ImportCount count{std::string(t.name)};
    for (auto& r : rows) {
      fill_defaults(r, now, impl_->tool_version);
      if (auto why = validate(r); !why.empty()) {
        status = Error{fmt::format("{}: {}: {}: {}", source_path, op, t.name, why)};
        return;
      }
      auto put = detail::put_row(impl_->db(), t, r, OnConflict::skip, op);
      if (!put) {
        status = put.error();
        return;
      }
      (put->what == PutOutcome::What::skipped ? count.skipped : count.added) += 1;
    }
    report.tables.push_back(count);
  });
  if (!status) return status.error();
  if (auto c = tx->commit(); !c) return c.error();
  return report;
}

Result<CheckReport> Store::check() {
  sql::Connection& file = impl_->file;  // the file itself, not an in-memory upgrade of it
  CheckReport report;
  report.tool_schema_version = schema::latest_version();
  report.schema_version = impl_->file_version;
  // Corruption found while checking is a finding, not a failure of check().
  auto version = schema::read_version(file);
  if (!version) {
    report.problems.push_back(version.error().message);
  } else {
    report.schema_version = *version;
  }
  const auto run = [&](std::string_view sql_text, auto&& on_row) {
    auto st = file.prepare(sql_text, "check");
    if (!st) {
      report.problems.push_back(st.error().message);
      return;
    }
    for (;;) {
      auto row = st->step();
      if (!row) {
        report.problems.push_back(row.error().message);
        return;
      }
      if (!*row) return;
      on_row(*st);
    }
  };
  run("PRAGMA integrity_check", [&](sql::Statement& st) {
    if (auto line = st.column_text(0); line != "ok") report.problems.push_back(impl_->path + ": " + line);
  });
  run("PRAGMA foreign_key_check", [&](sql::Statement& st) {
    report.problems.push_back(fmt::format("{}: {} row {}: no matching row in {}", impl_->path, st.column_text(0),
                                          st.column_int(1), st.column_text(2)));
  });
  report.ok = report.problems.empty();
  return report;
}

std::int64_t ImportReport::added() const {
  std::int64_t n = 0;
  for (const auto& t : tables) n += t.added;
  return n;
}

std::int64_t ImportReport::skipped() const {
  std::int64_t n = 0;
  for (const auto& t : tables) n += t.skipped;
  return n;
}

ArchRecord arch_record(const space::Arch& arch, std::int64_t macs, std::int64_t params) {
  ArchRecord r;
  r.canonical = space::canonical_text(arch);
  r.hash = space::hash_hex(space::hash64(r.canonical));
  r.name = arch.meta.name;
  r.macs = macs;
  r.params = params;
  return r;
}

}  // namespace hwnas::store
