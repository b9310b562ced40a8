// End-to-end: the hwnas binary as a user runs it (exit codes, output, error lines).
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_run.h"
#include "space/arch_json.h"
#include "space/canonical.h"

namespace {

TEST(Cli, ShowLitv2SmallPrintsGoldenTotals) {
  const CliRun r = run("space show --preset litv2-s");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("27.84M"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3.724 GMACs (paper: 3.734 GMACs"), std::string::npos)
      << r.out;  // executed, then the paper count
  EXPECT_NE(r.out.find("stages.2.blocks.5"), std::string::npos);
  EXPECT_NE(r.out.find("hilo(a=0.9,s=2)"), std::string::npos);
}

TEST(Cli, ShowJsonIsTheFullRecord) {
  const CliRun r = run("space show --preset deit-tiny --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["totals"]["macs"], 1'253'683'200);
  EXPECT_EQ(j["totals"]["flops"], 2 * 1'253'683'200LL);
  EXPECT_EQ(j["units"].size(), 14u);  // stem, 12 blocks, head
}

TEST(Cli, ExitCodesAndDidYouMean) {
  EXPECT_EQ(run("spcae").code, 2);
  EXPECT_NE(run("spcae").out.find("did you mean 'space'"), std::string::npos);
  EXPECT_EQ(run("space shwo").code, 2);
  EXPECT_NE(run("space show --preset litv2-x").out.find("did you mean 'litv2-s'"), std::string::npos);
  EXPECT_EQ(run("space show --preset litv2-x").code, 2);
  EXPECT_EQ(run("space show --bogus").code, 2);
  EXPECT_EQ(run("--help").code, 0);
  EXPECT_EQ(run("space show --help").code, 0);
  EXPECT_EQ(run("").code, 2);
}

TEST(Cli, VersionNamesCommitAndLibraries) {
  const CliRun r = run("--version");
  ASSERT_EQ(r.code, 0);
  for (const char* s : {"hwnas 0.", "commit", "oneDNN", "SQLite", "Boost", "fmt"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(Cli, BadJsonIsOneLineNamingFilePathAndRule) {
  const std::string bad = temp_file("bad_alpha.json", R"({"stem": {"kind": "patch", "kernel": 4},
    "stages": [{"dim": 64, "heads": 2, "blocks": [{"mixer": {"kind": "hilo", "alpha": 1.5}, "ffn": "none"}]}]})");
  const CliRun r = run("space validate " + bad);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find(bad + ": stages[0].blocks[0].mixer.alpha: must be in [0, 1] (got 1.5)"), std::string::npos)
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;

  const std::string syntax = temp_file("bad_syntax.json", "{\n  \"stem\": {,\n}");
  const CliRun s = run("space validate " + syntax);
  EXPECT_EQ(s.code, 2);
  EXPECT_NE(s.out.find(syntax + ":2:"), std::string::npos) << s.out;
}

TEST(Cli, SampleIsDistinctReparsesToSameHashAndIsDeterministic) {
  const CliRun a = run("space sample --space hybrid-vit -n 200 --seed 7");
  ASSERT_EQ(a.code, 0) << a.out;
  const CliRun b = run("space sample --space hybrid-vit -n 200 --seed 7");
  EXPECT_EQ(a.out, b.out);
  std::istringstream lines(a.out);
  std::string line;
  std::set<std::uint64_t> hashes;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    auto arch = hwnas::space::parse_arch(line, "sample");
    ASSERT_TRUE(arch.ok()) << arch.error().message;
    const std::uint64_t h = hwnas::space::arch_hash(*arch);
    EXPECT_NE(nlohmann::json::parse(line)["meta"]["name"].get<std::string>().find(hwnas::space::hash_hex(h)),
              std::string::npos);
    hashes.insert(h);
  }
  EXPECT_EQ(n, 200);
  EXPECT_EQ(hashes.size(), 200u);
  EXPECT_NE(run("space sample --space hybrid-vit -n 5 --seed 8").out,
            run("space sample --space hybrid-vit -n 5 --seed 7").out);
}

TEST(Cli, PresetsListsEveryFamily) {
  const CliRun r = run("presets");
  ASSERT_EQ(r.code, 0);
  for (const char* p : {"deit-tiny", "pvtv2-b2", "swin-t", "litv2-b", "lit-m", "hvt-s-4", "spvit-deit-base"})
    EXPECT_NE(r.out.find(p), std::string::npos) << p;
}

TEST(CliStore, SecondProfileComesFromTheCacheAndSaysSo) {
  const std::string db = tmp("cache_test.db");
  std::remove(db.c_str());
  const std::string cmd = "profile --preset pvtv2-b0 --no-peaks --protocol nnmeter --db " + db;
  const CliRun first = run(cmd + " --json " + tmp("first.json"));
  ASSERT_EQ(first.code, 0) << first.out;
  EXPECT_EQ(first.out.find("cached:"), std::string::npos);
  const CliRun second = run(cmd + " --json " + tmp("second.json"));
  ASSERT_EQ(second.code, 0) << second.out;
  const auto a = nlohmann::json::parse(read_text(tmp("first.json")));
  const auto b = nlohmann::json::parse(read_text(tmp("second.json")));
  EXPECT_FALSE(a["cached"].get<bool>());
  const bool first_noisy = a["end_to_end"]["noisy"].get<bool>() || a["noise"]["flagged"].get<bool>();
  if (first_noisy) {
    // A noisy measurement is never served from the store: the second run measures again, saying why.
    EXPECT_NE(second.out.find("the stored measurement of this key was noisy ("), std::string::npos) << second.out;
    EXPECT_NE(second.out.find("): measuring again"), std::string::npos) << second.out;
    EXPECT_FALSE(b["cached"].get<bool>());
  } else {
    EXPECT_NE(second.out.find("cached: measured"), std::string::npos) << second.out;
    EXPECT_TRUE(b["cached"].get<bool>());
    EXPECT_EQ(a["end_to_end"]["median_us"], b["end_to_end"]["median_us"]);  // the stored figure, not a new one
    EXPECT_EQ(a["end_to_end"]["samples_us"], b["end_to_end"]["samples_us"]);
  }
  // Another key (batch 2) is measured, not reused.
  const CliRun other = run("profile --preset pvtv2-b0 --no-peaks --protocol nnmeter --batch 2 --db " + db);
  EXPECT_EQ(other.out.find("cached:"), std::string::npos) << other.out;
  // --force measures again.
  EXPECT_EQ(run(cmd + " --force").out.find("cached:"), std::string::npos);
}

TEST(CliStore, ExportThenImportIntoAFreshFileReproducesTheRows) {
  const std::string db = tmp("export_src.db"), copy = tmp("export_dst.db");
  const std::string dump = tmp("export.json"), dump2 = tmp("export2.json");
  for (const auto& f : {db, copy}) std::remove(f.c_str());
  ASSERT_EQ(run("profile --preset hvt-s-4 --no-peaks --protocol nnmeter --per-block --max-item-ms 50 --db " + db).code,
            0);
  ASSERT_EQ(run("db export --db " + db + " -o " + dump).code, 0);
  const CliRun imp = run("db import --db " + copy + " " + dump);
  ASSERT_EQ(imp.code, 0) << imp.out;
  EXPECT_NE(imp.out.find("rows added"), std::string::npos);
  ASSERT_EQ(run("db export --db " + copy + " -o " + dump2).code, 0);
  EXPECT_EQ(read_text(dump), read_text(dump2));
  // Importing again adds nothing.
  EXPECT_NE(run("db import --db " + copy + " " + dump).out.find(": 0 rows added"), std::string::npos);
  const CliRun stats = run("db stats --db " + copy);
  EXPECT_EQ(stats.code, 0);
  EXPECT_NE(stats.out.find("measurements"), std::string::npos);
  const CliRun list = run("db list --preset hvt-s-4 --kind unit --db " + copy);
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("stages.0.blocks.0"), std::string::npos) << list.out;
  EXPECT_EQ(run("db check --db " + copy).code, 0);
  EXPECT_EQ(run("db export --db " + copy + " --format csv").code, 0);
}

TEST(CliStore, ANonDatabaseFileIsRefusedAndLeftUntouched) {
  const std::string path = temp_file("not_a_db.txt", "these are my notes, not a database\n");
  const std::string before = read_text(path);
  const CliRun r = run("db stats --db " + path);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find(path), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  const CliRun p = run("profile --preset deit-tiny --no-peaks --db " + path);
  EXPECT_EQ(p.code, 2) << p.out;
  EXPECT_EQ(read_text(path), before);
}

}  // namespace

namespace {

// The integer that ends just before `tail` in `text` (-1 when `tail` is missing).
int number_before(const std::string& text, const std::string& tail) {
  const auto at = text.find(tail);
  if (at == std::string::npos) return -1;
  auto begin = at;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(text[begin - 1])) != 0) --begin;
  return begin == at ? -1 : std::stoi(text.substr(begin, at - begin));
}

}  // namespace

// Cost models end to end on the fake backend (virtual clock: a 0.3-minute budget takes well under
// a second of wall time): calibrate, resume, fit, predict, and refusal of a model for another key.
TEST(CliCost, CalibrateResumesFitsAndPredictsOnTheFakeBackend) {
  const std::string db = tmp("cost_fake.db");
  std::remove(db.c_str());
  const std::string calib = "calibrate --backend fake --budget-min 0.3 --eval-archs 3 --no-presets --db " + db;
  const CliRun first = run(calib);
  ASSERT_EQ(first.code, 0) << first.out;
  EXPECT_NE(first.out.find(", 0 already in the store;"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("held-out evaluation (3 archs never fitted on"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("sum of measured blocks"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("stored as cost model v1"), std::string::npos) << first.out;
  // "calibration: N units measured": a second run reuses all N and re-measures no held-out item.
  const auto at = first.out.find("calibration: ");
  ASSERT_NE(at, std::string::npos) << first.out;
  const int measured = std::stoi(first.out.substr(at + 13));
  ASSERT_GT(measured, 20);
  // Every network measured (3 held-out + the training ones) got a second burst.
  const int bursts = number_before(first.out, " further network bursts)");
  EXPECT_EQ(bursts, 3 + number_before(first.out, " training networks,")) << first.out;
  const CliRun second = run(calib);
  ASSERT_EQ(second.code, 0) << second.out;
  EXPECT_NE(second.out.find(fmt::format(", {} already in the store;", measured)), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("(0 new measurements, "), std::string::npos) << second.out;
  // The budget measured more training units and networks; only those new networks got a second burst.
  const int bursts2 = number_before(second.out, " further network bursts)");
  EXPECT_EQ(bursts2, number_before(second.out, " training networks,")) << second.out;
  EXPECT_NE(second.out.find("stored as cost model v2"), std::string::npos) << second.out;
  // Up to 5 bursts: the fake clock has no slow phases, so every network's two bursts agree exactly and
  // only the networks this run adds get their second (the stored records count the bursts they hold).
  const CliRun third = run(calib + " --network-bursts 5 --burst-agree 0 --no-fit");
  ASSERT_EQ(third.code, 0) << third.out;
  EXPECT_EQ(number_before(third.out, " further network bursts)"), number_before(third.out, " training networks,"))
      << third.out;
  EXPECT_EQ(run(calib + " --burst-agree 1").code, 2);
  EXPECT_EQ(run(calib + " --network-bursts 0").code, 2);

  const std::string model = tmp("cost_fake_model.json");
  const CliRun fit = run("fit --backend fake --db " + db + " --json " + model);
  ASSERT_EQ(fit.code, 0) << fit.out;
  EXPECT_NE(fit.out.find("stored as cost model v3"), std::string::npos) << fit.out;
  const CliRun predict = run("predict --backend fake --preset deit-tiny --per-block --db " + db);
  ASSERT_EQ(predict.code, 0) << predict.out;
  EXPECT_NE(predict.out.find("stages.0.blocks.11"), std::string::npos) << predict.out;
  EXPECT_NE(predict.out.find("predicted "), std::string::npos) << predict.out;
  EXPECT_EQ(predict.out.find("measured  "), std::string::npos) << predict.out;  // deit-tiny was not measured

  // The fake device's model on this CPU (oneDNN), or for another dtype: refused, saying why.
  const CliRun other_device = run("predict --preset deit-tiny --model " + model + " --db " + db);
  EXPECT_EQ(other_device.code, 2) << other_device.out;
  EXPECT_NE(other_device.out.find("the cost model was fitted on another device (fake roofline"), std::string::npos)
      << other_device.out;
  const CliRun other_dtype =
      run("predict --backend fake --dtype bf16 --preset deit-tiny --model " + model + " --db " + db);
  EXPECT_EQ(other_dtype.code, 2) << other_dtype.out;
  EXPECT_NE(other_dtype.out.find("predicts dtype f32, not bf16"), std::string::npos) << other_dtype.out;
  const CliRun none = run("predict --backend fake --batch 3 --preset deit-tiny --db " + db);
  EXPECT_EQ(none.code, 1) << none.out;
  EXPECT_NE(none.out.find("no cost model in"), std::string::npos) << none.out;
}
