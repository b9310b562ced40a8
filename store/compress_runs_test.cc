// compress_runs (schema version 4): a compression run with its original and result archs. Round
// trip, what is refused (an arch or device not stored, a malformed hash), export → import.
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/store.h"
#include "store/store_test_util.h"

namespace hwnas::store {
namespace {

using namespace testutil;

Store open_ok(const std::string& path) {
  auto s = Store::open(path, OpenMode::read_write);
  EXPECT_TRUE(s.ok()) << s.error().message;
  if (!s.ok()) std::abort();
  return std::move(*s);
}

CompressRunRecord run_of(const std::string& id, int original, int result) {
  CompressRunRecord r;
  r.id = id;
  r.method = "spvit";
  r.arch_hash = hash_of(original);
  r.result_hash = hash_of(result);
  r.device = "dev-a";
  r.record_json = R"({"budget_ms": 20, "search": {"chosen": 0}})";
  return r;
}

Store with_parents(const std::string& path) {
  Store s = open_ok(path);
  EXPECT_TRUE(s.put_device(device("dev-a")).ok());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(s.put_arch(arch(i)).ok());
  return s;
}

TEST(CompressRuns, RoundTripInKeyOrderWithDefaults) {
  Store s = with_parents(fresh_path("a.db"));
  ASSERT_TRUE(s.put_compress_run(run_of("b2", 0, 1)).ok());
  ASSERT_TRUE(s.put_compress_run(run_of("a1", 0, 2)).ok());
  auto runs = s.list_compress_runs();
  ASSERT_TRUE(runs.ok()) << runs.error().message;
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].id, "a1");
  EXPECT_EQ((*runs)[0].result_hash, hash_of(2));
  EXPECT_FALSE((*runs)[0].created_at.empty());
  EXPECT_FALSE((*runs)[0].tool_version.empty());
  EXPECT_EQ(nlohmann::json::parse((*runs)[1].record_json)["budget_ms"], 20);
  // A put with the same id replaces the row.
  CompressRunRecord again = run_of("a1", 0, 1);
  ASSERT_TRUE(s.put_compress_run(again).ok());
  runs = s.list_compress_runs();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].result_hash, hash_of(1));
}

TEST(CompressRuns, RefusesMissingParentsAndMalformedFields) {
  Store s = with_parents(fresh_path("b.db"));
  auto no_arch = s.put_compress_run(run_of("x", 0, 7));  // arch 7 is not stored
  ASSERT_FALSE(no_arch.ok());
  EXPECT_NE(no_arch.error().message.find("put_arch"), std::string::npos) << no_arch.error().message;
  CompressRunRecord bad = run_of("y", 0, 1);
  bad.result_hash = "XYZ";
  auto malformed = s.put_compress_run(bad);
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.error().message.find("result_hash: must be 16 lowercase hex digits"), std::string::npos)
      << malformed.error().message;
  CompressRunRecord no_method = run_of("z", 0, 1);
  no_method.method.clear();
  EXPECT_FALSE(s.put_compress_run(no_method).ok());
  EXPECT_TRUE(s.list_compress_runs()->empty());  // nothing half-written
}

TEST(CompressRuns, ExportImportCarriesThem) {
  const std::string src_path = fresh_path("src.db"), export_path = fresh_path("src.json");
  {
    Store src = with_parents(src_path);
    ASSERT_TRUE(src.put_compress_run(run_of("r1", 0, 1)).ok());
    std::ostringstream out;
    ASSERT_TRUE(src.export_json(out).ok());
    const auto doc = nlohmann::json::parse(out.str());
    ASSERT_EQ(doc["tables"]["compress_runs"].size(), 1u);
    EXPECT_EQ(doc["tables"]["compress_runs"][0]["record_json"]["search"]["chosen"], 0);  // a JSON value
    write_bytes(export_path, out.str());
  }
  for (const std::string& from : {src_path, export_path}) {
    Store dst = open_ok(fresh_path("dst.db"));
    auto rep = dst.import_from(from);
    ASSERT_TRUE(rep.ok()) << rep.error().message;
    auto runs = dst.list_compress_runs();
    ASSERT_EQ(runs->size(), 1u) << from;
    EXPECT_EQ((*runs)[0].method, "spvit");
    EXPECT_TRUE(dst.check()->ok);
  }
}

}  // namespace
}  // namespace hwnas::store
