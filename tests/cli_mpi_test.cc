// The MPI measurement farm end to end, with real OpenMPI on this machine (issue: device farm):
// `mpirun -n 3` = a coordinator and two workers. Skips itself where hwnas was built without MPI or
// mpirun is absent. Bounded in time: the fake backend's virtual clock, a tiny space, 1 thread.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "cli_run.h"
#include "profilers/mpi/farm.h"
#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using hwnas::store::Store;
using nlohmann::json;

// Every process that starts MPI, under the ASan build of tools/test: LeakSanitizer off. OpenMPI keeps
// allocations until exit and unloads its components at MPI_Finalize, so their frames are unknown
// and no suppression can name them; ASan's other checks and UBSan stay on. (Other builds ignore it.)
const std::string kWithMpi = "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\" ";

// As root (CI), OpenMPI wants both variables; --oversubscribe: 3 ranks on 2 cores; --bind-to none:
// the ranks share the cores as the OS schedules them.
std::string mpirun(int ranks) {
  return kWithMpi + "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + std::string(HWNAS_MPIEXEC) +
         " --oversubscribe --bind-to none -n " + std::to_string(ranks) + " " + HWNAS_BINARY + " ";
}

bool skip_without_mpi() {
  return !hwnas::prof::mpi::built() || std::string(HWNAS_MPIEXEC).empty() || !fs::exists(HWNAS_MPIEXEC);
}

Store open_db(const std::string& path) {
  auto s = Store::open(path, hwnas::store::OpenMode::read_only);
  if (!s) throw std::runtime_error(s.error().message);
  return std::move(*s);
}

// Network measurements in the store: subject hash → figure (µs).
std::map<std::string, double> networks(const std::string& db) {
  Store s = open_db(db);
  hwnas::store::MeasurementFilter f;
  f.kind = hwnas::store::SubjectKind::network;
  auto ms = s.list_measurements(f);
  if (!ms) throw std::runtime_error(ms.error().message);
  std::map<std::string, double> out;
  for (const auto& m : *ms) out[m.key.subject_hash] = m.figures.figure_us;
  return out;
}

// Every measurement's samples by subject (the wire carries them as hex of their bytes: bit-exact).
std::map<std::string, std::vector<double>> samples(const std::string& db) {
  Store s = open_db(db);
  auto ms = s.list_measurements({});
  if (!ms) throw std::runtime_error(ms.error().message);
  std::map<std::string, std::vector<double>> out;
  for (const auto& m : *ms) out[m.key.subject_hash] = m.figures.samples_us;
  return out;
}

// What a search decided: the best arch and the measured front (hashes and latencies), without
// the run's own id and name.
json decided(const std::string& out_dir) {
  std::ifstream b(out_dir + "/best.json"), p(out_dir + "/pareto.json");
  json best = json::parse(b), pareto = json::parse(p);
  best.erase("meta");
  return {{"best", best}, {"front", pareto.at("front_measured")}};
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// `cmd` (ending in --db) run in one process into a fresh store `one`, then on 3 ranks with --mpi into
// a fresh store `many`; both must succeed.
std::pair<CliRun, CliRun> alone_and_on_farm(const std::string& cmd, const std::string& one, const std::string& many) {
  fs::remove(one);
  fs::remove(many);
  CliRun a = run(cmd + one);
  EXPECT_EQ(a.code, 0) << a.out;
  CliRun b = run_shell(mpirun(3) + cmd + many + " --mpi");
  EXPECT_EQ(b.code, 0) << b.out;
  return {std::move(a), std::move(b)};
}

std::string fmt_count(std::size_t stored, std::size_t todo) {
  return std::to_string(stored) + " in the store, " + std::to_string(todo) + " to measure";
}

std::string calibrated_fake_db(const std::string& name) {
  const std::string db = tmp(name);
  fs::remove(db);
  const CliRun c = run("calibrate --backend fake --threads 1 --budget-min 0.2 --eval-archs 4 --db " + db);
  EXPECT_EQ(c.code, 0) << c.out;
  return db;
}

TEST(CliMpi, FakeSearchOnTwoWorkersEqualsTheSingleProcessSearch) {
  if (skip_without_mpi()) GTEST_SKIP() << "hwnas built without MPI, or no mpirun";
  const std::string base = calibrated_fake_db("mpi_base.db");
  const std::string single = tmp("mpi_single.db"), farm = tmp("mpi_farm.db");
  fs::copy_file(base, single, fs::copy_options::overwrite_existing);
  fs::copy_file(base, farm, fs::copy_options::overwrite_existing);
  const std::string search =
      "search --backend fake --threads 1 --space tiny --evaluations 96 --population 16 --budget-ms 1 --seed 3 ";
  // Two workers measure in batches of two by default; one process with --measure-batch 2 decides alike.
  const CliRun a = run(search + "--measure-batch 2 --db " + single + " --out " + tmp("mpi_single_out"));
  ASSERT_EQ(a.code, 0) << a.out;
  const CliRun b = run_shell(mpirun(3) + search + "--mpi --db " + farm + " --out " + tmp("mpi_farm_out"));
  ASSERT_EQ(b.code, 0) << b.out;
  EXPECT_NE(b.out.find("MPI: 2 worker(s) measure on"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("batches of 2"), std::string::npos) << b.out;
  EXPECT_EQ(decided(tmp("mpi_single_out")), decided(tmp("mpi_farm_out")));

  // Every measurement landed exactly once: the farm's store holds what the single process measured,
  // figure for figure, and the new ones are as many as the search says it measured now.
  const auto before = networks(base), one = networks(single), many = networks(farm);
  EXPECT_EQ(one, many);
  const std::size_t now = many.size() - before.size();
  EXPECT_GT(now, 3u);
  EXPECT_NE(b.out.find(std::to_string(now) + " measured now + 0 from the store"), std::string::npos) << b.out;
  EXPECT_EQ(count_of(b.out, " measured "), count_of(a.out, " measured ")) << b.out;
  const CliRun check = run("db check --db " + farm);
  EXPECT_EQ(check.code, 0) << check.out;
}

TEST(CliMpi, CpuSearchWithOneThreadPerRankCompletesAndTheStoreChecks) {
  if (skip_without_mpi()) GTEST_SKIP() << "hwnas built without MPI, or no mpirun";
  const std::string db = tmp("mpi_cpu.db");
  fs::remove(db);
  const CliRun r = run_shell(mpirun(3) +
                             "search --backend onednn --threads 1 --space tiny --objective params --evaluations 32 "
                             "--population 8 --budget-ms 20 "
                             "--measure-top 3 --measure-front 1 --calibrate-min 0.15 --no-presets --mpi --db " +
                             db + " --out " + tmp("mpi_cpu_out"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("MPI: 2 worker(s)"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(tmp("mpi_cpu_out") + "/best.json")) << r.out;
  const CliRun check = run("db check --db " + db);
  EXPECT_EQ(check.code, 0) << check.out;
}

TEST(CliMpi, WithoutWorkersTheCommandIsRefused) {
  if (skip_without_mpi()) GTEST_SKIP() << "hwnas built without MPI, or no mpirun";
  const CliRun r = run_shell(mpirun(1) + "search --backend fake --space tiny --mpi --db " + tmp("mpi_one.db"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--mpi: no workers"), std::string::npos) << r.out;
}

// A worker killed mid-run: OpenMPI ends the job and says which rank died; the store loses nothing
// committed and passes its check; --resume finishes the run without measuring again what it has.
TEST(CliMpi, AWorkerKilledMidRunLosesNothingAndTheRunResumes) {
  if (skip_without_mpi()) GTEST_SKIP() << "hwnas built without MPI, or no mpirun";
  const std::string base = tmp("mpi_kill_base.db"), db = tmp("mpi_kill.db"), log = tmp("mpi_kill.log");
  fs::remove(base);
  // The cost model first (a short search calibrates ~10 s for it), then the search on the farm, with
  // an objective that costs nothing, so that the time goes to measurements.
  const std::string search =
      "search --backend onednn --threads 1 --space tiny --objective params --population 16 --budget-ms 20 "
      "--no-presets ";
  const CliRun cal =
      run(search + "--evaluations 16 --measure-top 1 --measure-front 0 --calibrate-min 0.15 --db " + base);
  ASSERT_EQ(cal.code, 0) << cal.out;
  fs::copy_file(base, db, fs::copy_options::overwrite_existing);
  const std::size_t calibrated = networks(db).size();
  const std::string pidfile = tmp("mpi_kill.pid"), rcfile = tmp("mpi_kill.rc");
  fs::remove(rcfile);
  ASSERT_EQ(std::system(("(" + mpirun(3) + search +
                         "--evaluations 400 --measure-top 12 --measure-front 8 --seed 2 --mpi --db " + db + " --out " +
                         tmp("mpi_kill_out") + " > " + log + " 2>&1; echo $? > " + rcfile + ") & echo $! > " + pidfile)
                            .c_str()),
            0);
  // Wait until the farm has committed some measurements, then kill worker rank 1.
  const auto start = std::chrono::steady_clock::now();
  std::size_t seen = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(240)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    try {
      seen = networks(db).size() - calibrated;
    } catch (const std::exception&) {
      continue;  // the store is being written
    }
    if (seen >= 2 || fs::exists(rcfile)) break;
  }
  ASSERT_FALSE(fs::exists(rcfile)) << "the search ended before a worker could be killed:\n" << read_text(log);
  ASSERT_GE(seen, 2u) << read_text(log);
  // Rank 1 of this search (its store on the command line): the process whose environment says
  // OMPI_COMM_WORLD_RANK=1.
  const CliRun pid = run_shell("for p in $(pgrep -f 'hwnas search.*" + db +
                               "'); do tr '\\0' '\\n' < /proc/$p/environ 2>/dev/null | "
                               "grep -qx OMPI_COMM_WORLD_RANK=1 && echo $p; done | head -1");
  ASSERT_FALSE(pid.out.empty()) << "no rank 1 found";
  ASSERT_EQ(kill(std::stoi(pid.out), SIGKILL), 0);
  while (!fs::exists(rcfile) && std::chrono::steady_clock::now() - start < std::chrono::seconds(300))
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::string out = read_text(log);
  EXPECT_NE(std::stoi(read_text(rcfile)), 0) << out;
  EXPECT_NE(out.find("signal 9"), std::string::npos) << out;

  const CliRun check = run("db check --db " + db);
  EXPECT_EQ(check.code, 0) << check.out;
  const std::size_t kept = networks(db).size() - calibrated;
  EXPECT_GE(kept, seen);

  Store s = open_db(db);
  auto runs = s.list_search_runs();
  ASSERT_TRUE(runs);
  std::vector<std::string> running;  // the killed one (the short search before it finished)
  for (const auto& r : *runs)
    if (r.status == hwnas::store::SearchStatus::running) running.push_back(r.id);
  ASSERT_EQ(running.size(), 1u);
  const std::string id = running.front();
  const CliRun resumed =
      run("search --backend onednn --threads 1 --resume " + id + " --db " + db + " --out " + tmp("mpi_kill_resumed"));
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  // What the killed run committed is found in the store, not measured again.
  const std::regex re("([0-9]+) measured now \\+ ([0-9]+) from the store");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(resumed.out, m, re)) << resumed.out;
  EXPECT_GE(static_cast<std::size_t>(std::stoul(m[2].str())), kept) << resumed.out;
  EXPECT_EQ(networks(db).size() - calibrated, kept + std::stoul(m[1].str()));
}

// profile --archs: the same figures in one process and on two workers (the fake backend is
// deterministic), every architecture stored once, both workers used; a second run finds them all.
TEST(CliMpi, ProfileArchsOnTwoWorkersStoresEachOnceAsOneProcessDoes) {
  if (skip_without_mpi()) GTEST_SKIP() << "hwnas built without MPI, or no mpirun";
  const std::string archs = tmp("mpi_archs.jsonl"), one = tmp("mpi_prof_one.db"), many = tmp("mpi_prof_many.db");
  const CliRun sample = run("space sample --space tiny -n 16 --seed 5");
  ASSERT_EQ(sample.code, 0) << sample.out;
  // Twice the first line: repeated architectures are profiled once.
  std::ofstream(archs) << sample.out << sample.out.substr(0, sample.out.find('\n') + 1);
  const std::string cmd = "profile --archs " + archs + " --backend fake --threads 1 --per-block --db ";
  const auto [a, b] = alone_and_on_farm(cmd, one, many);
  ASSERT_EQ(b.code, 0);
  EXPECT_NE(b.out.find("16 to measure on 2 MPI worker(s)"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("16 architecture(s): 16 measured now"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("rank 1 ("), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("rank 2 ("), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("MPI: 16 job(s) on 2 worker(s)"), std::string::npos) << b.out;
  const auto nets = networks(many);
  EXPECT_EQ(nets.size(), 16u);
  EXPECT_EQ(networks(one), nets);
  const auto sampled = samples(many);
  EXPECT_EQ(samples(one), sampled);
  EXPECT_FALSE(sampled.begin()->second.empty());
  // Units too (--per-block), as many as in one process.
  auto units = [](const std::string& db) {
    Store s = open_db(db);
    hwnas::store::MeasurementFilter f;
    f.kind = hwnas::store::SubjectKind::unit;
    return s.list_measurements(f)->size();
  };
  EXPECT_GT(units(many), 16u);
  EXPECT_EQ(units(one), units(many));
  // Again: every clean measurement is found in the store; only those the noise gate flagged (the
  // load average of a busy test machine) are measured again, by design.
  std::size_t clean = 0;
  {
    Store s = open_db(many);
    hwnas::store::MeasurementFilter f;
    f.kind = hwnas::store::SubjectKind::network;
    auto ms = s.list_measurements(f);
    ASSERT_TRUE(ms);
    for (const auto& m : *ms) clean += m.figures.noisy ? 0 : 1;
  }
  const CliRun again = run_shell(mpirun(3) + cmd + many + " --mpi");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find(fmt_count(clean, 16 - clean)), std::string::npos) << again.out;
  EXPECT_EQ(run("db check --db " + many).code, 0);
}

// calibrate --mpi: the plan shared by two workers measures more in the same (virtual) budget than
// one process, and the model is fitted and stored.
TEST(CliMpi, CalibrateOnTwoWorkersMeasuresMoreInTheSameBudget) {
  if (skip_without_mpi()) GTEST_SKIP() << "hwnas built without MPI, or no mpirun";
  const std::string one = tmp("mpi_cal_one.db"), many = tmp("mpi_cal_many.db");
  const std::string cmd = "calibrate --backend fake --threads 1 --budget-min 0.2 --eval-archs 2 --no-presets --db ";
  const auto [a, b] = alone_and_on_farm(cmd, one, many);
  ASSERT_EQ(a.code, 0);
  ASSERT_EQ(b.code, 0);
  EXPECT_NE(b.out.find("2 MPI worker(s) measure"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("stored as cost model v1"), std::string::npos) << b.out;
  const std::regex re("calibration: ([0-9]+) units measured");
  std::smatch ma, mb;
  ASSERT_TRUE(std::regex_search(a.out, ma, re)) << a.out;
  ASSERT_TRUE(std::regex_search(b.out, mb, re)) << b.out;
  EXPECT_GT(std::stoi(mb[1].str()), std::stoi(ma[1].str())) << a.out << b.out;
  EXPECT_EQ(run("db check --db " + many).code, 0);
}

// --mpi-devices: ranks 0 and 1 get the fake backend on 1 thread, rank 2 on 2 threads (another
// device): only rank 1 measures this command's device. A bad map ends every rank with one line.
TEST(CliMpi, DeviceMapAssignsEachRankItsDevice) {
  if (skip_without_mpi()) GTEST_SKIP() << "hwnas built without MPI, or no mpirun";
  const std::string map = temp_file(
      "mpi_map.json",
      R"({"ranks": [{"rank": [0, 1], "backend": "fake", "threads": 1}, {"rank": 2, "backend": "fake", "threads": 2}]})");
  const std::string archs = tmp("mpi_map_archs.jsonl"), db = tmp("mpi_map.db");
  fs::remove(db);
  std::ofstream(archs) << run("space sample --space tiny -n 4 --seed 6").out;
  // The command line names onednn with every thread: the map overrides it on each rank.
  const CliRun r = run_shell(mpirun(3) + "profile --archs " + archs + " --db " + db + " --mpi --mpi-devices " + map);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("4 to measure on 1 MPI worker(s)"), std::string::npos) << r.out;
  EXPECT_EQ(count_of(r.out, "by rank 1 ("), 4u) << r.out;  // the progress lines
  EXPECT_EQ(r.out.find("rank 2 ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("backend fake"), std::string::npos) << r.out;

  const std::string bad = temp_file("mpi_bad_map.json", R"({"ranks": [{"rank": 1, "threads": -2}]})");
  const CliRun b = run_shell(mpirun(3) + "profile --archs " + archs + " --db " + db + " --mpi --mpi-devices " + bad);
  EXPECT_EQ(b.code, 2) << b.out;
  EXPECT_EQ(count_of(b.out, "ranks[0].threads: must be in [0, 1048576] (got -2)"), 1u) << b.out;
}

// Without MPI too: profile --archs in one process refuses a bad line, naming the file and line.
TEST(CliProfileArchs, BadLinesAreRefusedWithFileAndLine) {
  const std::string archs =
      temp_file("bad_archs.jsonl", run("space sample --space tiny -n 1 --seed 1").out + "\n{\"stages\": 3}\n");
  const CliRun r = run("profile --archs " + archs + " --backend fake --db " + tmp("bad_archs.db"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(archs + ":3"), std::string::npos) << r.out;
  const CliRun m = run("profile --archs " + archs + " --backend fake --preset deit-tiny --db " + tmp("bad_archs.db"));
  EXPECT_EQ(m.code, 2) << m.out;
  EXPECT_NE(m.out.find("--archs: not with --preset"), std::string::npos) << m.out;
  const CliRun n = run_shell(kWithMpi + HWNAS_BINARY + " profile --preset deit-tiny --mpi --no-db");
  EXPECT_EQ(n.code, 2) << n.out;
}

}  // namespace

// A search for two devices at once: two fake CPUs (1 and 2 threads: two fingerprints) named by the
// device map, one worker each, a budget each. Everything reported fits both budgets, the front is
// over both latencies, each measurement is stored under its own device, the run resumes, and the
// report draws the two-device front.
TEST(CliMpi, SearchForTwoDevicesAtOnce) {
  if (skip_without_mpi()) GTEST_SKIP() << "hwnas built without MPI, or no mpirun";
  const std::string map = temp_file("mpi_two_map.json", R"({"ranks": [
      {"rank": 0, "backend": "fake", "threads": 1},
      {"rank": 1, "name": "small", "backend": "fake", "threads": 1},
      {"rank": 2, "name": "big", "backend": "fake", "threads": 2}]})");
  const std::string db = tmp("mpi_two.db"), out = tmp("mpi_two_out");
  fs::remove(db);
  fs::remove_all(out);
  const std::string search =
      "search --device small --device big --budget-ms small=0.1,big=0.075 --space tiny "
      "--evaluations 64 --population 16 --seed 3 --calibrate-min 0.1 --no-presets --db " +
      db + " --mpi --mpi-devices " + map;
  const CliRun r = run_shell(mpirun(3) + search + " --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("MPI: 1 worker(s) measure small on fake roofline (1 threads)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MPI: 1 worker(s) measure big on fake roofline (2 threads)"), std::string::npos) << r.out;

  std::ifstream pf(out + "/pareto.json");
  const json pareto = json::parse(pf);
  const json& devices = pareto.at("result").at("devices");
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].at("name"), "small");
  EXPECT_EQ(devices[1].at("name"), "big");
  EXPECT_NE(devices[0].at("device"), devices[1].at("device"));
  // Network measurements by (device, arch): the front's figures are the stored ones, per device.
  std::map<std::pair<std::string, std::string>, double> stored;
  {
    Store s = open_db(db);
    hwnas::store::MeasurementFilter f;
    f.kind = hwnas::store::SubjectKind::network;
    const auto list = s.list_measurements(f);
    ASSERT_TRUE(list) << list.error().message;
    for (const auto& m : *list) stored[{m.key.device, m.key.subject_hash}] = m.figures.figure_us;
  }
  const json& front = pareto.at("front_measured");
  ASSERT_FALSE(front.empty()) << r.out;
  const double budgets[] = {0.1, 0.075};
  bool best_on_front = false;
  for (const json& a : front) {
    best_on_front = best_on_front || a.at("hash") == pareto.at("result").at("best");
    ASSERT_EQ(a.at("devices").size(), 2u);
    for (std::size_t d = 0; d < 2; ++d) {
      const double ms = a.at("devices")[d].at("measured_ms").get<double>();
      EXPECT_LE(ms, budgets[d]) << a.dump();
      const auto it = stored.find({devices[d].at("device").get<std::string>(), a.at("hash").get<std::string>()});
      ASSERT_NE(it, stored.end()) << a.dump();
      EXPECT_DOUBLE_EQ(it->second / 1e3, ms);
    }
    // Non-dominated over both latencies and the score among the front.
    for (const json& b : front) {
      auto v = [](const json& x, std::size_t d) { return x.at("devices")[d].at("measured_ms").get<double>(); };
      const bool no_worse = v(b, 0) <= v(a, 0) && v(b, 1) <= v(a, 1) && b.at("score") >= a.at("score");
      const bool better = v(b, 0) < v(a, 0) || v(b, 1) < v(a, 1) || b.at("score") > a.at("score");
      EXPECT_FALSE(no_worse && better) << b.dump() << " dominates " << a.dump();
    }
  }
  EXPECT_TRUE(best_on_front) << pareto.dump(1);
  EXPECT_EQ(run("db check --db " + db).code, 0);

  // The run resumes from the store (its devices by their stored names): same best, nothing
  // measured again.
  const std::string run_id = pareto.at("result").at("run");
  const CliRun again = run_shell(mpirun(3) + "search --resume " + run_id + " --db " + db + " --mpi --mpi-devices " +
                                 map + " --out " + out + "2");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find(" 0 measured now + "), std::string::npos) << again.out;
  EXPECT_EQ(decided(out), decided(out + "2"));

  // The report's cross-device section shows the two-device front.
  const std::string html = tmp("mpi_two.html");
  const CliRun rep = run("report --db " + db + " --run " + run_id + " --out " + html);
  ASSERT_EQ(rep.code, 0) << rep.out;
  std::ifstream hf(html);
  const std::string page((std::istreambuf_iterator<char>(hf)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("the front over 2 devices"), std::string::npos);
  EXPECT_NE(page.find("latency on small vs big"), std::string::npos);
}
