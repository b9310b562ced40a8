// The RAII layer over SQLite: statements bind and read every type, transactions roll back unless
// committed, and every error names the database and the operation.
#include "store/sqlite.h"

#include <optional>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/store_test_util.h"

namespace hwnas::store::sql {
namespace {

using testutil::fresh_path;

Connection open_ok(const std::string& path, int busy_ms = 5000) {
  auto c = Connection::open(path, Access::read_write_create, busy_ms, "test.db");
  EXPECT_TRUE(c.ok()) << c.error().message;
  return std::move(*c);
}

TEST(Sqlite, BindsAndReadsEveryTypeByIndexAndName) {
  Connection c = open_ok(":memory:");
  ASSERT_TRUE(c.exec("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)", "create").ok());
  auto ins = c.prepare("INSERT INTO t VALUES (?1, :d, ?3, :b, ?5)", "insert");
  ASSERT_TRUE(ins.ok()) << ins.error().message;
  const std::vector<unsigned char> blob = {0, 1, 2, 255};
  ins->bind(1, std::int64_t{-42}).bind(":d", 2.5).bind(3, "it's ';DROP TABLE t;--").bind_null(5);
  ins->bind_blob(4, blob);
  ASSERT_TRUE(ins->run().ok());
  ins->reset();
  ins->bind(1, std::int64_t{7}).bind(":d", 0.0).bind(3, "").bind_blob(4, {}).bind(5, "x");
  ASSERT_TRUE(ins->run().ok());

  auto sel = c.prepare("SELECT i, d, s, b, n FROM t ORDER BY rowid", "select");
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->column_count(), 5);
  EXPECT_EQ(sel->column_name(2), "s");
  auto row = sel->step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(sel->column_int(0), -42);
  EXPECT_EQ(sel->column_double(1), 2.5);
  EXPECT_EQ(sel->column_text(2), "it's ';DROP TABLE t;--");  // a value, never SQL
  EXPECT_EQ(sel->column_blob(3), blob);
  EXPECT_TRUE(sel->is_null(4));
  row = sel->step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_FALSE(sel->is_null(2));  // "" stays a string
  EXPECT_FALSE(sel->is_null(3));  // an empty blob stays a blob
  EXPECT_TRUE(sel->column_blob(3).empty());
  row = sel->step();
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(*row);
  auto count = c.query_int("SELECT count(*) FROM t", "count");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);
}

// Prepared statements are kept per SQL text and handed out again: a reused one starts unbound and
// from its first row, two of the same text can be open at once, a schema change re-prepares it,
// and statements that outlive their connection are finalized cleanly.
TEST(Sqlite, PreparedStatementsAreReusedAsIfNew) {
  Connection c = open_ok(":memory:");
  ASSERT_TRUE(c.exec("CREATE TABLE t (i INTEGER)", "create").ok());
  const std::string insert = "INSERT INTO t VALUES (?1)";
  for (std::int64_t i = 0; i < 3; ++i) {
    auto ins = c.prepare(insert, "insert");
    ASSERT_TRUE(ins.ok());
    ins->bind(1, i);
    ASSERT_TRUE(ins->run().ok());
  }
  // Only one INSERT was ever prepared (the later ones reused it).
  int prepared = 0;
  for (sqlite3_stmt* st = sqlite3_next_stmt(c.handle(), nullptr); st != nullptr; st = sqlite3_next_stmt(c.handle(), st))
    prepared += std::string(sqlite3_sql(st)) == insert ? 1 : 0;
  EXPECT_EQ(prepared, 1);
  {
    auto unbound = c.prepare(insert, "insert");  // the reused statement has no binding left: NULL
    ASSERT_TRUE(unbound.ok());
    ASSERT_TRUE(unbound->run().ok());
  }
  EXPECT_EQ(c.query_int("SELECT count(*) FROM t WHERE i IS NULL", "count").value(), 1);
  const std::string select = "SELECT i FROM t WHERE i IS NOT NULL ORDER BY i";
  {
    auto a = c.prepare(select, "select");
    auto b = c.prepare(select, "select");  // the same text open twice: two statements
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_TRUE(a->step().value());
    ASSERT_TRUE(a->step().value());
    EXPECT_EQ(a->column_int(0), 1);  // left mid-way: the next user must start over
    ASSERT_TRUE(b->step().value());
    EXPECT_EQ(b->column_int(0), 0);
  }
  {
    auto again = c.prepare(select, "select");
    ASSERT_TRUE(again.ok());
    ASSERT_TRUE(again->step().value());
    EXPECT_EQ(again->column_int(0), 0);
  }
  ASSERT_TRUE(c.exec("ALTER TABLE t ADD COLUMN j INTEGER", "alter").ok());
  {
    auto star = c.prepare("SELECT * FROM t", "select");
    ASSERT_TRUE(star.ok());
    ASSERT_TRUE(star->step().value());
    EXPECT_EQ(star->column_count(), 2);
  }
  std::optional<Statement> outlives;
  {
    Connection d = open_ok(":memory:");
    auto st = d.prepare("SELECT 1", "one");
    ASSERT_TRUE(st.ok());
    outlives.emplace(std::move(*st));
  }
  outlives.reset();  // finalized after its connection closed (ASan would see a leak or a use after free)
}

TEST(Sqlite, ErrorsNameTheDatabaseAndTheOperation) {
  Connection c = open_ok(":memory:");
  auto bad = c.prepare("SELECT * FROM nowhere", "cannot list things");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "test.db: cannot list things: no such table: nowhere");

  ASSERT_TRUE(c.exec("CREATE TABLE u (k TEXT UNIQUE)", "create").ok());
  ASSERT_TRUE(c.exec("INSERT INTO u VALUES ('a')", "insert").ok());
  auto dup = c.prepare("INSERT INTO u VALUES (?1)", "cannot store k");
  ASSERT_TRUE(dup.ok());
  dup->bind(1, "a");
  auto r = dup->run();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "test.db: cannot store k: UNIQUE constraint failed: u.k");
  EXPECT_EQ(dup->last_error_code(), SQLITE_CONSTRAINT_UNIQUE);

  auto named = c.prepare("SELECT ?1", "cannot select");
  ASSERT_TRUE(named.ok());
  named->bind(":missing", std::int64_t{1});
  auto step = named->step();
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.error().message, "test.db: cannot select: cannot bind parameter ':missing': no such parameter");
}

TEST(Sqlite, TransactionRollsBackUnlessCommitted) {
  Connection c = open_ok(":memory:");
  ASSERT_TRUE(c.exec("CREATE TABLE t (x INTEGER)", "create").ok());
  {
    auto tx = Transaction::begin(c, "write");
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(c.exec("INSERT INTO t VALUES (1)", "insert").ok());
  }  // not committed
  EXPECT_EQ(*c.query_int("SELECT count(*) FROM t", "count"), 0);
  {
    auto tx = Transaction::begin(c, "write");
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(c.exec("INSERT INTO t VALUES (2)", "insert").ok());
    ASSERT_TRUE(tx->commit().ok());
  }
  EXPECT_EQ(*c.query_int("SELECT count(*) FROM t", "count"), 1);
}

TEST(Sqlite, LockedDatabaseSaysHowLongItWaited) {
  const std::string path = fresh_path("locked.db");
  Connection a = open_ok(path);
  ASSERT_TRUE(a.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER)", "create").ok());
  Connection b = open_ok(path, /*busy_ms=*/100);
  auto held = Transaction::begin(a, "hold");
  ASSERT_TRUE(held.ok());
  auto blocked = Transaction::begin(b, "cannot store measurement");
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().message, "test.db: cannot store measurement: database is locked after 100 ms");
  ASSERT_TRUE(held->commit().ok());
  EXPECT_TRUE(Transaction::begin(b, "now free").ok());
}

TEST(Sqlite, CannotOpenNamesTheFile) {
  auto c = Connection::open("/nonexistent-dir/x.db", Access::read_write_create, 100, "/nonexistent-dir/x.db");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "/nonexistent-dir/x.db: cannot open: unable to open database file");
}

}  // namespace
}  // namespace hwnas::store::sql
