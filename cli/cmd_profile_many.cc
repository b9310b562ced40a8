// hwnas profile --archs FILE.jsonl: many architectures end to end (and block by block with
// --per-block), each stored as it is measured; on an MPI farm (--mpi) handed to the workers as they
// come free. What the store already holds for the key is reused unless --force.
#include "cli/cmd_profile_many.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/command.h"
#include "cli/cost_options.h"
#include "cli/db_common.h"
#include "cli/farm.h"
#include "cli/output_file.h"
#include "cli/store_records.h"
#include "cli/stored_profile.h"
#include "cli/table.h"
#include "profilers/profile.h"
#include "profilers/weight_source.h"
#include "space/arch_json.h"
#include "space/canonical.h"
#include "space/count.h"

namespace hwnas::cli {
namespace {

using nlohmann::json;

struct Item {
  space::Arch arch;
  std::string hash;
  std::string source;  // "store", "here", "rank N (host)"
  std::string error;
};

// Every non-empty line of `path` is an architecture as JSON (what `hwnas space sample` writes); a bad
// line is a usage error naming the file and line. Repeated architectures are profiled once.
std::vector<Item> read_archs(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("{}: cannot read", path));
  std::vector<Item> items;
  std::set<std::string> seen;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto arch = space::parse_arch(line, fmt::format("{}:{}", path, n));
    if (!arch) throw UsageError(arch.error().message);
    std::string hash = space::hash_hex(space::arch_hash(*arch));
    if (!seen.insert(hash).second) continue;
    items.push_back({std::move(*arch), std::move(hash), "", ""});
  }
  if (items.empty()) throw UsageError(fmt::format("{}: no architecture in it (one JSON object per line)", path));
  return items;
}

}  // namespace

int run_profile_many(const po::variables_map& vm) {
  for (const char* o : {"preset", "file", "trace", "per-op", "weights", "no-db"})
    if (vm.count(o) != 0) throw UsageError(fmt::format("--archs: not with --{}", o));
  if (vm["chunk"].as<std::int64_t>() != 0) throw UsageError("--archs: not with --chunk");
  const auto protocol = prof::protocol_from(vm["protocol"].as<std::string>());
  if (!protocol)
    throw UsageError(fmt::format("--protocol: unknown '{}' (default, litv2, hat, nnmeter, trtexec)",
                                 vm["protocol"].as<std::string>()));
  const std::string file = vm["archs"].as<std::string>();
  std::vector<Item> items = read_archs(file);
  const bool per_unit = vm.count("per-block") != 0;

  store::Store db = open_store_or_usage_error(db_path(vm), store::OpenMode::read_write);
  CostTarget target = cost_target(vm, &db);
  prof::Backend& backend = *target.backend;
  CostKey key = target.key;
  key.protocol = std::string(prof::name_of(*protocol));
  prof::ProfileOptions opts;
  opts.run = key.run;
  opts.protocol = *protocol;
  opts.per_unit = per_unit;
  prof::mpi::Coordinator* farm = farm_from_options(vm, "profile", key.model.device, key.model.device_model);

  // What the store has; what is left to measure.
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (auto why = backend.unsupported(items[i].arch, key.run); !why.empty()) {
      items[i].error = why;
    } else if (vm.count("force") == 0 &&
               find_profile(db, network_key(items[i].hash, backend.device(), opts, key.model.backend), items[i].arch,
                            per_unit)) {
      items[i].source = "store";
    } else {
      todo.push_back(i);
    }
  }
  const bool tty = isatty(fileno(stderr)) != 0;
  fmt::print(stderr, "profile: {} architecture(s) from {}: {} in the store, {} to measure{}\n", items.size(), file,
             items.size() - todo.size(), todo.size(),
             farm != nullptr ? fmt::format(" on {} MPI worker(s)", farm->workers_on(key.model.device)) : "");
  const auto start = std::chrono::steady_clock::now();
  std::size_t done = 0;
  auto progress = [&](const Item& it) {
    ++done;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double eta = s / static_cast<double>(done) * static_cast<double>(todo.size() - done);
    const std::string line = fmt::format("[{}/{}] {} {} {}, ETA {:.0f} s", done, todo.size(), it.hash,
                                         it.arch.meta.name, it.error.empty() ? "by " + it.source : "failed", eta);
    if (tty)
      fmt::print(stderr, "\r\033[K{}", line);
    else
      fmt::print(stderr, "{}\n", line);
  };

  if (farm != nullptr) {
    std::vector<const space::Arch*> archs;
    std::vector<std::string> hashes;
    for (std::size_t i : todo) {
      archs.push_back(&items[i].arch);
      hashes.push_back(items[i].hash);
    }
    farm_profile(*farm, db, key, archs, hashes, *protocol, per_unit,
                 [&](std::size_t job, const Result<FarmMeasured>& m) {
                   Item& it = items[todo[job]];
                   if (m)
                     it.source = fmt::format("rank {} ({})", m->rank, m->host);
                   else
                     it.error = m.error().message;
                   progress(it);
                 });
  } else if (!todo.empty()) {
    if (vm.count("no-peaks") == 0) backend.measure_peaks();
    const prof::RandomWeights weights;
    for (std::size_t i : todo) {
      Item& it = items[i];
      auto r = prof::profile(backend, it.arch, opts, weights);
      if (!r) {
        it.error = r.error().message;
      } else {
        store_profile(db, it.arch, *r, key.model.backend);
        it.source = "here";
      }
      progress(it);
    }
  }
  if (tty && !todo.empty()) fmt::print(stderr, "\r\033[K");

  // The table, from the store: every row alike, wherever it was measured.
  Table t({{"#"},
           {"name", Table::Align::left},
           {"hash", Table::Align::left},
           {"MACs"},
           {"median ms"},
           {"p90 ms"},
           {"CV"},
           {"img/s"},
           {"measured by", Table::Align::left}});
  json out = json::array();
  std::size_t failed = 0, noisy = 0, now = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    auto net = space::lower(it.arch);
    const std::string macs = net ? space::format_macs(space::count(*net).macs) : "-";
    if (!it.error.empty()) {
      ++failed;
      t.add_row({std::to_string(i + 1), it.arch.meta.name, it.hash, macs, "-", "-", "-", "-", "failed: " + it.error});
      out.push_back({{"name", it.arch.meta.name}, {"hash", it.hash}, {"error", it.error}});
      continue;
    }
    auto hit = db.find_measurement(network_key(it.hash, backend.device(), opts, key.model.backend));
    if (!hit || !*hit) throw RuntimeFailure(fmt::format("{}: measured but not found in {}", it.hash, db.path()));
    const store::Figures& f = (*hit)->record.figures;
    noisy += f.noisy ? 1 : 0;
    now += it.source == "store" ? 0 : 1;
    t.add_row({std::to_string(i + 1), it.arch.meta.name, it.hash, macs, fmt::format("{:.3f}", f.figure_us / 1e3),
               fmt::format("{:.3f}", f.p90_us / 1e3), fmt::format("{:.1f}%", 100 * f.cv),
               fmt::format("{:.1f}", f.figure_us > 0 ? 1e6 * static_cast<double>(key.run.batch) / f.figure_us : 0.0),
               it.source + (f.noisy ? " (noisy)" : "")});
    out.push_back({{"name", it.arch.meta.name},
                   {"hash", it.hash},
                   {"figure_us", f.figure_us},
                   {"p90_us", f.p90_us},
                   {"cv", f.cv},
                   {"noisy", f.noisy},
                   {"measured_by", it.source}});
  }
  fmt::print("{} on {} [{}], backend {}, batch {}, {}, protocol {}\n", file, key.model.device_model,
             key.model.device.substr(0, 8), key.model.backend, key.run.batch, key.model.dtype, key.protocol);
  t.print(stdout);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("{} architecture(s): {} measured now in {:.1f} s, {} from the store, {} failed, {} noisy\n", items.size(),
             now, s, items.size() - now - failed, failed, noisy);
  if (farm != nullptr) fmt::print("{}\n", farm_summary(*farm));
  if (vm.count("json") != 0) write_output_file(vm["json"].as<std::string>(), out.dump(2) + "\n");
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace hwnas::cli
