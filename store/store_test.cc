// The store on real SQLite files: every record type round-trips, keys look up exactly (another
// device's measurement is never returned), upserts replace or refuse, migrations bring empty and v1
// files to the latest schema, a newer schema is refused untouched, export → import reproduces rows.
#include "store/store.h"

#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "space/canonical.h"
#include "space/presets.h"
#include "store/schema.h"
#include "store/sqlite.h"
#include "store/store_test_util.h"
#include "store/tables.h"

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

// One of every record: 2 devices, 3 archs, networks and units, a cost model, a search run + candidates,
// objective values (one success, one failure).
void populate(Store& s) {
  expect_ok(s.put_device(device("dev-a", "CPU A")));
  expect_ok(s.put_device(device("dev-b", "CPU B")));
  for (int i = 0; i < 3; ++i) expect_ok(s.put_arch(arch(i)));
  std::vector<MeasurementRecord> ms;
  for (int i = 0; i < 3; ++i) ms.push_back(network(i, "dev-a", 1, 1 + i));
  ms.push_back(network(0, "dev-b", 1, 3));
  ms.push_back(network(0, "dev-a", 8, 4));
  for (int u = 0; u < 4; ++u) ms.push_back(unit(0, "dev-a", u, fmt::format("stage0.block{}", u)));
  ok(s.put_measurements(ms));
  CostModelRecord cm;
  cm.key = {"dev-a", "onednn", 1, "f32", 4, "roofline", 1};
  cm.model_json = R"({"coef": [1.5, 2.25], "intercept": 3})";
  ok(s.put_cost_model(cm));
  SearchRunRecord run;
  run.id = "00000000000000aa";
  run.config_json = R"({"strategy":"nsga2","budget_ms":5})";
  expect_ok(s.put_search_run(run));
  for (int i = 0; i < 3; ++i) {
    CandidateRecord c;
    c.run_id = run.id;
    c.idx = i;
    c.arch_hash = hash_of(i);
    c.genome_json = fmt::format(R"({{"depth":[{},2]}})", i);
    c.objectives_json = R"({"latency_us":120.5,"top1":71.25})";
    c.measured = i == 1;
    ok(s.put_candidate(c));
  }
  ObjectiveValueRecord v;
  v.objective = "cmd:python eval.py";
  v.arch_hash = hash_of(0);
  v.ok = true;
  v.value = 0.8125;
  v.elapsed_ms = 1500.5;
  expect_ok(s.put_objective_value(v));
  v.arch_hash = hash_of(1);
  v.ok = false;
  v.value = 0;
  v.message = "exit code 3: CUDA out of memory";
  expect_ok(s.put_objective_value(v));
}

// ---- round trips --------------------------------------------------------------------------------

TEST(Store, DeviceRoundTripAndUpsert) {
  Store s = open_ok(fresh_path("dev.db"));
  const DeviceRecord d = device("fp-1");
  expect_ok(s.put_device(d));
  auto got = ok(s.find_device("fp-1"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->model, d.model);
  EXPECT_EQ(got->cores, 8);
  EXPECT_EQ(got->threads, 4);
  EXPECT_EQ(got->isa, d.isa);
  EXPECT_TRUE(got->bf16_native);
  EXPECT_EQ(got->engine, d.engine);
  EXPECT_EQ(got->peak_f32_gflops, d.peak_f32_gflops);
  EXPECT_EQ(got->peak_bf16_gflops, d.peak_bf16_gflops);
  EXPECT_EQ(got->triad_gbs, d.triad_gbs);
  EXPECT_EQ(got->first_seen.size(), 24u) << got->first_seen;  // 2025-11-24T08:10:00.123Z
  EXPECT_EQ(got->last_seen, got->first_seen);

  // Re-put without measured peaks: first_seen and peaks are kept; model updated.
  DeviceRecord again = d;
  again.model = "renamed";
  again.peak_f32_gflops = 0;
  again.triad_gbs = 99;
  expect_ok(s.put_device(again));
  auto now = ok(s.find_device("fp-1"));
  ASSERT_TRUE(now);
  EXPECT_EQ(now->model, "renamed");
  EXPECT_EQ(now->peak_f32_gflops, d.peak_f32_gflops);
  EXPECT_EQ(now->triad_gbs, 99);
  EXPECT_EQ(now->first_seen, got->first_seen);
  EXPECT_GE(now->last_seen, got->last_seen);
  EXPECT_EQ(ok(s.list_devices()).size(), 1u);
  EXPECT_FALSE(ok(s.find_device("fp-2")));

  auto bad = s.put_device(DeviceRecord{});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("cannot store device: fingerprint: must not be empty"), std::string::npos);
}

TEST(Store, ArchRoundTripFromARealPreset) {
  Store s = open_ok(":memory:");
  auto preset = space::preset("deit-tiny");
  ASSERT_TRUE(preset.ok()) << preset.error().message;
  const ArchRecord a = arch_record(*preset, 1258000000, 5700000);
  EXPECT_EQ(a.hash, space::hash_hex(space::arch_hash(*preset)));
  expect_ok(s.put_arch(a));
  auto got = ok(s.find_arch(a.hash));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->canonical, space::canonical_text(*preset));
  EXPECT_EQ(got->name, a.name);
  EXPECT_EQ(got->macs, 1258000000);
  EXPECT_EQ(got->params, 5700000);
  EXPECT_FALSE(got->created_at.empty());

  // Same hash, other text: refused (a collision or a bug), the stored row untouched.
  ArchRecord other = a;
  other.canonical = "{}";
  auto clash = s.put_arch(other);
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().message.find("already stored with another canonical text"), std::string::npos);
  ArchRecord bad = a;
  bad.hash = "XYZ";
  auto r = s.put_arch(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, ":memory:: cannot store arch: hash: must be 16 lowercase hex digits (got 'XYZ')");
}

TEST(Store, MeasurementRoundTripIncludingSamples) {
  Store s = open_ok(fresh_path("m.db"));
  expect_ok(s.put_device(device("dev-a")));
  expect_ok(s.put_arch(arch(0)));
  MeasurementRecord m = network(0, "dev-a", 1, 3);
  m.figures.samples_us.push_back(std::numeric_limits<double>::denorm_min());
  const PutOutcome put = ok(s.put_measurement(m));
  EXPECT_EQ(put.what, PutOutcome::What::inserted);
  EXPECT_GT(put.id, 0);

  auto hit = ok(s.find_measurement(m.key));
  ASSERT_TRUE(hit);
  const MeasurementRecord& r = hit->record;
  EXPECT_EQ(r.id, put.id);
  EXPECT_EQ(r.kind, SubjectKind::network);
  EXPECT_EQ(r.key, m.key);
  EXPECT_EQ(r.arch_hash, m.arch_hash);
  EXPECT_EQ(r.label, "");
  EXPECT_EQ(r.position, -1);
  EXPECT_EQ(r.figures, m.figures);  // every figure and every sample bit-exact
  EXPECT_TRUE(std::signbit(r.figures.samples_us[4]));
  EXPECT_EQ(r.detail_json, R"({"note":"network"})");
  EXPECT_EQ(r.tool_version, "hwnas 0.1.0");
  EXPECT_FALSE(r.created_at.empty());
  EXPECT_GE(hit->age_s, -1.0);
  EXPECT_LT(hit->age_s, 60.0);

  // An explicit timestamp is kept (imports) and the age follows it.
  MeasurementRecord old = network(0, "dev-a", 2);
  old.created_at = "2020-01-01T00:00:00.000Z";
  old.tool_version = "hwnas 0.0.1";
  ok(s.put_measurement(old));
  auto old_hit = ok(s.find_measurement(old.key));
  ASSERT_TRUE(old_hit);
  EXPECT_EQ(old_hit->record.created_at, "2020-01-01T00:00:00.000Z");
  EXPECT_EQ(old_hit->record.tool_version, "hwnas 0.0.1");
  EXPECT_GT(old_hit->age_s, 5 * 365 * 86400.0);
}

TEST(Store, UpsertReplacesSkipsOrRefuses) {
  Store s = open_ok(fresh_path("upsert.db"));
  expect_ok(s.put_device(device("dev-a")));
  expect_ok(s.put_arch(arch(0)));
  const PutOutcome first = ok(s.put_measurement(network(0, "dev-a", 1, 1)));
  const PutOutcome again = ok(s.put_measurement(network(0, "dev-a", 1, 2)));
  EXPECT_EQ(again.what, PutOutcome::What::replaced);
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(ok(s.find_measurement(network(0, "dev-a").key))->record.figures.median_us, 200);

  const PutOutcome skipped = ok(s.put_measurement(network(0, "dev-a", 1, 3), OnConflict::skip));
  EXPECT_EQ(skipped.what, PutOutcome::What::skipped);
  EXPECT_EQ(ok(s.find_measurement(network(0, "dev-a").key))->record.figures.median_us, 200);

  auto refused = s.put_measurement(network(0, "dev-a", 1, 4), OnConflict::fail);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("cannot store measurement: already stored in measurements (subject_hash="),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ(ok(s.list_measurements()).size(), 1u);

  // A batch is one transaction: one bad record stores none of them.
  std::vector<MeasurementRecord> batch = {network(0, "dev-a", 16), network(0, "dev-a", 32)};
  batch[1].key.device = "unknown-device";
  auto r = s.put_measurements(batch);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("FOREIGN KEY constraint failed (store its device (put_device) and its arch"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(ok(s.list_measurements()).size(), 1u);
}

TEST(Store, MeasurementValidationNamesTheField) {
  Store s = open_ok(":memory:");
  MeasurementRecord m = network(0, "dev-a");
  m.figures.cv = std::nan("");
  expect_ok(s.put_device(device("dev-a")));
  expect_ok(s.put_arch(arch(0)));
  auto r = s.put_measurement(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, ":memory:: cannot store measurement: measurements.cv: not a finite number (nan)");
  m = network(0, "dev-a");
  m.detail_json = "{not json";
  r = s.put_measurement(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, ":memory:: cannot store measurement: measurements.detail_json: not valid JSON");
  m = network(0, "dev-a");
  m.key.subject_hash = hash_of(1);
  r = s.put_measurement(m);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("a network's must be its arch_hash"), std::string::npos);
  m = unit(0, "dev-a", 0, "");
  r = s.put_measurement(m);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("label: a unit needs one"), std::string::npos);
}

TEST(Store, LookupsAreExactAndNeverCrossDevices) {
  Store s = open_ok(fresh_path("devices.db"));
  populate(s);
  // dev-b only has arch 0 at batch 1.
  EXPECT_TRUE(ok(s.find_measurement(key(hash_of(0), "dev-b"))));
  EXPECT_FALSE(ok(s.find_measurement(key(hash_of(1), "dev-b"))));  // dev-a has it; dev-b does not
  EXPECT_FALSE(ok(s.find_measurement(key(hash_of(0), "dev-"))));   // a prefix is not a key
  EXPECT_FALSE(ok(s.find_measurement(key(hash_of(0), "dev-c"))));
  EXPECT_EQ(ok(s.find_measurement(key(hash_of(0), "dev-b")))->record.figures.median_us, 300);
  EXPECT_EQ(ok(s.find_measurement(key(hash_of(0), "dev-a")))->record.figures.median_us, 100);
  // Every other key field separates too.
  for (const auto& change : std::vector<std::function<void(MeasurementKey&)>>{
           [](MeasurementKey& k) { k.backend = "cuda"; }, [](MeasurementKey& k) { k.batch = 2; },
           [](MeasurementKey& k) { k.dtype = "bf16"; }, [](MeasurementKey& k) { k.threads = 1; },
           [](MeasurementKey& k) { k.protocol = "hat"; }}) {
    MeasurementKey k = key(hash_of(0), "dev-a");
    change(k);
    EXPECT_FALSE(ok(s.find_measurement(k)));
  }
  EXPECT_EQ(ok(s.find_measurement(key(hash_of(0), "dev-a", 8)))->record.figures.median_us, 400);

  // Units of arch 0 on dev-a, by position; none on dev-b.
  auto units = ok(s.list_parts(key(hash_of(0), "dev-a"), SubjectKind::unit));
  ASSERT_EQ(units.size(), 4u);
  for (int u = 0; u < 4; ++u) {
    EXPECT_EQ(units[static_cast<std::size_t>(u)].position, u);
    EXPECT_EQ(units[static_cast<std::size_t>(u)].label, fmt::format("stage0.block{}", u));
    EXPECT_EQ(units[static_cast<std::size_t>(u)].key.subject_hash,
              subject_hash(hash_of(0), fmt::format("stage0.block{}", u)));
  }
  EXPECT_EQ(units[0].detail_json, R"j({"dim":192,"ffn":"mlp(768)","mixer":"msa","tokens":197})j");  // stored compact
  EXPECT_TRUE(ok(s.list_parts(key(hash_of(0), "dev-b"), SubjectKind::unit)).empty());
  EXPECT_TRUE(ok(s.list_parts(key(hash_of(0), "dev-a", 8), SubjectKind::unit)).empty());
  EXPECT_TRUE(ok(s.list_parts(key(hash_of(0), "dev-a"), SubjectKind::step)).empty());
  auto one_unit = ok(s.find_measurement(key(subject_hash(hash_of(0), "stage0.block2"), "dev-a")));
  ASSERT_TRUE(one_unit);
  EXPECT_EQ(one_unit->record.kind, SubjectKind::unit);
  EXPECT_EQ(one_unit->record.figures.figure_us, 12);
}

TEST(Store, ListFilters) {
  Store s = open_ok(fresh_path("list.db"));
  populate(s);
  EXPECT_EQ(ok(s.list_measurements()).size(), 9u);
  MeasurementFilter f;
  f.device = "dev-b";
  EXPECT_EQ(ok(s.list_measurements(f)).size(), 1u);
  f = {};
  f.device = "dev";  // a prefix
  EXPECT_EQ(ok(s.list_measurements(f)).size(), 9u);
  f = {};
  f.kind = SubjectKind::unit;
  EXPECT_EQ(ok(s.list_measurements(f)).size(), 4u);
  f = {};
  f.hash = hash_of(0).substr(0, 15);  // arch 0..2 share 15 digits
  EXPECT_EQ(ok(s.list_measurements(f)).size(), 9u);
  f.hash = hash_of(0);  // the network's own rows and its units (by arch hash)
  EXPECT_EQ(ok(s.list_measurements(f)).size(), 7u);
  f = {};
  f.arch_name = "arch-1";
  EXPECT_EQ(ok(s.list_measurements(f)).size(), 1u);
  f = {};
  f.batch = 8;
  EXPECT_EQ(ok(s.list_measurements(f)).size(), 1u);
  f = {};
  f.limit = 3;
  EXPECT_EQ(ok(s.list_measurements(f)).size(), 3u);
  f = {};
  f.since = "2000-01-01";
  EXPECT_EQ(ok(s.list_measurements(f)).size(), 9u);
  f.until = "2000-01-02";
  EXPECT_EQ(ok(s.list_measurements(f)).size(), 0u);
  f = {};
  f.since = "3000-01-01T00:00:00Z";
  EXPECT_EQ(ok(s.list_measurements(f)).size(), 0u);
  f.since = "last tuesday";
  auto bad = s.list_measurements(f);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("since: not a date ('last tuesday'"), std::string::npos) << bad.error().message;
}

TEST(Store, CostModelAndSearchRunRoundTrip) {
  Store s = open_ok(fresh_path("cm.db"));
  populate(s);
  CostModelKey k{"dev-a", "onednn", 1, "f32", 4, "roofline", 0};
  auto latest = ok(s.find_cost_model(k));
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->key.version, 1);
  EXPECT_EQ(latest->model_json, R"({"coef":[1.5,2.25],"intercept":3})");
  CostModelRecord v2 = *latest;
  v2.key.version = 2;
  v2.model_json = R"({"coef":[1]})";
  v2.created_at.clear();
  ok(s.put_cost_model(v2));
  EXPECT_EQ(ok(s.find_cost_model(k))->key.version, 2);
  k.version = 1;
  EXPECT_EQ(ok(s.find_cost_model(k))->model_json, R"({"coef":[1.5,2.25],"intercept":3})");
  k.device = "dev-b";
  EXPECT_FALSE(ok(s.find_cost_model(k)));
  EXPECT_EQ(ok(s.list_cost_models("dev-a")).size(), 2u);
  EXPECT_EQ(ok(s.list_cost_models()).size(), 2u);

  auto run = ok(s.find_search_run("00000000000000aa"));
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, SearchStatus::running);
  EXPECT_EQ(run->config_json, R"({"budget_ms":5,"strategy":"nsga2"})");
  SearchRunRecord done = *run;
  done.status = SearchStatus::done;
  expect_ok(s.put_search_run(done));
  auto after = ok(s.find_search_run("00000000000000aa"));
  EXPECT_EQ(after->status, SearchStatus::done);
  EXPECT_EQ(after->created_at, run->created_at);
  EXPECT_GE(after->updated_at, run->updated_at);
  auto cands = ok(s.list_candidates("00000000000000aa"));
  ASSERT_EQ(cands.size(), 3u);
  EXPECT_EQ(cands[1].idx, 1);
  EXPECT_TRUE(cands[1].measured);
  EXPECT_FALSE(cands[0].measured);
  EXPECT_EQ(cands[2].genome_json, R"({"depth":[2,2]})");
  EXPECT_EQ(cands[2].objectives_json, R"({"latency_us":120.5,"top1":71.25})");
  EXPECT_EQ(ok(s.list_search_runs()).size(), 1u);

  CandidateRecord orphan = cands[0];
  orphan.run_id = "no-such-run";
  auto r = s.put_candidate(orphan);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("store its search run (put_search_run) first"), std::string::npos);
  EXPECT_EQ(new_search_run_id().size(), 16u);
  EXPECT_NE(new_search_run_id(), new_search_run_id());
}

TEST(Store, StatsCountPerDeviceBackendAndKind) {
  const std::string path = fresh_path("stats.db");
  Store s = open_ok(path);
  populate(s);
  const Stats st = ok(s.stats());
  EXPECT_EQ(st.schema_version, schema::latest_version());
  EXPECT_GT(st.bytes, 0);
  EXPECT_GT(st.file_bytes + st.wal_bytes, 0);
  std::map<std::string, std::int64_t> rows;
  for (const auto& t : st.tables) rows[t.table] = t.rows;
  EXPECT_EQ(rows["devices"], 2);
  EXPECT_EQ(rows["archs"], 3);
  EXPECT_EQ(rows["measurements"], 9);
  EXPECT_EQ(rows["cost_models"], 1);
  EXPECT_EQ(rows["search_runs"], 1);
  EXPECT_EQ(rows["search_candidates"], 3);
  EXPECT_EQ(rows["objective_values"], 2);
  ASSERT_EQ(st.groups.size(), 3u);  // dev-a network, dev-a unit, dev-b network
  EXPECT_EQ(st.groups[0].device, "dev-a");
  EXPECT_EQ(st.groups[0].device_model, "CPU A");
  EXPECT_EQ(st.groups[0].kind, SubjectKind::network);
  EXPECT_EQ(st.groups[0].count, 4);
  EXPECT_EQ(st.groups[1].kind, SubjectKind::unit);
  EXPECT_EQ(st.groups[1].count, 4);
  EXPECT_EQ(st.groups[2].device, "dev-b");
  EXPECT_EQ(st.groups[2].count, 1);
}

// ---- schema and migrations ----------------------------------------------------------------------

// The column tables that drive SQL, JSON and CSV match the latest schema, column for column.
TEST(Schema, RecordTablesMatchTheLatestSchema) {
  Store s = open_ok(":memory:");
  auto c = sql::Connection::open(":memory:", sql::Access::read_write_create, 1000, "schema");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(schema::migrate(*c, "test").ok());
  const auto columns_of = [&](std::string_view t) {
    auto st = c->prepare("SELECT name FROM pragma_table_info(?1)", "columns");
    EXPECT_TRUE(st.ok());
    st->bind(1, t);
    std::vector<std::string> names;
    while (*st->step()) names.push_back(st->column_text(0));
    return names;
  };
  const auto names_of = [](const auto& t) {
    std::vector<std::string> names;
    if (t.has_id) names.emplace_back("id");
    for (const auto& col : t.columns) names.emplace_back(col.name);
    return names;
  };
  EXPECT_EQ(columns_of("devices"), names_of(detail::table<DeviceRecord>()));
  EXPECT_EQ(columns_of("archs"), names_of(detail::table<ArchRecord>()));
  EXPECT_EQ(columns_of("measurements"), names_of(detail::table<MeasurementRecord>()));
  EXPECT_EQ(columns_of("cost_models"), names_of(detail::table<CostModelRecord>()));
  EXPECT_EQ(columns_of("search_runs"), names_of(detail::table<SearchRunRecord>()));
  EXPECT_EQ(columns_of("search_candidates"), names_of(detail::table<CandidateRecord>()));
  EXPECT_EQ(columns_of("objective_values"), names_of(detail::table<ObjectiveValueRecord>()));
  EXPECT_EQ(columns_of("compress_runs"), names_of(detail::table<CompressRunRecord>()));
  EXPECT_EQ(std::vector<std::string_view>(Store::table_names().begin(), Store::table_names().end()),
            (std::vector<std::string_view>{"devices", "archs", "measurements", "cost_models", "search_runs",
                                           "search_candidates", "objective_values", "compress_runs"}));
}

TEST(Schema, MigratesAnEmptyFileToTheLatestVersion) {
  const std::string path = fresh_path("empty.db");
  write_bytes(path, "");
  {
    Store s = open_ok(path);
    EXPECT_EQ(s.schema_version(), 0);
  }
  Store s = open_ok(path);
  EXPECT_EQ(s.schema_version(), schema::latest_version());
  auto c = sql::Connection::open(path, sql::Access::read_only, 1000, path);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c->query_int("SELECT count(*) FROM schema_version", "v"), schema::latest_version());
  EXPECT_EQ(*c->query_int("PRAGMA user_version", "v"), schema::latest_version());
  EXPECT_EQ(*c->query_int("PRAGMA application_id", "v"), schema::kApplicationId);
  EXPECT_EQ(*c->query_text("PRAGMA journal_mode", "v"), "wal");
  const CheckReport check = ok(s.check());
  EXPECT_TRUE(check.ok);
  EXPECT_EQ(check.schema_version, schema::latest_version());
}

TEST(Schema, MigratesAVersion1DatabaseKeepingItsRows) {
  ASSERT_GE(schema::latest_version(), 2);
  const std::string path = fresh_path("v1.db");
  {
    auto c = sql::Connection::open(path, sql::Access::read_write_create, 1000, path);
    ASSERT_TRUE(c.ok());
    auto v = schema::migrate(*c, "hwnas 0.0.1", /*target=*/1);
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(*schema::read_version(*c), 1);
    // Rows as version 1 wrote them (no devices.last_seen yet).
    ASSERT_TRUE(c->exec(R"sql(
      INSERT INTO devices VALUES ('dev-old', 'cpu', 'Old CPU', 4, 4, 'avx2', 0, 'oneDNN 2.6', '', 100, 0, 20,
                                  '2024-01-02T03:04:05.000Z');
      INSERT INTO archs VALUES ('a000000000000000', '{"arch":0}', 'arch-0', 1, 2, '2024-01-02T03:04:05.000Z');
      INSERT INTO measurements (subject_kind, subject_hash, arch_hash, label, unit_kind, position, device, backend,
        batch, dtype, threads, protocol, figure_us, median_us, min_us, p10_us, p90_us, p99_us, mean_us, ci_low_us,
        ci_high_us, cv, n, calls_per_sample, warmup_runs, elapsed_ms, noisy, noise_reason, samples_us, detail_json,
        created_at, tool_version)
      VALUES ('network', 'a000000000000000', 'a000000000000000', '', '', -1, 'dev-old', 'onednn', 1, 'f32', 4,
        'standard', 100, 100, 90, 95, 110, 130, 102.5, 99, 101, 0.01, 0, 1, 10, 250, 0, '', x'', '{}',
        '2024-01-02T03:04:05.000Z', 'hwnas 0.0.1');
    )sql",
                        "v1 rows")
                    .ok());
  }
  // Read-only: upgraded in a private copy, the file untouched.
  const std::string v1_bytes = read_bytes(path);
  {
    Store ro = open_ok(path, OpenMode::read_only);
    EXPECT_EQ(ro.schema_version(), 1);
    EXPECT_EQ(ok(ro.find_device("dev-old"))->last_seen, "2024-01-02T03:04:05.000Z");
    EXPECT_EQ(ok(ro.list_measurements()).size(), 1u);
    auto write = ro.put_device(device("x"));
    ASSERT_FALSE(write.ok());
    EXPECT_NE(write.error().message.find("readonly"), std::string::npos) << write.error().message;
  }
  EXPECT_EQ(read_bytes(path), v1_bytes);

  Store s = open_ok(path);
  EXPECT_EQ(s.schema_version(), 1);
  auto d = ok(s.find_device("dev-old"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->last_seen, d->first_seen);  // filled by migration 2
  auto m = ok(s.find_measurement(key("a000000000000000", "dev-old")));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->record.figures.p99_us, 130);
  EXPECT_EQ(m->record.tool_version, "hwnas 0.0.1");
  EXPECT_TRUE(ok(s.check()).ok);
  auto c = sql::Connection::open(path, sql::Access::read_only, 1000, path);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c->query_int("SELECT count(*) FROM sqlite_master WHERE name = 'measurements_by_arch'", "v"), 1);
  EXPECT_EQ(*c->query_text("SELECT group_concat(version) FROM schema_version", "v"), "1,2,3,4");
}

TEST(Schema, NewerVersionIsRefusedAndTheFileLeftByteIdentical) {
  const std::string path = fresh_path("newer.db");
  {
    Store s = open_ok(path);
    populate(s);
  }
  {
    auto c = sql::Connection::open(path, sql::Access::read_write, 1000, path);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->exec("INSERT INTO schema_version VALUES (7, '2030-01-01T00:00:00.000Z', 'hwnas 9')", "v7").ok());
  }
  ASSERT_FALSE(std::filesystem::exists(path + "-wal"));
  const std::string before = read_bytes(path);
  for (OpenMode mode : {OpenMode::read_write, OpenMode::read_only}) {
    auto s = Store::open(path, mode);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().message, fmt::format("{}: schema version 7 is newer than this hwnas ({}); upgrade hwnas", path,
                                             schema::latest_version()));
  }
  EXPECT_EQ(read_bytes(path), before);
  // Importing it is refused the same way.
  Store other = open_ok(":memory:");
  auto imp = other.import_from(path);
  ASSERT_FALSE(imp.ok());
  EXPECT_NE(imp.error().message.find("schema version 7 is newer than this hwnas"), std::string::npos);
  EXPECT_EQ(read_bytes(path), before);
}

// ---- export / import ----------------------------------------------------------------------------

TEST(Store, ExportThenImportIntoAFreshStoreReproducesTheRows) {
  const std::string src_path = fresh_path("src.db");
  Store src = open_ok(src_path);
  populate(src);
  const std::string exported = export_of(src);
  const json doc = json::parse(exported);
  EXPECT_EQ(doc["format"], "hwnas-store");
  EXPECT_EQ(doc["tables"]["measurements"].size(), 9u);
  EXPECT_EQ(doc["tables"]["measurements"][0]["samples_us"].size(), 5u);
  EXPECT_FALSE(doc["tables"]["measurements"][0].contains("id"));
  const std::string json_path = fresh_path("export.json");
  write_bytes(json_path, exported);

  // From the JSON export.
  Store from_json = open_ok(fresh_path("from_json.db"));
  const ImportReport r1 = ok(from_json.import_from(json_path));
  EXPECT_EQ(r1.added(), 2 + 3 + 9 + 1 + 1 + 3 + 2);
  EXPECT_EQ(r1.skipped(), 0);
  EXPECT_EQ(export_of(from_json), exported);

  // From the database file itself.
  Store from_db = open_ok(fresh_path("from_db.db"));
  const ImportReport r2 = ok(from_db.import_from(src_path));
  EXPECT_EQ(r2.added(), r1.added());
  EXPECT_EQ(export_of(from_db), exported);

  // Importing again adds nothing: every key is already there.
  const ImportReport r3 = ok(from_db.import_from(json_path));
  EXPECT_EQ(r3.added(), 0);
  EXPECT_EQ(r3.skipped(), r1.added());
  EXPECT_EQ(export_of(from_db), exported);
}

TEST(Store, ImportMergesStoresOfSeveralMachines) {
  const std::string a_path = fresh_path("machine_a.db");
  const std::string b_path = fresh_path("machine_b.db");
  {
    Store a = open_ok(a_path);
    expect_ok(a.put_device(device("dev-a")));
    expect_ok(a.put_arch(arch(0)));
    expect_ok(a.put_arch(arch(1)));
    ok(a.put_measurement(network(0, "dev-a")));
    ok(a.put_measurement(network(1, "dev-a")));
  }
  {
    Store b = open_ok(b_path);
    expect_ok(b.put_device(device("dev-b")));
    expect_ok(b.put_arch(arch(0)));  // shared
    ok(b.put_measurement(network(0, "dev-b", 1, 2)));
  }
  Store pool = open_ok(fresh_path("pool.db"));
  ok(pool.import_from(a_path));
  const ImportReport rb = ok(pool.import_from(b_path));
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> counts;
  for (const auto& t : rb.tables) counts[t.table] = {t.added, t.skipped};
  EXPECT_EQ(counts["devices"], std::make_pair(std::int64_t{1}, std::int64_t{0}));
  EXPECT_EQ(counts["archs"], std::make_pair(std::int64_t{0}, std::int64_t{1}));
  EXPECT_EQ(counts["measurements"], std::make_pair(std::int64_t{1}, std::int64_t{0}));
  EXPECT_EQ(ok(pool.list_measurements()).size(), 3u);
  EXPECT_EQ(ok(pool.find_measurement(key(hash_of(0), "dev-b")))->record.figures.median_us, 200);
  EXPECT_EQ(ok(pool.find_measurement(key(hash_of(0), "dev-a")))->record.figures.median_us, 100);
  EXPECT_TRUE(ok(pool.check()).ok);
}

TEST(Store, ImportOfABadExportChangesNothing) {
  Store s = open_ok(fresh_path("dst.db"));
  populate(s);
  const std::string before = export_of(s);
  const auto import_text = [&](const std::string& text) {
    const std::string p = fresh_path("bad.json");
    write_bytes(p, text);
    auto r = s.import_from(p);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.error().message.substr(p.size());
  };
  EXPECT_EQ(import_text("{not json"), ": cannot import: neither an SQLite database nor an hwnas store export (JSON)");
  EXPECT_EQ(import_text(R"({"format":"other"})"),
            R"(: cannot import: not an hwnas store export (format must be "hwnas-store"))");
  EXPECT_EQ(import_text(R"({"format":"hwnas-store","schema_version":99,"tables":{}})"),
            fmt::format(": schema version 99 is newer than this hwnas ({}); upgrade hwnas", schema::latest_version()));
  EXPECT_EQ(import_text(R"({"format":"hwnas-store","schema_version":2,"tables":{"nope":[]}})"),
            ": tables.nope: unknown table (known: devices, archs, measurements, cost_models, search_runs, "
            "search_candidates, objective_values, compress_runs)");
  EXPECT_EQ(import_text(R"({"format":"hwnas-store","schema_version":2,"tables":{"devices":[{"cores":"many"}]}})"),
            ": tables.devices[0].cores: must be an integer");
  // A row that fails late (a measurement of a device nobody stored) rolls the whole import back.
  json doc = json::parse(before);
  doc["tables"]["devices"].push_back(to_json(detail::table<DeviceRecord>(), device("dev-new")));
  json m = doc["tables"]["measurements"][0];
  m["device"] = "dev-missing";
  doc["tables"]["measurements"].push_back(m);
  const std::string msg = import_text(doc.dump());
  EXPECT_NE(msg.find("FOREIGN KEY constraint failed"), std::string::npos) << msg;
  EXPECT_EQ(export_of(s), before);
  EXPECT_FALSE(ok(s.find_device("dev-new")));
}

TEST(Store, CsvExportHasAHeaderAndQuotesText) {
  Store s = open_ok(":memory:");
  populate(s);
  DeviceRecord d = device("dev-q", "Model \"X\", rev 2");
  expect_ok(s.put_device(d));
  std::ostringstream out;
  expect_ok(s.export_csv("devices", out));
  const std::string csv = out.str();
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
            "fingerprint,kind,model,cores,threads,isa,bf16_native,engine,driver,peak_f32_gflops,peak_bf16_gflops,"
            "triad_gbs,first_seen,last_seen");
  EXPECT_NE(csv.find(R"(dev-q,cpu,"Model ""X"", rev 2",8,4,avx512_core_bf16,1,oneDNN 3.5.3,,1234.5,2469.25,87.5,)"),
            std::string::npos)
      << csv;
  std::ostringstream m;
  expect_ok(s.export_csv("measurements", m));
  EXPECT_NE(m.str().find("1.1 0.3333333333333333 1e-300 123456.789 -0"), std::string::npos) << m.str();
  std::ostringstream nope;
  auto r = s.export_csv("nope", nope);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            ":memory:: cannot export: unknown table 'nope' (tables: devices, archs, measurements, "
            "cost_models, search_runs, search_candidates, objective_values, compress_runs)");
}

TEST(Store, SubjectHashIsStableAndSeparatesLabels) {
  EXPECT_EQ(subject_hash(hash_of(0), "stage0.block0"), subject_hash(hash_of(0), "stage0.block0"));
  EXPECT_NE(subject_hash(hash_of(0), "stage0.block0"), subject_hash(hash_of(0), "stage0.block1"));
  EXPECT_NE(subject_hash(hash_of(0), "stage0.block0"), subject_hash(hash_of(1), "stage0.block0"));
  EXPECT_EQ(subject_hash(hash_of(0), "x"), space::hash_hex(space::hash64(hash_of(0) + "/x")));
}

}  // namespace
}  // namespace hwnas::store
