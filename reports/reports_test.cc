// The report renderer on hand-made data: escaping, number formats, axes, tables and their twins,
// and the page's structure (balanced tags, no external references, each section only with data).
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/chart_frame.h"
#include "reports/html.h"
#include "reports/render.h"
#include "reports/svg.h"
#include "reports/table.h"
#include "space/canonical.h"
#include "space/presets.h"
#include "tests/html_check.h"

namespace hwnas::reports {
namespace {

using testing_html::has_external_reference;
using testing_html::markup_error;

std::size_t count_of(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

ReportData fixture() {
  ReportData d;
  d.generated_at = "2026-12-02T10:00:00.000Z";
  d.tool_version = "0.1.0 (commit test)";
  d.source = "fixture.db";
  d.versions = {{"oneDNN", "2.6.3"}};
  Device cpu;
  cpu.fingerprint = "aaaaaaaaaaaaaaaa";
  cpu.kind = "cpu";
  cpu.model = "Test CPU <fast>";
  cpu.peak_f32_gflops = 400;
  Device gpu = cpu;
  gpu.fingerprint = "bbbbbbbbbbbbbbbb";
  gpu.kind = "cuda";
  gpu.model = "Test GPU";
  gpu.peak_f32_gflops = 50000;
  d.devices = {cpu, gpu};
  d.settings = {Setting{0, "onednn", 1, "f32", 2, "default"}, Setting{1, "cuda", 1, "f32", 0, "default"}};
  const char* names[] = {"deit-tiny", "litv2-s", "pvtv2-b0"};
  double ms = 10;
  for (const char* n : names) {
    ArchEntry a;
    a.arch = space::preset(n).value();
    a.name = n;
    a.hash = space::hash_hex(space::arch_hash(*a.arch));
    a.origin = "preset";
    a.is_preset = true;
    a.macs = 1'000'000'000;
    a.params = 5'000'000;
    a.score = 80;
    a.score_name = "top-1";
    a.latencies = {Latency{0, ms, ms * 1.1, false, "2026-12-01T00:00:00.000Z", ms * 1.05},
                   Latency{1, 30 / ms, 33 / ms, false, "2026-12-01T00:00:00.000Z", std::nullopt}};
    Breakdown b{0, ms, {}};
    b.units = {{"stem", "stem", "", "patch", ms * 0.1},
               {"stages.0.blocks.0", "block", "msa", "msa + mlp(768)", ms * 0.5},
               {"stages.0.blocks.1", "block", "hilo", "hilo + convffn(384)", ms * 0.35},
               {"head", "head", "", "mean-head", ms * 0.1}};
    a.breakdowns.push_back(b);
    d.archs.push_back(std::move(a));
    ms *= 1.7;
  }
  d.archs[1].name = "<script>alert(1)</script>";  // user text must come out escaped
  SearchRun r;
  r.id = "0123456789abcdef";
  r.status = "done";
  r.space = "hybrid-vit";
  r.objective = "zen";
  r.strategy = "evolution";
  r.budget_ms = 20;
  r.best_hash = "00000000000000a5";
  for (std::size_t i = 0; i < 400; ++i) {
    SearchPoint p;
    p.index = i;
    p.latency_ms = 5 + static_cast<double>((i * 37) % 30);
    p.score = static_cast<double>((i * 53) % 100) / 10 + p.latency_ms / 3;
    p.measured = i % 50 == 0;
    p.front = i % 97 == 0;
    p.best = i == 165;
    p.hash = fmt_int(static_cast<long long>(i));
    r.points.push_back(p);
    r.progress.push_back({i + 1, 10 + static_cast<double>(i) / 40, static_cast<double>(i)});
  }
  r.presets = {{"deit-tiny", 10, 3.5}};
  d.runs.push_back(r);
  ModelAccuracy m;
  m.title = "cost model v1";
  for (int i = 0; i < 30; ++i)
    m.rows.push_back({"h" + std::to_string(i), i < 3 ? names[i] : "", 1.0 + i, (1.0 + i) * (0.9 + 0.007 * i)});
  m.metrics = {Metrics{"cost model", 30, 0.05, 0.06, 0.5, 0.93, 0.9, 0.95},
               Metrics{"MACs × constant", 30, 0.2, 0.3, 0.1, 0.3, 0.7, 0.8}};
  d.models.push_back(m);
  return d;
}

TEST(Html, EscapesEverythingThatCouldBreakOutOfTextOrAttributes) {
  EXPECT_EQ(escape("a<b>&\"'c"), "a&lt;b&gt;&amp;&quot;&#39;c");
  EXPECT_EQ(escape(std::string("x\x01y\tz\n", 6)), "xy\tz\n");
  EXPECT_EQ(escape("µs ±10%"), "µs ±10%");  // UTF-8 passes through
}

TEST(Html, NumberFormats) {
  EXPECT_EQ(fmt_sig(12.345), "12.3");
  EXPECT_EQ(fmt_sig(0.04512), "0.0451");
  EXPECT_EQ(fmt_sig(451.2), "451");
  EXPECT_EQ(fmt_sig(0), "0");
  EXPECT_EQ(fmt_sig(1.5e7), "1.50e+07");
  EXPECT_EQ(fmt_int(4599000), "4,599,000");
  EXPECT_EQ(fmt_int(-1234), "-1,234");
  EXPECT_EQ(fmt_ms(0.451), "451 µs");
  EXPECT_EQ(fmt_ms(12.34), "12.3 ms");
  EXPECT_EQ(fmt_pct(0.1234), "12.3%");
  EXPECT_EQ(fmt_count(4.6e9), "4.60 G");
}

TEST(Svg, LinearTicksAreNiceAndInsideTheRange) {
  const auto [lo, hi] = nice_range(3.2, 47.9, false);
  EXPECT_LE(lo, 3.2);
  EXPECT_GE(hi, 47.9);
  Axis a{lo, hi, 0, 100, false};
  const auto t = a.ticks(6);
  ASSERT_GE(t.size(), 3u);
  const double step = t[1] - t[0];
  for (std::size_t i = 0; i < t.size(); ++i) {
    EXPECT_GE(t[i], lo - 1e-9);
    EXPECT_LE(t[i], hi + 1e-9);
    if (i > 0) {
      EXPECT_NEAR(t[i] - t[i - 1], step, 1e-9);
    }
  }
  // Steps are 1, 2 or 5 times a power of ten.
  const double mant = step / std::pow(10.0, std::floor(std::log10(step)));
  EXPECT_TRUE(std::abs(mant - 1) < 1e-9 || std::abs(mant - 2) < 1e-9 || std::abs(mant - 5) < 1e-9) << step;
  EXPECT_DOUBLE_EQ(a.map(lo), 0);
  EXPECT_DOUBLE_EQ(a.map(hi), 100);
}

TEST(Svg, LogAxisMapsDecadesEvenly) {
  Axis a{1, 1000, 0, 300, true};
  EXPECT_NEAR(a.map(10), 100, 1e-9);
  EXPECT_NEAR(a.map(100), 200, 1e-9);
  const auto t = a.ticks();
  EXPECT_EQ(t, (std::vector<double>{1, 10, 100, 1000}));
  const auto [lo, hi] = nice_range(5, 5, true);  // degenerate: widened around the value
  EXPECT_LT(lo, 5);
  EXPECT_GT(hi, 5);
}

TEST(Svg, TextAndTitlesAreEscaped) {
  Svg s(100, 50, "a <chart>");
  s.text(1, 2, "x<y & z");
  s.rect(0, 0, 1, 1, "#fff", "hover \"quoted\"");
  const std::string out = s.str();
  EXPECT_NE(out.find("x&lt;y &amp; z"), std::string::npos);
  EXPECT_NE(out.find("<title>hover &quot;quoted&quot;</title></rect>"), std::string::npos);
  EXPECT_NE(out.find("aria-label=\"a &lt;chart&gt;\""), std::string::npos);
  EXPECT_EQ(markup_error(out), "");
}

TEST(Frame, ThinKeepsMarkedPointsAndCapsTheRest) {
  std::vector<bool> keep(5000, false);
  keep[7] = keep[4999] = true;
  const auto idx = thin(5000, 100, keep);
  EXPECT_EQ(idx.size(), 100u);
  EXPECT_TRUE(std::is_sorted(idx.begin(), idx.end()));
  EXPECT_TRUE(std::binary_search(idx.begin(), idx.end(), 7u));
  EXPECT_TRUE(std::binary_search(idx.begin(), idx.end(), 4999u));
  EXPECT_EQ(thin(10, 100, {}).size(), 10u);
}

TEST(Table, TwinsHoldFullPrecisionAndEveryRow) {
  Table t("t", "T", {"name", "ms"});
  t.rows = {{Cell::str("a,\"b\""), Cell::num(1.23456789, "1.23")}, {Cell::str("c"), Cell::none()}};
  t.shown = 1;
  EXPECT_EQ(to_csv(t), "name,ms\r\n\"a,\"\"b\"\"\",1.23456789\r\nc,\r\n");
  const auto j = nlohmann::json::parse(to_json_text({t}));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["rows"].size(), 2u);
  EXPECT_DOUBLE_EQ(j[0]["rows"][0]["ms"].get<double>(), 1.23456789);
  EXPECT_TRUE(j[0]["rows"][1]["ms"].is_null());
  const std::string html = to_html(t);
  EXPECT_EQ(count_of(html, "<tr>"), 2u);  // header + the one row shown
  EXPECT_NE(html.find("1 of 2 rows shown"), std::string::npos);
  EXPECT_NE(html.find("data-type=\"num\""), std::string::npos);  // the ms column sorts as numbers
  EXPECT_NE(html.find("a,&quot;b&quot;"), std::string::npos);
}

TEST(Render, EverySectionWithDataIsShownAndThePageIsSelfContained) {
  const ReportData d = fixture();
  const Rendered r = render(d);
  const std::vector<std::string> want = {"summary",  "comparison", "pareto",   "breakdown",
                                         "diagrams", "accuracy",   "progress", "cross-device"};
  EXPECT_EQ(r.sections, want);
  for (const auto& id : want) EXPECT_NE(r.html.find("<section id=\"" + id + "\">"), std::string::npos) << id;
  EXPECT_EQ(markup_error(r.html), "");
  EXPECT_FALSE(has_external_reference(r.html));
  EXPECT_EQ(r.html.find("<script>alert(1)"), std::string::npos);
  EXPECT_NE(r.html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(r.html.find("Test CPU &lt;fast&gt;"), std::string::npos);
  // One chart at least per chart section; the comparison table holds an arch × setting row each.
  EXPECT_GE(count_of(r.html, "<svg "), 8u);
  std::map<std::string, const Table*> tables;
  for (const Table& t : r.tables) tables[t.id] = &t;
  ASSERT_TRUE(tables.count("comparison"));
  EXPECT_EQ(tables["comparison"]->rows.size(), 6u);
  ASSERT_TRUE(tables.count("cost_model_metrics"));
  ASSERT_TRUE(tables.count("cross_device_b1_f32"));
  // Ranks on the CPU are 1, 2, 3 by latency; on the "GPU" they are reversed: every moved rank is flagged.
  const Table& x = *tables["cross_device_b1_f32"];
  ASSERT_EQ(x.rows.size(), 3u);
  EXPECT_EQ(x.rows[0][3].value, 1);
  EXPECT_EQ(x.rows[0][4].value, 3);
  EXPECT_EQ(x.rows[0][4].css, "warn");
  EXPECT_EQ(x.rows[1][4].css, "");  // the middle one keeps rank 2
}

TEST(Render, SectionsWithoutDataAreLeftOut) {
  EXPECT_TRUE(render(ReportData{}).sections.empty());
  EXPECT_NE(render(ReportData{}).html.find("nothing to report"), std::string::npos);
  ReportData d = fixture();
  d.runs.clear();
  d.models.clear();
  d.devices.resize(1);
  for (ArchEntry& a : d.archs) a.latencies.resize(1);
  const Rendered r = render(d);
  // No runs: the Pareto section falls back to latency vs MACs; no models, no second device.
  EXPECT_EQ(r.sections, (std::vector<std::string>{"summary", "comparison", "pareto", "breakdown", "diagrams"}));
  EXPECT_NE(r.html.find("No search run selected"), std::string::npos);
  EXPECT_EQ(markup_error(r.html), "");
}

// A FinerCut run of three blocks: removal steps written in the removed sublayers, the removal order as
// a line, the result measured; the run's table row and one block row per block in the twins.
TEST(Render, CompressionRunsShowTheirBlocksAndCurve) {
  ReportData d;
  CompressRun r;
  r.id = "c0ffee";
  r.method = "finercut-greedy";
  r.original = "net <a>";
  r.result = "net-finercut-2";
  r.device = "Test CPU";
  r.metric = "finercut-js";
  r.original_ms = 10;
  r.result_ms = 7.5;
  r.distance = 0.02;
  for (int b = 0; b < 3; ++b) {
    CompressBlock cb;
    cb.label = "stages.0.blocks." + std::to_string(b);
    cb.before = "msa/mlp(64)";
    cb.after = b == 1 ? "skip/mlp(64)" : b == 2 ? "msa/none" : "msa/mlp(64)";
    cb.mixer_after = b == 1 ? "skip" : "msa";
    cb.ffn_after = b == 2 ? "none" : "mlp";
    cb.ffn_kept = b == 2 ? 0 : 1;
    cb.mixer_step = b == 1 ? 1 : 0;
    cb.ffn_step = b == 2 ? 2 : 0;
    r.blocks.push_back(cb);
  }
  r.points = {{10, 0, false, "original", "o"},
              {8.8, 0.01, false, "step", "s1"},
              {7.4, 0.02, false, "step", "s2"},
              {10, 0, true, "original", "m"},
              {7.5, 0.02, true, "chosen", "c"}};
  d.compress_runs.push_back(r);
  const Rendered out = render(d);
  ASSERT_EQ(out.sections, std::vector<std::string>{"compression"});
  EXPECT_EQ(markup_error(out.html), "");
  EXPECT_NE(out.html.find("net &lt;a&gt;"), std::string::npos);
  EXPECT_NE(out.html.find("25.0% saved"), std::string::npos);
  EXPECT_GE(count_of(out.html, "<polyline"), 1u);  // the removal order
  EXPECT_NE(out.html.find("mixer removed at step 1"), std::string::npos);
  EXPECT_NE(out.html.find("FFN removed at step 2"), std::string::npos);
  std::map<std::string, const Table*> tables;
  for (const Table& t : out.tables) tables[t.id] = &t;
  ASSERT_TRUE(tables.count("compress_runs"));
  ASSERT_EQ(tables["compress_runs"]->rows.size(), 1u);
  EXPECT_EQ(tables["compress_runs"]->rows[0][8].value, 0.25);
  ASSERT_TRUE(tables.count("compress_blocks"));
  EXPECT_EQ(tables["compress_blocks"]->rows.size(), 3u);
  EXPECT_EQ(tables["compress_blocks"]->rows[2][5].value, 2);
}

TEST(Render, LargeInputsStaySmall) {
  ReportData d = fixture();
  SearchRun& run = d.runs[0];
  for (std::size_t i = 400; i < 20000; ++i) {
    SearchPoint p = run.points[i % 400];
    p.index = i;
    p.front = p.best = p.measured = false;
    run.points.push_back(p);
  }
  RenderOptions o;
  o.max_points = 500;
  const Rendered r = render(d, o);
  const std::size_t pareto_begin = r.html.find("<section id=\"pareto\">");
  const std::size_t pareto_end = r.html.find("</section>", pareto_begin);
  const std::string pareto = r.html.substr(pareto_begin, pareto_end - pareto_begin);
  EXPECT_LE(count_of(pareto, "<circle"), 500u + 2);  // + the best's ring
  EXPECT_NE(pareto.find("points drawn"), std::string::npos);
  EXPECT_LT(r.html.size(), 1'500'000u);
}

}  // namespace
}  // namespace hwnas::reports
