// End-to-end: the hwnas binary as a user runs it (exit codes, output, error lines).
#include <array>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "space/arch_json.h"
#include "space/canonical.h"

namespace {

struct CliRun {
  int code = -1;
  std::string out;  // stdout + stderr
};

CliRun run(const std::string& args) {
  const std::string cmd = std::string(HWNAS_BINARY) + " " + args + " 2>&1";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string temp_file(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

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

}  // namespace
