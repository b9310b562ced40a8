// Shared by the end-to-end tests: run the hwnas binary as a user does, in unique temp files.
#pragma once

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/scratch.h"

namespace {

struct CliRun {
  int code = -1;
  std::string out;  // stdout + stderr
};

// A shell command line, stdout and stderr together.
CliRun run_shell(const std::string& command) {
  const std::string cmd = command + " 2>&1";
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

CliRun run(const std::string& args) {
  return run_shell(std::string(HWNAS_BINARY) + " " + args);
}

// Unique per process, and removed when the process's tests end (tests/scratch.h).
std::string tmp(const std::string& name) {
  return hwnas::test::scratch_path(name);
}

[[maybe_unused]] std::string temp_file(const std::string& name, const std::string& text) {
  const std::string path = tmp(name);
  std::ofstream(path) << text;
  return path;
}

[[maybe_unused]] std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace
