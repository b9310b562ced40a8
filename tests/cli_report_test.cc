// hwnas report end to end on a store filled by the fake backend (virtual clock): calibration with
// the presets held out (so they are measured whole and unit by unit), a fitted model, a search run,
// and a second "device" (the fake backend with another thread count has another fingerprint).
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "tests/html_check.h"

namespace {

class CliReport : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = tmp("report.db");
    std::remove(db_.c_str());
    for (const char* threads : {"2", "1"}) {
      const CliRun c = run(std::string("calibrate --backend fake --threads ") + threads +
                           " --budget-min 0.2 --eval-archs 4 --db " + db_);
      ASSERT_EQ(c.code, 0) << c.out;
    }
    const CliRun s =
        run("search --backend fake --threads 2 --space tiny --evaluations 96 --population 16 --quiet "
            "--objective params --budget-ms 0.05 --db " +
            db_ + " --out " + tmp("report_search"));
    ASSERT_EQ(s.code, 0) << s.out;
  }
  static std::string db_;
};
std::string CliReport::db_;

TEST_F(CliReport, EverySectionIsPopulatedAndThePageIsSelfContained) {
  const std::string out = tmp("report.html");
  const CliRun r = run("report --db " + db_ + " -o " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("summary, comparison, pareto, breakdown, diagrams, accuracy, progress, cross-device"),
            std::string::npos)
      << r.out;
  const std::string html = read_text(out);
  EXPECT_EQ(hwnas::testing_html::markup_error(html), "");
  EXPECT_FALSE(hwnas::testing_html::has_external_reference(html));
  EXPECT_NE(html.find("deit-small"), std::string::npos);  // presets measured by calibrate
  EXPECT_NE(html.find("best of search"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));

  // Narrowed: one preset, one device; sections without data go.
  const CliRun one = run("report --db " + db_ + " --preset deit-tiny --device fake --title 'a <b> title' -o " + out);
  ASSERT_EQ(one.code, 0) << one.out;
  const std::string narrowed = read_text(out);
  EXPECT_NE(narrowed.find("<title>a &lt;b&gt; title</title>"), std::string::npos);
  EXPECT_EQ(hwnas::testing_html::markup_error(narrowed), "");
}

TEST_F(CliReport, JsonAndCsvTwinsHoldTheTables) {
  const std::string json_path = tmp("report.json"), csv_dir = tmp("report_csv");
  const CliRun j = run("report --db " + db_ + " --format json -o " + json_path);
  ASSERT_EQ(j.code, 0) << j.out;
  const auto tables = nlohmann::json::parse(read_text(json_path));
  std::set<std::string> ids;
  for (const auto& t : tables) ids.insert(t["id"].get<std::string>());
  for (const char* id : {"devices", "searches", "comparison", "breakdown", "cost_model_metrics", "search_progress"})
    EXPECT_TRUE(ids.count(id)) << id;
  for (const auto& t : tables)
    if (t["id"] == "comparison") {
      ASSERT_FALSE(t["rows"].empty());
      EXPECT_TRUE(t["rows"][0]["params"].is_number());
    }
  const CliRun c = run("report --db " + db_ + " --format csv -o " + csv_dir);
  ASSERT_EQ(c.code, 0) << c.out;
  const std::string csv = read_text(csv_dir + "/comparison.csv");
  EXPECT_EQ(csv.rfind("architecture,hash,origin,params,MACs,setting,median,", 0), 0u) << csv.substr(0, 200);
}

TEST_F(CliReport, BadInputIsOneClearLine) {
  const CliRun missing = run("report --db " + tmp("nope.db") + " -o " + tmp("x.html"));
  EXPECT_EQ(missing.code, 2) << missing.out;
  EXPECT_NE(missing.out.find("no such store"), std::string::npos) << missing.out;
  const CliRun run_id = run("report --db " + db_ + " --run ffffffff -o " + tmp("x.html"));
  EXPECT_EQ(run_id.code, 2) << run_id.out;
  EXPECT_NE(run_id.out.find("--run ffffffff: no such search run"), std::string::npos) << run_id.out;
  const CliRun preset = run("report --db " + db_ + " --preset deit-huge -o " + tmp("x.html"));
  EXPECT_EQ(preset.code, 2) << preset.out;
  const CliRun format = run("report --db " + db_ + " --format pdf");
  EXPECT_EQ(format.code, 2) << format.out;
  EXPECT_NE(format.out.find("--format: must be html, json or csv"), std::string::npos) << format.out;
  EXPECT_FALSE(std::filesystem::exists(tmp("x.html")));
}

}  // namespace
