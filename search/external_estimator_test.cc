// cmd:'…': real /bin/sh children. The arch file's path reaches the program (appended, as {arch},
// as HWNAS_ARCH), output is read without deadlock, failures say what happened, a timeout kills the
// whole process group, and nothing is left behind (no process, no zombie, no temp file).
#include "search/external_estimator.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "space/arch_json.h"
#include "space/presets.h"
#include "tests/scratch.h"

namespace hwnas::search {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

ExternalOptions with_timeout(double timeout_s, double grace_s = 2) {
  ExternalOptions o;
  o.timeout_s = timeout_s;
  o.kill_grace_s = grace_s;
  return o;
}

double ok(const std::string& command, std::string_view arch_json = "{}\n",
          const ExternalOptions& o = with_timeout(20)) {
  auto v = run_external_estimate(command, arch_json, o);
  EXPECT_TRUE(v.ok()) << command << ": " << v.error().message;
  return v.ok() ? *v : std::nan("");
}

std::string error_of(const std::string& command, const ExternalOptions& o = with_timeout(20)) {
  auto v = run_external_estimate(command, "{}\n", o);
  EXPECT_FALSE(v.ok()) << command << " gave " << (v.ok() ? *v : 0);
  return v.ok() ? std::string() : v.error().message;
}

std::string fresh_dir(const std::string& name) {
  static int counter = 0;
  std::string dir = test::scratch_path(fmt::format("cmd_{}_{}", counter++, name));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Processes of process group `pgid` that still run (zombies of other parents do not count).
int running_in_group(pid_t pgid) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_text(e.path().string() + "/stat");
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != 'Z' && state != 'X') ++n;
  }
  return n;
}

// Waits (up to 3 s) for the group to be gone: SIGKILL is delivered asynchronously.
bool group_gone(pid_t pgid) {
  const auto until = Clock::now() + std::chrono::seconds(3);
  while (running_in_group(pgid) > 0) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

bool no_child_left() {
  return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

pid_t read_pid(const std::string& path) {
  return static_cast<pid_t>(std::atol(read_text(path).c_str()));
}

TEST(ExternalEstimator, ReadsTheAccuracyItPrints) {
  EXPECT_EQ(ok(R"(echo '{"accuracy": 0.8}'; true)"), 0.8);
  // Progress and logs around it are ignored: the last line that is a JSON object counts.
  EXPECT_EQ(
      ok(R"(echo 'epoch 1/1'; echo '{"accuracy": 0.5}'; echo '{"accuracy": 0.75, "loss": 1.2}'; echo; echo done; true)"),
      0.75);
  EXPECT_EQ(ok(R"(printf '[1, 2]\n  {"accuracy": -3e-2}  \r\n42\n'; true)"), -0.03);

  auto e = make_external_estimator(R"(echo '{"accuracy": 81.5}'; true)");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ((*e)->name(), R"(cmd:echo '{"accuracy": 81.5}'; true)");
  EXPECT_EQ((*e)->cache_key(), (*e)->name());
  EXPECT_TRUE((*e)->cacheable());
  auto arch = space::preset("deit-tiny");
  ASSERT_TRUE(arch.ok());
  auto v = (*e)->estimate(*arch, "0123456789abcdef");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, 81.5);
}

TEST(ExternalEstimator, TheProgramGetsTheArchFile) {
  // A temp folder whose name needs quoting in a shell.
  const std::string dir = fresh_dir("it's a dir");
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("TMPDIR", dir.c_str(), 1);

  // {arch}: the program reads the file we wrote.
  EXPECT_EQ(ok(R"(sed -n 's/.*"x": *\([0-9]*\).*/{"accuracy": \1}/p' {arch})", "{\"x\": 12345}\n"), 12345);
  // Appended as the last argument.
  EXPECT_EQ(ok(R"(f() { sed -n 's/.*"x": *\([0-9]*\).*/{"accuracy": \1}/p' "$1"; }; f)", "{\"x\": 777}\n"), 777);
  // HWNAS_ARCH, and a path in the temp folder named like an arch file.
  const std::string text = "{\"stages\": []}\n";
  EXPECT_EQ(ok(R"sh(printf '{"accuracy": %s}\n' "$(wc -c < "$HWNAS_ARCH")"; true)sh", text),
            static_cast<double>(text.size()));
  EXPECT_EQ(ok(R"(case "$HWNAS_ARCH" in */hwnas-arch-*.json) echo '{"accuracy": 1}';; esac; true)"), 1);
  // Every {arch} is replaced.
  EXPECT_EQ(ok(R"(cmp -s {arch} {arch} && echo '{"accuracy": 2}')"), 2);

  // The estimator writes the arch as JSON: the preset's file has its stages.
  auto arch = space::preset("pvtv2-b0");
  ASSERT_TRUE(arch.ok());
  ExternalEstimator e(R"sh(printf '{"accuracy": %s}\n' "$(grep -c '"stages"' {arch})")sh", with_timeout(20));
  auto v = e.estimate(*arch, "0123456789abcdef");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, 1);
  ExternalEstimator same(
      R"(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); print(json.dumps({"accuracy": len(a["stages"])}))')",
      with_timeout(20));
  if (std::system("python3 -c pass 2>/dev/null") == 0) {
    auto stages = same.estimate(*arch, "0123456789abcdef");
    ASSERT_TRUE(stages.ok()) << stages.error().message;
    EXPECT_EQ(*stages, 4);
  }

  EXPECT_TRUE(fs::is_empty(dir)) << "temp files left in " << dir;
  if (old != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  fs::remove_all(dir);
}

TEST(ExternalEstimator, ANonZeroExitGivesTheCodeAndTheLastLineOfStderr) {
  EXPECT_EQ(error_of(R"(echo '{"accuracy": 0.9}'; echo 'loading' >&2; echo 'CUDA out of memory' >&2; exit 3; true)"),
            "exit code 3: CUDA out of memory");
  EXPECT_EQ(error_of("exit 4; true"), "exit code 4 (nothing on stderr)");
  const std::string missing = error_of("no-such-program-hwnas-test");
  EXPECT_EQ(missing.rfind("exit code 127: ", 0), 0u) << missing;
  EXPECT_NE(missing.find("no-such-program-hwnas-test"), std::string::npos) << missing;
  const std::string killed = error_of("echo dying >&2; kill -9 $$; true");
  EXPECT_EQ(killed.rfind("killed by signal 9 (", 0), 0u) << killed;
  EXPECT_NE(killed.find("): dying"), std::string::npos) << killed;
  ExternalEstimator e("exit 3; true");
  auto arch = space::preset("deit-tiny");
  ASSERT_TRUE(arch.ok());
  auto v = e.estimate(*arch, "0123456789abcdef");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message, "cmd:exit 3; true: exit code 3 (nothing on stderr)");
  EXPECT_TRUE(no_child_left());
}

TEST(ExternalEstimator, OutputWithoutAnAccuracyIsAnError) {
  EXPECT_EQ(error_of("echo garbage; true"), "printed no JSON object with a number 'accuracy' (last line: 'garbage')");
  EXPECT_EQ(error_of("true"), "printed nothing on stdout (expected a JSON object with a number 'accuracy')");
  EXPECT_EQ(error_of(R"(echo '{"acc": 1}'; true)"), R"(its JSON has no number 'accuracy' ('{"acc": 1}'))");
  EXPECT_EQ(error_of(R"(echo '{"accuracy": "high"}'; true)"),
            R"(its JSON has no number 'accuracy' ('{"accuracy": "high"}'))");
  EXPECT_EQ(error_of(R"(echo '{"accuracy": 0.5'; true)"),
            R"(printed no JSON object with a number 'accuracy' (last line: '{"accuracy": 0.5'))");
  const std::string long_line = error_of("printf '%0300d\\n' 0; true");
  EXPECT_NE(long_line.find(std::string(200, '0') + "… (300 characters)')"), std::string::npos) << long_line;
}

TEST(ExternalEstimator, LargeOutputOnBothPipesDoesNotDeadlock) {
  EXPECT_EQ(ok("head -c 3000000 /dev/zero | tr '\\0' x; echo; head -c 3000000 /dev/zero | tr '\\0' y >&2; "
               "echo '{\"accuracy\": 2}'; true"),
            2);
  const std::string e = error_of("head -c 3000000 /dev/zero | tr '\\0' y >&2; echo >&2; echo 'the end' >&2; exit 1");
  EXPECT_EQ(e, "exit code 1: the end");
}

TEST(ExternalEstimator, ATimeoutKillsTheWholeProcessGroup) {
  const std::string dir = fresh_dir("timeout");
  const std::string pid_file = dir + "/pid";
  const auto start = Clock::now();
  const std::string e = error_of(fmt::format("echo $$ > '{}'; sleep 30; true", pid_file), with_timeout(0.5));
  const double took_s = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(e, "timed out after 0.5 s");
  EXPECT_LT(took_s, 5.0);
  EXPECT_GE(took_s, 0.5);
  const pid_t pgid = read_pid(pid_file);
  ASSERT_GT(pgid, 0);
  EXPECT_TRUE(group_gone(pgid)) << "the sleep outlived the timeout";
  EXPECT_TRUE(no_child_left());

  // A program that ignores SIGTERM (and so does its child) gets SIGKILL after the grace period.
  const auto start2 = Clock::now();
  const std::string e2 =
      error_of(fmt::format("trap '' TERM; echo $$ > '{}'; sleep 30; true", pid_file), with_timeout(0.3, 0.3));
  EXPECT_EQ(e2, "timed out after 0.3 s");
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start2).count(), 5.0);
  EXPECT_TRUE(group_gone(read_pid(pid_file)));
  EXPECT_TRUE(no_child_left());
  fs::remove_all(dir);
}

TEST(ExternalEstimator, WhatTheProgramLeavesRunningIsKilled) {
  const std::string dir = fresh_dir("leftover");
  const std::string pid_file = dir + "/pid";
  const auto start = Clock::now();
  EXPECT_EQ(ok(fmt::format(R"(echo $$ > '{}'; sleep 30 & echo '{{"accuracy": 1}}'; true)", pid_file)), 1);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 5.0);
  EXPECT_TRUE(group_gone(read_pid(pid_file)));
  EXPECT_TRUE(no_child_left());
  fs::remove_all(dir);
}

TEST(ExternalEstimator, BadSettingsAreRefused) {
  auto empty = make_external_estimator("  ");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message, "cmd: the command is empty");
  auto zero = make_external_estimator("true", with_timeout(0));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().message, "cmd:true: the timeout must be a positive number of seconds (got 0)");
  EXPECT_EQ(error_of("true", with_timeout(-1)), "the timeout must be a positive number of seconds (got -1)");
}

}  // namespace
}  // namespace hwnas::search
