// Canonical form and hash: equal networks hash equal whatever their spelling; every change to what
// is computed changes the hash.
#include "space/canonical.h"

#include <cmath>
#include <functional>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "space/arch_json.h"
#include "space/presets.h"
#include "space/validate.h"

namespace hwnas::space {
namespace {

using nlohmann::json;

Arch parse_ok(const std::string& text) {
  auto r = parse_arch(text, "test.json");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : Arch{};
}

// One network, spelled out in full: compact, every default written, explicit blocks, ffn widths as
// `hidden`, a meta object. Stem overlap k7/s4/p3 on 64×64 → 16×16; stage 1 patch 2 → 8×8.
constexpr const char* kExplicit =
    R"({"input":{"resolution":64,"channels":3,"classes":10},"norm_eps":0.000001,)"
    R"("stem":{"kind":"overlap","kernel":7,"stride":4,"padding":3,"norm":true},"cls_token":false,)"
    R"("stages":[{"dim":32,"heads":2,"downsample":"none","pos_embed":false,"norm_out":false,"blocks":[)"
    R"({"mixer":{"kind":"hilo","alpha":0.9,"window":2},"ffn":{"kind":"mlp","hidden":128},"pool":false},)"
    R"({"mixer":{"kind":"hilo","alpha":0.9,"window":2},"ffn":{"kind":"mlp","hidden":128},"pool":false}]},)"
    R"({"dim":64,"heads":4,"downsample":{"kind":"patch","kernel":2,"stride":2,"padding":0,"norm":false},)"
    R"("pos_embed":false,"norm_out":false,"blocks":[)"
    R"({"mixer":{"kind":"sra","ratio":2},"ffn":{"kind":"convffn","hidden":128},"pool":false},)"
    R"({"mixer":{"kind":"window","size":4,"shift":true},"ffn":{"kind":"mlp","hidden":256},"pool":false}]}],)"
    R"("head":{"kind":"mean","norm":true},"meta":{"name":"explicit","top1":50.5,"source":"a test"}})";

// The same network: other key order, whitespace, defaults omitted, depth shorthand, ffn ratios,
// [h, w] resolution, no meta.
constexpr const char* kTerse = R"(
{
  "stages": [
    {
      "block": {"ffn": {"ratio": 4, "kind": "mlp"}, "mixer": "hilo"},
      "depth": 2, "heads": 2, "dim": 32
    },
    {
      "blocks": [
        {"ffn": {"ratio": 2, "kind": "convffn"}, "mixer": {"ratio": 2, "kind": "sra"}},
        {"mixer": {"shift": true, "size": 4, "kind": "window"}, "ffn": {"hidden": 256, "kind": "mlp"}}
      ],
      "downsample": {"kernel": 2, "kind": "patch"},
      "heads": 4,
      "dim": 64
    }
  ],
  "stem":   {"stride": 4, "kernel": 7, "kind": "overlap"},
  "input":  {"classes": 10, "resolution": [64, 64]}
}
)";

TEST(Canonical, SameNetworkSpelledDifferentlyHashesEqual) {
  const Arch a = parse_ok(kExplicit), b = parse_ok(kTerse);
  EXPECT_TRUE(a.same_network(b));
  EXPECT_EQ(canonical_text(a), canonical_text(b));
  EXPECT_EQ(arch_hash(a), arch_hash(b));
  EXPECT_NE(a.meta, b.meta);  // only meta differs
  // Meta added to the terse form changes nothing either.
  json terse_meta = json::parse(kTerse);
  terse_meta["meta"] = {{"name", "other"}, {"paper_count", "litv2"}};
  const Arch c = parse_ok(terse_meta.dump(2));
  EXPECT_EQ(arch_hash(c), arch_hash(a));
  EXPECT_EQ(canonical_text(c), canonical_text(a));
}

TEST(Canonical, TextIsCompactSortedAndHasNoMeta) {
  const Arch a = parse_ok(kExplicit);
  const std::string text = canonical_text(a);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text.find(' '), std::string::npos);
  EXPECT_EQ(text.find("meta"), std::string::npos);
  EXPECT_EQ(text.find("explicit"), std::string::npos);
  // Top-level keys in sorted order.
  const std::vector<std::string> keys = {"\"cls_token\"", "\"head\"",   "\"input\"",
                                         "\"norm_eps\"",  "\"stages\"", "\"stem\""};
  std::size_t last = 0;
  for (const std::string& k : keys) {
    const std::size_t at = text.find(k);
    ASSERT_NE(at, std::string::npos) << k;
    EXPECT_GE(at, last) << k;
    last = at;
  }
  // The canonical text parses back to the same network and is a fixed point.
  const Arch back = parse_ok(text);
  EXPECT_TRUE(back.same_network(a));
  EXPECT_EQ(canonical_text(back), text);
}

TEST(Canonical, NormalisationMakesEquivalentSpellingsEqual) {
  // HiLo with s = 1 is MSA over all heads whatever alpha says.
  json a = json::parse(kExplicit), b = json::parse(kExplicit);
  a["stages"][1]["blocks"][0]["mixer"] = {{"kind", "hilo"}, {"alpha", 0.3}, {"window", 1}};
  b["stages"][1]["blocks"][0]["mixer"] = {{"kind", "hilo"}, {"alpha", 1.0}, {"window", 1}};
  EXPECT_EQ(arch_hash(parse_ok(a.dump())), arch_hash(parse_ok(b.dump())));
  // A window covering the whole 8×8 map is unshifted.
  json c = json::parse(kExplicit), d = json::parse(kExplicit);
  c["stages"][1]["blocks"][1]["mixer"] = {{"kind", "window"}, {"size", 8}, {"shift", true}};
  d["stages"][1]["blocks"][1]["mixer"] = {{"kind", "window"}, {"size", 8}, {"shift", false}};
  EXPECT_EQ(arch_hash(parse_ok(c.dump())), arch_hash(parse_ok(d.dump())));
}

TEST(Canonical, HashHexIs16LowercaseHexDigits) {
  const std::regex hex16("^[0-9a-f]{16}$");
  EXPECT_EQ(hash_hex(0), "0000000000000000");
  EXPECT_EQ(hash_hex(0xABCULL), "0000000000000abc");
  EXPECT_EQ(hash_hex(0xFEDCBA9876543210ULL), "fedcba9876543210");
  EXPECT_EQ(hash_hex(~0ULL), "ffffffffffffffff");
  for (const PresetInfo& p : presets()) {
    auto a = preset(p.name);
    ASSERT_TRUE(a.ok()) << p.name;
    const std::string h = hash_hex(arch_hash(*a));
    EXPECT_TRUE(std::regex_match(h, hex16)) << p.name << ": " << h;
  }
}

TEST(Canonical, HashIsOfTheCanonicalText) {
  const Arch a = parse_ok(kExplicit);
  EXPECT_EQ(arch_hash(a), hash64(canonical_text(a)));
  // Small byte changes spread: one flipped character changes the hash.
  std::string t = canonical_text(a);
  const std::uint64_t h = hash64(t);
  t.back() = t.back() == '}' ? ']' : '}';
  EXPECT_NE(hash64(t), h);
  EXPECT_NE(hash64(""), hash64(" "));
}

// A validated variant of `base` after `edit`; fails the test if the edit makes it invalid.
Arch variant(const Arch& base, const std::function<void(Arch&)>& edit) {
  Arch a = base;
  edit(a);
  auto v = validate(a);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
  return v.ok() ? *v : Arch{};
}

TEST(Canonical, EveryComputationalChangeChangesTheHash) {
  const Arch base = parse_ok(kExplicit);
  ASSERT_EQ(base.stages.size(), 2u);
  using Edit = std::function<void(Arch&)>;
  const std::vector<std::pair<std::string, Edit>> edits = {
      {"dim", [](Arch& a) { a.stages[1].dim = 128; }},
      {"heads", [](Arch& a) { a.stages[1].heads = 8; }},
      {"mixer kind of one block", [](Arch& a) { a.stages[1].blocks[0].mixer.kind = MixerKind::msa; }},
      {"hilo alpha", [](Arch& a) { a.stages[0].blocks[0].mixer.hilo_alpha = 0.0; }},
      {"hilo window", [](Arch& a) { a.stages[0].blocks[1].mixer.hilo_window = 4; }},
      {"window size", [](Arch& a) { a.stages[1].blocks[1].mixer.window_size = 2; }},
      {"window shift", [](Arch& a) { a.stages[1].blocks[1].mixer.window_shift = false; }},
      {"sra ratio", [](Arch& a) { a.stages[1].blocks[0].mixer.sra_ratio = 4; }},
      {"ffn hidden + 1", [](Arch& a) { a.stages[0].blocks[1].ffn.hidden = 129; }},
      {"ffn kind", [](Arch& a) { a.stages[1].blocks[1].ffn.kind = FfnKind::convffn; }},
      {"ffn removed",
       [](Arch& a) {
         a.stages[1].blocks[1].ffn = Ffn{FfnKind::none, 0};
       }},
      {"norm_eps", [](Arch& a) { a.norm_eps = 1e-5; }},
      {"norm_eps by one ulp", [](Arch& a) { a.norm_eps = std::nextafter(1e-6, 1.0); }},
      {"resolution", [](Arch& a) { a.input.height = a.input.width = 128; }},
      {"resolution width only", [](Arch& a) { a.input.width = 128; }},
      {"classes", [](Arch& a) { a.input.classes = 11; }},
      {"channels", [](Arch& a) { a.input.channels = 1; }},
      {"stem kernel",
       [](Arch& a) {
         a.stem.kernel = 5;
         a.stem.padding = 2;
       }},
      {"stem norm", [](Arch& a) { a.stem.norm = false; }},
      {"downsample kind",
       [](Arch& a) {
         a.stages[1].downsample = Patch{PatchKind::dtm, 2, 2, 0, false};
       }},
      {"pos_embed", [](Arch& a) { a.stages[0].pos_embed = true; }},
      {"norm_out", [](Arch& a) { a.stages[0].norm_out = true; }},
      {"head norm", [](Arch& a) { a.head.norm = false; }},
      {"one more block", [](Arch& a) { a.stages[0].blocks.push_back(a.stages[0].blocks[0]); }},
  };
  std::map<std::uint64_t, std::string> seen{{arch_hash(base), "base"}};
  for (const auto& [what, edit] : edits) {
    SCOPED_TRACE(what);
    const Arch v = variant(base, edit);
    EXPECT_FALSE(v.same_network(base));
    const std::uint64_t h = arch_hash(v);
    EXPECT_NE(h, arch_hash(base));
    EXPECT_NE(canonical_text(v), canonical_text(base));
    const auto [it, inserted] = seen.emplace(h, what);
    EXPECT_TRUE(inserted) << "same hash as " << it->second;
  }
}

// A single-stage network for the changes that need one (cls token, token pooling, head kind).
constexpr const char* kSingle = R"({
  "input": {"resolution": 64, "classes": 10},
  "stem": {"kind": "patch", "kernel": 8},
  "stages": [{"dim": 32, "heads": 2, "pos_embed": true, "depth": 2,
              "block": {"mixer": "msa", "ffn": {"kind": "mlp", "ratio": 4}}}]
})";

TEST(Canonical, ClsTokenPoolAndHeadChangesChangeTheHash) {
  const Arch base = parse_ok(kSingle);
  ASSERT_EQ(base.stages.size(), 1u);
  const Arch pooled = variant(base, [](Arch& a) { a.stages[0].blocks[0].pool_after = true; });
  // A cls token needs the cls head and the cls head needs the token: the valid change is both.
  const Arch cls = variant(base, [](Arch& a) {
    a.cls_token = true;
    a.head.kind = HeadKind::cls;
  });
  const Arch bconv = variant(base, [](Arch& a) { a.stages[0].blocks[1].mixer = Mixer{MixerKind::bconv}; });
  const Arch bconv1 = variant(bconv, [](Arch& a) { a.stages[0].blocks[1].mixer.bconv_kernel = 1; });
  const Arch relpos = variant(base, [](Arch& a) { a.stages[0].blocks[0].mixer.msa_rel_pos = true; });
  const std::vector<const Arch*> all = {&base, &pooled, &cls, &bconv, &bconv1, &relpos};
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (std::size_t j = i + 1; j < all.size(); ++j) {
      EXPECT_NE(arch_hash(*all[i]), arch_hash(*all[j])) << i << " vs " << j;
    }
  }
  // The head kind alone (not a valid network by itself) is still part of the canonical text.
  Arch head_only = base;
  head_only.head.kind = HeadKind::cls;
  EXPECT_NE(arch_hash(head_only), arch_hash(base));
  Arch cls_only = base;
  cls_only.cls_token = true;
  EXPECT_NE(arch_hash(cls_only), arch_hash(base));
}

TEST(Canonical, MetaNeverChangesTheHash) {
  const Arch base = parse_ok(kExplicit);
  Arch m = base;
  m.meta = Meta{"renamed", "swin", 12.5, "elsewhere"};
  EXPECT_EQ(arch_hash(m), arch_hash(base));
  m.meta = Meta{};
  EXPECT_EQ(arch_hash(m), arch_hash(base));
}

TEST(Canonical, PresetsRoundTripThroughJson) {
  for (const PresetInfo& p : presets()) {
    SCOPED_TRACE(p.name);
    auto a = preset(p.name);
    ASSERT_TRUE(a.ok()) << a.error().message;
    for (bool with_meta : {true, false}) {
      auto b = arch_from_json(arch_to_json(*a, with_meta), p.name);
      ASSERT_TRUE(b.ok()) << b.error().message;
      EXPECT_EQ(arch_hash(*b), arch_hash(*a));
      EXPECT_EQ(canonical_text(*b), canonical_text(*a));
      EXPECT_TRUE(b->same_network(*a));
    }
    // The canonical text itself is a valid architecture file.
    auto c = parse_arch(canonical_text(*a), p.name);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(arch_hash(*c), arch_hash(*a));
  }
}

}  // namespace
}  // namespace hwnas::space
