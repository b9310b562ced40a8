#include "store/sqlite.h"

#include <map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <sqlite3.h>

namespace hwnas::store::sql {
namespace {

Error make_error(sqlite3* db, const std::string& label, int busy_timeout_ms, std::string_view op, int rc) {
  std::string why;
  if ((rc & 0xff) == SQLITE_BUSY) {
    why = fmt::format("database is locked after {} ms", busy_timeout_ms);
  } else if (db != nullptr && sqlite3_extended_errcode(db) == rc) {
    why = sqlite3_errmsg(db);
  } else {
    why = sqlite3_errstr(rc);
  }
  return Error{fmt::format("{}: {}: {}", label, op, why)};
}

int to_int(std::size_t n) {
  // SQLite takes int lengths; the store never passes a single value of 2 GiB.
  return n > static_cast<std::size_t>(INT32_MAX) ? INT32_MAX : static_cast<int>(n);
}

// "file:" URI of a path: every byte outside [A-Za-z0-9/._-] percent-encoded.
std::string file_uri(const std::string& path) {
  std::string uri = "file:";
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '.' ||
        c == '_' || c == '-') {
      uri += ch;
    } else {
      uri += fmt::format("%{:02X}", c);
    }
  }
  return uri;
}

// Kept per SQL text: enough for the statements one store call has open at once.
constexpr std::size_t kIdlePerSql = 4;

}  // namespace

struct StatementCache {
  sqlite3* db = nullptr;  // null once the connection is closed: statements then finalize themselves
  std::map<std::string, std::vector<sqlite3_stmt*>, std::less<>> idle;
};

// ---- Connection ---------------------------------------------------------------------------------

Result<Connection> Connection::open(const std::string& path, Access access, int busy_timeout_ms,
                                    const std::string& label) {
  int flags = SQLITE_OPEN_NOMUTEX;  // one connection per thread; SQLite locks the file between processes
  std::string name = path;
  switch (access) {
    case Access::read_only: flags |= SQLITE_OPEN_READONLY; break;
    case Access::read_only_immutable:
      flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
      name = file_uri(path) + "?immutable=1";
      break;
    case Access::read_write: flags |= SQLITE_OPEN_READWRITE; break;
    case Access::read_write_create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(name.c_str(), &db, flags, nullptr);
  Connection c;
  c.db_ = db;  // closed by ~Connection even when opening failed
  c.label_ = label;
  c.busy_timeout_ms_ = busy_timeout_ms;
  c.cache_ = std::make_shared<StatementCache>();
  c.cache_->db = db;
  if (rc != SQLITE_OK) {
    if (db == nullptr) return Error{fmt::format("{}: cannot open: out of memory", label)};
    return c.error("cannot open", sqlite3_extended_errcode(db));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  // A database file is input: do not let its schema run functions or let SQL corrupt it.
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  return c;
}

Result<Connection> Connection::open_memory(const std::string& label, int busy_timeout_ms) {
  return open(":memory:", Access::read_write_create, busy_timeout_ms, label);
}

Connection::Connection(Connection&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)),
      label_(std::move(o.label_)),
      busy_timeout_ms_(o.busy_timeout_ms_),
      cache_(std::move(o.cache_)) {}

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    drop_cache();
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(o.db_, nullptr);
    label_ = std::move(o.label_);
    busy_timeout_ms_ = o.busy_timeout_ms_;
    cache_ = std::move(o.cache_);
  }
  return *this;
}

Connection::~Connection() {
  drop_cache();
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

void Connection::drop_cache() {
  if (!cache_) return;
  for (auto& [sql, stmts] : cache_->idle)
    for (sqlite3_stmt* st : stmts) sqlite3_finalize(st);
  cache_->idle.clear();
  cache_->db = nullptr;
  cache_.reset();
}

bool Connection::read_only() const {
  return db_ != nullptr && sqlite3_db_readonly(db_, "main") == 1;
}

Error Connection::error(std::string_view op, int rc) const {
  return make_error(db_, label_, busy_timeout_ms_, op, rc);
}

Result<Statement> Connection::prepare(std::string_view sql, std::string_view op) {
  if (cache_) {
    if (auto it = cache_->idle.find(sql); it != cache_->idle.end() && !it->second.empty()) {
      sqlite3_stmt* stmt = it->second.back();
      it->second.pop_back();
      return Statement(stmt, *this, op, std::string(sql));
    }
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc =
      sqlite3_prepare_v3(db_, sql.data(), to_int(sql.size()), cache_ ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return error(op, rc);
  }
  return Statement(stmt, *this, op, cache_ ? std::string(sql) : std::string());
}

Status Connection::exec(std::string_view sql, std::string_view op) {
  // One statement (BEGIN, COMMIT, a pragma): through the cache.
  if (cache_ && sql.find(';') == std::string_view::npos) {
    auto st = prepare(sql, op);
    if (!st) return st.error();
    return st->run();
  }
  const char* p = sql.data();
  const char* const end = sql.data() + sql.size();
  while (p < end) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db_, p, to_int(static_cast<std::size_t>(end - p)), &stmt, &tail);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return error(op, rc);
    }
    if (tail == nullptr || tail <= p) tail = end;
    p = tail;
    if (stmt == nullptr) continue;  // whitespace or a comment
    Statement st(stmt, *this, op);
    if (auto r = st.run(); !r) return r.error();
  }
  return Ok{};
}

Result<std::int64_t> Connection::query_int(std::string_view sql, std::string_view op) {
  auto st = prepare(sql, op);
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  return *row ? st->column_int(0) : 0;
}

Result<std::string> Connection::query_text(std::string_view sql, std::string_view op) {
  auto st = prepare(sql, op);
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  return *row ? st->column_text(0) : std::string();
}

std::int64_t Connection::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}
int Connection::last_error_code() const {
  return db_ != nullptr ? sqlite3_extended_errcode(db_) : SQLITE_OK;
}

Status Connection::copy_to(Connection& dst, std::string_view op) {
  sqlite3_backup* backup = sqlite3_backup_init(dst.db_, "main", db_, "main");
  if (backup == nullptr) return dst.error(op, sqlite3_extended_errcode(dst.db_));
  const int rc = sqlite3_backup_step(backup, -1);
  const int finish_rc = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return make_error(nullptr, label_, busy_timeout_ms_, op, rc);
  if (finish_rc != SQLITE_OK) return dst.error(op, finish_rc);
  return Ok{};
}

Status Connection::close() {
  drop_cache();
  if (db_ == nullptr) return Ok{};
  const int rc = sqlite3_close(db_);
  if (rc != SQLITE_OK) {
    Error e = error("cannot close", rc);
    sqlite3_close_v2(db_);  // closes once the last statement is finalized
    db_ = nullptr;
    return e;
  }
  db_ = nullptr;
  return Ok{};
}

// ---- Statement ----------------------------------------------------------------------------------

Statement::Statement(sqlite3_stmt* stmt, const Connection& conn, std::string_view op, std::string sql)
    : stmt_(stmt),
      cache_(sql.empty() ? nullptr : conn.cache_),
      sql_(std::move(sql)),
      db_(conn.handle()),
      label_(conn.label()),
      busy_timeout_ms_(conn.busy_timeout_ms()),
      op_(op) {}

Statement::Statement(Statement&& o) noexcept
    : stmt_(std::exchange(o.stmt_, nullptr)),
      cache_(std::move(o.cache_)),
      sql_(std::move(o.sql_)),
      db_(o.db_),
      label_(std::move(o.label_)),
      busy_timeout_ms_(o.busy_timeout_ms_),
      op_(std::move(o.op_)),
      bind_rc_(o.bind_rc_),
      bind_what_(std::move(o.bind_what_)),
      last_rc_(o.last_rc_) {}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    release();
    stmt_ = std::exchange(o.stmt_, nullptr);
    cache_ = std::move(o.cache_);
    sql_ = std::move(o.sql_);
    db_ = o.db_;
    label_ = std::move(o.label_);
    busy_timeout_ms_ = o.busy_timeout_ms_;
    op_ = std::move(o.op_);
    bind_rc_ = o.bind_rc_;
    bind_what_ = std::move(o.bind_what_);
    last_rc_ = o.last_rc_;
  }
  return *this;
}

Statement::~Statement() {
  release();
}

void Statement::release() {
  if (stmt_ == nullptr) return;
  sqlite3_stmt* stmt = std::exchange(stmt_, nullptr);
  if (cache_ && cache_->db != nullptr && cache_->db == db_) {
    std::vector<sqlite3_stmt*>& idle = cache_->idle[sql_];
    if (idle.size() < kIdlePerSql) {
      sqlite3_reset(stmt);  // ends its read, whatever state it was left in
      sqlite3_clear_bindings(stmt);
      idle.push_back(stmt);
      return;
    }
  }
  sqlite3_finalize(stmt);
}

Error Statement::error(int rc) const {
  return make_error(db_, label_, busy_timeout_ms_, op_, rc);
}

Statement& Statement::check_bind(int rc, int index) {
  if (rc != SQLITE_OK && bind_rc_ == 0) {
    bind_rc_ = rc;
    bind_what_ = fmt::format("cannot bind parameter {}: {}", index, sqlite3_errstr(rc));
  }
  return *this;
}

int Statement::index_of(std::string_view name) {
  const int i = sqlite3_bind_parameter_index(stmt_, std::string(name).c_str());
  if (i == 0 && bind_rc_ == 0) {
    bind_rc_ = SQLITE_RANGE;
    bind_what_ = fmt::format("cannot bind parameter '{}': no such parameter", name);
  }
  return i;
}

Statement& Statement::bind(int index, std::int64_t value) {
  return check_bind(sqlite3_bind_int64(stmt_, index, value), index);
}
Statement& Statement::bind(int index, double value) {
  return check_bind(sqlite3_bind_double(stmt_, index, value), index);
}
Statement& Statement::bind(int index, std::string_view text) {
  // A non-null pointer keeps an empty string a string (not NULL).
  const char* data = text.data() != nullptr ? text.data() : "";
  return check_bind(sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
}
Statement& Statement::bind_blob(int index, std::span<const unsigned char> bytes) {
  static const unsigned char kEmpty = 0;
  const void* data = bytes.empty() ? &kEmpty : bytes.data();  // zero-length blob, not NULL
  return check_bind(sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_TRANSIENT), index);
}
Statement& Statement::bind_null(int index) {
  return check_bind(sqlite3_bind_null(stmt_, index), index);
}

int Statement::parameter_count() const {
  return sqlite3_bind_parameter_count(stmt_);
}

Result<bool> Statement::step() {
  if (bind_rc_ != 0) {
    last_rc_ = bind_rc_;
    return Error{fmt::format("{}: {}: {}", label_, op_, bind_what_)};
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  last_rc_ = rc;
  Error e = error(rc);
  sqlite3_reset(stmt_);
  return e;
}

Status Statement::run() {
  for (;;) {
    auto row = step();
    if (!row) return row.error();
    if (!*row) return Ok{};
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = 0;
  bind_what_.clear();
  last_rc_ = 0;
}

int Statement::column_count() const {
  return sqlite3_column_count(stmt_);
}
std::string Statement::column_name(int i) const {
  const char* n = sqlite3_column_name(stmt_, i);
  return n != nullptr ? n : "";
}
bool Statement::is_null(int i) const {
  return sqlite3_column_type(stmt_, i) == SQLITE_NULL;
}
std::int64_t Statement::column_int(int i) const {
  return sqlite3_column_int64(stmt_, i);
}
double Statement::column_double(int i) const {
  return sqlite3_column_double(stmt_, i);
}
std::string Statement::column_text(int i) const {
  const unsigned char* t = sqlite3_column_text(stmt_, i);
  const int n = sqlite3_column_bytes(stmt_, i);
  return t != nullptr ? std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(n)) : std::string();
}
std::vector<unsigned char> Statement::column_blob(int i) const {
  const auto* b = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, i));
  const int n = sqlite3_column_bytes(stmt_, i);
  return b != nullptr ? std::vector<unsigned char>(b, b + n) : std::vector<unsigned char>();
}

// ---- Transaction --------------------------------------------------------------------------------

Result<Transaction> Transaction::begin(Connection& conn, std::string_view op) {
  if (auto r = conn.exec("BEGIN IMMEDIATE", op); !r) return r.error();
  return Transaction(conn, op);
}

Result<Transaction> Transaction::begin_read(Connection& conn, std::string_view op) {
  if (auto r = conn.exec("BEGIN", op); !r) return r.error();
  return Transaction(conn, op);
}

Transaction::Transaction(Transaction&& o) noexcept
    : conn_(std::exchange(o.conn_, nullptr)), op_(std::move(o.op_)), done_(std::exchange(o.done_, true)) {}

Status Transaction::commit() {
  if (auto r = conn_->exec("COMMIT", op_); !r) return r.error();  // still open: the destructor rolls back
  done_ = true;
  return Ok{};
}

Transaction::~Transaction() {
  // SQLite may already have rolled back on some errors (full disk, I/O); then there is nothing to undo.
  if (!done_ && conn_ != nullptr && conn_->is_open() && sqlite3_get_autocommit(conn_->handle()) == 0) {
    sqlite3_exec(conn_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

}  // namespace hwnas::store::sql
