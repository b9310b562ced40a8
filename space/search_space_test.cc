// Search spaces: the built-in spaces, sampling, repair, mutation, crossover, the size estimate and
// the errors of user-written space files.
#include "space/search_space.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "space/canonical.h"
#include "space/count.h"
#include "space/ops.h"
#include "space/validate.h"

namespace hwnas::space {
namespace {

SearchSpace load(const std::string& name) {
  auto s = load_search_space(name);
  EXPECT_TRUE(s.ok()) << name << ": " << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : SearchSpace{};
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::int64_t macs_of(const Arch& a) {
  auto net = lower(a);
  EXPECT_TRUE(net.ok()) << (net.ok() ? "" : net.error().message);
  return net.ok() ? count(*net).macs : 0;
}

TEST(SearchSpace, BuiltinSpacesLoad) {
  EXPECT_EQ(builtin_space_names(), (std::vector<std::string>{"hybrid-vit", "tiny"}));
  const SearchSpace h = load("hybrid-vit");
  EXPECT_EQ(h.name, "hybrid-vit");
  ASSERT_EQ(h.stages.size(), 4u);
  EXPECT_EQ(h.base.input.height, 224);
  EXPECT_EQ(h.base.norm_eps, 1e-5);
  // Stage 3's mixer list expands hilo's three alphas and bconv's two kernels: msa 1 + hilo 3 +
  // window 1 + sra 1 + bconv 2 = 8.
  EXPECT_EQ(h.stages[2].mixers.size(), 8u);
  EXPECT_TRUE(h.stages[2].removable);
  EXPECT_FALSE(h.stages[0].removable);
  const SearchSpace t = load("tiny");
  EXPECT_EQ(t.name, "tiny");
  ASSERT_EQ(t.stages.size(), 2u);
  EXPECT_EQ(t.base.input.height, 64);
  EXPECT_EQ(t.base.input.classes, 10);
  EXPECT_EQ(t.stages[0].mixers.size(), 5u);  // none, msa, hilo, window × shift {false, true}
  EXPECT_EQ(t.stages[1].downsamples.size(), 3u);
  auto direct = builtin_space("tiny");
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct->stages.size(), 2u);
}

TEST(SearchSpace, GeneLayoutOfTiny) {
  const Sampler s(load("tiny"));
  const auto& g = s.genes();
  // Per stage 4 genes + 5 per block slot up to the largest depth (2): 2 · (4 + 10) = 28.
  ASSERT_EQ(g.size(), 28u);
  EXPECT_EQ(g[0].name, "stages[0].depth");
  EXPECT_EQ(g[0].choices, 2u);
  EXPECT_EQ(g[1].name, "stages[0].dim");
  EXPECT_EQ(g[2].name, "stages[0].head_dim");
  EXPECT_EQ(g[2].choices, 2u);
  EXPECT_EQ(g[3].name, "stages[0].downsample");
  EXPECT_EQ(g[3].choices, 1u);  // stage 0 has none to choose
  EXPECT_EQ(g[4].name, "stages[0].blocks[0].mixer");
  EXPECT_EQ(g[4].choices, 5u);
  EXPECT_EQ(g[7].name, "stages[0].blocks[0].drop_mixer");
  EXPECT_EQ(g[7].choices, 1u);  // not removable
  EXPECT_EQ(g[14].name, "stages[1].depth");
  EXPECT_EQ(g[17].name, "stages[1].downsample");
  EXPECT_EQ(g[17].choices, 3u);
  EXPECT_EQ(g[18].name, "stages[1].blocks[0].mixer");
  EXPECT_EQ(g[18].choices, 4u);  // msa, sra, bconv 1, bconv 3
  EXPECT_EQ(g[21].name, "stages[1].blocks[0].drop_mixer");
  EXPECT_EQ(g[21].choices, 2u);
  EXPECT_EQ(g[27].name, "stages[1].blocks[1].drop_ffn");
  // hybrid-vit: 4 stages · 4 + (3 + 3 + 14 + 3) slots · 5 = 131.
  EXPECT_EQ(Sampler(load("hybrid-vit")).genes().size(), 131u);
}

TEST(SearchSpace, SamplingIsDeterministicForASeed) {
  const Sampler s(load("hybrid-vit"));
  Rng a(1234), b(1234), c(99);
  bool any_differs = false;
  for (int i = 0; i < 20; ++i) {
    auto x = s.sample(a), y = s.sample(b), z = s.sample(c);
    ASSERT_TRUE(x.ok() && y.ok() && z.ok());
    EXPECT_EQ(x->genome, y->genome) << i;
    EXPECT_EQ(arch_hash(x->arch), arch_hash(y->arch)) << i;
    if (x->genome != z->genome) any_differs = true;
  }
  EXPECT_TRUE(any_differs);  // another seed gives other samples
}

TEST(SearchSpace, ThousandHybridVitSamplesAreValidDistinctAndInBudget) {
  const Sampler s(load("hybrid-vit"));
  Rng rng(20261124);
  std::set<std::uint64_t> hashes;
  std::vector<std::int64_t> macs;
  for (int i = 0; i < 1000; ++i) {
    auto c = s.sample(rng);
    ASSERT_TRUE(c.ok()) << c.error().message;
    // The arch is valid, and validate() is a fixed point on it.
    auto v = validate(c->arch);
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(arch_hash(*v), arch_hash(c->arch));
    // Repairing the (already repaired) genome gives the same genome and arch.
    auto r = s.repair(c->genome);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->genome, c->genome);
    EXPECT_EQ(arch_hash(r->arch), arch_hash(c->arch));
    // Every gene within its choices.
    ASSERT_EQ(c->genome.size(), s.genes().size());
    for (std::size_t g = 0; g < c->genome.size(); ++g) {
      EXPECT_LT(c->genome[g], s.genes()[g].choices) << s.genes()[g].name;
    }
    EXPECT_EQ(c->arch.stages.size(), 4u);
    hashes.insert(arch_hash(c->arch));
    macs.push_back(macs_of(c->arch));
  }
  EXPECT_GE(hashes.size(), 990u);
  std::sort(macs.begin(), macs.end());
  const double lo = static_cast<double>(macs.front()), hi = static_cast<double>(macs.back());
  const double median = 0.5 * static_cast<double>(macs[499] + macs[500]);
  std::printf(
      "[   INFO   ] hybrid-vit executed MACs over 1000 samples: min %.3f G, p10 %.3f G, median %.3f G, p90 %.3f G, max "
      "%.3f G\n",
      lo / 1e9, static_cast<double>(macs[100]) / 1e9, median / 1e9, static_cast<double>(macs[900]) / 1e9, hi / 1e9);
  // The space's design target: roughly 1–8 GMACs at 224.
  EXPECT_GE(lo, 0.5e9);
  EXPECT_LE(hi, 10e9);
  EXPECT_GE(median, 1e9);
  EXPECT_LE(median, 8e9);
}

TEST(SearchSpace, TinySamplesAreValid) {
  const Sampler s(load("tiny"));
  Rng rng(7);
  std::set<std::uint64_t> hashes;
  for (int i = 0; i < 300; ++i) {
    auto c = s.sample(rng);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_TRUE(validate(c->arch).ok());
    auto r = s.repair(c->genome);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(arch_hash(r->arch), arch_hash(c->arch));
    EXPECT_EQ(c->arch.input.height, 64);
    hashes.insert(arch_hash(c->arch));
  }
  EXPECT_GT(hashes.size(), 200u);
}

TEST(SearchSpace, MutationWithProbabilityZeroKeepsTheParent) {
  const Sampler s(load("hybrid-vit"));
  Rng rng(5);
  for (int i = 0; i < 20; ++i) {
    auto parent = s.sample(rng);
    ASSERT_TRUE(parent.ok());
    auto child = s.mutate(parent->genome, 0.0, rng);
    ASSERT_TRUE(child.ok()) << child.error().message;
    EXPECT_EQ(child->genome, parent->genome);
    EXPECT_EQ(arch_hash(child->arch), arch_hash(parent->arch));
  }
}

TEST(SearchSpace, MutationWithProbabilityOneChangesEveryMultiChoiceGene) {
  const Sampler s(load("hybrid-vit"));
  const auto& genes = s.genes();
  Rng rng(6);
  for (int i = 0; i < 20; ++i) {
    auto parent = s.sample(rng);
    ASSERT_TRUE(parent.ok());
    auto child = s.mutate(parent->genome, 1.0, rng);
    ASSERT_TRUE(child.ok()) << child.error().message;
    EXPECT_NE(arch_hash(child->arch), arch_hash(parent->arch));
    // Repair never touches depth, dim, ffn_ratio and drop genes (only mixer, head_dim, downsample
    // and ffn_kind can move to the next valid choice), so each of those must differ from the parent.
    int checked = 0;
    for (std::size_t g = 0; g < genes.size(); ++g) {
      const std::string& n = genes[g].name;
      if (genes[g].choices < 2) continue;
      if (ends_with(n, ".depth") || ends_with(n, ".dim") || ends_with(n, ".ffn_ratio") || ends_with(n, ".drop_mixer") ||
          ends_with(n, ".drop_ffn")) {
        EXPECT_NE(child->genome[g], parent->genome[g]) << n;
        ++checked;
      }
    }
    // depth 4 + dim 4 + ffn_ratio (3+3+14+3 slots) 23 + drop genes of stages 2–3 (14+3 slots) · 2 = 65.
    EXPECT_EQ(checked, 65);
  }
}

TEST(SearchSpace, CrossoverWithItselfIsTheParent) {
  const Sampler s(load("hybrid-vit"));
  Rng rng(8);
  for (int i = 0; i < 20; ++i) {
    auto p = s.sample(rng);
    ASSERT_TRUE(p.ok());
    auto c = s.crossover(p->genome, p->genome, rng);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->genome, p->genome);
    EXPECT_EQ(arch_hash(c->arch), arch_hash(p->arch));
  }
}

TEST(SearchSpace, CrossoverTakesEachUnrepairedGeneFromAParent) {
  const Sampler s(load("hybrid-vit"));
  const auto& genes = s.genes();
  Rng rng(9);
  for (int i = 0; i < 20; ++i) {
    auto a = s.sample(rng), b = s.sample(rng);
    ASSERT_TRUE(a.ok() && b.ok());
    auto c = s.crossover(a->genome, b->genome, rng);
    ASSERT_TRUE(c.ok()) << c.error().message;
    for (std::size_t g = 0; g < genes.size(); ++g) {
      const std::string& n = genes[g].name;
      if (ends_with(n, ".depth") || ends_with(n, ".dim") || ends_with(n, ".ffn_ratio") || ends_with(n, ".drop_mixer") ||
          ends_with(n, ".drop_ffn")) {
        EXPECT_TRUE(c->genome[g] == a->genome[g] || c->genome[g] == b->genome[g]) << n;
      }
    }
  }
}

TEST(SearchSpace, RepairBringsEveryGeneIntoRange) {
  const Sampler s(load("hybrid-vit"));
  const auto& genes = s.genes();
  // Out-of-range values wrap; invalid choices move on; the result is a fixed point.
  for (std::uint32_t fill : {0u, 1u, 2u, 7u, 1000u, 0xFFFFFFFFu}) {
    SCOPED_TRACE(fill);
    auto c = s.repair(Genome(genes.size(), fill));
    ASSERT_TRUE(c.ok()) << c.error().message;
    for (std::size_t g = 0; g < genes.size(); ++g) {
      EXPECT_LT(c->genome[g], genes[g].choices) << genes[g].name;
    }
    auto again = s.repair(c->genome);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->genome, c->genome);
    EXPECT_EQ(arch_hash(again->arch), arch_hash(c->arch));
  }
  // Stage 3's head_dim 64 with dim 320 … every head count divides its dim.
  Rng rng(10);
  for (int i = 0; i < 200; ++i) {
    auto c = s.sample(rng);
    ASSERT_TRUE(c.ok());
    for (const Stage& st : c->arch.stages) {
      EXPECT_EQ(st.dim % st.heads, 0);
      const std::int64_t head_dim = st.dim / st.heads;
      EXPECT_TRUE(head_dim == 32 || head_dim == 64) << head_dim;
    }
  }
}

TEST(SearchSpace, Log10SizeOfTinyByHand) {
  // Hand count from the tiny space's JSON (space/builtin_spaces.cc). Per stage: dims × head_dims ×
  // downsamples × Σ_depth (block options)^depth, where a block's options count the genes that
  // matter: a dropped mixer or FFN makes its choice genes inactive.
  //   stage 0: dims {16, 32} × head_dims {8, 16} = 4; no downsample gene; not removable.
  //            block = mixers {none, msa, hilo, window, window+shift} (5) × ffn mlp × ratios {2, 4} (2) = 10
  //            depths {1, 2}: 10 + 10² = 110                                 → 4 · 110 = 440
  //   stage 1: dims {32, 64} × head_dims {16} = 2; downsamples {dtm, merge, patch} = 3; removable.
  //            block = (mixers {msa, sra, bconv1, bconv3} + dropped) (5) × (convffn × {2, 4} + dropped) (3) = 15
  //            depths {1, 2}: 15 + 15² = 240                                 → 2 · 3 · 240 = 1440
  //   total 440 · 1440 = 633,600 → log10 = 5.80182…
  const double expected = std::log10(440.0 * 1440.0);
  EXPECT_NEAR(expected, 5.80181, 1e-5);
  EXPECT_NEAR(Sampler(load("tiny")).log10_size(), expected, 1e-9);
  // hybrid-vit is large but finite.
  const double h = Sampler(load("hybrid-vit")).log10_size();
  EXPECT_GT(h, 10.0);
  EXPECT_LT(h, 100.0);
}

// A user space that differs from `tiny` where the test says.
std::string user_space(const std::string& stage0_extra, const std::string& stage1_mixer,
                       const std::string& stem = R"({"kind": "patch", "kernel": 4})",
                       const std::string& downsample = R"(["dtm", "merge"])") {
  return R"({"name": "user", "base": {"input": {"resolution": 64, "classes": 10}, "stem": )" + stem + R"(},
    "stages": [
      {"depth": [1, 2], "dim": [32], "head_dim": [16], "mixer": ["msa"], "ffn": {"kind": "mlp", "ratio": [2, 4]})" +
         stage0_extra + R"(},
      {"depth": [1, 2], "dim": [64], "head_dim": [16], "downsample": )" +
         downsample + R"(,
       "mixer": )" +
         stage1_mixer + R"(, "ffn": {"kind": "convffn", "ratio": 2}}
    ]})";
}

TEST(SearchSpaceJson, UserSpaceParses) {
  auto s = parse_search_space(user_space("", R"(["msa", {"kind": "hilo", "alpha": [0.5, 0.9], "window": [2, 4]}])"),
                              "user.json");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->name, "user");
  ASSERT_EQ(s->stages.size(), 2u);
  EXPECT_EQ(s->stages[1].mixers.size(), 5u);  // msa + 2 × 2 hilo combinations
  EXPECT_EQ(s->stages[0].ffn_ratios, (std::vector<double>{2.0, 4.0}));
}

::testing::AssertionResult space_fails(const std::string& text, const std::string& path, const std::string& rule_part) {
  auto r = parse_search_space(text, "user.json");
  if (r.ok()) return ::testing::AssertionFailure() << "parsed, but expected an error at " << path;
  const std::string& msg = r.error().message;
  const std::string prefix = "user.json: " + path + ": ";
  if (msg.rfind(prefix, 0) != 0)
    return ::testing::AssertionFailure() << "expected prefix '" << prefix << "', got: " << msg;
  if (msg.find(rule_part) == std::string::npos)
    return ::testing::AssertionFailure() << "expected '" << rule_part << "' in: " << msg;
  if (msg.find('\n') != std::string::npos) return ::testing::AssertionFailure() << "multi-line: " << msg;
  return ::testing::AssertionSuccess();
}

TEST(SearchSpaceJson, UnknownMixerKindNamesItsPath) {
  EXPECT_TRUE(space_fails(user_space("", R"([{"kind": "hilox"}])"), "stages[1].mixer[0].kind",
                          "unknown kind 'hilox', did you mean 'hilo'?"));
  EXPECT_TRUE(space_fails(user_space("", R"(["msa", "sar"])"), "stages[1].mixer[1].kind", "unknown kind 'sar'"));
}

TEST(SearchSpaceJson, EmptyChoiceListNamesItsPath) {
  std::string text = user_space("", R"(["msa"])");
  text.replace(text.find(R"("depth": [1, 2])"), 15, R"("depth": [])");
  EXPECT_TRUE(space_fails(text, "stages[0].depth", "must not be an empty list"));
  EXPECT_TRUE(space_fails(user_space("", "[]"), "stages[1].mixer", "must not be an empty list"));
}

TEST(SearchSpaceJson, OtherBadFields) {
  EXPECT_TRUE(space_fails(user_space(R"(, "removabel": true)", R"(["msa"])"), "stages[0].removabel",
                          "unknown key (did you mean 'removable'?)"));
  std::string text = user_space("", R"(["msa"])");
  text.replace(text.find(R"("dim": [32])"), 11, R"("dim": [32, "64"])");
  EXPECT_TRUE(space_fails(text, "stages[0].dim[1]", "must be an integer (got string)"));
  EXPECT_TRUE(
      space_fails(user_space("", R"([{"kind": "msa", "alpha": 0.5}])"), "stages[1].mixer[0].alpha", "unknown key"));
  EXPECT_TRUE(space_fails(user_space("", R"(["msa"])", R"({"kind": "patch", "kernel": 4})", "[]"),
                          "stages[1].downsample", "must not be an empty list"));
}

TEST(SearchSpaceJson, OutOfRangeChoiceInAMixerListIsRefusedAtLoad) {
  // Every expanded mixer choice must be checked when the file is read: alpha 1.5 is never valid,
  // even though the first choice (alpha 0.5) is.
  auto r = parse_search_space(user_space("", R"([{"kind": "hilo", "alpha": [0.5, 1.5]}])"), "user.json");
  ASSERT_FALSE(r.ok()) << "a space with HiLo alpha 1.5 loaded";
  EXPECT_NE(r.error().message.find("stages[1].mixer[0]"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("alpha"), std::string::npos) << r.error().message;
}

// Runs `parse_search_space(text)` in a child process: exits 0 when it returned an error that names
// `path`, 1 when it loaded, 2 when the error does not name the path; a crash fails the expectation.
void parse_in_child(const std::string& text, const std::string& path) {
  auto r = parse_search_space(text, "user.json");
  if (r.ok()) std::_Exit(1);
  std::_Exit(r.error().message.find(path) != std::string::npos ? 0 : 2);
}

TEST(SearchSpaceJsonDeathTest, ZeroWindowSizeIsAnErrorNotACrash) {
  // A window of size 0 must be refused (validate's range is [1, 1024]) before any `h % size`.
  EXPECT_EXIT(parse_in_child(user_space("", R"([{"kind": "window", "size": 0}])"), "size"),
              ::testing::ExitedWithCode(0), "");
}

TEST(SearchSpaceJsonDeathTest, ZeroStemStrideIsAnErrorNotACrash) {
  EXPECT_EXIT(
      parse_in_child(user_space("", R"(["msa"])", R"({"kind": "patch", "kernel": 4, "stride": 0})"), "stem.stride"),
      ::testing::ExitedWithCode(0), "");
}

TEST(SearchSpaceJsonDeathTest, ZeroDownsampleKernelIsAnErrorNotACrash) {
  EXPECT_EXIT(parse_in_child(user_space("", R"(["msa"])", R"({"kind": "patch", "kernel": 4})",
                                        R"([{"kind": "patch", "kernel": 0}])"),
                             "downsample"),
              ::testing::ExitedWithCode(0), "");
}

TEST(SearchSpaceJson, UnknownBuiltinNameSuggests) {
  auto r = load_search_space("hybrid-vt");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unknown search space 'hybrid-vt'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("did you mean 'hybrid-vit'?"), std::string::npos) << r.error().message;
  auto missing = load_search_space("/nonexistent/space.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("cannot open file"), std::string::npos) << missing.error().message;
}

TEST(SearchSpaceJson, SyntaxErrorHasLineAndColumn) {
  auto r = parse_search_space("{\n\"name\": \"x\",,\n}", "user.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("user.json:2:13: invalid JSON", 0), 0u) << r.error().message;
}

TEST(SearchSpace, WrongGenomeLengthIsAnError) {
  const Sampler s(load("tiny"));
  const std::size_t n = s.genes().size();
  auto short_g = s.repair(Genome(n - 1, 0));
  ASSERT_FALSE(short_g.ok());
  EXPECT_EQ(short_g.error().message, "genome has 27 genes, space 'tiny' has 28");
  EXPECT_FALSE(s.repair(Genome{}).ok());
  EXPECT_FALSE(s.repair(Genome(n + 1, 0)).ok());
  Rng rng(11);
  EXPECT_FALSE(s.mutate(Genome(3, 1), 0.5, rng).ok());
  EXPECT_FALSE(s.mutate(Genome{}, 1.0, rng).ok());
  EXPECT_FALSE(s.crossover(Genome(n, 0), Genome(n + 2, 0), rng).ok());
  EXPECT_FALSE(s.crossover(Genome(5, 0), Genome(5, 0), rng).ok());
  // The right length works.
  EXPECT_TRUE(s.repair(Genome(n, 0)).ok());
}

}  // namespace
}  // namespace hwnas::space
