// hwnas search end to end on the fake backend (virtual clock: calibration and measurements take
// milliseconds): the files it writes, resume from the store, bad budgets and failing objectives.
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
  EXPECT_EQ(r.out.find("OVER BUDGET"), std::string::npos) << r.out;  // the fake device is exactly its model
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

TEST(CliSearch, BadOptionsAreUsageErrors) {
  const std::string db = tmp("search_bad.db");
  const CliRun objective = run("search --backend fake --objective accuracy --budget-ms 1 --db " + db);
  EXPECT_EQ(objective.code, 2) << objective.out;
  EXPECT_NE(objective.out.find("--objective: unknown estimator 'accuracy'"), std::string::npos) << objective.out;
  const CliRun strategy = run("search --backend fake --strategy anneal --budget-ms 1 --db " + db);
  EXPECT_EQ(strategy.code, 2) << strategy.out;
  EXPECT_NE(strategy.out.find("--strategy: must be evolution, nsga2 or random (got 'anneal')"), std::string::npos)
      << strategy.out;
  const CliRun budget = run("search --backend fake --budget-ms -3 --db " + db);
  EXPECT_EQ(budget.code, 2) << budget.out;
  const CliRun space = run("search --backend fake --space hybrid-vt --budget-ms 1 --db " + db);
  EXPECT_EQ(space.code, 2) << space.out;
  EXPECT_NE(space.out.find("did you mean 'hybrid-vit'"), std::string::npos) << space.out;
}

}  // namespace
