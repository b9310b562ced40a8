// hwnas compress end to end on small networks. finercut: the pruned arch JSON + safetensors run in
// `hwnas run` and give the logits the compressor measured (their distance to the original's, both
// from `hwnas run`, is the last step's); with a latency budget (the fake backend's cost model) the
// result is predicted and measured within it. spvit: a network carved into given bconv / skip /
// narrower FFN choices (--to), and one searched to a budget (the fake backend's unit table), run in
// `hwnas run` with the distance the compressor reported, and export. Bad inputs are one-line
// errors, exit 2, nothing written.
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "compress/distance.h"
#include "weights/npy.h"

namespace {

using namespace hwnas;

const char* const kNet = R"({"input": {"resolution": 32, "classes": 10}, "stem": {"kind": "patch", "kernel": 8},
  "stages": [{"dim": 32, "heads": 2, "blocks": [
    {"mixer": "msa", "ffn": {"kind": "mlp", "hidden": 64}},
    {"mixer": {"kind": "hilo", "alpha": 0.5, "window": 2}, "ffn": {"kind": "convffn", "hidden": 64}},
    {"mixer": "msa", "ffn": {"kind": "mlp", "hidden": 64}}]}]})";

struct Files {
  std::string arch, weights, input;
};

Files setup(const std::string& tag) {
  Files f{temp_file(tag + "_net.json", kNet), tmp(tag + "_w.safetensors"), tmp(tag + "_x.npy")};
  EXPECT_EQ(run("weights init " + f.arch + " --seed 4 -o " + f.weights).code, 0);
  std::vector<float> x(6 * 3 * 32 * 32);
  std::mt19937 gen(3);
  std::normal_distribution<float> d;
  for (float& v : x) v = d(gen);
  EXPECT_TRUE(weights::write_npy(f.input, {6, 3, 32, 32}, x));
  return f;
}

// The sublayers an arch JSON (one stage) has removed, as FinerCut labels them, in network order.
std::vector<std::string> removed_in(const nlohmann::json& arch) {
  std::vector<std::string> out;
  for (std::size_t b = 0; b < arch["stages"][0]["blocks"].size(); ++b) {
    const auto& blk = arch["stages"][0]["blocks"][b];
    if (blk["mixer"] == "skip" || blk["mixer"]["kind"] == "skip")
      out.push_back(fmt::format("stages.0.blocks.{}.attn", b));
    if (blk["ffn"] == "none" || blk["ffn"]["kind"] == "none") out.push_back(fmt::format("stages.0.blocks.{}.mlp", b));
  }
  return out;
}

std::vector<float> logits_of(const std::string& arch, const std::string& w, const std::string& x,
                             const std::string& out) {
  const CliRun r = run("run " + arch + " --weights " + w + " --input " + x + " --logits " + out + " --threads 1");
  EXPECT_EQ(r.code, 0) << r.out;
  auto l = weights::read_npy(out);
  EXPECT_TRUE(l);
  return l ? l->values : std::vector<float>{};
}

TEST(CliCompress, PrunedModelRunsWithTheLogitsTheCompressorMeasured) {
  const Files f = setup("fc");
  const std::string prefix = tmp("fc_pruned"), db = tmp("fc.db");
  std::filesystem::remove(db);
  const CliRun c = run("compress finercut " + f.arch + " --weights " + f.weights + " --input " + f.input +
                       " --ratio 0.5 --calib-batch 4 --threads 1 --db " + db + " -o " + prefix);
  ASSERT_EQ(c.code, 0) << c.out;
  const auto order = nlohmann::json::parse(read_text(prefix + ".order.json"));
  ASSERT_EQ(order["steps"].size(), 3u);  // int(6 · 0.5)
  const auto pruned = nlohmann::json::parse(read_text(prefix + ".json"));
  EXPECT_EQ(removed_in(pruned).size(), 3u);

  const auto original = logits_of(f.arch, f.weights, f.input, tmp("fc_orig.npy"));
  const auto after = logits_of(prefix + ".json", prefix + ".safetensors", f.input, tmp("fc_after.npy"));
  const double d = compress::distance(compress::Distance::finercut_js, original, after, 10);
  const double reported = order["steps"].back()["distance"].get<double>();
  EXPECT_GT(reported, 0.0);
  EXPECT_NEAR(d, reported, 1e-3 * reported + 1e-12);

  // The result exports like any architecture (to fine-tune elsewhere).
  for (const std::string& fmt_out : {"onnx -o " + tmp("fc_pruned.onnx"), "pytorch -o " + tmp("fc_pruned_module.py")}) {
    const CliRun e = run("export " + prefix + ".json --weights " + prefix + ".safetensors --format " + fmt_out);
    EXPECT_EQ(e.code, 0) << e.out;
  }
}

TEST(CliCompress, LatencyAwareToABudgetEndsWithinIt) {
  const Files f = setup("fb");
  const std::string prefix = tmp("fb_pruned"), db = tmp("fb.db");
  std::filesystem::remove(db);
  ASSERT_EQ(run("calibrate --backend fake --threads 1 --budget-min 0.2 --eval-archs 4 --db " + db).code, 0);
  const CliRun c = run("compress finercut " + f.arch + " --weights " + f.weights + " --input " + f.input +
                       " --method latency --latency model --budget-ms 0.0001 --backend fake --threads 1 --db " + db +
                       " -o " + prefix);
  // The fake model's floor is far above 0.1 µs: refused, naming the fastest reachable latency.
  EXPECT_EQ(c.code, 2) << c.out;
  EXPECT_NE(c.out.find("not reachable by removing sublayers: the fastest reachable is"), std::string::npos) << c.out;
  EXPECT_FALSE(std::filesystem::exists(prefix + ".json"));
  const auto at = c.out.find("fastest reachable is ");
  ASSERT_NE(at, std::string::npos);
  const double floor_ms = std::stod(c.out.substr(at + 21));

  const auto order_of = [&](const std::string& budget) {
    const CliRun r = run("compress finercut " + f.arch + " --weights " + f.weights + " --input " + f.input +
                         " --method latency --latency model --budget-ms " + budget +
                         " --backend fake --threads 1 --db " + db + " -o " + prefix);
    EXPECT_EQ(r.code, 0) << r.out;
    return nlohmann::json::parse(read_text(prefix + ".order.json"));
  };
  const auto full = order_of("1000000");  // already within: nothing removed
  EXPECT_TRUE(full["steps"].empty());
  const double original = full["original_predicted_ms"].get<double>();
  ASSERT_GT(original, floor_ms);
  // 90% of the original's measured latency: reachable by measurement too (the fake backend's
  // measurements are deterministic; its cost model's predictions are off by up to ~30%).
  const double budget = 0.9 * full["original_ms"].get<double>();
  const auto o = order_of(fmt::format("{:.9f}", budget));
  // It stops at the first network predicted within the budget whose measurement (the fake
  // backend's) is within it too; every earlier one was predicted or measured over it.
  ASSERT_GT(o["steps"].size(), 1u);
  const auto& last = o["steps"].back();
  EXPECT_LE(last["predicted_ms"].get<double>(), budget);
  EXPECT_GT(last["measured_ms"].get<double>(), 0.0);
  EXPECT_LE(last["measured_ms"].get<double>(), budget);
  EXPECT_LE(o["pruned_ms"].get<double>(), budget);
  for (std::size_t i = 0; i + 1 < o["steps"].size(); ++i) {
    const auto& st = o["steps"][i];
    const bool measured_over = st["measured_ms"].get<double>() > budget;
    EXPECT_TRUE(st["predicted_ms"].get<double>() > budget || measured_over) << i;
  }
  // The record names the result: the steps' removals with the exchanges applied, each exchange
  // less divergent than what it replaced; the pruned arch has exactly those removed.
  std::vector<std::string> want, got;
  for (const auto& st : o["steps"]) want.push_back(st["removed"].get<std::string>());
  double d = last["distance"].get<double>();
  for (const auto& x : o["exchanges"]) {
    std::erase(want, x["restored"].get<std::string>());
    if (!x["removed"].get<std::string>().empty()) want.push_back(x["removed"].get<std::string>());
    EXPECT_LT(x["distance"].get<double>(), d);
    d = x["distance"].get<double>();
  }
  EXPECT_DOUBLE_EQ(o["result_distance"].get<double>(), d);
  for (const auto& l : o["removed"]) got.push_back(l.get<std::string>());
  const auto pruned = nlohmann::json::parse(read_text(prefix + ".json"));
  std::vector<std::string> in_arch = removed_in(pruned);
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  std::sort(in_arch.begin(), in_arch.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(in_arch, want);

  // The report draws exchanges: given the stored run with one added (the first step's sublayer put
  // back, a kept one removed instead), that block's first sublayer shows no step and the other one
  // the step after the path's.
  const std::string dump = tmp("fb_export.json"), db2 = tmp("fb2.db"), twins = tmp("fb_report.json");
  std::filesystem::remove(db2);
  ASSERT_EQ(run("db export --db " + db + " -o " + dump).code, 0);
  auto doc = nlohmann::json::parse(read_text(dump));
  std::string run_id, restored, instead;
  for (std::size_t b = 0; b < pruned["stages"][0]["blocks"].size() && instead.empty(); ++b)
    for (const char* kind : {"attn", "mlp"})
      if (const std::string l = fmt::format("stages.0.blocks.{}.{}", b, kind);
          instead.empty() && std::find(want.begin(), want.end(), l) == want.end())
        instead = l;
  ASSERT_FALSE(instead.empty());
  std::size_t steps = 0;
  for (auto& row : doc["tables"]["compress_runs"]) {
    auto& rec = row["record_json"];
    if (rec["steps"].empty()) continue;
    restored = rec["steps"][0]["removed"].get<std::string>();
    rec["exchanges"] = nlohmann::json::array({{{"restored", restored},
                                               {"removed", instead},
                                               {"distance", 1e-9},
                                               {"predicted_ms", 1.0},
                                               {"measured_ms", 1.0}}});
    run_id = row["id"].get<std::string>();
    steps = rec["steps"].size();
  }
  ASSERT_FALSE(run_id.empty());
  const std::string edited = temp_file("fb_export_edited.json", doc.dump());
  ASSERT_EQ(run("db import --db " + db2 + " " + edited).code, 0);
  ASSERT_EQ(run("report --db " + db2 + " --format json -o " + twins).code, 0);
  bool seen_restored = false, seen_instead = false;
  for (const auto& t : nlohmann::json::parse(read_text(twins)))
    if (t["id"] == "compress_blocks")
      for (const auto& row : t["rows"]) {
        if (row["run"] != run_id) continue;
        const std::string block = row["block"].get<std::string>();
        for (const char* kind : {"attn", "mlp"}) {
          const auto& cell = row[std::string(kind) == "attn" ? "mixer removed at step" : "FFN removed at step"];
          if (block + "." + kind == restored) {
            seen_restored = true;
            EXPECT_TRUE(cell.is_null()) << cell;
          }
          if (block + "." + kind == instead) {
            seen_instead = true;
            EXPECT_EQ(cell, steps + 1) << cell;
          }
        }
      }
  EXPECT_TRUE(seen_restored && seen_instead);
}

const char* const kDeit = R"({"input": {"resolution": 32, "classes": 10}, "cls_token": true,
  "stem": {"kind": "patch", "kernel": 4}, "head": {"kind": "cls"},
  "stages": [{"dim": 32, "heads": 4, "pos_embed": true, "blocks": [
    {"mixer": "msa", "ffn": {"kind": "mlp", "hidden": 64}},
    {"mixer": "msa", "ffn": {"kind": "mlp", "hidden": 64}},
    {"mixer": "msa", "ffn": {"kind": "mlp", "hidden": 64}}]}]})";

// The carved result's distance to the original, both run by `hwnas run` on the calibration input.
double run_distance(const Files& f, const std::string& prefix, const std::string& tag) {
  const auto original = logits_of(f.arch, f.weights, f.input, tmp(tag + "_orig.npy"));
  const auto after = logits_of(prefix + ".json", prefix + ".safetensors", f.input, tmp(tag + "_after.npy"));
  return compress::distance(compress::Distance::finercut_js, original, after, 10);
}

TEST(CliCompress, SpvitCarvesIntoGivenChoicesAndToABudget) {
  Files f = setup("sp");
  f.arch = temp_file("sp_deit.json", kDeit);
  ASSERT_EQ(run("weights init " + f.arch + " --seed 5 -o " + f.weights).code, 0);
  const std::string db = tmp("sp.db"), prefix = tmp("sp_to");
  std::filesystem::remove(db);
  // Given choices: a 3x3 and a 1x1 carved conv, narrower FFNs, an identity skip.
  const std::string target = temp_file("sp_target.json", R"({"input": {"resolution": 32, "classes": 10},
    "cls_token": true, "stem": {"kind": "patch", "kernel": 4}, "head": {"kind": "cls"},
    "stages": [{"dim": 32, "heads": 4, "pos_embed": true, "blocks": [
      {"mixer": {"kind": "bconv", "kernel": 3}, "ffn": {"kind": "mlp", "hidden": 40}},
      {"mixer": {"kind": "bconv", "kernel": 1}, "ffn": {"kind": "mlp", "hidden": 64}},
      {"mixer": "skip", "ffn": {"kind": "mlp", "hidden": 24}}]}]})");
  const std::string common = f.arch + " --weights " + f.weights + " --input " + f.input +
                             " --calib-batch 4 --threads 1 --backend fake --db " + db;
  const CliRun c = run("compress spvit " + common + " --to " + target + " -o " + prefix);
  ASSERT_EQ(c.code, 0) << c.out;
  const auto rec = nlohmann::json::parse(read_text(prefix + ".spvit.json"));
  ASSERT_EQ(rec["carving"].size(), 3u);
  for (const auto& l : rec["carving"]) EXPECT_EQ(l["tap_head"].size(), 9u);
  const double reported = rec["result_distance"].get<double>();
  EXPECT_GT(reported, 0.0);
  EXPECT_NEAR(run_distance(f, prefix, "sp_to"), reported, 1e-3 * reported + 1e-12);
  for (const std::string& out : {"onnx -o " + tmp("sp_to.onnx"), "pytorch -o " + tmp("sp_to_module.py")}) {
    const CliRun e = run("export " + prefix + ".json --weights " + prefix + ".safetensors --format " + out);
    EXPECT_EQ(e.code, 0) << e.out;
  }

  // Searched: within a budget of 80% of the original's latency (the fake backend's: deterministic).
  const std::string sprefix = tmp("sp_search");
  const std::string search =
      "compress spvit " + common + " --population 12 --generations 8 --finalists 4 -o " + sprefix;
  const CliRun loose = run(search + " --budget-ms 1000000");
  ASSERT_EQ(loose.code, 0) << loose.out;
  const double original = nlohmann::json::parse(read_text(sprefix + ".spvit.json"))["original_ms"].get<double>();
  const double budget = 0.8 * original;
  const CliRun tight = run(search + fmt::format(" --budget-ms {:.9f}", budget));
  ASSERT_EQ(tight.code, 0) << tight.out;
  const auto s = nlohmann::json::parse(read_text(sprefix + ".spvit.json"));
  EXPECT_LE(s["carved_ms"].get<double>(), budget);
  const auto& search_rec = s["search"];
  EXPECT_EQ(search_rec["sensitivity"].size(), 3u * (3 + 7));
  const int chosen = search_rec["chosen"].get<int>();
  ASSERT_GE(chosen, 0);
  const auto& point = search_rec["points"][static_cast<std::size_t>(chosen)];
  EXPECT_LE(point["measured_ms"].get<double>(), budget);
  EXPECT_DOUBLE_EQ(point["measured_ms"].get<double>(), s["carved_ms"].get<double>());
  const double d = point["distance"].get<double>();
  EXPECT_NEAR(run_distance(f, sprefix, "sp_search"), d, 1e-3 * d + 1e-12);

  // The three runs are in the store, and the report draws them.
  const std::string twins = tmp("sp_report.json");
  const CliRun rep = run("report --db " + db + " --format json -o " + twins);
  ASSERT_EQ(rep.code, 0) << rep.out;
  EXPECT_NE(rep.out.find("3 compression run(s)"), std::string::npos) << rep.out;
  std::vector<std::string> methods;
  for (const auto& t : nlohmann::json::parse(read_text(twins)))
    if (t["id"] == "compress_runs")
      for (const auto& row : t["rows"]) methods.push_back(row["method"].get<std::string>());
  EXPECT_EQ(methods, (std::vector<std::string>{"spvit-to", "spvit", "spvit"}));
}

TEST(CliCompress, BadInputsAreOneLineErrorsAndWriteNothing) {
  const Files f = setup("fx");
  const std::string prefix = tmp("fx_never"), db = tmp("fx.db"), empty = tmp("fx_empty_dir");
  std::filesystem::create_directories(empty);
  const std::string base = "compress finercut " + f.arch + " --db " + db + " -o " + prefix + " ";
  struct Bad {
    std::string args, says;
  };
  const Bad bad[] = {
      {base + "--weights " + f.weights + " --input " + f.input + " --ratio 1.5", "--ratio: must be in (0, 1)"},
      {base + "--weights " + f.weights + " --input " + f.input + " --ratio 0.1", "removes no sublayer"},
      {base + "--weights " + f.weights + " --images " + empty + " --ratio 0.5", "no .jpg, .jpeg or .png files"},
      {"compress finercut --preset deit-tiny --weights " + f.weights + " --synthetic 2 --ratio 0.5 --db " + db +
           " -o " + prefix,
       "does not fit the architecture"},
      {base + "--weights " + f.weights + " --input " + f.input, "give exactly one of --ratio R, --budget-ms B"},
      {base + "--weights " + f.weights + " --input " + f.input + " --ratio 0.5 --method best",
       "--method: must be greedy, oneshot or latency"},
  };
  for (const Bad& b : bad) {
    const CliRun r = run(b.args);
    EXPECT_EQ(r.code, 2) << b.args << "\n" << r.out;
    EXPECT_NE(r.out.find(b.says), std::string::npos) << b.args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }
  for (const char* ext : {".json", ".safetensors", ".order.json"}) EXPECT_FALSE(std::filesystem::exists(prefix + ext));

  const std::string deit = temp_file("fx_deit.json", kDeit), deit_w = tmp("fx_deit_w.safetensors");
  ASSERT_EQ(run("weights init " + deit + " --seed 5 -o " + deit_w).code, 0);
  const std::string tail = " --input " + f.input + " --backend fake --db " + db + " -o " + prefix + " ";
  const std::string sbase = "compress spvit " + deit + " --weights " + deit_w + tail;
  const Bad sbad[] = {
      {sbase, "--budget-ms B is required"},
      {sbase + "--budget-ms 0.0001", "not reachable by carving: the fastest reachable is"},
      {sbase + "--budget-ms 1 --population 2", "--population: must be in [4, 4096]"},
      {sbase + "--budget-ms 1 --to deit-tiny", "no --budget-ms with it"},
      {sbase + "--to deit-tiny", "--to deit-tiny: carving: stages[0] differs from the original's in depth"},
      // kNet's second block is HiLo: SPViT's choices need the blocks of a stage alike, and MSA.
      {"compress spvit " + f.arch + " --weights " + f.weights + tail + "--budget-ms 1",
       "spvit needs the blocks of a stage alike"},
  };
  for (const Bad& b : sbad) {
    const CliRun r = run(b.args);
    EXPECT_EQ(r.code, 2) << b.args << "\n" << r.out;
    EXPECT_NE(r.out.find(b.says), std::string::npos) << b.args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }
  for (const char* ext : {".json", ".safetensors", ".spvit.json"}) EXPECT_FALSE(std::filesystem::exists(prefix + ext));
}

}  // namespace
