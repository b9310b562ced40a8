// Each record type is described once, as a table of columns (name, kind, accessor); that one
// description drives the SQL (insert, update, select, key lookup), the JSON export/import and the
// CSV export, so no field list is kept in sync by hand. Internal to the store.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "space/result.h"
#include "store/records.h"
#include "store/sqlite.h"

namespace hwnas::store::detail {

enum class Kind : std::uint8_t {
  integer,
  real,  // finite only: SQLite would store NaN as NULL
  text,
  boolean,  // 0/1 in SQL and CSV, true/false in JSON
  json,     // JSON text in SQL and CSV (stored compact), the JSON value itself in a JSON export
  samples,  // float64 list: a little-endian BLOB in SQL, an array in JSON, space-separated in CSV
};

// integer/boolean → int64; real → double; text/json → string; samples → vector<double>.
using Value = std::variant<std::int64_t, double, std::string, std::vector<double>>;

template <class R>
struct Column {
  std::string_view name;
  Kind kind = Kind::text;
  std::function<Value(const R&)> get;
  // Stores a value of the column's kind; returns "" or why it cannot (out of range, unknown name).
  std::function<std::string(R&, Value&&)> set;
};

template <class R>
struct Table {
  std::string_view name;
  std::vector<Column<R>> columns;     // schema order, without the surrogate id
  std::vector<std::string_view> key;  // the UNIQUE key, in ORDER BY order
  bool has_id = false;                // an INTEGER PRIMARY KEY `id`, never exported
  std::function<void(R&, std::int64_t)> set_id;
  std::string_view missing_parent;  // hint when a foreign key fails

  // Generated once from the names above: identifiers only, values are always bound.
  std::vector<int> key_columns;  // indexes into `columns`
  std::string column_list;       // [id,] c1, …
  std::string select_sql;        // SELECT <column_list> FROM t
  std::string order_by;          // ORDER BY k1, …
  std::string lookup_sql;        // SELECT rowid FROM t WHERE k1 = ?1 AND …
  std::string insert_sql;        // INSERT INTO t (c1, …) VALUES (?1, …)
  std::string update_sql;        // UPDATE t SET c1 = ?1, … WHERE rowid = ?N+1
};

template <class R>
const Table<R>& table();  // defined for the eight record types

// Binds the record's columns to parameters 1..N; an Error names the table, column and rule.
template <class R>
Status bind_row(sql::Statement& st, const Table<R>& t, const R& r, const std::string& label, std::string_view op);
// Reads a row selected with t.select_sql, starting at column `first` (the id when t.has_id).
template <class R>
Result<R> read_row(const sql::Statement& st, const Table<R>& t, const std::string& label, int first = 0);

// Inserts, or handles an existing row with the same key as `on_conflict` says. No transaction of its own.
template <class R>
Result<PutOutcome> put_row(sql::Connection& conn, const Table<R>& t, const R& r, OnConflict on_conflict,
                           std::string_view op);
// Looks the record's key up: the stored row, if any.
template <class R>
Result<std::optional<R>> find_row(sql::Connection& conn, const Table<R>& t, const R& key_of, std::string_view op);
// Every row, in key order.
template <class R>
Result<std::vector<R>> select_all(sql::Connection& conn, const Table<R>& t, std::string_view op);

template <class R>
nlohmann::json to_json(const Table<R>& t, const R& r);
// Columns missing from `j` keep their defaults (an export of an older schema); unknown ones are an
// error. `where` prefixes messages ("dump.json: tables.archs[3]").
template <class R>
Result<R> from_json(const Table<R>& t, const nlohmann::json& j, const std::string& where);

template <class R>
void write_csv_header(const Table<R>& t, std::ostream& out);
template <class R>
void write_csv_row(const Table<R>& t, const R& r, std::ostream& out);

std::vector<unsigned char> encode_samples(const std::vector<double>& samples);
Result<std::vector<double>> decode_samples(const std::vector<unsigned char>& bytes);

}  // namespace hwnas::store::detail
