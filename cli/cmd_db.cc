// hwnas db stats|list|export|import|check: the measurement store from the command line.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/db_common.h"
#include "cli/table.h"
#include "space/canonical.h"
#include "space/presets.h"

namespace hwnas::cli {

std::string db_path(const po::variables_map& vm) {
  if (vm.count("db") != 0) return vm["db"].as<std::string>();
  if (const char* env = std::getenv("HWNAS_DB"); env != nullptr && *env != '\0') return env;
  return "hwnas.db";
}

store::Store open_store_or_usage_error(const std::string& path, store::OpenMode mode) {
  auto s = store::Store::open(path, mode);
  if (!s) throw UsageError(s.error().message);
  return std::move(s).value();
}

namespace {

template <class T>
T or_fail(Result<T> r) {
  if (!r) throw RuntimeFailure(r.error().message);
  return std::move(r).value();
}

void add_db_option(po::options_description& desc) {
  desc.add_options()("db", po::value<std::string>(), "the store (default $HWNAS_DB, else ./hwnas.db)");
}

int db_stats(const Args& args) {
  po::options_description desc("db stats: counts per device, backend and kind; size");
  add_db_option(desc);
  desc.add_options()("json", "print as JSON");
  po::variables_map vm;
  if (!parse_options("hwnas db stats [--db PATH] [--json]", desc, {}, args, vm)) return kExitOk;
  store::Store db = open_store_or_usage_error(db_path(vm), store::OpenMode::read_only);
  const store::Stats st = or_fail(db.stats());
  if (vm.count("json") != 0) {
    nlohmann::json j = {{"path", st.path},
                        {"schema_version", st.schema_version},
                        {"bytes", st.bytes},
                        {"file_bytes", st.file_bytes},
                        {"wal_bytes", st.wal_bytes}};
    for (const auto& t : st.tables) j["tables"][t.table] = t.rows;
    for (const auto& g : st.groups)
      j["groups"].push_back({{"device", g.device},
                             {"model", g.device_model},
                             {"backend", g.backend},
                             {"kind", std::string(store::name_of(g.kind))},
                             {"count", g.count},
                             {"first", g.first},
                             {"last", g.last}});
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print("{}: schema version {}, {:.1f} KiB in use (file {:.1f} KiB, WAL {:.1f} KiB)\n", st.path, st.schema_version,
             static_cast<double>(st.bytes) / 1024, static_cast<double>(st.file_bytes) / 1024,
             static_cast<double>(st.wal_bytes) / 1024);
  for (const auto& t : st.tables) fmt::print("  {:<18} {:>8} rows\n", t.table, t.rows);
  if (!st.groups.empty()) {
    Table t({{"device", Table::Align::left},
             {"model", Table::Align::left},
             {"backend", Table::Align::left},
             {"kind", Table::Align::left},
             {"measurements"},
             {"oldest", Table::Align::left},
             {"newest", Table::Align::left}});
    for (const auto& g : st.groups)
      t.add_row({g.device, g.device_model, g.backend, std::string(store::name_of(g.kind)), fmt::format("{}", g.count),
                 g.first, g.last});
    t.print(stdout);
  }
  return kExitOk;
}

int db_list(const Args& args) {
  const std::string usage =
      "hwnas db list [--db PATH] [--device FP] [--preset NAME | --hash H] [--kind network|unit|step] [--since DATE]"
      " [--until DATE] [--limit N] [--json]";
  po::options_description desc("db list: stored measurements, newest first");
  add_db_option(desc);
  desc.add_options()("device", po::value<std::string>(), "device fingerprint (or a prefix)")(
      "preset", po::value<std::string>(), "measurements of this preset")(
      "hash", po::value<std::string>(), "arch or subject hash (or a prefix)")("kind", po::value<std::string>(),
                                                                              "network, unit or step")(
      "since", po::value<std::string>(), "UTC date or time, inclusive")("until", po::value<std::string>(),
                                                                        "UTC date or time, exclusive")(
      "limit", po::value<std::int64_t>()->default_value(50), "at most this many rows (0 = all)")("json", "JSON lines");
  po::variables_map vm;
  if (!parse_options(usage, desc, {}, args, vm)) return kExitOk;
  store::MeasurementFilter f;
  if (vm.count("device") != 0) f.device = vm["device"].as<std::string>();
  if (vm.count("hash") != 0) f.hash = vm["hash"].as<std::string>();
  if (vm.count("preset") != 0) {
    auto a = space::preset(vm["preset"].as<std::string>());
    if (!a) throw UsageError(a.error().message);
    f.hash = space::hash_hex(space::arch_hash(*a));
  }
  if (vm.count("kind") != 0) {
    auto k = store::subject_kind_from(vm["kind"].as<std::string>());
    if (!k)
      throw UsageError(fmt::format("--kind: must be network, unit or step (got '{}')", vm["kind"].as<std::string>()));
    f.kind = *k;
  }
  if (vm.count("since") != 0) f.since = vm["since"].as<std::string>();
  if (vm.count("until") != 0) f.until = vm["until"].as<std::string>();
  f.limit = vm["limit"].as<std::int64_t>();
  store::Store db = open_store_or_usage_error(db_path(vm), store::OpenMode::read_only);
  const auto rows = or_fail(db.list_measurements(f));
  if (vm.count("json") != 0) {
    for (const auto& m : rows)
      fmt::print("{}\n", nlohmann::json{{"kind", std::string(store::name_of(m.kind))},
                                        {"arch", m.arch_hash},
                                        {"label", m.label},
                                        {"device", m.key.device},
                                        {"backend", m.key.backend},
                                        {"batch", m.key.batch},
                                        {"dtype", m.key.dtype},
                                        {"threads", m.key.threads},
                                        {"protocol", m.key.protocol},
                                        {"figure_us", m.figures.figure_us},
                                        {"median_us", m.figures.median_us},
                                        {"p90_us", m.figures.p90_us},
                                        {"n", m.figures.n},
                                        {"noisy", m.figures.noisy},
                                        {"created_at", m.created_at}}
                             .dump());
    return kExitOk;
  }
  Table t({{"created (UTC)", Table::Align::left},
           {"kind", Table::Align::left},
           {"arch", Table::Align::left},
           {"subject", Table::Align::left},
           {"device", Table::Align::left},
           {"b"},
           {"dtype", Table::Align::left},
           {"t"},
           {"protocol", Table::Align::left},
           {"median us"},
           {"p90 us"},
           {"noisy", Table::Align::left}});
  for (const auto& m : rows)
    t.add_row({m.created_at, std::string(store::name_of(m.kind)), m.arch_hash, m.label.empty() ? "-" : m.label,
               m.key.device, fmt::format("{}", m.key.batch), m.key.dtype, fmt::format("{}", m.key.threads),
               m.key.protocol, fmt::format("{:.1f}", m.figures.median_us), fmt::format("{:.1f}", m.figures.p90_us),
               m.figures.noisy ? "yes" : ""});
  t.print(stdout);
  return kExitOk;
}

int db_export(const Args& args) {
  const std::string usage = "hwnas db export [--db PATH] [--format json|csv] [--table NAME] [-o FILE]";
  po::options_description desc("db export: every table as JSON (importable), or one table as CSV");
  add_db_option(desc);
  desc.add_options()("format", po::value<std::string>()->default_value("json"), "json or csv")(
      "table", po::value<std::string>()->default_value("measurements"), "the table (csv)")(
      "output,o", po::value<std::string>(), "file (default: standard output)");
  po::variables_map vm;
  if (!parse_options(usage, desc, {}, args, vm)) return kExitOk;
  const std::string format = vm["format"].as<std::string>();
  if (format != "json" && format != "csv")
    throw UsageError(fmt::format("--format: must be json or csv (got '{}')", format));
  store::Store db = open_store_or_usage_error(db_path(vm), store::OpenMode::read_only);
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (vm.count("output") != 0) {
    file.open(vm["output"].as<std::string>(), std::ios::binary);
    if (!file) throw UsageError(fmt::format("{}: cannot write", vm["output"].as<std::string>()));
    out = &file;
  }
  auto st = format == "json" ? db.export_json(*out) : db.export_csv(vm["table"].as<std::string>(), *out);
  if (!st) throw UsageError(st.error().message);
  return kExitOk;
}

int db_import(const Args& args) {
  const std::string usage = "hwnas db import [--db PATH] SOURCE...";
  po::options_description desc("db import: merge other stores or exports into this one (duplicates skipped)");
  add_db_option(desc);
  desc.add_options()("source", po::value<std::vector<std::string>>()->required(), "another hwnas.db or an export JSON");
  po::positional_options_description pos;
  pos.add("source", -1);
  po::variables_map vm;
  if (!parse_options(usage, desc, pos, args, vm)) return kExitOk;
  store::Store db = open_store_or_usage_error(db_path(vm), store::OpenMode::read_write);
  for (const auto& src : vm["source"].as<std::vector<std::string>>()) {
    auto rep = db.import_from(src);
    if (!rep) throw UsageError(rep.error().message);
    fmt::print("{}: {} rows added, {} already stored", src, rep->added(), rep->skipped());
    for (const auto& t : rep->tables)
      if (t.added + t.skipped > 0) fmt::print("; {} +{}/={}", t.table, t.added, t.skipped);
    fmt::print("\n");
  }
  return kExitOk;
}

int db_check(const Args& args) {
  po::options_description desc("db check: integrity and schema version");
  add_db_option(desc);
  po::variables_map vm;
  if (!parse_options("hwnas db check [--db PATH]", desc, {}, args, vm)) return kExitOk;
  store::Store db = open_store_or_usage_error(db_path(vm), store::OpenMode::read_only);
  const auto rep = or_fail(db.check());
  fmt::print("{}: schema version {} (this hwnas: {}): {}\n", db.path(), rep.schema_version, rep.tool_schema_version,
             rep.ok ? "ok" : "PROBLEMS");
  for (const auto& p : rep.problems) fmt::print("  {}\n", p);
  return rep.ok ? kExitOk : kExitFailure;
}

}  // namespace

int run_db(const Args& args) {
  static const std::vector<Command> kSub = {
      {"stats", "counts per device, backend and kind; size", db_stats},
      {"list", "stored measurements, filtered, newest first", db_list},
      {"export", "every table as JSON (importable) or one as CSV", db_export},
      {"import", "merge other stores or exports (pooling measurements from several machines)", db_import},
      {"check", "integrity check and schema version", db_check},
  };
  return dispatch(kSub, "hwnas db", args);
}

}  // namespace hwnas::cli
