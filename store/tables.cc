#include "store/tables.h"

#include <bit>
#include <cmath>
#include <limits>
#include <optional>
#include <ostream>
#include <type_traits>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

namespace hwnas::store::detail {
namespace {

using nlohmann::json;

// ---- C++ field ↔ Value --------------------------------------------------------------------------

template <class T>
constexpr Kind kind_of() {
  if constexpr (std::is_same_v<T, bool>) {
    return Kind::boolean;
  } else if constexpr (std::is_integral_v<T>) {
    return Kind::integer;
  } else if constexpr (std::is_floating_point_v<T>) {
    return Kind::real;
  } else if constexpr (std::is_same_v<T, std::vector<double>>) {
    return Kind::samples;
  } else {
    return Kind::text;  // std::string and enumerations (by name)
  }
}

template <class T>
Value to_value(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return std::int64_t{v ? 1 : 0};
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<std::int64_t>(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<double>(v);
  } else if constexpr (std::is_enum_v<T>) {
    return std::string(name_of(v));
  } else {
    return v;  // std::string, std::vector<double>
  }
}

std::optional<SubjectKind> enum_from(SubjectKind*, std::string_view s) {
  return subject_kind_from(s);
}
std::optional<SearchStatus> enum_from(SearchStatus*, std::string_view s) {
  return search_status_from(s);
}

template <class T>
std::string from_value(T& out, Value&& v) {
  if constexpr (std::is_same_v<T, bool>) {
    const auto* i = std::get_if<std::int64_t>(&v);
    if (i == nullptr || (*i != 0 && *i != 1)) return "must be true or false (0 or 1)";
    out = *i == 1;
  } else if constexpr (std::is_integral_v<T>) {
    const auto* i = std::get_if<std::int64_t>(&v);
    if (i == nullptr) return "must be an integer";
    if (*i < std::numeric_limits<T>::min() || *i > std::numeric_limits<T>::max()) {
      return fmt::format("{} is out of range", *i);
    }
    out = static_cast<T>(*i);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (const auto* d = std::get_if<double>(&v)) {
      out = *d;
    } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
      out = static_cast<double>(*i);
    } else {
      return "must be a number";
    }
  } else if constexpr (std::is_enum_v<T>) {
    const auto* s = std::get_if<std::string>(&v);
    if (s == nullptr) return "must be a string";
    auto e = enum_from(static_cast<T*>(nullptr), *s);
    if (!e) return fmt::format("unknown value '{}'", *s);
    out = *e;
  } else {
    auto* x = std::get_if<T>(&v);
    if (x == nullptr) return std::is_same_v<T, std::string> ? "must be a string" : "must be a list of numbers";
    out = std::move(*x);
  }
  return {};
}

// A column whose C++ field is reached by `proj`, a generic lambda `[](auto& r) -> auto& { return r.x; }`
// (it serves both the const getter and the setter).
template <class R, class Proj>
Column<R> col(std::string_view name, Proj proj, std::optional<Kind> kind = std::nullopt) {
  using T = std::remove_cvref_t<decltype(proj(std::declval<R&>()))>;
  return Column<R>{name, kind.value_or(kind_of<T>()), [proj](const R& r) { return to_value(proj(r)); },
                   [proj](R& r, Value&& v) { return from_value(proj(r), std::move(v)); }};
}
template <class R, class Proj>
Column<R> json_col(std::string_view name, Proj proj) {
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(proj(std::declval<R&>()))>, std::string>);
  return col<R>(name, proj, Kind::json);
}

template <class R>
Table<R> finish(Table<R> t) {
  std::vector<std::string> names, sets, params;
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    names.emplace_back(t.columns[i].name);
    params.push_back(fmt::format("?{}", i + 1));
    sets.push_back(fmt::format("{} = ?{}", t.columns[i].name, i + 1));
  }
  std::vector<std::string> where;
  for (std::size_t k = 0; k < t.key.size(); ++k) {
    int found = -1;
    for (std::size_t i = 0; i < t.columns.size(); ++i)
      if (t.columns[i].name == t.key[k]) found = static_cast<int>(i);
    assert(found >= 0 && "key column not among the columns");
    t.key_columns.push_back(found);
    where.push_back(fmt::format("{} = ?{}", t.key[k], k + 1));
  }
  t.column_list = fmt::format("{}{}", t.has_id ? "id, " : "", fmt::join(names, ", "));
  t.select_sql = fmt::format("SELECT {} FROM {}", t.column_list, t.name);
  t.order_by = fmt::format("ORDER BY {}", fmt::join(t.key, ", "));
  t.lookup_sql = fmt::format("SELECT rowid FROM {} WHERE {}", t.name, fmt::join(where, " AND "));
  t.insert_sql =
      fmt::format("INSERT INTO {} ({}) VALUES ({})", t.name, fmt::join(names, ", "), fmt::join(params, ", "));
  t.update_sql = fmt::format("UPDATE {} SET {} WHERE rowid = ?{}", t.name, fmt::join(sets, ", "), t.columns.size() + 1);
  return t;
}

// ---- Value ↔ SQL / JSON / CSV -------------------------------------------------------------------

std::string bind_value(sql::Statement& st, int index, Kind kind, const Value& v) {
  switch (kind) {
    case Kind::integer:
    case Kind::boolean: st.bind(index, std::get<std::int64_t>(v)); return {};
    case Kind::real: {
      const double d = std::get<double>(v);
      if (!std::isfinite(d)) return fmt::format("not a finite number ({})", d);
      st.bind(index, d);
      return {};
    }
    case Kind::text: st.bind(index, std::string_view(std::get<std::string>(v))); return {};
    case Kind::json: {
      // Validated and stored compact, so that an export re-imported stores the same text.
      json j = json::parse(std::get<std::string>(v), nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) return "not valid JSON";
      st.bind(index, std::string_view(j.dump()));
      return {};
    }
    case Kind::samples: {
      const auto bytes = encode_samples(std::get<std::vector<double>>(v));
      st.bind_blob(index, bytes);
      return {};
    }
  }
  return "unknown column kind";
}

Result<Value> read_value(const sql::Statement& st, int i, Kind kind) {
  switch (kind) {
    case Kind::integer:
    case Kind::boolean: return Value{st.column_int(i)};
    case Kind::real: return Value{st.column_double(i)};
    case Kind::text:
    case Kind::json: return Value{st.column_text(i)};
    case Kind::samples: {
      auto s = decode_samples(st.column_blob(i));
      if (!s) return s.error();
      return Value{std::move(*s)};
    }
  }
  return Error{"unknown column kind"};
}

json value_json(Kind kind, const Value& v) {
  switch (kind) {
    case Kind::integer: return std::get<std::int64_t>(v);
    case Kind::boolean: return std::get<std::int64_t>(v) != 0;
    case Kind::real: return std::get<double>(v);
    case Kind::text: return std::get<std::string>(v);
    case Kind::json: {
      json j = json::parse(std::get<std::string>(v), nullptr, false);
      return j.is_discarded() ? json(std::get<std::string>(v)) : j;
    }
    case Kind::samples: return std::get<std::vector<double>>(v);
  }
  return nullptr;
}

Result<Value> json_value(Kind kind, const json& j) {
  switch (kind) {
    case Kind::integer:
      if (j.is_number_integer()) return Value{j.get<std::int64_t>()};
      return Error{"must be an integer"};
    case Kind::boolean:
      if (j.is_boolean()) return Value{std::int64_t{j.get<bool>() ? 1 : 0}};
      return Error{"must be true or false"};
    case Kind::real:
      if (j.is_number()) return Value{j.get<double>()};
      return Error{"must be a number"};
    case Kind::text:
      if (j.is_string()) return Value{j.get<std::string>()};
      return Error{"must be a string"};
    case Kind::json: return Value{j.dump()};
    case Kind::samples: {
      if (!j.is_array()) return Error{"must be a list of numbers"};
      std::vector<double> out;
      out.reserve(j.size());
      for (const auto& x : j) {
        if (!x.is_number()) return Error{"must be a list of numbers"};
        out.push_back(x.get<double>());
      }
      return Value{std::move(out)};
    }
  }
  return Error{"unknown column kind"};
}

std::string csv_field(std::string s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos && (s.empty() || (s.front() != ' ' && s.back() != ' '))) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  q += '"';
  return q;
}

std::string value_csv(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return fmt::format("{}", *i);
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return fmt::format("{}", fmt::join(std::get<std::vector<double>>(v), " "));
}

Result<bool> bind_key(sql::Statement& st, const auto& t, const auto& r, const std::string& label, std::string_view op) {
  for (std::size_t k = 0; k < t.key_columns.size(); ++k) {
    const auto& c = t.columns[static_cast<std::size_t>(t.key_columns[k])];
    if (auto why = bind_value(st, static_cast<int>(k + 1), c.kind, c.get(r)); !why.empty()) {
      return Error{fmt::format("{}: {}: {}.{}: {}", label, op, t.name, c.name, why)};
    }
  }
  return true;
}

// ---- the tables ---------------------------------------------------------------------------------

Table<DeviceRecord> make_devices() {
  using R = DeviceRecord;
  Table<R> t;
  t.name = "devices";
  // clang-format off
  t.columns = {
      col<R>("fingerprint", [](auto& r) -> auto& { return r.fingerprint; }),
      col<R>("kind", [](auto& r) -> auto& { return r.kind; }),
      col<R>("model", [](auto& r) -> auto& { return r.model; }),
      col<R>("cores", [](auto& r) -> auto& { return r.cores; }),
      col<R>("threads", [](auto& r) -> auto& { return r.threads; }),
      col<R>("isa", [](auto& r) -> auto& { return r.isa; }),
      col<R>("bf16_native", [](auto& r) -> auto& { return r.bf16_native; }),
      col<R>("engine", [](auto& r) -> auto& { return r.engine; }),
      col<R>("driver", [](auto& r) -> auto& { return r.driver; }),
      col<R>("peak_f32_gflops", [](auto& r) -> auto& { return r.peak_f32_gflops; }),
      col<R>("peak_bf16_gflops", [](auto& r) -> auto& { return r.peak_bf16_gflops; }),
      col<R>("triad_gbs", [](auto& r) -> auto& { return r.triad_gbs; }),
      col<R>("first_seen", [](auto& r) -> auto& { return r.first_seen; }),
      col<R>("last_seen", [](auto& r) -> auto& { return r.last_seen; }),
  };
  // clang-format on
  t.key = {"fingerprint"};
  return finish(std::move(t));
}

Table<ArchRecord> make_archs() {
  using R = ArchRecord;
  Table<R> t;
  t.name = "archs";
  // clang-format off
  t.columns = {
      col<R>("hash", [](auto& r) -> auto& { return r.hash; }),
      col<R>("canonical", [](auto& r) -> auto& { return r.canonical; }),
      col<R>("name", [](auto& r) -> auto& { return r.name; }),
      col<R>("macs", [](auto& r) -> auto& { return r.macs; }),
      col<R>("params", [](auto& r) -> auto& { return r.params; }),
      col<R>("created_at", [](auto& r) -> auto& { return r.created_at; }),
  };
  // clang-format on
  t.key = {"hash"};
  return finish(std::move(t));
}

Table<MeasurementRecord> make_measurements() {
  using R = MeasurementRecord;
  Table<R> t;
  t.name = "measurements";
  // clang-format off
  t.columns = {
      col<R>("subject_kind", [](auto& r) -> auto& { return r.kind; }),
      col<R>("subject_hash", [](auto& r) -> auto& { return r.key.subject_hash; }),
      col<R>("arch_hash", [](auto& r) -> auto& { return r.arch_hash; }),
      col<R>("label", [](auto& r) -> auto& { return r.label; }),
      col<R>("unit_kind", [](auto& r) -> auto& { return r.unit_kind; }),
      col<R>("position", [](auto& r) -> auto& { return r.position; }),
      col<R>("device", [](auto& r) -> auto& { return r.key.device; }),
      col<R>("backend", [](auto& r) -> auto& { return r.key.backend; }),
      col<R>("batch", [](auto& r) -> auto& { return r.key.batch; }),
      col<R>("dtype", [](auto& r) -> auto& { return r.key.dtype; }),
      col<R>("threads", [](auto& r) -> auto& { return r.key.threads; }),
      col<R>("protocol", [](auto& r) -> auto& { return r.key.protocol; }),
      col<R>("figure_us", [](auto& r) -> auto& { return r.figures.figure_us; }),
      col<R>("median_us", [](auto& r) -> auto& { return r.figures.median_us; }),
      col<R>("min_us", [](auto& r) -> auto& { return r.figures.min_us; }),
      col<R>("p10_us", [](auto& r) -> auto& { return r.figures.p10_us; }),
      col<R>("p90_us", [](auto& r) -> auto& { return r.figures.p90_us; }),
      col<R>("p99_us", [](auto& r) -> auto& { return r.figures.p99_us; }),
      col<R>("mean_us", [](auto& r) -> auto& { return r.figures.mean_us; }),
      col<R>("ci_low_us", [](auto& r) -> auto& { return r.figures.ci_low_us; }),
      col<R>("ci_high_us", [](auto& r) -> auto& { return r.figures.ci_high_us; }),
      col<R>("cv", [](auto& r) -> auto& { return r.figures.cv; }),
      col<R>("n", [](auto& r) -> auto& { return r.figures.n; }),
      col<R>("calls_per_sample", [](auto& r) -> auto& { return r.figures.calls_per_sample; }),
      col<R>("warmup_runs", [](auto& r) -> auto& { return r.figures.warmup_runs; }),
      col<R>("elapsed_ms", [](auto& r) -> auto& { return r.figures.elapsed_ms; }),
      col<R>("noisy", [](auto& r) -> auto& { return r.figures.noisy; }),
      col<R>("noise_reason", [](auto& r) -> auto& { return r.figures.noise_reason; }),
      col<R>("samples_us", [](auto& r) -> auto& { return r.figures.samples_us; }),
      json_col<R>("detail_json", [](auto& r) -> auto& { return r.detail_json; }),
      col<R>("created_at", [](auto& r) -> auto& { return r.created_at; }),
      col<R>("tool_version", [](auto& r) -> auto& { return r.tool_version; }),
  };
  // clang-format on
  t.key = {"subject_hash", "device", "backend", "batch", "dtype", "threads", "protocol"};
  t.has_id = true;
  t.set_id = [](R& r, std::int64_t id) { r.id = id; };
  t.missing_parent = "store its device (put_device) and its arch (put_arch) first";
  return finish(std::move(t));
}

Table<CostModelRecord> make_cost_models() {
  using R = CostModelRecord;
  Table<R> t;
  t.name = "cost_models";
  // clang-format off
  t.columns = {
      col<R>("device", [](auto& r) -> auto& { return r.key.device; }),
      col<R>("backend", [](auto& r) -> auto& { return r.key.backend; }),
      col<R>("batch", [](auto& r) -> auto& { return r.key.batch; }),
      col<R>("dtype", [](auto& r) -> auto& { return r.key.dtype; }),
      col<R>("threads", [](auto& r) -> auto& { return r.key.threads; }),
      col<R>("kind", [](auto& r) -> auto& { return r.key.kind; }),
      col<R>("version", [](auto& r) -> auto& { return r.key.version; }),
      json_col<R>("model_json", [](auto& r) -> auto& { return r.model_json; }),
      col<R>("created_at", [](auto& r) -> auto& { return r.created_at; }),
  };
  // clang-format on
  t.key = {"device", "backend", "batch", "dtype", "threads", "kind", "version"};
  t.has_id = true;
  t.set_id = [](R& r, std::int64_t id) { r.id = id; };
  t.missing_parent = "store its device (put_device) first";
  return finish(std::move(t));
}

Table<SearchRunRecord> make_search_runs() {
  using R = SearchRunRecord;
  Table<R> t;
  t.name = "search_runs";
  // clang-format off
  t.columns = {
      col<R>("id", [](auto& r) -> auto& { return r.id; }),
      json_col<R>("config_json", [](auto& r) -> auto& { return r.config_json; }),
      col<R>("status", [](auto& r) -> auto& { return r.status; }),
      col<R>("created_at", [](auto& r) -> auto& { return r.created_at; }),
      col<R>("updated_at", [](auto& r) -> auto& { return r.updated_at; }),
  };
  // clang-format on
  t.key = {"id"};
  return finish(std::move(t));
}

Table<CandidateRecord> make_candidates() {
  using R = CandidateRecord;
  Table<R> t;
  t.name = "search_candidates";
  // clang-format off
  t.columns = {
      col<R>("run_id", [](auto& r) -> auto& { return r.run_id; }),
      col<R>("idx", [](auto& r) -> auto& { return r.idx; }),
      col<R>("arch_hash", [](auto& r) -> auto& { return r.arch_hash; }),
      json_col<R>("genome_json", [](auto& r) -> auto& { return r.genome_json; }),
      json_col<R>("objectives_json", [](auto& r) -> auto& { return r.objectives_json; }),
      col<R>("measured", [](auto& r) -> auto& { return r.measured; }),
      col<R>("created_at", [](auto& r) -> auto& { return r.created_at; }),
  };
  // clang-format on
  t.key = {"run_id", "idx"};
  t.missing_parent = "store its search run (put_search_run) first";
  return finish(std::move(t));
}

Table<ObjectiveValueRecord> make_objective_values() {
  using R = ObjectiveValueRecord;
  Table<R> t;
  t.name = "objective_values";
  // clang-format off
  t.columns = {
      col<R>("objective", [](auto& r) -> auto& { return r.objective; }),
      col<R>("arch_hash", [](auto& r) -> auto& { return r.arch_hash; }),
      col<R>("ok", [](auto& r) -> auto& { return r.ok; }),
      col<R>("value", [](auto& r) -> auto& { return r.value; }),
      col<R>("message", [](auto& r) -> auto& { return r.message; }),
      col<R>("elapsed_ms", [](auto& r) -> auto& { return r.elapsed_ms; }),
      col<R>("created_at", [](auto& r) -> auto& { return r.created_at; }),
      col<R>("tool_version", [](auto& r) -> auto& { return r.tool_version; }),
  };
  // clang-format on
  t.key = {"objective", "arch_hash"};
  return finish(std::move(t));
}

Table<CompressRunRecord> make_compress_runs() {
  using R = CompressRunRecord;
  Table<R> t;
  t.name = "compress_runs";
  // clang-format off
  t.columns = {
      col<R>("id", [](auto& r) -> auto& { return r.id; }),
      col<R>("method", [](auto& r) -> auto& { return r.method; }),
      col<R>("arch_hash", [](auto& r) -> auto& { return r.arch_hash; }),
      col<R>("result_hash", [](auto& r) -> auto& { return r.result_hash; }),
      col<R>("device", [](auto& r) -> auto& { return r.device; }),
      json_col<R>("record_json", [](auto& r) -> auto& { return r.record_json; }),
      col<R>("created_at", [](auto& r) -> auto& { return r.created_at; }),
      col<R>("tool_version", [](auto& r) -> auto& { return r.tool_version; }),
  };
  // clang-format on
  t.key = {"id"};
  t.missing_parent = "store its device (put_device) and both archs (put_arch) first";
  return finish(std::move(t));
}

}  // namespace

template <>
const Table<DeviceRecord>& table() {
  static const Table<DeviceRecord> t = make_devices();
  return t;
}
template <>
const Table<ArchRecord>& table() {
  static const Table<ArchRecord> t = make_archs();
  return t;
}
template <>
const Table<MeasurementRecord>& table() {
  static const Table<MeasurementRecord> t = make_measurements();
  return t;
}
template <>
const Table<CostModelRecord>& table() {
  static const Table<CostModelRecord> t = make_cost_models();
  return t;
}
template <>
const Table<SearchRunRecord>& table() {
  static const Table<SearchRunRecord> t = make_search_runs();
  return t;
}
template <>
const Table<CandidateRecord>& table() {
  static const Table<CandidateRecord> t = make_candidates();
  return t;
}
template <>
const Table<ObjectiveValueRecord>& table() {
  static const Table<ObjectiveValueRecord> t = make_objective_values();
  return t;
}
template <>
const Table<CompressRunRecord>& table() {
  static const Table<CompressRunRecord> t = make_compress_runs();
  return t;
}

// ---- generic operations -------------------------------------------------------------------------

template <class R>
Status bind_row(sql::Statement& st, const Table<R>& t, const R& r, const std::string& label, std::string_view op) {
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    const auto& c = t.columns[i];
    if (auto why = bind_value(st, static_cast<int>(i + 1), c.kind, c.get(r)); !why.empty()) {
      return Error{fmt::format("{}: {}: {}.{}: {}", label, op, t.name, c.name, why)};
    }
  }
  return Ok{};
}

template <class R>
Result<R> read_row(const sql::Statement& st, const Table<R>& t, const std::string& label, int first) {
  R r;
  int i = first;
  if (t.has_id) t.set_id(r, st.column_int(i++));
  for (const auto& c : t.columns) {
    auto v = read_value(st, i++, c.kind);
    std::string why = v ? c.set(r, std::move(*v)) : v.error().message;
    if (!why.empty()) return Error{fmt::format("{}: {}.{}: {}", label, t.name, c.name, why)};
  }
  return r;
}

template <class R>
Result<std::optional<R>> find_row(sql::Connection& conn, const Table<R>& t, const R& key_of, std::string_view op) {
  auto st = conn.prepare(fmt::format("{} WHERE rowid = ({})", t.select_sql, t.lookup_sql), op);
  if (!st) return st.error();
  if (auto b = bind_key(*st, t, key_of, conn.label(), op); !b) return b.error();
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<R>();
  auto r = read_row(*st, t, conn.label());
  if (!r) return r.error();
  return std::optional<R>(std::move(*r));
}

template <class R>
Result<PutOutcome> put_row(sql::Connection& conn, const Table<R>& t, const R& r, OnConflict on_conflict,
                           std::string_view op) {
  auto lookup = conn.prepare(t.lookup_sql, op);
  if (!lookup) return lookup.error();
  if (auto b = bind_key(*lookup, t, r, conn.label(), op); !b) return b.error();
  auto found = lookup->step();
  if (!found) return found.error();
  PutOutcome out;
  const bool exists = *found;
  if (exists) {
    out.id = lookup->column_int(0);
    if (on_conflict == OnConflict::skip) {
      out.what = PutOutcome::What::skipped;
      return out;
    }
    if (on_conflict == OnConflict::fail) {
      std::vector<std::string> key;
      for (int k : t.key_columns) {
        const auto& c = t.columns[static_cast<std::size_t>(k)];
        key.push_back(fmt::format("{}={}", c.name, value_csv(c.get(r))));
      }
      return Error{fmt::format("{}: {}: already stored in {} ({}; row {})", conn.label(), op, t.name,
                               fmt::join(key, ", "), out.id)};
    }
  }
  auto st = conn.prepare(exists ? t.update_sql : t.insert_sql, op);
  if (!st) return st.error();
  if (auto b = bind_row(*st, t, r, conn.label(), op); !b) return b.error();
  if (exists) st->bind(static_cast<int>(t.columns.size() + 1), out.id);
  if (auto done = st->run(); !done) {
    if (st->last_error_code() == SQLITE_CONSTRAINT_FOREIGNKEY && !t.missing_parent.empty()) {
      return Error{fmt::format("{} ({})", done.error().message, t.missing_parent)};
    }
    return done.error();
  }
  if (!exists) out.id = conn.last_insert_rowid();
  out.what = exists ? PutOutcome::What::replaced : PutOutcome::What::inserted;
  return out;
}

template <class R>
Result<std::vector<R>> select_all(sql::Connection& conn, const Table<R>& t, std::string_view op) {
  auto st = conn.prepare(fmt::format("{} {}", t.select_sql, t.order_by), op);
  if (!st) return st.error();
  std::vector<R> rows;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    auto r = read_row(*st, t, conn.label());
    if (!r) return r.error();
    rows.push_back(std::move(*r));
  }
  return rows;
}

template <class R>
nlohmann::json to_json(const Table<R>& t, const R& r) {
  json j = json::object();
  for (const auto& c : t.columns) j[std::string(c.name)] = value_json(c.kind, c.get(r));
  return j;
}

template <class R>
Result<R> from_json(const Table<R>& t, const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) return Error{fmt::format("{}: must be an object", where)};
  R r;
  for (const auto& [name, value] : j.items()) {
    const Column<R>* c = nullptr;
    for (const auto& candidate : t.columns)
      if (candidate.name == name) c = &candidate;
    if (c == nullptr) return Error{fmt::format("{}.{}: unknown column of {}", where, name, t.name)};
    auto v = json_value(c->kind, value);
    std::string why = v ? c->set(r, std::move(*v)) : v.error().message;
    if (!why.empty()) return Error{fmt::format("{}.{}: {}", where, name, why)};
  }
  return r;
}

template <class R>
void write_csv_header(const Table<R>& t, std::ostream& out) {
  for (std::size_t i = 0; i < t.columns.size(); ++i) out << (i ? "," : "") << t.columns[i].name;
  out << "\r\n";
}

template <class R>
void write_csv_row(const Table<R>& t, const R& r, std::ostream& out) {
  for (std::size_t i = 0; i < t.columns.size(); ++i) out << (i ? "," : "") << csv_field(value_csv(t.columns[i].get(r)));
  out << "\r\n";
}

std::vector<unsigned char> encode_samples(const std::vector<double>& samples) {
  std::vector<unsigned char> bytes(samples.size() * 8);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto bits = std::bit_cast<std::uint64_t>(samples[i]);
    for (std::size_t b = 0; b < 8; ++b) bytes[i * 8 + b] = static_cast<unsigned char>(bits >> (8 * b));
  }
  return bytes;
}

Result<std::vector<double>> decode_samples(const std::vector<unsigned char>& bytes) {
  if (bytes.size() % 8 != 0) return Error{fmt::format("a BLOB of {} bytes is not a list of float64", bytes.size())};
  std::vector<double> samples(bytes.size() / 8);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    std::uint64_t bits = 0;
    for (std::size_t b = 0; b < 8; ++b) bits |= static_cast<std::uint64_t>(bytes[i * 8 + b]) << (8 * b);
    samples[i] = std::bit_cast<double>(bits);
  }
  return samples;
}

// NOLINTBEGIN(bugprone-macro-parentheses): R is a type in template arguments
#define HWNAS_STORE_INSTANTIATE(R)                                                                                \
  template Status bind_row(sql::Statement&, const Table<R>&, const R&, const std::string&, std::string_view);     \
  template Result<R> read_row(const sql::Statement&, const Table<R>&, const std::string&, int);                   \
  template Result<PutOutcome> put_row(sql::Connection&, const Table<R>&, const R&, OnConflict, std::string_view); \
  template Result<std::optional<R>> find_row(sql::Connection&, const Table<R>&, const R&, std::string_view);      \
  template Result<std::vector<R>> select_all(sql::Connection&, const Table<R>&, std::string_view);                \
  template nlohmann::json to_json(const Table<R>&, const R&);                                                     \
  template Result<R> from_json(const Table<R>&, const nlohmann::json&, const std::string&);                       \
  template void write_csv_header(const Table<R>&, std::ostream&);                                                 \
  template void write_csv_row(const Table<R>&, const R&, std::ostream&);

HWNAS_STORE_INSTANTIATE(DeviceRecord)
HWNAS_STORE_INSTANTIATE(ArchRecord)
HWNAS_STORE_INSTANTIATE(MeasurementRecord)
HWNAS_STORE_INSTANTIATE(CostModelRecord)
HWNAS_STORE_INSTANTIATE(SearchRunRecord)
HWNAS_STORE_INSTANTIATE(CandidateRecord)
HWNAS_STORE_INSTANTIATE(ObjectiveValueRecord)
HWNAS_STORE_INSTANTIATE(CompressRunRecord)
#undef HWNAS_STORE_INSTANTIATE
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace hwnas::store::detail
