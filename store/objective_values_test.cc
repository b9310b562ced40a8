// objective_values (schema version 3): an estimator's result per arch, failures too. Round trip,
// replace, what is refused, export → import, and a version-2 file upgraded in place (or, read-only,
// in a private copy).
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/schema.h"
#include "store/sqlite.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace hwnas::store {
namespace {

using namespace testutil;
using nlohmann::json;

Store open_ok(const std::string& path, OpenMode mode = OpenMode::read_write) {
  auto s = Store::open(path, mode);
  EXPECT_TRUE(s.ok()) << s.error().message;
  if (!s.ok()) std::abort();
  return std::move(*s);
}

template <class T>
T ok(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) std::abort();
  return std::move(*r);
}

void expect_ok(const Status& s) {
  EXPECT_TRUE(s.ok()) << s.error().message;
}

std::string export_of(Store& s) {
  std::ostringstream out;
  expect_ok(s.export_json(out));
  return out.str();
}

ObjectiveValueRecord success(int arch, double value, const std::string& objective = "cmd:python eval.py") {
  ObjectiveValueRecord v;
  v.objective = objective;
  v.arch_hash = hash_of(arch);
  v.ok = true;
  v.value = value;
  v.elapsed_ms = 1234.5;
  return v;
}

ObjectiveValueRecord failure(int arch, const std::string& message) {
  ObjectiveValueRecord v = success(arch, 0);
  v.ok = false;
  v.message = message;
  return v;
}

std::string error_of(const Status& s) {
  EXPECT_FALSE(s.ok());
  return s.ok() ? std::string() : s.error().message;
}

TEST(ObjectiveValues, RoundTripSuccessAndFailure) {
  Store s = open_ok(fresh_path("ov.db"));
  expect_ok(s.put_objective_value(success(0, 0.8125)));
  expect_ok(s.put_objective_value(failure(1, "exit code 3: CUDA out of memory")));

  auto hit = ok(s.find_objective_value("cmd:python eval.py", hash_of(0)));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->objective, "cmd:python eval.py");
  EXPECT_EQ(hit->arch_hash, hash_of(0));
  EXPECT_TRUE(hit->ok);
  EXPECT_EQ(hit->value, 0.8125);
  EXPECT_EQ(hit->message, "");
  EXPECT_EQ(hit->elapsed_ms, 1234.5);
  EXPECT_EQ(hit->created_at.size(), 24u) << hit->created_at;
  EXPECT_EQ(hit->tool_version, "hwnas 0.1.0");

  auto failed = ok(s.find_objective_value("cmd:python eval.py", hash_of(1)));
  ASSERT_TRUE(failed);
  EXPECT_FALSE(failed->ok);
  EXPECT_EQ(failed->value, 0);
  EXPECT_EQ(failed->message, "exit code 3: CUDA out of memory");

  // The key is the pair: another objective or another arch is a miss.
  EXPECT_FALSE(ok(s.find_objective_value("cmd:python eval.py --fast", hash_of(0))));
  EXPECT_FALSE(ok(s.find_objective_value("cmd:python eval.py", hash_of(2))));
  EXPECT_FALSE(ok(s.find_objective_value("", "")));
}

TEST(ObjectiveValues, PutReplacesTheStoredRow) {
  Store s = open_ok(":memory:");
  ObjectiveValueRecord old = failure(0, "timed out after 60 s");
  old.created_at = "2020-01-01T00:00:00.000Z";
  old.tool_version = "hwnas 0.0.1";
  expect_ok(s.put_objective_value(old));
  expect_ok(s.put_objective_value(success(0, 79.5)));
  auto hit = ok(s.find_objective_value("cmd:python eval.py", hash_of(0)));
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit->ok);
  EXPECT_EQ(hit->value, 79.5);
  EXPECT_EQ(hit->message, "");
  EXPECT_GT(hit->created_at, "2020-01-01T00:00:00.000Z");  // now, not the replaced row's
  EXPECT_EQ(hit->tool_version, "hwnas 0.1.0");
  const Stats st = ok(s.stats());
  for (const auto& t : st.tables) {
    if (t.table == "objective_values") {
      EXPECT_EQ(t.rows, 1);
    }
  }
}

TEST(ObjectiveValues, RefusesWhatTheSchemaCannotHold) {
  Store s = open_ok(":memory:");
  ObjectiveValueRecord v = success(0, std::nan(""));
  EXPECT_EQ(error_of(s.put_objective_value(v)),
            ":memory:: cannot store objective value: objective_values.value: not a finite number (nan)");
  v = success(0, std::numeric_limits<double>::infinity());
  EXPECT_EQ(error_of(s.put_objective_value(v)),
            ":memory:: cannot store objective value: objective_values.value: not a finite number (inf)");
  v = success(0, 1);
  v.elapsed_ms = std::nan("");
  EXPECT_EQ(error_of(s.put_objective_value(v)),
            ":memory:: cannot store objective value: objective_values.elapsed_ms: not a finite number (nan)");
  v = success(0, 1);
  v.arch_hash = "DEIT";
  EXPECT_EQ(error_of(s.put_objective_value(v)),
            ":memory:: cannot store objective value: arch_hash: must be 16 lowercase hex digits (got 'DEIT')");
  v = success(0, 1);
  v.objective.clear();
  EXPECT_EQ(error_of(s.put_objective_value(v)), ":memory:: cannot store objective value: objective: must not be empty");
  v = failure(0, "crashed");
  v.value = 0.5;
  EXPECT_EQ(error_of(s.put_objective_value(v)),
            ":memory:: cannot store objective value: value: must be 0 when ok is false (got 0.5)");
  EXPECT_FALSE(ok(s.find_objective_value("cmd:python eval.py", hash_of(0))));
}

TEST(ObjectiveValues, ExportThenImportReproducesThem) {
  Store src = open_ok(fresh_path("src.db"));
  expect_ok(src.put_objective_value(success(0, 0.75)));
  expect_ok(src.put_objective_value(success(0, 71.0, "table:0123456789abcdef")));
  expect_ok(src.put_objective_value(failure(2, "printed no JSON object (last line: 'Traceback')")));
  const std::string exported = export_of(src);
  const json doc = json::parse(exported);
  ASSERT_EQ(doc["tables"]["objective_values"].size(), 3u);
  const json& first = doc["tables"]["objective_values"][0];  // key order: objective, arch_hash
  EXPECT_EQ(first["objective"], "cmd:python eval.py");
  EXPECT_EQ(first["arch_hash"], hash_of(0));
  EXPECT_EQ(first["ok"], true);
  EXPECT_EQ(first["value"], 0.75);

  const std::string json_path = fresh_path("ov.json");
  write_bytes(json_path, exported);
  Store dst = open_ok(fresh_path("dst.db"));
  const ImportReport r = ok(dst.import_from(json_path));
  EXPECT_EQ(r.added(), 3);
  EXPECT_EQ(export_of(dst), exported);
  auto hit = ok(dst.find_objective_value("cmd:python eval.py", hash_of(2)));
  ASSERT_TRUE(hit);
  EXPECT_FALSE(hit->ok);
  EXPECT_EQ(hit->message, "printed no JSON object (last line: 'Traceback')");

  // From the database file too; again: every key is already stored (the stored row is kept).
  Store from_db = open_ok(fresh_path("from_db.db"));
  EXPECT_EQ(ok(from_db.import_from(src.path())).added(), 3);
  EXPECT_EQ(export_of(from_db), exported);
  const ImportReport again = ok(dst.import_from(json_path));
  EXPECT_EQ(again.added(), 0);
  EXPECT_EQ(again.skipped(), 3);

  std::ostringstream csv;
  expect_ok(src.export_csv("objective_values", csv));
  EXPECT_EQ(csv.str().substr(0, csv.str().find("\r\n")),
            "objective,arch_hash,ok,value,message,elapsed_ms,created_at,tool_version");
  EXPECT_NE(csv.str().find(fmt::format("cmd:python eval.py,{},1,0.75,,1234.5,", hash_of(0))), std::string::npos)
      << csv.str();
}

TEST(ObjectiveValues, AnExportOfVersion2WithoutTheTableImports) {
  Store s = open_ok(":memory:");
  const std::string p = fresh_path("v2.json");
  write_bytes(p, R"({"format":"hwnas-store","schema_version":2,"tables":{"devices":[],"search_candidates":[]}})");
  EXPECT_EQ(ok(s.import_from(p)).added(), 0);
}

TEST(ObjectiveValues, AVersion2FileIsUpgraded) {
  const std::string path = fresh_path("v2.db");
  {
    auto c = sql::Connection::open(path, sql::Access::read_write_create, 1000, path);
    ASSERT_TRUE(c.ok());
    auto v = schema::migrate(*c, "hwnas 0.0.2", /*target=*/2);
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(*schema::read_version(*c), 2);
    EXPECT_EQ(*c->query_int("SELECT count(*) FROM sqlite_master WHERE name = 'objective_values'", "v"), 0);
    ASSERT_TRUE(c->exec(R"sql(
      INSERT INTO archs VALUES ('a000000000000000', '{"arch":0}', 'arch-0', 1, 2, '2024-01-02T03:04:05.000Z');
    )sql",
                        "v2 rows")
                    .ok());
  }
  // Read-only: upgraded in a private copy (the table is there, empty), the file untouched.
  const std::string v2_bytes = read_bytes(path);
  {
    Store ro = open_ok(path, OpenMode::read_only);
    EXPECT_EQ(ro.schema_version(), 2);
    EXPECT_FALSE(ok(ro.find_objective_value("cmd:x", hash_of(0))));
    EXPECT_TRUE(ok(ro.find_arch(hash_of(0))));
    EXPECT_FALSE(ro.put_objective_value(success(0, 1)).ok());
  }
  EXPECT_EQ(read_bytes(path), v2_bytes);

  {
    Store s = open_ok(path);
    EXPECT_EQ(s.schema_version(), 2);
    EXPECT_TRUE(ok(s.find_arch(hash_of(0))));
    expect_ok(s.put_objective_value(success(0, 0.5)));
    EXPECT_EQ(ok(s.find_objective_value("cmd:python eval.py", hash_of(0)))->value, 0.5);
    EXPECT_TRUE(ok(s.check()).ok);
  }
  Store again = open_ok(path);
  EXPECT_EQ(again.schema_version(), schema::latest_version());
  auto c = sql::Connection::open(path, sql::Access::read_only, 1000, path);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c->query_text("SELECT group_concat(version) FROM schema_version", "v"), "1,2,3,4");
  EXPECT_EQ(*c->query_int("PRAGMA user_version", "v"), schema::latest_version());
  EXPECT_EQ(*c->query_text("SELECT tool_version FROM schema_version WHERE version = 2", "v"), "hwnas 0.0.2");
}

}  // namespace
}  // namespace hwnas::store
