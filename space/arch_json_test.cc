// Architecture JSON: parsing, the shorthands, and every kind of bad input. Errors must read
// "<source>: <json path>: <rule>" on one line (space/FORMAT.md).
#include "space/arch_json.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "space/canonical.h"
#include "space/count.h"
#include "space/ops.h"

namespace hwnas::space {
namespace {

using nlohmann::json;

constexpr const char* kSource = "net.json";

// A small valid network: 64×64 input, stem patch 4 → 16×16, stage 1 dtm → 8×8.
json base() {
  return json::parse(R"({
    "input": {"resolution": 64, "classes": 10},
    "stem": {"kind": "patch", "kernel": 4},
    "stages": [
      {"dim": 32, "heads": 2, "blocks": [
        {"mixer": {"kind": "hilo", "alpha": 0.5, "window": 2}, "ffn": {"kind": "mlp", "hidden": 64}},
        {"mixer": {"kind": "window", "size": 4, "shift": true}, "ffn": {"kind": "convffn", "ratio": 2}}]},
      {"dim": 64, "heads": 4, "downsample": "dtm", "blocks": [
        {"mixer": "msa", "ffn": {"kind": "mlp", "ratio": 4}}]}
    ]
  })");
}

// A single-stage network (DeiT-like, no cls token): 64×64, patch 8 → 8×8 = 64 tokens.
json single_stage() {
  return json::parse(R"({
    "input": {"resolution": 64, "classes": 10},
    "stem": {"kind": "patch", "kernel": 8},
    "stages": [{"dim": 32, "heads": 2, "depth": 2, "block": {"mixer": "msa", "ffn": {"kind": "mlp", "ratio": 4}}}]
  })");
}

Arch parse_ok(const json& j) {
  auto r = arch_from_json(j, kSource);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : Arch{};
}

// The error of parsing `text` has the form "net.json: <path>: <rule>", contains `rule_part`, and is
// a single line.
::testing::AssertionResult text_fails(std::string_view text, const std::string& path, std::string_view rule_part) {
  auto r = parse_arch(text, kSource);
  if (r.ok()) return ::testing::AssertionFailure() << "parsed, but expected an error at " << path;
  const std::string& msg = r.error().message;
  const std::string prefix = std::string(kSource) + ": " + path + ": ";
  if (msg.rfind(prefix, 0) != 0)
    return ::testing::AssertionFailure() << "expected prefix '" << prefix << "', got: " << msg;
  if (msg.find(rule_part) == std::string::npos)
    return ::testing::AssertionFailure() << "expected '" << rule_part << "' in: " << msg;
  if (msg.find('\n') != std::string::npos) return ::testing::AssertionFailure() << "multi-line error: " << msg;
  return ::testing::AssertionSuccess() << msg;
}

::testing::AssertionResult fails(const json& j, const std::string& path, std::string_view rule_part) {
  return text_fails(j.dump(), path, rule_part);
}

// ---------------------------------------------------------------------------------------------
// Syntax

TEST(ArchJsonSyntax, SyntaxErrorHasLineAndColumn) {
  // The ',' is on line 2, column 11.
  const std::string text = "{\n  \"stem\": ,\n  \"stages\": []\n}";
  auto r = parse_arch(text, kSource);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("net.json:2:11: invalid JSON: ", 0), 0u) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
}

TEST(ArchJsonSyntax, SyntaxErrorOnFirstLine) {
  auto r = parse_arch("{\"stem\" 4}", kSource);  // missing ':' at column 9
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("net.json:1:9: invalid JSON: ", 0), 0u) << r.error().message;
}

TEST(ArchJsonSyntax, RawNewlineInsideStringStaysOneLine) {
  auto r = parse_arch("{\"meta\": {\"name\": \"a\nb\"}}", kSource);
  ASSERT_FALSE(r.ok());
  const std::string& msg = r.error().message;
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;
  EXPECT_EQ(msg.rfind("net.json:1:", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(ArchJsonSyntax, EmptyAndNonObjectDocuments) {
  auto empty = parse_arch("", kSource);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message.rfind("net.json:1:1: invalid JSON", 0), 0u) << empty.error().message;
  EXPECT_TRUE(text_fails("[1, 2]", "(top level)", "must be an object (got array)"));
}

TEST(ArchJsonSyntax, MissingFileIsAnError) {
  auto r = load_arch_file("/nonexistent/dir/net.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "/nonexistent/dir/net.json: cannot open file");
}

// ---------------------------------------------------------------------------------------------
// Unknown keys

TEST(ArchJsonKeys, MisspelledRequiredTopLevelKeySuggestsTheRightOne) {
  // A user who types "stgaes" for "stages" should be told about the typo, not only that
  // 'stages' is missing.
  json j = base();
  j["stgaes"] = j["stages"];
  j.erase("stages");
  EXPECT_TRUE(fails(j, "stgaes", "unknown key (did you mean 'stages'?)"));
}

TEST(ArchJsonKeys, MisspelledOptionalTopLevelKeySuggestsTheRightOne) {
  json j = base();
  j["cls_tokne"] = false;
  EXPECT_TRUE(fails(j, "cls_tokne", "unknown key (did you mean 'cls_token'?)"));
}

TEST(ArchJsonKeys, NestedUnknownKeys) {
  json j = base();
  j["stages"][0]["blocks"][0]["mixer"]["alpah"] = 0.5;
  j["stages"][0]["blocks"][0]["mixer"].erase("alpha");
  EXPECT_TRUE(fails(j, "stages[0].blocks[0].mixer.alpah", "unknown key (did you mean 'alpha'?)"));

  json k = base();
  k["stages"][1]["nrom_out"] = true;
  EXPECT_TRUE(fails(k, "stages[1].nrom_out", "unknown key (did you mean 'norm_out'?)"));

  json far = base();
  far["input"]["zzzzzzzz"] = 1;
  const auto r = fails(far, "input.zzzzzzzz", "unknown key");
  EXPECT_TRUE(r);
  EXPECT_EQ(std::string(r.message()).find("did you mean"), std::string::npos) << r.message();
}

TEST(ArchJsonKeys, MixerKeyOfAnotherKindIsUnknown) {
  json j = base();
  j["stages"][1]["blocks"][0]["mixer"] = {{"kind", "msa"}, {"alpha", 0.9}};
  EXPECT_TRUE(fails(j, "stages[1].blocks[0].mixer.alpha", "unknown key"));
  json k = base();
  k["stages"][0]["blocks"][1]["mixer"]["window"] = 2;  // hilo's key on a window mixer
  EXPECT_TRUE(fails(k, "stages[0].blocks[1].mixer.window", "unknown key"));
}

// ---------------------------------------------------------------------------------------------
// Types and ranges

TEST(ArchJsonTypes, StringWhereIntegerExpected) {
  json j = base();
  j["stages"][0]["dim"] = "32";
  EXPECT_TRUE(fails(j, "stages[0].dim", "must be an integer (got string)"));
}

TEST(ArchJsonTypes, FloatWhereIntegerExpected) {
  json j = base();
  j["stages"][0]["dim"] = 32.0;
  EXPECT_TRUE(fails(j, "stages[0].dim", "must be an integer (got number)"));
  json k = base();
  k["stages"][0]["heads"] = 2.5;
  EXPECT_TRUE(fails(k, "stages[0].heads", "must be an integer (got number)"));
}

TEST(ArchJsonTypes, OtherWrongTypes) {
  json j = base();
  j["cls_token"] = 1;
  EXPECT_TRUE(fails(j, "cls_token", "must be true or false (got integer)"));
  json k = base();
  k["stages"] = json::object();
  EXPECT_TRUE(fails(k, "stages", "must be an array (got object)"));
  json m = base();
  m["stages"][0]["blocks"][0]["mixer"]["alpha"] = "0.5";
  EXPECT_TRUE(fails(m, "stages[0].blocks[0].mixer.alpha", "must be a number (got string)"));
}

TEST(ArchJsonRules, HeadsMustDivideDim) {
  json j = base();
  j["stages"][0]["heads"] = 3;
  EXPECT_TRUE(fails(j, "stages[0].heads", "must divide dim 32 (got 3)"));
  json k = base();
  k["stages"][1]["heads"] = 0;
  EXPECT_TRUE(fails(k, "stages[1].heads", "must be in [1, 64] (got 0)"));
}

TEST(ArchJsonRules, WindowMustDivideTheTokenGrid) {
  json j = base();
  j["stages"][0]["blocks"][1]["mixer"]["size"] = 5;  // 16×16 grid
  EXPECT_TRUE(fails(j, "stages[0].blocks[1].mixer.size", "window 5 does not divide the 16x16 token grid"));
  json k = base();
  k["stages"][0]["blocks"][1]["mixer"]["size"] = 0;
  EXPECT_TRUE(fails(k, "stages[0].blocks[1].mixer.size", "must be in [1,"));
}

TEST(ArchJsonRules, HiloAlphaOutsideUnitInterval) {
  json j = base();
  j["stages"][0]["blocks"][0]["mixer"]["alpha"] = 1.5;
  EXPECT_TRUE(fails(j, "stages[0].blocks[0].mixer.alpha", "must be in [0, 1] (got 1.5)"));
  j["stages"][0]["blocks"][0]["mixer"]["alpha"] = -0.25;
  EXPECT_TRUE(fails(j, "stages[0].blocks[0].mixer.alpha", "must be in [0, 1] (got -0.25)"));
  j["stages"][0]["blocks"][0]["mixer"]["alpha"] = 0;  // an integer 0 is a fine number
  EXPECT_TRUE(arch_from_json(j, kSource).ok());
}

TEST(ArchJsonRules, NegativeDim) {
  json j = base();
  j["stages"][1]["dim"] = -64;
  EXPECT_TRUE(fails(j, "stages[1].dim", "must be in [1, 65536] (got -64)"));
}

TEST(ArchJsonRules, ZeroOrNegativeResolutionNamesTheJsonKey) {
  // The user wrote "input.resolution"; the error must name that path, not an internal field.
  json j = base();
  j["input"]["resolution"] = 0;
  EXPECT_TRUE(fails(j, "input.resolution", "must be in [1, 16384] (got 0)"));
  json k = base();
  k["input"]["resolution"] = json::array({-64, 64});
  EXPECT_TRUE(fails(k, "input.resolution[0]", "(got -64)"));
  json m = base();
  m["input"]["resolution"] = json::array({64, 0});
  EXPECT_TRUE(fails(m, "input.resolution[1]", "(got 0)"));
}

TEST(ArchJsonRules, ResolutionArrayShape) {
  json j = base();
  j["input"]["resolution"] = json::array({64, 64, 3});
  EXPECT_TRUE(fails(j, "input.resolution", "must be an integer or [height, width]"));
  j["input"]["resolution"] = json::array({64, "64"});
  EXPECT_TRUE(fails(j, "input.resolution[1]", "must be an integer (got string)"));
}

TEST(ArchJsonRules, AbsurdSizesReportOverflowPerOp) {
  // 16384² = 2^28 tokens of width 65536 in one global MSA: 2·N²·D ≈ 9.4e21 MACs > 2^63.
  const json j = json::parse(R"({
    "input": {"resolution": 16384, "classes": 10},
    "stem": {"kind": "patch", "kernel": 1},
    "stages": [{"dim": 65536, "heads": 1, "blocks": [{"mixer": "msa", "ffn": "none"}]}]
  })");
  auto r = arch_from_json(j, kSource);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("net.json: ", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find("overflow"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
}

TEST(ArchJsonRules, AbsurdSizesReportOverflowOfTheTotal) {
  // Every op fits in 64 bits but their sum does not: N = 2^28 tokens, D = 2^15, hidden 2^19, so
  // fc1 = fc2 = N·D·H = 2^62 MACs each and the block alone is 2^63 > INT64_MAX. validate() promises
  // "64-bit count overflow" checking, so this must be refused, and counting must never throw.
  const json j = json::parse(R"({
    "input": {"resolution": 16384, "classes": 10},
    "stem": {"kind": "patch", "kernel": 1},
    "stages": [{"dim": 32768, "heads": 1, "blocks": [{"mixer": "none", "ffn": {"kind": "mlp", "hidden": 524288}}]}]
  })");
  auto r = arch_from_json(j, kSource);
  if (r.ok()) {
    ADD_FAILURE() << "validated an arch whose total MACs (2^63) overflow 64 bits";
    auto net = lower(*r);
    ASSERT_TRUE(net.ok());
    EXPECT_NO_THROW((void)count(*net));
  } else {
    EXPECT_NE(r.error().message.find("overflow"), std::string::npos) << r.error().message;
  }
}

TEST(ArchJsonRules, HugeJsonIntegersAreRangeErrorsNotCrashes) {
  json j = base();
  j["stages"][0]["dim"] = std::numeric_limits<std::uint64_t>::max();
  EXPECT_TRUE(fails(j, "stages[0].dim", "must be in"));
  j = base();
  j["stages"][0]["dim"] = std::numeric_limits<std::int64_t>::min();
  EXPECT_TRUE(fails(j, "stages[0].dim", "must be in [1, 65536]"));
  EXPECT_TRUE(text_fails(R"({"stem": {"kind": "patch", "kernel": 1e300}, "stages": []})", "stem.kernel",
                         "must be an integer (got number)"));
}

TEST(ArchJsonRules, EmptyStagesAndEmptyBlocks) {
  json j = base();
  j["stages"] = json::array();
  EXPECT_TRUE(fails(j, "stages", "must have at least one stage"));
  json k = base();
  k["stages"][1]["blocks"] = json::array();
  EXPECT_TRUE(fails(k, "stages[1].blocks", "a stage needs at least one block"));
  json m = single_stage();
  m["stages"][0]["depth"] = 0;
  EXPECT_TRUE(fails(m, "stages[0].depth", "must be in [1, 1024] (got 0)"));
}

TEST(ArchJsonRules, UnknownMixerKindSuggests) {
  json j = base();
  j["stages"][0]["blocks"][0]["mixer"] = {{"kind", "hillo"}};
  EXPECT_TRUE(fails(j, "stages[0].blocks[0].mixer.kind", "unknown kind 'hillo', did you mean 'hilo'?"));
  json k = base();
  k["stages"][1]["blocks"][0]["mixer"] = "wndow";
  EXPECT_TRUE(fails(k, "stages[1].blocks[0].mixer.kind", "did you mean 'window'?"));
  json m = base();
  m["stages"][1]["blocks"][0]["mixer"] = "transformer";
  const auto r = fails(m, "stages[1].blocks[0].mixer.kind", "unknown kind 'transformer'");
  EXPECT_TRUE(r);
  EXPECT_EQ(std::string(r.message()).find("did you mean"), std::string::npos) << r.message();
  EXPECT_NE(std::string(r.message()).find("known: none, skip, normskip, msa, hilo, window, sra, bconv"),
            std::string::npos)
      << r.message();
}

TEST(ArchJsonRules, ClsTokenNeedsASingleStage) {
  json j = base();
  j["cls_token"] = true;
  j["head"] = "cls";
  EXPECT_TRUE(fails(j, "cls_token", "a cls token needs a single-stage network"));
}

TEST(ArchJsonRules, FfnHiddenAndRatioAreExclusive) {
  json j = base();
  j["stages"][0]["blocks"][0]["ffn"] = {{"kind", "mlp"}, {"hidden", 64}, {"ratio", 2}};
  EXPECT_TRUE(fails(j, "stages[0].blocks[0].ffn", "give exactly one of 'hidden' (width) or 'ratio'"));
  json k = base();
  k["stages"][0]["blocks"][0]["ffn"] = "mlp";  // neither
  EXPECT_TRUE(fails(k, "stages[0].blocks[0].ffn", "give exactly one of"));
}

TEST(ArchJsonRules, FfnRatioMustGiveAnIntegerWidth) {
  json j = base();
  j["stages"][0]["blocks"][1]["ffn"] = {{"kind", "convffn"}, {"ratio", 2.3}};  // 2.3 · 32 = 73.6
  EXPECT_TRUE(fails(j, "stages[0].blocks[1].ffn.ratio", "ratio 2.3 times dim 32 is not an integer width"));
  // 1.5 · 32 = 48 is fine.
  j["stages"][0]["blocks"][1]["ffn"]["ratio"] = 1.5;
  const Arch a = parse_ok(j);
  ASSERT_EQ(a.stages.size(), 2u);
  EXPECT_EQ(a.stages[0].blocks[1].ffn.hidden, 48);
  EXPECT_EQ(a.stages[1].blocks[0].ffn.hidden, 256);  // ratio 4 · 64
}

TEST(ArchJsonRules, DownsampleRequiredAfterStageZero) {
  json j = base();
  j["stages"][1].erase("downsample");
  EXPECT_TRUE(fails(j, "stages[1].downsample", "is required for every stage after the first"));
}

TEST(ArchJsonRules, StageZeroMustNotDownsample) {
  json j = base();
  j["stages"][0]["downsample"] = "dtm";
  EXPECT_TRUE(fails(j, "stages[0].downsample", "stage 0 takes the stem's output: its downsample must be 'none'"));
  json k = base();
  k["stages"][0]["downsample"] = "none";  // explicit none is fine
  EXPECT_TRUE(arch_from_json(k, kSource).ok());
}

TEST(ArchJsonRules, DownsampleNoneMustKeepTheWidth) {
  json j = base();
  j["stages"][1]["downsample"] = "none";  // 32 → 64 without a projection
  EXPECT_TRUE(fails(j, "stages[1].downsample", "kind 'none' keeps the width"));
}

TEST(ArchJsonRules, BconvKernelIsOneOrThree) {
  json j = base();
  j["stages"][1]["blocks"][0]["mixer"] = {{"kind", "bconv"}, {"kernel", 2}};
  EXPECT_TRUE(fails(j, "stages[1].blocks[0].mixer.kernel", "must be 1 or 3 (got 2)"));
  j["stages"][1]["blocks"][0]["mixer"]["kernel"] = 3;
  EXPECT_TRUE(arch_from_json(j, kSource).ok());
}

TEST(ArchJsonRules, StemMustBeAConv) {
  json j = base();
  j["stem"] = {{"kind", "merge"}};
  EXPECT_TRUE(fails(j, "stem.kind", "a stem must be 'patch' or 'overlap' (got 'merge')"));
  j["stem"] = {{"kind", "dtm"}};
  EXPECT_TRUE(fails(j, "stem.kind", "(got 'dtm')"));
}

TEST(ArchJsonRules, StemKernelMustFitTheInput) {
  json j = base();
  j["stem"] = {{"kind", "patch"}, {"kernel", 64}, {"stride", 64}};
  j["input"]["resolution"] = 32;
  EXPECT_TRUE(fails(j, "stem.kernel", "does not fit the 32x32 input"));
  json k = base();
  k["stem"]["padding"] = 4;  // padding must be < kernel
  EXPECT_TRUE(fails(k, "stem.padding", "must be in [0, 3] (got 4)"));
}

TEST(ArchJsonRules, ClsTokenWithMeanHeadIsRefused) {
  json j = single_stage();
  j["cls_token"] = true;  // head defaults to mean
  EXPECT_TRUE(fails(j, "head.kind", "'mean' with a cls token is not supported"));
  json k = single_stage();
  k["head"] = "cls";  // and the converse
  EXPECT_TRUE(fails(k, "head.kind", "'cls' needs \"cls_token\": true"));
  json ok = single_stage();
  ok["cls_token"] = true;
  ok["head"] = {{"kind", "cls"}};
  const Arch a = parse_ok(ok);
  EXPECT_TRUE(a.cls_token);
  EXPECT_EQ(a.head.kind, HeadKind::cls);
}

// ---------------------------------------------------------------------------------------------
// Positive cases: shorthands and normalisation

TEST(ArchJsonParse, FieldsAndDefaults) {
  const Arch a = parse_ok(base());
  EXPECT_EQ(a.input.height, 64);
  EXPECT_EQ(a.input.width, 64);
  EXPECT_EQ(a.input.channels, 3);
  EXPECT_EQ(a.input.classes, 10);
  EXPECT_EQ(a.norm_eps, 1e-6);
  EXPECT_EQ(a.stem.kind, PatchKind::patch);
  EXPECT_EQ(a.stem.stride, 4);  // defaults to the kernel
  EXPECT_EQ(a.stem.padding, 0);
  EXPECT_FALSE(a.stem.norm);
  ASSERT_EQ(a.stages.size(), 2u);
  EXPECT_EQ(a.stages[0].blocks[0].mixer.kind, MixerKind::hilo);
  EXPECT_EQ(a.stages[0].blocks[0].mixer.hilo_alpha, 0.5);
  EXPECT_EQ(a.stages[0].blocks[1].ffn.hidden, 64);  // convffn ratio 2 · 32
  EXPECT_EQ(a.stages[1].downsample.kind, PatchKind::dtm);
  EXPECT_EQ(a.stages[1].downsample.kernel, 2);
  EXPECT_EQ(a.head.kind, HeadKind::mean);
  EXPECT_TRUE(a.head.norm);
  EXPECT_FALSE(a.cls_token);
}

TEST(ArchJsonParse, EmbedNormEpsIsOptionalAndOnlyInTheTextWhenGiven) {
  const Arch plain = parse_ok(base());
  EXPECT_FALSE(plain.embed_norm_eps);
  EXPECT_EQ(plain.embed_eps(), plain.norm_eps);
  EXPECT_EQ(canonical_text(plain).find("embed_norm_eps"), std::string::npos);  // existing hashes unchanged
  json j = base();
  j["embed_norm_eps"] = 1e-5;
  const Arch pvt = parse_ok(j);
  ASSERT_TRUE(pvt.embed_norm_eps);
  EXPECT_EQ(pvt.embed_eps(), 1e-5);
  EXPECT_FALSE(pvt.same_network(plain));
  EXPECT_NE(canonical_text(pvt), canonical_text(plain));
  EXPECT_TRUE(parse_ok(arch_to_json(pvt, false)).same_network(pvt));
  j["embed_norm_eps"] = 0.0;
  EXPECT_TRUE(fails(j, "embed_norm_eps", "must be in (0, 1)"));
}

TEST(ArchJsonParse, DepthShorthandEqualsExplicitBlocks) {
  const json block = {{"mixer", {{"kind", "hilo"}, {"alpha", 0.5}}}, {"ffn", {{"kind", "mlp"}, {"hidden", 96}}}};
  json shorthand = base();
  shorthand["stages"][0] = {{"dim", 32}, {"heads", 2}, {"depth", 3}, {"block", block}};
  json explicit_list = base();
  explicit_list["stages"][0] = {{"dim", 32}, {"heads", 2}, {"blocks", json::array({block, block, block})}};
  const Arch a = parse_ok(shorthand), b = parse_ok(explicit_list);
  ASSERT_EQ(a.stages.size(), 2u);
  EXPECT_EQ(a.stages[0].blocks.size(), 3u);
  EXPECT_TRUE(a.same_network(b));
  EXPECT_EQ(canonical_text(a), canonical_text(b));
  // Both or neither is an error.
  json both = shorthand;
  both["stages"][0]["blocks"] = json::array({block});
  EXPECT_TRUE(fails(both, "stages[0]", "give either 'blocks' (a list) or 'depth'"));
  json neither = shorthand;
  neither["stages"][0].erase("depth");
  neither["stages"][0].erase("block");
  EXPECT_TRUE(fails(neither, "stages[0]", "give either 'blocks' (a list) or 'depth'"));
}

TEST(ArchJsonParse, MixerStringShorthand) {
  json a = base(), b = base(), c = base();
  a["stages"][1]["blocks"][0]["mixer"] = "msa";
  b["stages"][1]["blocks"][0]["mixer"] = {{"kind", "msa"}};
  c["stages"][1]["blocks"][0]["mixer"] = {{"kind", "msa"}, {"rel_pos", false}};
  const Arch pa = parse_ok(a), pb = parse_ok(b), pc = parse_ok(c);
  ASSERT_EQ(pa.stages.size(), 2u);
  EXPECT_EQ(pa.stages[1].blocks[0].mixer.kind, MixerKind::msa);
  EXPECT_FALSE(pa.stages[1].blocks[0].mixer.msa_rel_pos);
  EXPECT_TRUE(pa.same_network(pb));
  EXPECT_TRUE(pa.same_network(pc));
  // rel_pos true is a different network.
  c["stages"][1]["blocks"][0]["mixer"]["rel_pos"] = true;
  EXPECT_FALSE(pa.same_network(parse_ok(c)));
}

TEST(ArchJsonParse, FfnNoneShorthand) {
  json a = base(), b = base();
  a["stages"][1]["blocks"][0]["ffn"] = "none";
  b["stages"][1]["blocks"][0]["ffn"] = {{"kind", "none"}};
  const Arch pa = parse_ok(a);
  ASSERT_EQ(pa.stages.size(), 2u);
  EXPECT_EQ(pa.stages[1].blocks[0].ffn.kind, FfnKind::none);
  EXPECT_TRUE(pa.same_network(parse_ok(b)));
}

TEST(ArchJsonParse, NonSquareResolution) {
  json j = base();
  j["input"]["resolution"] = json::array({64, 96});
  const Arch a = parse_ok(j);
  EXPECT_EQ(a.input.height, 64);
  EXPECT_EQ(a.input.width, 96);
  auto net = lower(a);
  ASSERT_TRUE(net.ok());
  // Stem patch 4: 16×24 tokens; stage 1 dtm: 8×12.
  const Unit& stem = net->units.front();
  EXPECT_EQ(stem.out.h, 16);
  EXPECT_EQ(stem.out.w, 24);
  EXPECT_EQ(stem.out.total(), 384);
  bool saw_stage1 = false;
  for (const Unit& u : net->units) {
    if (u.kind == UnitKind::block && u.stage == 1) {
      saw_stage1 = true;
      EXPECT_EQ(u.in.h, 8);
      EXPECT_EQ(u.in.w, 12);
    }
  }
  EXPECT_TRUE(saw_stage1);
  // [h, h] is the same as h; [h, w] survives the JSON round trip.
  json sq = base();
  sq["input"]["resolution"] = json::array({64, 64});
  EXPECT_TRUE(parse_ok(sq).same_network(parse_ok(base())));
  auto back = arch_from_json(arch_to_json(a), kSource);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->same_network(a));
}

TEST(ArchJsonParse, WindowEqualToTheMapDropsTheShift) {
  // Stage 1 runs on 8×8: a window of 8 is the whole map, so Swin drops the shift.
  json j = base();
  j["stages"][1]["blocks"][0]["mixer"] = {{"kind", "window"}, {"size", 8}, {"shift", true}};
  const Arch a = parse_ok(j);
  ASSERT_EQ(a.stages.size(), 2u);
  EXPECT_EQ(a.stages[1].blocks[0].mixer.window_size, 8);
  EXPECT_FALSE(a.stages[1].blocks[0].mixer.window_shift);
  // A window smaller than the map keeps its shift.
  EXPECT_TRUE(a.stages[0].blocks[1].mixer.window_shift);
}

TEST(ArchJsonParse, WindowBiggerThanTheMapIsNormalisedToTheMap) {
  // Swin: if min(H, W) <= window, the window becomes min(H, W) and the shift is dropped. A 12×12
  // window on the 8×8 map of stage 1 is therefore an 8×8 unshifted window (FORMAT.md: "must divide
  // the map unless it covers it, then it becomes the map").
  json j = base();
  j["stages"][1]["blocks"][0]["mixer"] = {{"kind", "window"}, {"size", 12}, {"shift", true}};
  auto r = arch_from_json(j, kSource);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->stages[1].blocks[0].mixer.window_size, 8);
  EXPECT_FALSE(r->stages[1].blocks[0].mixer.window_shift);
  json k = base();
  k["stages"][1]["blocks"][0]["mixer"] = {{"kind", "window"}, {"size", 8}};
  EXPECT_EQ(arch_hash(*r), arch_hash(parse_ok(k)));
}

TEST(ArchJsonParse, WindowCoveringANonSquareMapUsesTheShortSide) {
  // 64×32 input → stage 1 map 8×4; window 4 = min(8, 4) covers it: size 4, no shift.
  json j = base();
  j["input"]["resolution"] = json::array({64, 32});
  j["stages"][1]["blocks"][0]["mixer"] = {{"kind", "window"}, {"size", 4}, {"shift", true}};
  const Arch a = parse_ok(j);
  ASSERT_EQ(a.stages.size(), 2u);
  EXPECT_EQ(a.stages[1].blocks[0].mixer.window_size, 4);
  EXPECT_FALSE(a.stages[1].blocks[0].mixer.window_shift);
}

TEST(ArchJsonParse, HiloWindowOneIsAllLoFi) {
  json j = base();
  j["stages"][1]["blocks"][0]["mixer"] = {{"kind", "hilo"}, {"alpha", 0.3}, {"window", 1}};
  const Arch a = parse_ok(j);
  ASSERT_EQ(a.stages.size(), 2u);
  EXPECT_EQ(a.stages[1].blocks[0].mixer.hilo_alpha, 1.0);
}

TEST(ArchJsonParse, MetaIsReadAndChecked) {
  json j = base();
  j["meta"] = {{"name", "my-net"}, {"top1", 80.1}, {"paper_count", "litv2"}, {"source", "here"}};
  const Arch a = parse_ok(j);
  EXPECT_EQ(a.meta.name, "my-net");
  ASSERT_TRUE(a.meta.top1.has_value());
  EXPECT_EQ(*a.meta.top1, 80.1);
  j["meta"]["top1"] = 101;
  EXPECT_TRUE(fails(j, "meta.top1", "must be in [0, 100]"));
  j["meta"]["top1"] = 80;
  j["meta"]["paper_count"] = "swim";
  const auto r = arch_from_json(j, kSource);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("meta.paper_count"), std::string::npos) << r.error().message;
}

TEST(ArchJsonParse, ArchToJsonRoundTrip) {
  const Arch a = parse_ok(base());
  const json out = arch_to_json(a);
  auto b = arch_from_json(out, kSource);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_TRUE(b->same_network(a));
  // Every field is explicit: blocks are expanded, ffn written as hidden.
  ASSERT_TRUE(out["stages"][0].contains("blocks"));
  EXPECT_EQ(out["stages"][0]["blocks"].size(), 2u);
  EXPECT_EQ(out["stages"][0]["blocks"][1]["ffn"]["hidden"], 64);
  EXPECT_EQ(out["stages"][1]["heads"], 4);
  EXPECT_FALSE(out.contains("meta"));  // nothing to say
}

}  // namespace
}  // namespace hwnas::space

namespace hwnas::space {
namespace {
// Found by the fuzzer: a number too large for a double is an out_of_range error in nlohmann, not a
// parse error; it must still be a clean Error, never an exception.
TEST(ArchJson, HugeNumberLiteralIsAnErrorNotACrash) {
  auto a =
      parse_arch(R"({"norm_eps": 1e3333333333, "stem": {"kind": "patch", "kernel": 4}, "stages": []})", "huge.json");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("huge.json: invalid JSON: number overflow"), std::string::npos) << a.error().message;
}
}  // namespace
}  // namespace hwnas::space
