// hwnas search end to end on the fake backend (virtual clock: calibration and measurements take
// milliseconds): the files it writes, resume from the store, bad budgets and failing objectives.
#include <algorithm>
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_run.h"

namespace {

const std::string kFast = "search --backend fake --space tiny --evaluations 96 --population 16 --quiet ";

std::string run_id_of(const std::string& out) {
  std::smatch m;
  const std::regex re("search ([0-9a-f]{16}):");
  return std::regex_search(out, m, re) ? m[1].str() : "";
}

TEST(CliSearch, WritesBestAndParetoThatProfileToolsAcceptAndResumesFromTheStore) {
  const std::string db = tmp("search.db"), out = tmp("search_out"), again = tmp("search_again");
  std::remove(db.c_str());
  const CliRun r = run(kFast + "--objective params --budget-ms 0.05 --db " + db + " --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("within budget"), std::string::npos) << r.out;
  // The finalists by score are within budget (the fake device is exactly its model); a row over it
  // can only be the fastest candidate, measured while nothing was believed within budget.
  std::smatch first;
  ASSERT_TRUE(std::regex_search(r.out, first, std::regex("\n *1  [0-9a-f]{16}[^\n]*"))) << r.out;
  EXPECT_NE(first.str().find("within budget"), std::string::npos) << r.out;
  std::size_t over = 0;
  for (auto at = r.out.find("OVER BUDGET"); at != std::string::npos; at = r.out.find("OVER BUDGET", at + 1)) ++over;
  EXPECT_LE(over, 2u) << r.out;
  const std::string id = run_id_of(r.out);
  ASSERT_EQ(id.size(), 16u) << r.out;

  // best.json is an arch file the other commands accept.
  const CliRun show = run("space show " + out + "/best.json");
  EXPECT_EQ(show.code, 0) << show.out;
  const auto pareto = nlohmann::json::parse(read_text(out + "/pareto.json"));
  ASSERT_FALSE(pareto["front_measured"].empty());
  for (const auto& p : pareto["front_measured"]) EXPECT_LE(p["measured_ms"].get<double>(), 0.05);
  EXPECT_GT(pareto["result"]["hypervolume_measured"].get<double>(), 0);
  const int measured = pareto["result"]["measurements"].get<int>();
  EXPECT_GT(measured, 0);

  // Resumed (here: replayed after it finished): the same best, nothing measured again.
  const CliRun resumed = run("search --backend fake --quiet --resume " + id + " --db " + db + " --out " + again);
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_EQ(read_text(again + "/best.json"), read_text(out + "/best.json"));
  const auto pareto2 = nlohmann::json::parse(read_text(again + "/pareto.json"));
  EXPECT_EQ(pareto2["result"]["measurements"].get<int>(), 0);
  EXPECT_EQ(pareto2["result"]["cached_measurements"].get<int>(), measured);
  EXPECT_EQ(pareto2["front_measured"], pareto["front_measured"]);

  const CliRun unknown = run("search --backend fake --resume 0123456789abcdef --db " + db);
  EXPECT_EQ(unknown.code, 2) << unknown.out;
  EXPECT_NE(unknown.out.find("no search run '0123456789abcdef'"), std::string::npos) << unknown.out;
}

TEST(CliSearch, ImpossibleBudgetNamesTheFastestCandidate) {
  const std::string db = tmp("search_impossible.db");
  std::remove(db.c_str());
  const CliRun r = run(kFast + "--objective params --budget-ms 0.0001 --db " + db + " --out " + tmp("imp"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("no architecture of space tiny was measured within 0.000 ms: the fastest candidate found is"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(" ms measured ("), std::string::npos) << r.out;
}

TEST(CliSearch, FailingOrHangingObjectiveIsReportedPerCandidate) {
  const std::string db = tmp("search_cmd.db");
  std::remove(db.c_str());
  // Every estimate fails: each candidate says why, and the search ends with a runtime failure.
  const CliRun fails =
      run("search --backend fake --space tiny --evaluations 16 --population 8 --budget-ms 1 "
          "--objective 'cmd:echo oops >&2; exit 3' --db " +
          db + " --out " + tmp("cmd1"));
  EXPECT_EQ(fails.code, 1) << fails.out;
  EXPECT_NE(fails.out.find("exit code 3: oops"), std::string::npos) << fails.out;
  EXPECT_NE(fails.out.find("got no cmd:echo oops >&2; exit 3 score"), std::string::npos) << fails.out;
  // A hanging command times out per candidate; the search goes on.
  const CliRun hangs =
      run("search --backend fake --space tiny --evaluations 8 --population 8 --budget-ms 1 "
          "--objective 'cmd:sleep 20 # {arch}' --objective-timeout 0.2 --db " +
          db + " --out " + tmp("cmd2"));
  EXPECT_EQ(hangs.code, 1) << hangs.out;
  EXPECT_NE(hangs.out.find("timed out after 0.2 s"), std::string::npos) << hangs.out;
  // A working command: it gets the arch file's path, and its answers are the scores.
  const std::string script = temp_file("eval.sh", "grep -q stages \"$1\" && echo '{\"accuracy\": 0.75}'\n");
  const CliRun works =
      run("search --backend fake --space tiny --evaluations 16 --population 8 --budget-ms 1 "
          "--quiet --objective 'cmd:sh " +
          script + "' --db " + db + " --out " + tmp("cmd3"));
  EXPECT_EQ(works.code, 0) << works.out;
  EXPECT_NE(works.out.find("0.75, measured"), std::string::npos) << works.out;
}

// SIGKILL in the middle of a run (after 30 candidates were scored by a slow external evaluator),
// then --resume: the same result as the uninterrupted run, nothing measured or scored twice.
TEST(CliSearch, KilledRunResumesToTheSameResultWithoutMeasuringAgain) {
  const std::string counter = tmp("kill_counter"), log = tmp("kill_log");
  std::remove(counter.c_str());
  const std::string script = temp_file(
      "kill_eval.sh", "echo x >> " + counter + "\nsleep 0.03\necho \"{\\\"accuracy\\\": $(wc -c < \"$1\")}\"\n");
  const std::string calibrate = "calibrate --backend fake --budget-min 0.1 --eval-archs 2 --no-presets --no-fit ";
  const std::string search =
      "search --backend fake --space tiny --evaluations 96 --population 16 --measure-top 3 "
      "--budget-ms 1 --objective 'cmd:sh " +
      script + "' ";
  const std::string db_a = tmp("kill_a.db"), db_b = tmp("kill_b.db");
  std::remove(db_a.c_str());
  std::remove(db_b.c_str());
  for (const std::string& db : {db_a, db_b}) {
    const CliRun c = run(calibrate + "--db " + db);
    ASSERT_EQ(c.code, 0) << c.out;
    const CliRun f = run("fit --backend fake --db " + db);
    ASSERT_EQ(f.code, 0) << f.out;
  }
  const CliRun whole = run(search + "--quiet --db " + db_a + " --out " + tmp("kill_whole"));
  ASSERT_EQ(whole.code, 0) << whole.out;
  const auto lines = [&] {
    const std::string text = read_text(counter);
    return static_cast<long>(std::count(text.begin(), text.end(), '\n'));
  };
  const long scored_whole = lines();
  ASSERT_GT(scored_whole, 45);
  std::remove(counter.c_str());

  // TMPDIR: the arch file of the evaluation in flight at the kill stays behind; in the scratch folder.
  const CliRun killed =
      run_shell("sh -c 'TMPDIR=" + hwnas::test::scratch_dir().string() + " " + std::string(HWNAS_BINARY) + " " +
                std::regex_replace(search, std::regex("'"), "'\\''") + "--db " + db_b + " --out " + tmp("kill_part") +
                " >" + log + " 2>&1 & p=$!; " + "while [ $(cat " + counter +
                " 2>/dev/null | wc -l) -lt 30 ] && kill -0 $p 2>/dev/null; do sleep 0.02; done; " +
                "kill -9 $p; wait $p; echo exit=$?'");
  ASSERT_NE(killed.out.find("exit=137"), std::string::npos) << killed.out << read_text(log);
  std::smatch m;
  const std::string started = read_text(log);
  ASSERT_TRUE(std::regex_search(started, m, std::regex("run ([0-9a-f]{16})"))) << started;
  const CliRun resumed =
      run("search --backend fake --quiet --resume " + m[1].str() + " --db " + db_b + " --out " + tmp("kill_resumed"));
  ASSERT_EQ(resumed.code, 0) << resumed.out;

  // The same architecture (its meta names the run, which differs).
  auto best_b = nlohmann::json::parse(read_text(tmp("kill_resumed") + "/best.json"));
  auto best_a = nlohmann::json::parse(read_text(tmp("kill_whole") + "/best.json"));
  best_a.erase("meta");
  best_b.erase("meta");
  EXPECT_EQ(best_b, best_a);
  const auto a = nlohmann::json::parse(read_text(tmp("kill_whole") + "/pareto.json"));
  const auto b = nlohmann::json::parse(read_text(tmp("kill_resumed") + "/pareto.json"));
  EXPECT_EQ(b["front_measured"], a["front_measured"]);
  const int measured = a["result"]["measurements"].get<int>();
  const int again = b["result"]["measurements"].get<int>(), cached = b["result"]["cached_measurements"].get<int>();
  EXPECT_EQ(again + cached, measured);
  EXPECT_GT(cached, 0);  // measured before the kill, taken from the store
  // Every candidate scored once in all, before the kill or after it (the one in flight at the kill
  // had no stored answer: it may be asked again).
  EXPECT_GE(lines(), scored_whole);
  EXPECT_LE(lines(), scored_whole + 1);
}

// `search ARGS --db DB` is a usage error (exit 2) whose message contains `message`.
void expect_usage_error(const std::string& args, const std::string& db, const std::string& message) {
  const CliRun r = run("search --backend fake " + args + " --db " + db);
  EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
  EXPECT_NE(r.out.find(message), std::string::npos) << args << "\n" << r.out;
}

TEST(CliSearch, BadOptionsAreUsageErrors) {
  const std::string db = tmp("search_bad.db");
  expect_usage_error("--objective accuracy --budget-ms 1", db, "--objective: unknown estimator 'accuracy'");
  expect_usage_error("--strategy anneal --budget-ms 1", db,
                     "--strategy: must be evolution, nsga2 or random (got 'anneal')");
  const CliRun budget = run("search --backend fake --budget-ms -3 --db " + db);
  EXPECT_EQ(budget.code, 2) << budget.out;
  expect_usage_error("--space hybrid-vt --budget-ms 1", db, "did you mean 'hybrid-vit'");

  // Several devices: each once, a budget per device, known names; without --mpi only this machine's.
  expect_usage_error("--device cpu --device cpu", db, "--device cpu: the same device");
  expect_usage_error("--device cpu --device gpu-h100", db,
                     "--device gpu-h100: not this machine's cpu or cuda:N (a device of another host needs --mpi)");
  expect_usage_error("--device cpu --device cuda:0 --device cuda:1 --device cuda:2 --device cuda:3", db,
                     "at most 4 devices (got 5)");
}

TEST(CliSearch, BudgetsPerDeviceAreCheckedByName) {
  // parse_budgets through the command: one device takes a plain number or its own label.
  const std::string db = tmp("search_budgets.db");
  expect_usage_error("--budget-ms gpu=3", db, "--budget-ms: no --device gpu (the devices: cpu)");
  expect_usage_error("--budget-ms cpu=fast", db, "--budget-ms: cpu must be a number > 0 (got 'fast')");
  expect_usage_error("--budget-ms cpu=1,cpu=2", db, "--budget-ms: cpu given twice");
}

}  // namespace
