// RAII over the SQLite C API, for the store only: a Connection, a prepared Statement, an IMMEDIATE
// Transaction. Values reach SQL only as bound parameters. Every failure becomes an Error naming the
// database and the operation: "hwnas.db: cannot open: file is not a database",
// "hwnas.db: cannot store measurement: database is locked after 5000 ms".
// SQLite's own types stay out of this header (forward declarations only).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "space/result.h"
#include "store/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hwnas::store {

namespace sql {

enum class Access : std::uint8_t {
  read_only,            // never writes, never creates
  read_only_immutable,  // read_only for a file nobody can change (its directory is unwritable): no -shm needed
  read_write,           // the file must exist
  read_write_create,    // creates the file when missing
};

class Statement;
struct StatementCache;  // idle prepared statements by SQL text (sqlite.cc)

class Connection {
 public:
  // `label` names the database in messages (the path as the user wrote it). Opening is lazy in
  // SQLite: a file that is not a database fails on the first read, not here.
  static Result<Connection> open(const std::string& path, Access access, int busy_timeout_ms, const std::string& label);
  // A private in-memory database (tests, in-memory copies), labelled `label`.
  static Result<Connection> open_memory(const std::string& label, int busy_timeout_ms = 5000);

  Connection() = default;
  Connection(Connection&& o) noexcept;
  Connection& operator=(Connection&& o) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  bool is_open() const { return db_ != nullptr; }
  const std::string& label() const { return label_; }
  int busy_timeout_ms() const { return busy_timeout_ms_; }
  // True when SQLite opened the file read-only (asked to, or the file is write-protected).
  bool read_only() const;

  // Prepared once per SQL text and kept: a finished Statement goes back to the connection's cache
  // (reset, bindings cleared) and the next prepare of the same text reuses it (SQLite re-prepares it
  // by itself after a schema change). Storing a measurement spent most of its time in the parser.
  Result<Statement> prepare(std::string_view sql, std::string_view op);
  // Runs SQL text without parameters (schema, pragmas), possibly several statements.
  Status exec(std::string_view sql, std::string_view op);
  // The first column of the first row of a query without parameters (NULL or no row: 0 / "").
  Result<std::int64_t> query_int(std::string_view sql, std::string_view op);
  Result<std::string> query_text(std::string_view sql, std::string_view op);

  std::int64_t last_insert_rowid() const;
  // Extended result code of the most recent failed call (SQLITE_BUSY …), as sqlite3_extended_errcode.
  int last_error_code() const;
  // Copies this whole database over `dst` (sqlite3_backup).
  Status copy_to(Connection& dst, std::string_view op);
  // Closes now, reporting a failure (the destructor closes silently).
  Status close();

  // "<label>: <op>: <SQLite's message>"; busy becomes "database is locked after <timeout> ms".
  Error error(std::string_view op, int rc) const;
  sqlite3* handle() const { return db_; }

 private:
  friend class Statement;
  void drop_cache();  // finalizes the idle statements (before the connection closes)

  sqlite3* db_ = nullptr;
  std::string label_;
  int busy_timeout_ms_ = 0;
  std::shared_ptr<StatementCache> cache_;
};

// A prepared statement, finalized on destruction. Bind errors are kept and reported by the next
// step(), so binds chain: `st.bind(1, x).bind(":name", y); auto row = st.step();`.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& o) noexcept;
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are numbered from 1 (?1, ?2 …) or named (":name").
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind_blob(int index, std::span<const unsigned char> bytes);
  Statement& bind_null(int index);
  template <class T>
  Statement& bind(std::string_view name, const T& value) {
    return bind(index_of(name), value);
  }
  Statement& bind_null(std::string_view name) { return bind_null(index_of(name)); }
  int parameter_count() const;

  // true: a row is ready to read; false: done.
  Result<bool> step();
  // Steps to the end (statements without rows).
  Status run();
  // Ready to bind and step again (bindings cleared).
  void reset();
  // Extended result code of the last failed step (e.g. SQLITE_CONSTRAINT_UNIQUE), else 0.
  int last_error_code() const { return last_rc_; }

  int column_count() const;
  std::string column_name(int i) const;
  bool is_null(int i) const;
  std::int64_t column_int(int i) const;
  double column_double(int i) const;
  std::string column_text(int i) const;
  std::vector<unsigned char> column_blob(int i) const;

 private:
  friend class Connection;
  Statement(sqlite3_stmt* stmt, const Connection& conn, std::string_view op, std::string sql = {});
  int index_of(std::string_view name);
  Statement& check_bind(int rc, int index);
  Error error(int rc) const;
  void release();  // back to the cache (when it has one and the connection is open), else finalized

  sqlite3_stmt* stmt_ = nullptr;
  std::shared_ptr<StatementCache> cache_;  // null: finalized when done
  std::string sql_;                        // its key in the cache
  sqlite3* db_ = nullptr;                  // for messages; the statement never outlives its connection
  std::string label_;
  int busy_timeout_ms_ = 0;
  std::string op_;
  int bind_rc_ = 0;  // first bind failure, reported by step()
  std::string bind_what_;
  int last_rc_ = 0;
};

// BEGIN IMMEDIATE (takes the write lock now, waiting up to the busy timeout); rolled back on
// destruction unless committed.
class Transaction {
 public:
  static Result<Transaction> begin(Connection& conn, std::string_view op);
  // BEGIN (deferred): a consistent snapshot for several reads; "commit" ends it.
  static Result<Transaction> begin_read(Connection& conn, std::string_view op);
  Transaction(Transaction&& o) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status commit();

 private:
  Transaction(Connection& conn, std::string_view op) : conn_(&conn), op_(op) {}
  Connection* conn_ = nullptr;
  std::string op_;
  bool done_ = false;
};

}  // namespace sql
}  // namespace hwnas::store
